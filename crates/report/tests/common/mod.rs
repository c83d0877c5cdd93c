//! A sample 業務実績簿-like document shared by the tests and the `render` example.
#![allow(dead_code)]

use chrono::NaiveDate;
use unyo_report::{
    Approval, ApprovalColumn, BarChart, BarMode, Block, Cell, Column, Document, Section, Table,
};

/// Text full of typst (and XML/HTML) markup that must come out literally.
pub const INJECTION: &str =
    r#"#set page(width: 1mm) [注入] $x$ \ <b>太字</b> *強調* _下線_ @ref = 見出し // コメント"#;

pub const CATEGORIES: [&str; 5] = [
    "①定期保守",
    "②障害対応",
    "③問合せ対応",
    "④設定変更",
    "⑤その他",
];

pub fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
}

/// Hours of work entry `i` (0-based): 1.5 for every entry, so the total is `1.5 × rows`.
pub const HOURS_EACH: f64 = 1.5;

/// The document: a title block, a `rows`-row work table (the first row dated 令和元年5月1日, the rest in
/// 令和8年5月, one row holding [`INJECTION`]), totals, a chart section and an approval block.
pub fn sample_document(rows: usize) -> Document {
    let mut table = Table::new(vec![
        Column::right("No.", 10.0),
        Column::left("日付", 32.0),
        Column::center("区分", 24.0),
        Column::left("場所・端末", 30.0),
        Column::left("作業内容", 50.0),
        Column::right("時間", 14.0),
        Column::left("作業者", 20.0),
    ])
    .caption("作業一覧（令和8年5月分）");
    for i in 0..rows {
        let day = if i == 0 {
            date(2019, 5, 1)
        } else {
            date(2026, 5, 1 + (i as u32 % 31))
        };
        let content = if i == 2 {
            INJECTION.to_string()
        } else if i % 7 == 3 {
            format!(
                "住基ネット端末（第{}端末）の定期点検を実施し、ログの確認及びウイルス対策ソフトのパターンファイル更新状況を確認した。\n異常なし。",
                i % 4 + 1
            )
        } else {
            format!("統合端末のOS更新適用（作業番号 {:04}）", i + 1)
        };
        table.rows.push(vec![
            Cell::Integer(i as i64 + 1),
            Cell::Date(day),
            Cell::text(CATEGORIES[i % 5]),
            Cell::text(format!("本庁舎 {}F 端末{:02}", 1 + i % 5, i % 12 + 1)),
            Cell::text(content),
            Cell::Number(HOURS_EACH, 1),
            Cell::text(if i % 2 == 0 {
                "鈴木 一郎"
            } else {
                "髙橋 花子"
            }),
        ]);
    }
    table.totals = Some(vec![
        Cell::text("合計"),
        Cell::Empty,
        Cell::text(format!("{rows}件")),
        Cell::Empty,
        Cell::Empty,
        Cell::Number(HOURS_EACH * rows as f64, 1),
        Cell::Empty,
    ]);

    let months: Vec<String> = (4..=12).chain(1..=3).map(|m| format!("{m}月")).collect();
    let series: Vec<(String, Vec<f64>)> = CATEGORIES
        .iter()
        .enumerate()
        .map(|(k, name)| {
            (
                name.to_string(),
                (0..12).map(|m| ((m * 7 + k * 5) % 13 + 2) as f64).collect(),
            )
        })
        .collect();
    let chart = BarChart {
        id: "work-by-month".to_string(),
        title: "月別・区分別作業件数".to_string(),
        categories: months,
        series,
        y_label: "件数".to_string(),
        mode: BarMode::Stacked,
        decimals: 0,
    };

    Document {
        title: "業務実績簿".to_string(),
        subtitle: Some("令和8年5月分".to_string()),
        addressee: vec!["〇〇県総務部市町村課長　様".to_string()],
        org_lines: vec![
            "受託者　株式会社サンプル情報システム".to_string(),
            "作業責任者　山田 太郎".to_string(),
        ],
        issued_on: Some(date(2026, 6, 10)),
        issued_label: String::new(),
        meta: vec![
            (
                "業務名".to_string(),
                "住民基本台帳ネットワークシステム運用支援業務".to_string(),
            ),
            (
                "契約期間".to_string(),
                "令和8年4月1日 〜 令和9年3月31日".to_string(),
            ),
            ("対象月".to_string(), "令和8年5月".to_string()),
        ],
        sections: vec![
            Section::new("1. 作業実績")
                .sheet("作業実績")
                .push(Block::Paragraph(
                    "令和8年5月に実施した作業は次のとおりです。区分は仕様書第6条の①〜⑤による。"
                        .to_string(),
                ))
                .push(Block::Table(table)),
            Section::new("2. 区分別集計")
                .sheet("区分別集計")
                .on_new_page()
                .push(Block::Subheading("区分別の件数と時間".to_string()))
                .push(Block::KeyValues(vec![
                    ("作業件数".to_string(), format!("{rows}件")),
                    (
                        "作業時間".to_string(),
                        format!("{:.1}時間", HOURS_EACH * rows as f64),
                    ),
                ]))
                .push(Block::Chart(chart.to_chart())),
        ],
        approval: Some(Approval {
            title: Some("確認欄".to_string()),
            columns: vec![
                ApprovalColumn::signed("作業責任者", "山田 太郎", date(2026, 6, 10)),
                ApprovalColumn::new("確認者（県）"),
                ApprovalColumn::new("確認者（県）"),
            ],
            seal_boxes: true,
        }),
        footer_note: Some("業務実績簿 令和8年5月分 第1版".to_string()),
        author: Some("株式会社サンプル情報システム".to_string()),
        landscape: false,
    }
}

/// A long document (about `pages` A4 pages) for timing.
pub fn long_document(pages: usize) -> Document {
    let mut doc = sample_document(pages * 24);
    doc.sections[0].heading = format!("1. 作業実績（{}行）", pages * 24);
    doc
}

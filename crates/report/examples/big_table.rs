//! One landscape document with a single large table shaped like the monthly work record's (nine columns,
//! Japanese text wrapping over two or three lines in some cells), rendered once as PDF. For measuring the
//! renderer's time and memory on their own: build it with `cargo build --release -p unyo-report --example
//! big_table` and run `target/release/examples/big_table 8300` under `/usr/bin/time -v` (the whole
//! `unyo report` process is measured by `cargo xtask bench reports`). Prints the row count and the PDF's
//! size.

use chrono::NaiveDate;
use unyo_report::{Block, Cell, Column, Document, Section, Table, render_pdf};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let rows: usize = std::env::args()
        .nth(1)
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(8_300);
    let mut t = Table::new(vec![
        Column::right("No.", 9.0),
        Column::left("日付", 24.0),
        Column::left("時間", 30.0),
        Column::right("時間数", 14.0),
        Column::left("場所・端末", 38.0),
        Column::center("区分", 10.0),
        Column::left("内容", 67.0),
        Column::left("結果", 50.0),
        Column::left("作業者", 24.0),
    ]);
    let first = NaiveDate::from_ymd_opt(2026, 5, 1).ok_or("date")?;
    for i in 0..rows {
        let day = first + chrono::Days::new((i * 31 / rows.max(1)) as u64);
        t.rows.push(vec![
            Cell::from(i + 1),
            Cell::text(format!("{}", day.format("%-m月%-d日"))),
            Cell::text(format!("{:02}:00～{:02}:30", 9 + i % 8, 9 + i % 8)),
            Cell::Number(0.5 + (i % 4) as f64 * 0.25, 2),
            Cell::text(format!("佐賀土木事務所 jk-dbk-saga{:02}（現地）", i % 40)),
            Cell::text(["①", "②", "③"][i % 3]),
            Cell::text(if i % 5 == 0 {
                "業務端末のウイルス対策ソフト定義ファイルの更新（手動）とフルスキャン結果の確認\n［支援要請 R8-0012］"
            } else {
                "業務端末の定期点検（ディスク容量・イベントログの確認）"
            }),
            Cell::text(if i % 7 == 0 {
                "異常なし\n今後の対応: 次回点検時に再確認する。"
            } else {
                "異常なし"
            }),
            Cell::text("保守 技郎"),
        ]);
    }
    let mut doc = Document::new("業務実績簿");
    doc.subtitle = Some("令和8年5月分".into());
    doc.landscape = true;
    doc.footer_note = Some("業務実績簿 令和8年5月分".into());
    doc.sections
        .push(Section::new("1. 作業実績").push(Block::Table(t)));
    let pdf = render_pdf(&doc)?;
    let pages = pdf
        .windows(b"/Type /Page\n".len())
        .filter(|w| *w == b"/Type /Page\n")
        .count();
    println!("{rows} rows, {} bytes, ~{pages} pages", pdf.len());
    Ok(())
}

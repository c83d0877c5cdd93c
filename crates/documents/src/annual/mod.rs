//! The annual council pack (本人確認情報保護審議会資料, R6): the fiscal year's operation in figures and charts,
//! for the prefecture's explanation to the protection council (仕様書 1(6)④).

mod accounts;
pub mod figures;
/// The outage windows and availability are the store's one definition (the board and the 業務実績簿 use it too).
pub use unyo_store::outages;
mod summary;

pub use figures::PackFigures;

use crate::text::{duration, hours, term};
use crate::{DocumentError, Result};
use chrono::NaiveDate;
use unyo_domain::incident::{Figures, Severity};
use unyo_domain::records::Month;
use unyo_domain::support::{Category, Clause};
use unyo_domain::wareki::{FiscalYear, format_long, format_year_month};
use unyo_report::{
    Approval, ApprovalColumn, BarChart, BarMode, Block, Cell, Column, Document, Section, Table,
};
use unyo_store::Store;
use unyo_store::annual::AccountFigures;
use unyo_store::audit::ChainReport;
use unyo_store::campaigns::{Campaign, CampaignQuery};
use unyo_store::incidents::{IncidentAccount, IncidentStats};
use unyo_store::records::{AuditFigure, MonthlyRecord, RequestFigure, WorkFigure};
use unyo_store::registry::Site;
use unyo_store::support::Contract;
use unyo_store::vulns::VulnOverview;

/// Security events of the audit log, as the pack groups them: (label, exact actions, action prefixes).
const EVENT_GROUPS: [(&str, &[&str], &[&str]); 7] = [
    ("ログイン成功", &["login.success"], &[]),
    ("ログイン失敗", &["login.failure"], &[]),
    ("アカウントロック", &["login.lockout"], &[]),
    ("データ出力", &[], &["export."]),
    (
        "証跡・実績簿の取得",
        &["attachment.download", "record.download"],
        &[],
    ),
    ("利用者管理", &[], &["user."]),
    // Written by the web layer for every request whose text held one (never the text itself).
    ("個人識別情報の入力拒否", &["pii.refused"], &[]),
];

/// How many of the longest incidents the pack lists.
const LONGEST: usize = 20;

/// Everything the pack is made from, read once.
#[derive(Debug, Clone)]
pub struct AnnualData {
    pub contract: Contract,
    pub fy: FiscalYear,
    pub issued_on: NaiveDate,
    /// The contract's work per month, clause and category.
    pub work: Vec<WorkFigure>,
    /// Requests filed in the year (all contracts).
    pub requests: Vec<RequestFigure>,
    pub incidents: IncidentStats,
    /// Every incident of the year (the same set as `incidents`) with its cause, response and 再発防止策.
    pub accounts: Vec<IncidentAccount>,
    /// Sites in service, by code.
    pub sites: Vec<Site>,
    /// Campaigns numbered in the year.
    pub campaigns: Vec<Campaign>,
    /// Security events per JST month and action.
    pub audit: Vec<AuditFigure>,
    /// The audit chain verified when the pack was made.
    pub chain: ChainReport,
    /// Consultations of the contract held in the year.
    pub consultations: usize,
    /// The contract's monthly records of the year.
    pub records: Vec<MonthlyRecord>,
    /// The outage windows per site, their downtime and the availability they give.
    pub outages: outages::Availability,
    /// Accounts in use and their second factor.
    pub account_figures: AccountFigures,
    /// Vulnerability feeds and findings.
    pub vulns: VulnOverview,
}

/// Reads a fiscal year for the pack, as of `issued_on`.
pub async fn annual_data(
    store: &Store,
    contract_id: i64,
    fy: FiscalYear,
    issued_on: NaiveDate,
) -> Result<AnnualData> {
    let contract = store.contract(contract_id).await?;
    if fy.start() > fy.end() {
        return Err(DocumentError::Store(
            unyo_domain::DomainError::invalid("fiscal_year", "年度が正しくありません。").into(),
        ));
    }
    // Every figure stops at the issue date: a pack dated in November and generated in December
    // must not count December.
    let until = fy.end().min(issued_on);
    let work = store
        .work_figures(Some(contract_id), fy.start(), until)
        .await?;
    let requests = store.request_figures(fy.start(), until).await?;
    let incidents = store.incident_stats(fy).await?;

    // The cut-off of every time-based figure: the end of the covered day (JST).
    let end_of_day = (until + chrono::Days::new(1))
        .and_hms_opt(0, 0, 0)
        .map_or(0, |t| t.and_utc().timestamp() - 9 * 3600);
    let now = chrono::DateTime::from_timestamp(end_of_day, 0).unwrap_or_default();
    let accounts = store.incident_accounts(fy, now).await?;

    let mut sites = store.all_sites().await?;
    sites.sort_by(|a, b| a.code.cmp(&b.code));

    let mut campaigns = Vec::new();
    let mut page = 1;
    loop {
        let p = store
            .campaigns(&CampaignQuery {
                page: Some(page),
                per_page: Some(500),
                ..Default::default()
            })
            .await?;
        let pages = p.pages();
        campaigns.extend(
            p.items
                .into_iter()
                .filter(|c| c.fiscal_year == i64::from(fy.0)),
        );
        if page >= pages {
            break;
        }
        page += 1;
    }
    campaigns.sort_by(|a, b| a.number.cmp(&b.number));

    let actions: Vec<&str> = EVENT_GROUPS
        .iter()
        .flat_map(|(_, a, _)| a.iter().copied())
        .collect();
    let prefixes: Vec<&str> = EVENT_GROUPS
        .iter()
        .flat_map(|(_, _, p)| p.iter().copied())
        .collect();
    let audit = store
        .audit_figures(fy.start(), until, &actions, &prefixes)
        .await?;
    let chain = store.verify_audit_chain().await?;
    let consultations = store
        .consultations(Some(contract_id), Some(fy.start()), Some(until))
        .await?
        .len();
    let records = store.monthly_records(Some(contract_id), Some(fy)).await?;
    let from = fy
        .start()
        .and_hms_opt(0, 0, 0)
        .map_or(0, |t| t.and_utc().timestamp() - 9 * 3600);
    let monitoring = store.year_monitoring(from, end_of_day).await?;
    // An outage still going on counts up to the newest result kept, never past the covered day.
    let cut_off = outages::cut_off(&monitoring, from, end_of_day);
    let outages = outages::compute(&monitoring, &accounts, from, cut_off);
    let account_figures = store.account_figures().await?;
    let vulns = store
        .vuln_overview(
            now,
            unyo_store::vulns::DEFAULT_STALE_DAYS,
            accounts::OLDEST_CRITICAL,
        )
        .await?;
    Ok(AnnualData {
        contract,
        fy,
        issued_on,
        work,
        requests,
        incidents,
        accounts,
        sites,
        campaigns,
        audit,
        chain,
        consultations,
        records,
        outages,
        account_figures,
        vulns,
    })
}

/// The council pack of a fiscal year (by its starting calendar year), issued on `issued_on`.
pub async fn annual_pack(
    store: &Store,
    contract_id: i64,
    fiscal_year: i32,
    issued_on: NaiveDate,
) -> Result<Document> {
    Ok(
        annual_data(store, contract_id, FiscalYear(fiscal_year), issued_on)
            .await?
            .document(),
    )
}

fn month_short(m: u32) -> String {
    format!("{m}月")
}

fn group_of(action: &str) -> Option<usize> {
    EVENT_GROUPS.iter().position(|(_, exact, prefixes)| {
        exact.contains(&action) || prefixes.iter().any(|p| action.starts_with(p))
    })
}

/// Charts 180 mm wide (about 90 mm high), leaving room on a landscape page for a table.
fn sized(mut chart: unyo_report::Chart) -> unyo_report::Chart {
    chart.width_mm = Some(180.0);
    chart
}

/// The chart, or, when it would print empty (every value zero), its title with 「該当なし」 and `reason`:
/// a council member should never have to guess whether an empty frame means none or a fault.
fn chart_or_none(chart: BarChart, reason: &str) -> Block {
    if chart
        .series
        .iter()
        .all(|(_, values)| values.iter().all(|v| *v == 0.0))
    {
        Block::Paragraph(format!("{}: 該当なし（{reason}）", chart.title))
    } else {
        Block::Chart(sized(chart.to_chart()))
    }
}

fn integer(n: i64) -> Cell {
    Cell::Integer(n)
}

impl AnnualData {
    fn months(&self) -> Vec<(i32, u32)> {
        self.fy.months().collect()
    }

    /// The last day the figures cover: the fiscal year's end, or the issue date while it runs.
    fn covered_until(&self) -> NaiveDate {
        self.fy.end().min(self.issued_on)
    }

    fn work_total(&self) -> (i64, i64) {
        self.work
            .iter()
            .fold((0, 0), |(n, m), f| (n + f.count, m + f.minutes))
    }

    /// Security events per month (rows) and group (columns).
    fn events(&self) -> Vec<[i64; EVENT_GROUPS.len()]> {
        let months = self.months();
        let mut out = vec![[0i64; EVENT_GROUPS.len()]; months.len()];
        for f in &self.audit {
            if let (Some(i), Some(g)) = (
                months.iter().position(|&m| m == (f.year, f.month)),
                group_of(&f.action),
            ) {
                out[i][g] += f.count;
            }
        }
        out
    }

    /// The pack: A4 landscape, ten sections (one sheet each in the XLSX), charts as SVG.
    pub fn document(&self) -> Document {
        let c = &self.contract;
        let mut doc = Document::new("本人確認情報保護審議会資料");
        doc.subtitle = Some(format!(
            "{}　住民基本台帳ネットワークシステムの運用状況",
            self.fy.label()
        ));
        doc.org_lines = vec![
            format!("受託者　{}", c.contractor),
            format!("作業責任者　{}", c.manager),
        ];
        doc.issued_on = Some(self.issued_on);
        doc.issued_label = "作成日".into();
        doc.meta = vec![
            ("業務名".into(), c.name.clone()),
            ("契約期間".into(), term(&c.term_start, &c.term_end)),
            (
                "対象年度".into(),
                format!(
                    "{}（{}～{}）",
                    self.fy.label(),
                    format_long(self.fy.start()),
                    format_long(self.fy.end())
                ),
            ),
            (
                "集計期間".into(),
                format!(
                    "{}～{}",
                    format_long(self.fy.start()),
                    format_long(self.covered_until())
                ),
            ),
        ];
        doc.author = Some(c.contractor.clone());
        doc.landscape = true;
        doc.footer_note = Some(format!("本人確認情報保護審議会資料 {}", self.fy.label()));
        let f = self.figures();
        doc.sections = vec![
            self.summary_section(&f),
            self.work_section(),
            self.requests_section(),
            self.incidents_section(),
            self.incident_accounts_section(&f),
            self.availability_section(&f),
            self.campaigns_section(),
            self.security_section(&f),
            self.vulnerability_section(&f),
            self.records_section(),
        ];
        doc.approval = Some(Approval {
            title: Some("確認欄".into()),
            columns: vec![
                ApprovalColumn::signed("作成者（受託者）", c.manager.clone(), self.issued_on),
                ApprovalColumn::new("確認者（県）"),
            ],
            seal_boxes: false,
        });
        doc
    }

    fn summary_section(&self, f: &PackFigures) -> Section {
        let chain = if f.chain_intact {
            format!(
                "正常（{}件を検証）",
                unyo_report::format_integer(f.chain_entries)
            )
        } else {
            match &self.chain {
                ChainReport::Broken { id, .. } => format!("異常あり（{id}番目の記録）"),
                ChainReport::Intact { .. } => "異常あり".to_string(),
            }
        };
        let mut t = Table::new(vec![
            Column::left("項目", 70.0),
            Column::right("実績", 50.0),
            Column::left("備考", 120.0),
        ])
        .caption("概要の数値（各章の数値と同じ）");
        // The figures are numbers with their unit, so the XLSX can sum and sort them.
        let mut row = |item: &str, value: Cell, note: String| {
            t.rows.push(vec![Cell::text(item), value, Cell::Text(note)]);
        };
        fn count(n: i64) -> Cell {
            Cell::count(n, "件")
        }
        let y = &f.incidents;
        row(
            "作業件数",
            count(f.work_count),
            "仕様書1(6)①～⑤の作業（業務実績簿による）".into(),
        );
        row(
            "作業時間",
            Cell::Amount(hours(f.work_minutes), 2, "時間".into()),
            String::new(),
        );
        row(
            "支援要請",
            count(f.requests),
            format!(
                "うち確認済 {}件",
                unyo_report::format_integer(f.requests_confirmed)
            ),
        );
        row(
            "障害",
            count(y.count),
            // The three parts add up to the count (Figures::by_progress).
            y.by_progress()
                .iter()
                .map(|(label, n)| format!("{label} {}件", unyo_report::format_integer(*n)))
                .collect::<Vec<_>>()
                .join("・"),
        );
        row(
            "再発防止策を定めた障害",
            count(f.preventions),
            format!("障害{}件のうち", unyo_report::format_integer(y.count)),
        );
        row(
            "平均初動時間（MTTA）",
            Cell::text(duration(y.mtta_minutes)),
            "認知から初動まで".into(),
        );
        row(
            "平均復旧時間（MTTR）",
            Cell::text(duration(y.mttr_minutes)),
            "発生から復旧まで".into(),
        );
        row(
            "稼働率（疎通監視）",
            summary::availability_cell(f.availability),
            "全拠点、保守時間帯を除く".into(),
        );
        row(
            "停止時間（疎通監視）",
            Cell::text(duration(Some(f.down_minutes))),
            format!(
                "全拠点の合計。{}分以上の停止 {}件、うち障害記録なし {}件",
                outages::LISTED_MINUTES,
                f.outages_listed,
                f.outages_unexplained
            ),
        );
        row(
            "更新作業の展開",
            count(f.campaigns),
            format!("うち完了 {}件", f.campaigns_closed),
        );
        row("協議記録", count(f.consultations), String::new());
        row(
            "業務実績簿",
            Cell::text(format!("確認済 {}か月", f.records_confirmed)),
            format!("提出 {}か月", self.records.len()),
        );
        row(
            "2要素認証の利用",
            count(f.accounts_2fa),
            format!("利用者アカウント {}件のうち", f.accounts),
        );
        row(
            "ログイン失敗",
            count(f.login_failures),
            format!(
                "アカウントロック {}件",
                unyo_report::format_integer(f.lockouts)
            ),
        );
        row(
            "データ出力・証跡取得",
            count(f.exports + f.downloads),
            format!("データ出力 {}件・証跡取得 {}件", f.exports, f.downloads),
        );
        row(
            "個人識別情報の入力拒否",
            count(f.pii_refusals),
            "入力内容は記録せず、拒否の事実のみ監査ログに記録".to_string(),
        );
        row(
            "脆弱性の該当（未完了の重大）",
            count(f.findings_active_critical),
            format!(
                "該当 {}件のうち重大（Critical）で未対応・対応中",
                unyo_report::format_integer(f.findings_total())
            ),
        );
        row(
            "監査ログの改ざん検知",
            Cell::Text(chain),
            "ハッシュチェーンの検証".into(),
        );
        let mut intro = format!(
            "{}（{}～{}）の住民基本台帳ネットワークシステム運用支援業務の実施状況を、本人確認情報保護審議会の資料として取りまとめたものです。数値は{}時点の運用支援システム（unyo）の記録によります。",
            self.fy.label(),
            format_long(self.fy.start()),
            format_long(self.fy.end()),
            format_long(self.issued_on)
        );
        if self.issued_on < self.fy.end() {
            intro.push_str(&format!(
                "年度途中のため、{}までの実績です。",
                format_long(self.covered_until())
            ));
        }
        let mut section = Section::new("1. 運用の概要")
            .sheet("概要")
            .push(Block::Paragraph(intro));
        for p in self.summary_paragraphs(f) {
            section = section.push(Block::Paragraph(p));
        }
        section.push(Block::PageBreak).push(Block::Table(t))
    }

    /// One row per month (and a 合計 row), one column per key (and a 合計 column). `_first` names what
    /// the keys are (shown in the caption's sense; the first column is always the month).
    fn month_table(
        &self,
        caption: &str,
        _first: &str,
        keys: &[(String, Vec<f64>)],
        decimals: u8,
    ) -> Table {
        let width = ((267.0 - 34.0) / (keys.len() as f64 + 1.0)).min(40.0);
        let mut cols = vec![Column::left("月", 34.0)];
        cols.extend(
            keys.iter()
                .map(|(label, _)| Column::right(label.clone(), width)),
        );
        cols.push(Column::right("合計", width));
        let cell = |v: f64| {
            if decimals == 0 {
                Cell::Integer(v.round() as i64)
            } else {
                Cell::Number(v, decimals)
            }
        };
        let mut t = Table::new(cols).caption(caption);
        let mut totals = vec![0.0; keys.len()];
        for (i, (y, m)) in self.months().into_iter().enumerate() {
            let mut r = vec![Cell::text(format_year_month(y, m))];
            let mut sum = 0.0;
            for (k, (_, values)) in keys.iter().enumerate() {
                let v = values.get(i).copied().unwrap_or(0.0);
                totals[k] += v;
                sum += v;
                r.push(cell(v));
            }
            r.push(cell(sum));
            t.rows.push(r);
        }
        let mut tr = vec![Cell::text("合計")];
        tr.extend(totals.iter().map(|v| cell(*v)));
        tr.push(cell(totals.iter().sum()));
        t.totals = Some(tr);
        t
    }

    fn work_by(&self, key: impl Fn(&WorkFigure) -> bool, minutes: bool) -> Vec<f64> {
        self.months()
            .into_iter()
            .map(|(y, m)| {
                self.work
                    .iter()
                    .filter(|f| f.year == y && f.month == m && key(f))
                    .map(|f| {
                        if minutes {
                            hours(f.minutes)
                        } else {
                            f.count as f64
                        }
                    })
                    .sum()
            })
            .collect()
    }

    fn work_section(&self) -> Section {
        let hours_rows: Vec<(String, Vec<f64>)> = Clause::ALL
            .iter()
            .map(|c| {
                (
                    c.label_ja().to_string(),
                    self.work_by(|f| f.clause == c.code(), true),
                )
            })
            .collect();
        let count_rows: Vec<(String, Vec<f64>)> = Clause::ALL
            .iter()
            .map(|c| {
                (
                    c.label_ja().to_string(),
                    self.work_by(|f| f.clause == c.code(), false),
                )
            })
            .collect();
        let chart = BarChart {
            id: "annual-work-hours".into(),
            title: format!("月別・区分別の作業時間（{}）", self.fy.label()),
            categories: self
                .months()
                .into_iter()
                .map(|(_, m)| month_short(m))
                .collect(),
            series: Clause::ALL
                .iter()
                .zip(&hours_rows)
                .map(|(c, (_, v))| (c.mark().to_string(), v.clone()))
                .collect(),
            y_label: "（時間）".into(),
            mode: BarMode::Stacked,
            decimals: 2,
        };
        let mut by_category = Table::new(vec![
            Column::left("作業種別", 90.0),
            Column::right("件数", 30.0),
            Column::right("時間数", 30.0),
        ])
        .caption("作業種別（年度計）");
        for cat in Category::ALL {
            let (n, m) = self
                .work
                .iter()
                .filter(|f| f.category == cat.code())
                .fold((0, 0), |(n, m), f| (n + f.count, m + f.minutes));
            by_category.rows.push(vec![
                Cell::text(cat.label_ja()),
                integer(n),
                Cell::Number(hours(m), 2),
            ]);
        }
        let (n, m) = self.work_total();
        by_category.totals = Some(vec![
            Cell::text("合計"),
            integer(n),
            Cell::Number(hours(m), 2),
        ]);
        Section::new("2. 作業実績（区分別・月別）")
            .sheet("作業実績")
            .on_new_page()
            .push(Block::Paragraph(
                "区分は仕様書1(6)の①代表端末に係る運用支援、②業務端末に係る運用支援、③その他の運用支援、④審議会に係る支援、⑤障害発生時の緊急対応です。".into(),
            ))
            .push(chart_or_none(chart, "当年度の作業の記録はありません"))
            .push(Block::Table(self.month_table(
                "区分別・月別の作業時間（時間）",
                "区分",
                &hours_rows,
                2,
            )))
            .push(Block::Table(self.month_table(
                "区分別・月別の作業件数（件）",
                "区分",
                &count_rows,
                0,
            )))
            .push(Block::Table(by_category))
    }

    fn requests_section(&self) -> Section {
        let groups: [(&str, &[&str]); 4] = [
            ("確認済", &["confirmed"]),
            ("完了（確認待ち）", &["completed"]),
            (
                "対応中・受付・差戻し",
                &["requested", "accepted", "in_progress", "returned"],
            ),
            ("取下げ", &["withdrawn"]),
        ];
        let rows: Vec<(String, Vec<f64>)> = groups
            .iter()
            .map(|(label, statuses)| {
                let v = self
                    .months()
                    .into_iter()
                    .map(|(y, m)| {
                        self.requests
                            .iter()
                            .filter(|r| {
                                r.year == y && r.month == m && statuses.contains(&r.status.as_str())
                            })
                            .map(|r| r.count as f64)
                            .sum()
                    })
                    .collect();
                (label.to_string(), v)
            })
            .collect();
        let mut by_category = Table::new(vec![
            Column::left("区分", 90.0),
            Column::right("件数", 30.0),
        ])
        .caption("区分別（年度計）");
        let mut total = 0;
        for cat in Category::ALL {
            let n: i64 = self
                .requests
                .iter()
                .filter(|r| r.category == cat.code())
                .map(|r| r.count)
                .sum();
            total += n;
            by_category
                .rows
                .push(vec![Cell::text(cat.label_ja()), integer(n)]);
        }
        by_category.totals = Some(vec![Cell::text("合計"), integer(total)]);
        Section::new("3. 支援要請")
            .sheet("支援要請")
            .on_new_page()
            .push(Block::Paragraph(
                "県から受けた支援要請の件数です（要請日の月に計上、状態は作成時点）。".into(),
            ))
            .push(Block::Table(self.month_table(
                "月別・状態別の支援要請（件）",
                "状態",
                &rows,
                0,
            )))
            .push(Block::Table(by_category))
    }

    fn figures_row(label: String, f: &Figures) -> Vec<Cell> {
        vec![
            Cell::Text(label),
            integer(f.count),
            integer(f.closed),
            integer(f.awaiting_close),
            integer(f.unrecovered),
            Cell::text(duration(f.mtta_minutes)),
            Cell::text(duration(f.mttr_minutes)),
            Cell::text(duration(f.max_mttr_minutes)),
            Cell::text(duration(Some(f.total_outage_minutes))),
        ]
    }

    fn figures_columns(first: &str, width: f64) -> Vec<Column> {
        vec![
            Column::left(first, width),
            Column::right("件数", 18.0),
            Column::right("完了", 18.0),
            Column::right("確認待ち", 20.0),
            Column::right("対応中", 18.0),
            Column::right("平均初動", 28.0),
            Column::right("平均復旧", 28.0),
            Column::right("最長復旧", 28.0),
            Column::right("停止時間計", 36.0),
        ]
    }

    fn incidents_section(&self) -> Section {
        let s = &self.incidents;
        let chart = BarChart {
            id: "annual-incidents".into(),
            title: format!("月別の障害件数（{}）", self.fy.label()),
            categories: s.months.iter().map(|m| month_short(m.month)).collect(),
            // Stacked by where each stands, so a month's bar is its count.
            series: (0..3)
                .map(|k| {
                    (
                        unyo_domain::incident::PROGRESS_LABELS[k].to_string(),
                        s.months
                            .iter()
                            .map(|m| m.figures.by_progress()[k].1 as f64)
                            .collect(),
                    )
                })
                .collect(),
            y_label: "（件）".into(),
            mode: BarMode::Stacked,
            decimals: 0,
        };
        let mut by_month = Table::new(Self::figures_columns("月", 40.0)).caption("月別");
        for m in &s.months {
            by_month.rows.push(Self::figures_row(
                format_year_month(m.year, m.month),
                &m.figures,
            ));
        }
        by_month.totals = Some(Self::figures_row("年度計".into(), &s.year));
        let mut by_site = Table::new(Self::figures_columns("拠点", 60.0)).caption("拠点別");
        for site in &s.sites {
            by_site
                .rows
                .push(Self::figures_row(site.site_name.clone(), &site.year));
        }
        let mut by_severity = Table::new(vec![
            Column::left("重大度", 40.0),
            Column::right("件数", 20.0),
        ])
        .caption("重大度別");
        for (code, n) in &s.severities {
            by_severity.rows.push(vec![
                Cell::text(Severity::parse(code).map_or(code.as_str(), |x| x.label_ja())),
                integer(*n),
            ]);
        }
        by_severity.totals = Some(vec![
            Cell::text("合計"),
            integer(s.severities.iter().map(|(_, n)| n).sum()),
        ]);
        let mut longest = Table::new(vec![
            Column::left("障害番号", 30.0),
            Column::left("件名", 100.0),
            Column::left("拠点", 50.0),
            Column::left("発生", 28.0),
            Column::left("復旧", 28.0),
            Column::right("復旧時間", 26.0),
        ])
        .caption(format!("復旧までの時間が長かった障害（上位{LONGEST}件）"));
        for a in self.longest().into_iter().take(LONGEST) {
            let i = &a.incident;
            longest.rows.push(vec![
                Cell::text(i.number.clone()),
                Cell::text(i.title.clone()),
                Cell::text(i.sites.clone()),
                Cell::text(crate::text::jst_short(&i.occurred_at)),
                Cell::text(crate::text::jst_short_opt(&i.recovered_at)),
                Cell::text(duration(i.mttr_minutes)),
            ]);
        }
        longest.empty_text = Some("該当なし（復旧した障害はありません）".into());
        Section::new("4. 障害対応（MTTA・MTTR）")
            .sheet("障害対応")
            .on_new_page()
            .push(Block::Paragraph(
                "障害は発生の月に計上し、作成時点の状況で完了・復旧済（確認待ち）・対応中に分けています（三つの和が件数）。平均初動時間（MTTA）は認知から初動まで、平均復旧時間（MTTR）は発生から復旧までの平均、停止時間計は発生から復旧までの時間の合計です。".into(),
            ))
            .push(chart_or_none(chart, "当年度の障害はありません"))
            .push(Block::Table(by_month))
            .push(Block::Table(by_severity))
            .push(Block::Table(by_site))
            .push(Block::Table(longest))
    }

    fn campaigns_section(&self) -> Section {
        let mut t = Table::new(vec![
            Column::left("番号", 26.0),
            Column::left("件名", 80.0),
            Column::left("目標", 70.0),
            Column::right("対象", 16.0),
            Column::right("実施済", 18.0),
            Column::right("失敗", 16.0),
            Column::right("対象外", 18.0),
            Column::center("状態", 18.0),
        ]);
        for c in &self.campaigns {
            let p = &c.progress;
            t.rows.push(vec![
                Cell::text(c.number.clone()),
                Cell::text(c.title.clone()),
                Cell::text(c.goal_summary.clone()),
                integer(p.total),
                integer(p.done),
                integer(p.failed),
                integer(p.excluded),
                Cell::text(if c.is_open() { "実施中" } else { "完了" }),
            ]);
        }
        t.empty_text = Some("該当なし（当年度の展開はありません）".into());
        if !self.campaigns.is_empty() {
            let sum = |f: fn(&Campaign) -> i64| self.campaigns.iter().map(f).sum::<i64>();
            t.totals = Some(vec![
                Cell::text("合計"),
                Cell::text(format!("{}件", self.campaigns.len())),
                Cell::Empty,
                integer(sum(|c| c.progress.total)),
                integer(sum(|c| c.progress.done)),
                integer(sum(|c| c.progress.failed)),
                integer(sum(|c| c.progress.excluded)),
                Cell::Empty,
            ]);
        }
        Section::new("7. 更新作業の展開（ウイルス対策・アップデート）")
            .sheet("展開")
            .push(Block::Paragraph(
                "ウイルス対策ソフトの定義ファイル、業務アプリケーション、OSの更新を端末ごとに展開した結果です（台数は作成時点）。".into(),
            ))
            .push(Block::Table(t))
    }

    fn security_section(&self, f: &PackFigures) -> Section {
        let events = self.events();
        let months = self.months();
        let mut cols = vec![Column::left("月", 36.0)];
        cols.extend(EVENT_GROUPS.iter().map(|(l, _, _)| Column::right(*l, 32.0)));
        let mut t = Table::new(cols).caption("月別の件数");
        for ((y, m), row) in months.iter().zip(&events) {
            let mut r = vec![Cell::text(format_year_month(*y, *m))];
            r.extend(row.iter().map(|n| integer(*n)));
            t.rows.push(r);
        }
        let mut totals = vec![Cell::text("年度計")];
        totals.extend((0..EVENT_GROUPS.len()).map(|g| integer(events.iter().map(|r| r[g]).sum())));
        t.totals = Some(totals);
        let categories: Vec<String> = months.iter().map(|(_, m)| month_short(*m)).collect();
        let series = |groups: &[usize]| -> Vec<(String, Vec<f64>)> {
            groups
                .iter()
                .map(|&g| {
                    (
                        EVENT_GROUPS[g].0.to_string(),
                        events.iter().map(|r| r[g] as f64).collect(),
                    )
                })
                .collect()
        };
        let logins = BarChart {
            id: "annual-logins".into(),
            title: "月別のログイン".into(),
            categories: categories.clone(),
            series: series(&[0, 1]),
            y_label: "（件）".into(),
            mode: BarMode::Grouped,
            decimals: 0,
        };
        let others = BarChart {
            id: "annual-attention-operations".into(),
            title: "月別の注意を要する操作（ロック・出力・取得・利用者管理・個人識別情報の拒否）"
                .into(),
            categories,
            series: series(&[2, 3, 4, 5, 6]),
            y_label: "（件）".into(),
            mode: BarMode::Stacked,
            decimals: 0,
        };
        let chain = match &self.chain {
            ChainReport::Intact { entries, head } => format!(
                "監査ログの改ざん検知（ハッシュチェーンの検証、{}実施）: 正常。{}件の記録がすべて連鎖しています（最新のハッシュ {}）。",
                format_long(self.issued_on),
                unyo_report::format_integer(*entries),
                head.get(..16).unwrap_or(head)
            ),
            ChainReport::Broken { id, reason } => format!(
                "監査ログの改ざん検知（ハッシュチェーンの検証、{}実施）: 異常あり。{id}番目の記録で連鎖が切れています（{reason}）。",
                format_long(self.issued_on)
            ),
        };
        Section::new("8. セキュリティ対策の実施状況（監査ログ）")
            .sheet("セキュリティ")
            .on_new_page()
            .push(Block::Paragraph(format!(
                "利用者の認証と、データの出力・証跡の取得・利用者管理の操作は、すべて改ざん検知可能な監査ログに記録しています。ログイン失敗が5回続いたアカウントは15分間ロックされます。{chain}"
            )))
            .push(Block::KeyValues(vec![
                (
                    "利用者アカウント".into(),
                    format!(
                        "{}件（うち2要素認証（TOTP）の利用 {}件）",
                        unyo_report::format_integer(f.accounts),
                        unyo_report::format_integer(f.accounts_2fa)
                    ),
                ),
                (
                    "データ出力・証跡取得".into(),
                    format!(
                        "データ出力 {}件・証跡・実績簿の取得 {}件（すべて監査ログに記録）",
                        unyo_report::format_integer(f.exports),
                        unyo_report::format_integer(f.downloads)
                    ),
                ),
                (
                    "個人識別情報の混入防止".into(),
                    format!(
                        "個人番号・住民票コード等を含む入力は、すべての自由記述欄と添付ファイル名で受け付けず保存しません。当年度の拒否 {}件（拒否した事実・操作者・画面を監査ログに記録し、入力内容は記録しません）。",
                        unyo_report::format_integer(f.pii_refusals)
                    ),
                ),
            ]))
            .push(Block::Table(t))
            .push(chart_or_none(logins, "当年度のログインの記録はありません"))
            .push(chart_or_none(
                others,
                "当年度のロック・データ出力・証跡取得・利用者管理・個人識別情報の拒否の記録はありません",
            ))
    }

    fn records_section(&self) -> Section {
        let mut t = Table::new(vec![
            Column::left("対象月", 36.0),
            Column::center("状態", 24.0),
            Column::center("版", 18.0),
            Column::left("提出日", 44.0),
            Column::left("確認日", 44.0),
            Column::left("確認者", 50.0),
        ]);
        for (y, m) in self.months() {
            let month = Month { year: y, month: m };
            let r = self.records.iter().find(|r| r.month() == month);
            let latest = r.and_then(MonthlyRecord::latest);
            let confirmed = r.and_then(MonthlyRecord::confirmed);
            let date = |s: &Option<String>| {
                s.as_deref()
                    .map_or_else(|| "―".to_string(), crate::text::wareki)
            };
            let state = if r.is_none() && month.first_day() > self.issued_on {
                "―"
            } else {
                unyo_domain::records::status_label_ja(r.map(MonthlyRecord::status))
            };
            t.rows.push(vec![
                Cell::text(month.label()),
                Cell::text(state),
                Cell::text(latest.map_or_else(|| "―".into(), |v| format!("第{}版", v.version))),
                Cell::text(
                    latest.map_or_else(|| "―".into(), |v| crate::text::wareki(&v.submitted_on)),
                ),
                Cell::text(date(&confirmed.and_then(|v| v.decided_on.clone()))),
                Cell::text(
                    confirmed
                        .and_then(|v| v.decided_by_name.clone())
                        .unwrap_or_else(|| "―".into()),
                ),
            ]);
        }
        Section::new("10. 業務実績簿の提出・確認状況")
            .sheet("業務実績簿")
            // Its own page, so the 確認欄 after it never stands alone on the last page.
            .on_new_page()
            .push(Block::Paragraph(
                "仕様書1(6)⑥に基づき毎月提出する業務実績簿の、提出と県による確認の状況です。"
                    .into(),
            ))
            .push(Block::Table(t))
    }
}

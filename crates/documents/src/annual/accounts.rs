//! The sections that account for the year one item at a time: every incident with its cause, response and
//! 再発防止策; every site's availability with the outages that lowered it; the vulnerability status.

use super::figures::{CAUSE_GROUPS, PackFigures, cause_of, progress_of};
use super::outages::{Explanation, LISTED_MINUTES, SiteOutage};
use super::summary::availability_cell;
use super::{AnnualData, integer};
use crate::text::duration;
use chrono::DateTime;
use unyo_domain::incident::EntryKind;
use unyo_domain::time::{from_storage, to_jst};
use unyo_report::{Block, Cell, Column, Section, Table};
use unyo_store::incidents::IncidentAccount;
use unyo_store::vulns::FindingStatus;

/// Longest text quoted in one cell; the 障害報告書 carries the whole record.
const QUOTE_CHARS: usize = 120;

/// How many of the oldest open critical findings the pack lists.
pub const OLDEST_CRITICAL: i64 = 10;

/// Severities of findings in display order, with their labels.
const SEVERITIES: [(&str, &str); 5] = [
    ("critical", "重大（Critical）"),
    ("high", "高（High）"),
    ("medium", "中（Medium）"),
    ("low", "低（Low）"),
    ("none", "なし"),
];

/// The first sentence of a recorded text.
fn first_sentence(s: &str) -> String {
    let s = s.trim();
    match s.find('。') {
        Some(i) => s[..i + '。'.len_utf8()].to_string(),
        None => s.to_string(),
    }
}

fn quote(s: &str) -> String {
    let s = s.trim();
    if s.chars().count() <= QUOTE_CHARS {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(QUOTE_CHARS).collect();
        t.push('…');
        t
    }
}

/// A stored instant as a JST date-time cell (和暦 in the PDF, an Excel date-time in the XLSX).
fn instant_cell(stored: Option<&str>, none: &str) -> Cell {
    match stored.and_then(from_storage) {
        Some(at) => Cell::DateTime(to_jst(at)),
        None => Cell::text(none),
    }
}

fn unix_cell(ts: i64) -> Cell {
    DateTime::from_timestamp(ts, 0).map_or(Cell::Empty, |t| Cell::DateTime(to_jst(t)))
}

/// A stored instant's JST date in long 和暦.
fn stored_day(stored: Option<&str>) -> String {
    stored
        .and_then(from_storage)
        .map(|t| unyo_domain::wareki::format_long(to_jst(t).date()))
        .unwrap_or_else(|| "―".into())
}

/// What was done about it: the workaround (and to whom guidance was given), then the recovery work, each
/// by its first sentence.
pub fn response_of(a: &IncidentAccount) -> Option<String> {
    let mut parts = Vec::new();
    for e in a.texts(EntryKind::Workaround) {
        let mut s = first_sentence(&e.text);
        if !e.guidance_to.trim().is_empty() {
            s.push_str(&format!("（{}へ指導）", e.guidance_to.trim()));
        }
        if !s.is_empty() {
            parts.push(format!("回避策: {s}"));
        }
    }
    if let Some(e) = a
        .texts(EntryKind::Recovery)
        .iter()
        .rev()
        .find(|e| !e.text.trim().is_empty())
    {
        parts.push(format!("復旧: {}", first_sentence(&e.text)));
    }
    (!parts.is_empty()).then(|| parts.join(" "))
}

/// The 再発防止策 as the list prints it: the latest one, or 「未記録」.
pub fn prevention_text(a: &IncidentAccount) -> String {
    a.texts(EntryKind::Prevention)
        .iter()
        .rev()
        .map(|e| e.text.trim())
        .find(|t| !t.is_empty())
        .map_or_else(|| "未記録".to_string(), quote)
}

impl AnnualData {
    /// Every incident of the year with its cause, response and 再発防止策.
    pub(super) fn incident_accounts_section(&self, f: &PackFigures) -> Section {
        let mut t = Table::new(vec![
            Column::left("障害番号", 28.0),
            Column::left("件名", 29.0),
            Column::left("拠点", 22.0),
            Column::left("発生", 22.0),
            Column::left("復旧", 22.0),
            Column::left("原因", 40.0),
            Column::left("対応（回避策・復旧）", 48.0),
            Column::left("再発防止策", 43.0),
            Column::center("状況", 13.0),
        ])
        .caption("障害ごとの原因・対応・再発防止策");
        for a in &self.accounts {
            let i = &a.incident;
            t.rows.push(vec![
                Cell::text(i.number.clone()),
                Cell::text(i.title.clone()),
                Cell::text(if i.sites.is_empty() {
                    "拠点指定なし".to_string()
                } else {
                    i.sites.clone()
                }),
                instant_cell(Some(&i.occurred_at), "―"),
                instant_cell(i.recovered_at.as_deref(), "未復旧"),
                Cell::text(cause_of(a).map_or_else(|| "原因調査中（未記録）".to_string(), quote)),
                Cell::text(response_of(a).map_or_else(|| "未記録".to_string(), |s| quote(&s))),
                Cell::text(prevention_text(a)),
                Cell::text(progress_of(a)),
            ]);
        }
        t.empty_text = Some("該当なし（当年度の障害はありません）".into());

        let mut groups = Table::new(vec![
            Column::left("原因の区分", 70.0),
            Column::right("件数", 20.0),
        ])
        .caption("原因の区分別件数");
        for (g, n) in &f.cause_groups {
            groups.rows.push(vec![Cell::text(*g), integer(*n)]);
        }
        groups.totals = Some(vec![
            Cell::text("合計"),
            integer(f.cause_groups.iter().map(|(_, n)| n).sum()),
        ]);
        groups.empty_text = Some("該当なし（当年度の障害はありません）".into());
        let words: Vec<String> = CAUSE_GROUPS
            .iter()
            .map(|(g, w)| format!("{g}（{}）", w.join("・")))
            .collect();
        Section::new("5. 障害ごとの原因・対応・再発防止策")
            .sheet("障害の原因と対策")
            .on_new_page()
            .push(Block::Paragraph(format!(
                "当年度に発生した障害{}件すべてについて、記録された原因、回避策と復旧の対応、再発防止策を示します（対応は回避策と復旧の要点、長い記述は冒頭{QUOTE_CHARS}字まで。全文は各障害の障害報告書にあります）。記録のないものは「未記録」としています。状況の完了・復旧済（確認待ち）・対応中は4章の件数の内訳と同じです。原因の区分は、記録された原因の語句によります: {}。",
                unyo_report::format_integer(f.incidents.count),
                words.join("、")
            )))
            .push(Block::Table(groups))
            .push(Block::Table(t))
    }

    /// Availability and 停止時間 per site from the same windows, and the outages explained.
    pub(super) fn availability_section(&self, f: &PackFigures) -> Section {
        let mut t = Table::new(vec![
            Column::left("拠点コード", 38.0),
            Column::left("拠点名", 62.0),
            Column::right("稼働率", 30.0),
            Column::right("監視時間", 34.0),
            Column::right("停止時間", 30.0),
            Column::right("停止回数", 20.0),
            Column::right("最長停止", 30.0),
            Column::right("障害件数", 20.0),
        ])
        .caption("拠点別の稼働率と停止時間（保守時間帯を除く）");
        let incidents_at = |site: i64| {
            self.accounts
                .iter()
                .filter(|a| a.site_ids.contains(&site))
                .count() as i64
        };
        for site in &self.sites {
            let s = self.outages.sites.get(&site.id);
            let monitored = s.is_some_and(|s| s.monitored_minutes > 0);
            let na = || Cell::text("―");
            t.rows.push(vec![
                Cell::text(site.code.clone()),
                Cell::text(site.name.clone()),
                availability_cell(s.and_then(|s| s.percent())),
                if monitored {
                    Cell::Amount(
                        s.map_or(0.0, |s| s.monitored_minutes as f64 / 60.0),
                        1,
                        "時間".into(),
                    )
                } else {
                    na()
                },
                if monitored {
                    Cell::text(duration(s.map(|s| s.down_minutes)))
                } else {
                    na()
                },
                if monitored {
                    integer(s.map_or(0, |s| {
                        s.outages.iter().filter(|o| o.counts()).count() as i64
                    }))
                } else {
                    na()
                },
                Cell::text(
                    s.and_then(|s| s.longest_minutes())
                        .map_or_else(|| "―".to_string(), |m| duration(Some(m))),
                ),
                integer(incidents_at(site.id)),
            ]);
        }
        t.totals = Some(vec![
            Cell::text("全拠点"),
            Cell::Empty,
            availability_cell(f.availability),
            if self.outages.monitored_minutes() > 0 {
                Cell::Amount(
                    self.outages.monitored_minutes() as f64 / 60.0,
                    1,
                    "時間".into(),
                )
            } else {
                Cell::text("―")
            },
            Cell::text(duration(Some(f.down_minutes))),
            integer(
                self.outages
                    .sites
                    .values()
                    .map(|s| s.outages.iter().filter(|o| o.counts()).count() as i64)
                    .sum(),
            ),
            Cell::Empty,
            Cell::Empty,
        ]);

        let mut list = Table::new(vec![
            Column::left("拠点", 44.0),
            Column::left("停止開始", 30.0),
            Column::left("停止終了", 30.0),
            Column::right("停止時間", 24.0),
            Column::left("停止した確認", 55.0),
            Column::left("記録された原因", 44.0),
            Column::left("説明", 40.0),
        ])
        .caption(format!("{LISTED_MINUTES}分以上の停止とその説明"));
        for o in self.outages.listed() {
            list.rows.push(self.outage_row(o));
        }
        list.empty_text = Some(format!(
            "該当なし（{LISTED_MINUTES}分以上の停止はありません）"
        ));
        let until = unyo_domain::wareki::format_datetime_long(to_jst(
            DateTime::from_timestamp(self.outages.until, 0).unwrap_or_default(),
        ));
        let text = if self.outages.sites.is_empty() {
            "疎通確認による常時監視の記録がないため、監視に基づく稼働率・停止時間は該当なし（監視未導入）です。障害記録による件数を参考に示します。".to_string()
        } else {
            format!(
                "稼働率と停止時間は、疎通確認の状態変化から求めた同じ停止区間によります。拠点の確認（端末・機器）のいずれかが停止している間を拠点の停止とし、稼働率は 1 − 停止時間 ÷ 監視時間（監視開始または年度初めから{}まで）です。全拠点の値は各拠点の合計によります。保守時間帯の停止は数えず、一覧に保守作業として示します。{LISTED_MINUTES}分以上の停止は、重なる障害記録の番号で説明し、ないものは「障害記録なし」としています。作成時点で継続中の停止は{}までを数えています。",
                until, until
            )
        };
        Section::new("6. 拠点別の稼働状況")
            .sheet("稼働状況")
            .on_new_page()
            .push(Block::Paragraph(text))
            .push(Block::Table(t))
            .push(Block::Table(list))
    }

    fn outage_row(&self, o: &SiteOutage) -> Vec<Cell> {
        let site = self
            .sites
            .iter()
            .find(|s| s.id == o.site_id)
            .map_or_else(|| format!("拠点{}", o.site_id), |s| s.name.clone());
        let explanation = match &o.explanation {
            Explanation::Incidents(n) => n.join("、"),
            Explanation::Maintenance(title) => format!("保守作業（{title}）"),
            Explanation::Unexplained => "障害記録なし".to_string(),
        };
        vec![
            Cell::text(site),
            unix_cell(o.start),
            if o.ongoing {
                Cell::text("継続中")
            } else {
                unix_cell(o.end)
            },
            Cell::text(duration(Some(o.minutes()))),
            Cell::text(o.checks.join("、")),
            Cell::text(quote(&o.causes.join("／"))),
            Cell::text(explanation),
        ]
    }

    /// Feeds and their freshness, findings by severity and status, the oldest open critical ones.
    pub(super) fn vulnerability_section(&self, f: &PackFigures) -> Section {
        let mut feeds = Table::new(vec![
            Column::left("フィード", 40.0),
            Column::left("最終取込", 50.0),
            Column::left("最新の記録", 50.0),
            Column::right("記録数", 30.0),
            Column::center("鮮度", 40.0),
        ])
        .caption("脆弱性情報のフィード");
        for s in &self.vulns.feeds {
            feeds.rows.push(vec![
                Cell::text(s.feed.as_str().to_uppercase()),
                Cell::text(stored_day(s.last_import_at.as_deref())),
                Cell::text(stored_day(s.newest_record_at.as_deref())),
                integer(s.records),
                Cell::text(if s.last_import_at.is_none() {
                    "未取込"
                } else if s.stale {
                    "古い（要更新）"
                } else {
                    "最新"
                }),
            ]);
        }
        let mut cols = vec![Column::left("重大度", 40.0)];
        cols.extend(
            FindingStatus::ALL
                .iter()
                .map(|s| Column::right(s.label_ja(), 28.0)),
        );
        cols.push(Column::right("合計", 28.0));
        let mut counts = Table::new(cols).caption("重大度別・状態別の該当件数");
        let n = |sev: &str, st: FindingStatus| -> i64 {
            self.vulns
                .counts
                .iter()
                .filter(|(s, t, _)| s == sev && t == st.code())
                .map(|(_, _, n)| n)
                .sum()
        };
        for (code, label) in SEVERITIES {
            let mut row = vec![Cell::text(label)];
            row.extend(FindingStatus::ALL.iter().map(|st| integer(n(code, *st))));
            row.push(integer(
                FindingStatus::ALL.iter().map(|st| n(code, *st)).sum(),
            ));
            counts.rows.push(row);
        }
        let mut totals = vec![Cell::text("合計")];
        totals.extend(f.findings_by_status.iter().map(|(_, n)| integer(*n)));
        totals.push(integer(f.findings_total()));
        counts.totals = Some(totals);

        let mut oldest = Table::new(vec![
            Column::left("脆弱性", 36.0),
            Column::left("件名", 70.0),
            Column::left("ソフトウェア", 44.0),
            Column::left("対象", 44.0),
            Column::left("初検出", 32.0),
            Column::left("対応期限", 32.0),
            Column::center("状態", 18.0),
        ])
        .caption(format!(
            "対応を終えていない重大（Critical）の該当（古い順、最大{OLDEST_CRITICAL}件）"
        ));
        for x in &self.vulns.oldest_critical {
            oldest.rows.push(vec![
                Cell::text(x.vulnerability_id.clone()),
                Cell::text(quote(&x.title)),
                Cell::text(format!("{} {}", x.software, x.version)),
                Cell::text(match (&x.hostname, &x.site_name) {
                    (Some(h), Some(s)) => format!("{h}（{s}）"),
                    (Some(h), None) => h.clone(),
                    _ => "運用支援システム（unyo）".to_string(),
                }),
                Cell::text(stored_day(Some(&x.first_seen_at))),
                Cell::text(
                    x.due_date
                        .as_deref()
                        .map_or_else(|| "―".to_string(), crate::text::wareki),
                ),
                Cell::text(x.status().label_ja()),
            ]);
        }
        oldest.empty_text = Some("該当なし（対応を終えていない重大の該当はありません）".into());
        let intro = if f.feeds_imported == 0 {
            "脆弱性情報のフィード（NVD・JVN iPedia・OSV・RustSec）はまだ取り込まれていないため、下表の件数は脆弱性がないことを意味しません。".to_string()
        } else {
            format!(
                "記録媒体で取り込んだ脆弱性情報（{}種類のフィード、うち{}種類は最新の記録が{}日より古く更新が必要）を、端末の最新のインベントリと本システムの構成（SBOM）に照合した結果です。件数は作成時点の状態です。",
                f.feeds_imported,
                f.feeds_stale,
                unyo_store::vulns::DEFAULT_STALE_DAYS
            )
        };
        Section::new("9. 脆弱性対策の状況")
            .sheet("脆弱性")
            .on_new_page()
            .push(Block::Paragraph(intro))
            .push(Block::Table(feeds))
            .push(Block::Table(counts))
            .push(Block::Table(oldest))
    }
}

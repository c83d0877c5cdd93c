//! The incident report (障害報告書, R7) as a print-ready XLSX workbook.
//!
//! The data is shaped first ([`incident_report`] turns a stored [`IncidentDetail`] into an
//! [`IncidentReport`]: plain strings in Japanese, times in 和暦 with the time of day), then written
//! ([`incident_report_xlsx`]). The PDF version (`unyo_documents::incident_document`, through the report
//! engine) is laid out from the same [`IncidentReport`], so both say the same thing.
//!
//! The workbook has one sheet, 障害報告書, laid out for A4 portrait (one page wide, as many pages tall as
//! needed, page numbers in the footer) in numbered sections: 1 概要, 2 発生から完了までの時刻 (発生・認知・
//! 初動・回避・復旧・完了, MTTA and MTTR), 3 経過 (the timeline), 4 原因, 5 回避策及び指導, 6 復旧作業 (with the
//! linked work-log entries and their hours), 7 復旧の確認（立会い）, 8 再発防止策, and a confirmation box
//! (name and date; seals are not used). Values are written as strings or numbers, never as formulas.

use crate::ExchangeError;
use chrono::NaiveDate;
use rust_xlsxwriter::{
    Color, DocProperties, Format, FormatAlign, FormatBorder, Workbook, Worksheet,
};
use unyo_domain::incident::{
    DetectionSource, EntryKind, IncidentAction, IncidentStage, Severity, duration_label,
};
use unyo_domain::time::{from_storage, to_jst};
use unyo_domain::wareki::{format_datetime_long, format_long};
use unyo_store::incidents::{IncidentDetail, IncidentEntry};

/// Excel's default font for Japanese workbooks (see `xlsx`).
const FONT: &str = "游ゴシック";
/// Excel's paper size code for A4.
const PAPER_A4: u8 = 9;
/// The sheet's name and the printed title.
pub const INCIDENT_REPORT_TITLE: &str = "障害報告書";
/// Column widths (A: labels / times, B–E: values; the timeline uses all five).
const WIDTHS: [f64; 5] = [17.0, 11.0, 14.0, 12.0, 42.0];
/// Points per printed line of text.
const LINE_HEIGHT: f64 = 14.5;

/// One line of the timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportEntry {
    /// 日時 in 和暦 (`令和8年5月12日 09:30`).
    pub at: String,
    /// The stage it belongs to (段階).
    pub stage: String,
    /// What it is: the action of a stage change (原因調査開始…) or the kind (調査所見, 原因…).
    pub kind: String,
    /// 記録者.
    pub author: String,
    /// The text with the guidance, the witness and the linked work spelled out.
    pub text: String,
}

/// A workaround with the guidance given (回避策及び指導).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportGuidance {
    pub at: String,
    /// 回避策.
    pub workaround: String,
    /// 指導先.
    pub guidance_to: String,
    /// 指導内容.
    pub guidance: String,
}

/// A linked work-log entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportWork {
    /// 作業記録の番号.
    pub id: i64,
    /// 作業日 in 和暦.
    pub date: String,
    /// `09:45–10:45`.
    pub time: String,
    pub workers: String,
    pub minutes: i64,
    pub description: String,
}

/// The witness of the recovery (立会い).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportWitness {
    pub name: String,
    pub org: String,
    /// 立会日時 in 和暦.
    pub at: String,
    pub remark: String,
    /// Who entered it.
    pub recorded_by: String,
}

/// Everything the 障害報告書 shows, as strings ready to print.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentReport {
    /// `INC-R8-0001`.
    pub number: String,
    /// The incident's title.
    pub title: String,
    /// 作成日 (part of the document, never read from the clock here).
    pub issued_on: NaiveDate,
    /// 概要: (label, value) — number, title, severity, detection source, stage, affected sites,
    /// terminals and nodes, reporter, known error.
    pub summary: Vec<(String, String)>,
    /// 状況 (the description as reported).
    pub description: String,
    /// 発生・認知・初動・回避・復旧・完了 in 和暦, then MTTA, MTTR and the work hours: (label, value).
    pub times: Vec<(String, String)>,
    /// 経過, oldest first.
    pub timeline: Vec<ReportEntry>,
    /// 原因 (the 原因 entries, or the 調査所見 while no cause is recorded).
    pub cause: String,
    /// 回避策及び指導.
    pub workarounds: Vec<ReportGuidance>,
    /// 復旧作業 (the recovery entries).
    pub recovery: String,
    /// Linked work-log entries.
    pub work: Vec<ReportWork>,
    /// Their minutes.
    pub work_minutes: i64,
    /// 立会い (of the current recovery).
    pub witness: Option<ReportWitness>,
    /// 再発防止策: the follow-ups of the linked work and the known errors registered.
    pub prevention: String,
}

/// A stored instant as 和暦 with the time of day (JST): `令和8年5月12日 09:30`.
pub fn wareki_datetime(stored: &str) -> String {
    from_storage(stored)
        .map(|at| format_datetime_long(to_jst(at)))
        .unwrap_or_else(|| stored.to_string())
}

fn wareki_datetime_opt(stored: &Option<String>) -> String {
    stored.as_deref().map(wareki_datetime).unwrap_or_default()
}

fn stage_label(code: &str) -> String {
    IncidentStage::parse(code)
        .map(|s| s.label_ja().to_string())
        .unwrap_or_else(|| code.to_string())
}

/// What a timeline entry is, in Japanese: the action of a stage change, else the kind.
pub fn entry_label(e: &IncidentEntry) -> String {
    if let Some(a) = e.action.as_deref().and_then(IncidentAction::parse) {
        return a.label_ja().to_string();
    }
    e.kind()
        .map(|k| k.label_ja().to_string())
        .unwrap_or_else(|| e.kind.clone())
}

/// An entry's text with what else it records (stage change, guidance, witness, linked work).
fn entry_text(e: &IncidentEntry) -> String {
    let mut parts: Vec<String> = Vec::new();
    if let (Some(from), Some(to)) = (&e.from_stage, &e.to_stage) {
        parts.push(format!("{} → {}", stage_label(from), stage_label(to)));
    }
    if !e.text.trim().is_empty() {
        parts.push(e.text.trim().to_string());
    }
    if !e.guidance_to.trim().is_empty() || !e.guidance.trim().is_empty() {
        parts.push(format!(
            "指導先: {}／指導内容: {}",
            e.guidance_to.trim(),
            e.guidance.trim()
        ));
    }
    if let Some(name) = &e.witness_name {
        parts.push(format!(
            "立会者: {}（{}） 立会日時: {} 所見: {}",
            name,
            e.witness_org.as_deref().unwrap_or_default(),
            wareki_datetime_opt(&e.witnessed_at),
            e.remark.as_deref().unwrap_or_default()
        ));
    }
    if !e.work_ids.is_empty() {
        let ids: Vec<String> = e.work_ids.iter().map(|w| format!("No.{w}")).collect();
        parts.push(format!("作業記録: {}", ids.join("、")));
    }
    parts.join("\n")
}

fn joined_texts(entries: &[IncidentEntry], kinds: &[EntryKind]) -> String {
    entries
        .iter()
        .filter(|e| e.kind().is_some_and(|k| kinds.contains(&k)))
        .map(|e| e.text.trim())
        .filter(|t| !t.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Shapes a stored incident into the 障害報告書's content.
pub fn incident_report(d: &IncidentDetail, issued_on: NaiveDate) -> IncidentReport {
    let i = &d.incident;
    let none = "なし".to_string();
    let list = |v: Vec<String>| {
        if v.is_empty() {
            none.clone()
        } else {
            v.join("、")
        }
    };
    let mut known: Vec<String> = d
        .known_errors
        .iter()
        .map(|k| format!("{} {}", k.number, k.title))
        .collect();
    if i.resolved_by_known_error
        && let Some(k) = &d.known_error
    {
        known = known
            .into_iter()
            .map(|s| {
                if s.starts_with(&k.number) {
                    format!("{s}（この既知の障害の対処により解決）")
                } else {
                    s
                }
            })
            .collect();
    }
    let summary = vec![
        ("障害番号".to_string(), i.number.clone()),
        ("件名".to_string(), i.title.clone()),
        (
            "重大度".to_string(),
            i.severity()
                .map(Severity::label_ja)
                .unwrap_or(&i.severity)
                .to_string(),
        ),
        (
            "検知経路".to_string(),
            i.source()
                .map(DetectionSource::label_ja)
                .unwrap_or(&i.source)
                .to_string(),
        ),
        ("現在の段階".to_string(), stage_label(&i.stage)),
        (
            "影響拠点".to_string(),
            list(d.sites.iter().map(|s| s.name.clone()).collect()),
        ),
        (
            "影響端末".to_string(),
            list(
                d.terminals
                    .iter()
                    .map(|t| format!("{}（{}）", t.hostname, t.site_name))
                    .collect(),
            ),
        ),
        (
            "影響機器".to_string(),
            list(d.nodes.iter().map(|n| n.name.clone()).collect()),
        ),
        (
            "報告者".to_string(),
            format!(
                "{}（{}）",
                i.created_by_name,
                wareki_datetime(&i.created_at)
            ),
        ),
        ("既知の障害".to_string(), list(known)),
    ];
    let minutes = |m: Option<i64>| m.map(duration_label).unwrap_or_else(|| "—".into());
    let times = vec![
        ("発生日時".to_string(), wareki_datetime(&i.occurred_at)),
        ("認知日時".to_string(), wareki_datetime(&i.noticed_at)),
        (
            "初動日時".to_string(),
            wareki_datetime_opt(&i.first_response_at),
        ),
        (
            "回避日時".to_string(),
            wareki_datetime_opt(&i.workaround_at),
        ),
        ("復旧日時".to_string(), wareki_datetime_opt(&i.recovered_at)),
        ("完了日時".to_string(), wareki_datetime_opt(&i.closed_at)),
        (
            "初動までの時間（認知→初動）".to_string(),
            minutes(i.mtta_minutes),
        ),
        (
            "復旧までの時間（発生→復旧）".to_string(),
            minutes(i.mttr_minutes),
        ),
        (
            "作業時間の合計".to_string(),
            format!(
                "{}時間（作業記録 {}件）",
                unyo_domain::support::hours_label(d.work_minutes),
                d.work.len()
            ),
        ),
    ];
    let timeline = d
        .entries
        .iter()
        .map(|e| ReportEntry {
            at: wareki_datetime(&e.at),
            stage: stage_label(&e.stage),
            kind: entry_label(e),
            author: e.author_name.clone(),
            text: entry_text(e),
        })
        .collect();
    let mut cause = joined_texts(&d.entries, &[EntryKind::Cause]);
    if cause.is_empty() {
        let findings = joined_texts(&d.entries, &[EntryKind::Finding]);
        if !findings.is_empty() {
            cause = format!("（原因は未確定。調査所見）\n{findings}");
        }
    }
    let workarounds = d
        .entries
        .iter()
        .filter(|e| e.kind() == Some(EntryKind::Workaround))
        .map(|e| ReportGuidance {
            at: wareki_datetime(&e.at),
            workaround: e.text.trim().to_string(),
            guidance_to: e.guidance_to.trim().to_string(),
            guidance: e.guidance.trim().to_string(),
        })
        .collect();
    let recovery = joined_texts(&d.entries, &[EntryKind::Recovery]);
    let work = d
        .work
        .iter()
        .map(|w| ReportWork {
            id: w.id,
            date: NaiveDate::parse_from_str(&w.work_date, "%Y-%m-%d")
                .map(format_long)
                .unwrap_or_else(|_| w.work_date.clone()),
            time: format!("{}–{}", w.start_time, w.end_time),
            workers: w.workers.clone(),
            minutes: w.minutes,
            description: w.description.clone(),
        })
        .collect();
    let witness = d.witness.as_ref().map(|w| ReportWitness {
        name: w.witness_name.clone().unwrap_or_default(),
        org: w.witness_org.clone().unwrap_or_default(),
        at: wareki_datetime_opt(&w.witnessed_at),
        remark: w.remark.clone().unwrap_or_default(),
        recorded_by: w.author_name.clone(),
    });
    let mut prevention: Vec<String> = Vec::new();
    for w in &d.work {
        let f = w.follow_up.trim();
        if !f.is_empty() && !prevention.iter().any(|p| p == f) {
            prevention.push(f.to_string());
        }
    }
    for k in &d.known_errors {
        prevention.push(format!(
            "既知の障害 {}「{}」として登録し、同様の事象に備える。",
            k.number, k.title
        ));
    }
    IncidentReport {
        number: i.number.clone(),
        title: i.title.clone(),
        issued_on,
        summary,
        description: i.description.clone(),
        times,
        timeline,
        cause,
        workarounds,
        recovery,
        work,
        work_minutes: d.work_minutes,
        witness,
        prevention: prevention.join("\n"),
    }
}

/// The 障害報告書 of one incident as XLSX (see the module documentation).
pub fn incident_xlsx(d: &IncidentDetail, issued_on: NaiveDate) -> Result<Vec<u8>, ExchangeError> {
    incident_report_xlsx(&incident_report(d, issued_on))
}

/// The file name people see: `障害報告書_INC-R8-0001.xlsx`.
pub fn incident_report_file_name(number: &str) -> String {
    format!("{INCIDENT_REPORT_TITLE}_{number}.xlsx")
}

/// Display width of text in column units: two for wide (CJK) characters, one otherwise.
fn display_width(s: &str) -> f64 {
    s.chars()
        .map(|c| if c.is_ascii() { 1.0 } else { 2.0 })
        .sum()
}

/// Printed lines of `text` in a cell `width` columns wide.
fn line_count(text: &str, width: f64) -> f64 {
    let per_line = (width - 1.0).max(4.0);
    text.split('\n')
        .map(|l| (display_width(l) / per_line).ceil().max(1.0))
        .sum::<f64>()
        .max(1.0)
}

/// The formats of the sheet.
struct Formats {
    title: Format,
    right: Format,
    section: Format,
    label: Format,
    value: Format,
    head: Format,
    cell: Format,
    number: Format,
    blank: Format,
}

impl Formats {
    fn new() -> Formats {
        let base = || Format::new().set_font_name(FONT).set_font_size(10);
        let boxed = || {
            base()
                .set_border(FormatBorder::Thin)
                .set_align(FormatAlign::Top)
                .set_text_wrap()
        };
        Formats {
            title: base()
                .set_font_size(16)
                .set_bold()
                .set_align(FormatAlign::Center)
                .set_align(FormatAlign::VerticalCenter),
            right: base().set_align(FormatAlign::Right),
            section: base()
                .set_bold()
                .set_font_size(11)
                .set_background_color(Color::RGB(0xDDEBF7))
                .set_border(FormatBorder::Thin),
            label: boxed()
                .set_bold()
                .set_background_color(Color::RGB(0xF2F2F2)),
            value: boxed(),
            head: boxed()
                .set_bold()
                .set_background_color(Color::RGB(0xF2F2F2))
                .set_align(FormatAlign::Center),
            cell: boxed(),
            number: base()
                .set_border(FormatBorder::Thin)
                .set_align(FormatAlign::Top)
                .set_num_format("0.0#"),
            blank: boxed(),
        }
    }
}

/// Writes rows top to bottom.
struct Writer<'a> {
    sheet: &'a mut Worksheet,
    f: Formats,
    row: u32,
}

impl Writer<'_> {
    fn height(&mut self, lines: f64) -> Result<(), ExchangeError> {
        if lines > 1.0 {
            self.sheet
                .set_row_height(self.row, lines * LINE_HEIGHT + 4.0)?;
        }
        Ok(())
    }

    fn gap(&mut self) {
        self.row += 1;
    }

    fn section(&mut self, text: &str) -> Result<(), ExchangeError> {
        self.sheet
            .merge_range(self.row, 0, self.row, 4, text, &self.f.section)?;
        self.sheet.set_row_height(self.row, 20.0)?;
        self.row += 1;
        Ok(())
    }

    /// A label in A and the value across B:E.
    fn prop(&mut self, label: &str, value: &str) -> Result<(), ExchangeError> {
        let width: f64 = WIDTHS[1..].iter().sum();
        let lines = line_count(value, width).max(line_count(label, WIDTHS[0]));
        self.sheet
            .write_string_with_format(self.row, 0, label, &self.f.label)?;
        self.sheet
            .merge_range(self.row, 1, self.row, 4, value, &self.f.value)?;
        self.height(lines)?;
        self.row += 1;
        Ok(())
    }

    /// Free text across A:E (an empty box of `min_lines` when there is none).
    fn text(&mut self, value: &str, min_lines: f64) -> Result<(), ExchangeError> {
        let width: f64 = WIDTHS.iter().sum();
        let lines = line_count(value, width).max(min_lines);
        self.sheet
            .merge_range(self.row, 0, self.row, 4, value, &self.f.value)?;
        self.height(lines)?;
        if lines <= 1.0 {
            self.sheet.set_row_height(self.row, LINE_HEIGHT + 4.0)?;
        }
        self.row += 1;
        Ok(())
    }

    /// A table header over A:E.
    fn head(&mut self, labels: [&str; 5]) -> Result<(), ExchangeError> {
        for (c, l) in (0u16..).zip(labels) {
            self.sheet
                .write_string_with_format(self.row, c, l, &self.f.head)?;
        }
        self.row += 1;
        Ok(())
    }

    /// A table row over A:E (the fourth value optionally a number of hours).
    fn cells(&mut self, values: [&str; 5], hours: Option<f64>) -> Result<(), ExchangeError> {
        let mut lines: f64 = 1.0;
        for (c, v) in (0u16..).zip(values) {
            lines = lines.max(line_count(v, WIDTHS[usize::from(c)]));
            match (c, hours) {
                (3, Some(h)) => {
                    self.sheet
                        .write_number_with_format(self.row, c, h, &self.f.number)?
                }
                _ => self
                    .sheet
                    .write_string_with_format(self.row, c, v, &self.f.cell)?,
            };
        }
        self.height(lines)?;
        self.row += 1;
        Ok(())
    }
}

/// Writes a shaped 障害報告書 as an XLSX workbook.
pub fn incident_report_xlsx(r: &IncidentReport) -> Result<Vec<u8>, ExchangeError> {
    let mut workbook = Workbook::new();
    workbook.set_properties(
        &DocProperties::new()
            .set_title(format!("{INCIDENT_REPORT_TITLE} {}", r.number))
            .set_subject(&r.title),
    );
    let sheet = workbook.add_worksheet();
    sheet.set_name(INCIDENT_REPORT_TITLE)?;
    for (c, w) in (0u16..).zip(WIDTHS) {
        sheet.set_column_width(c, w)?;
    }
    let mut w = Writer {
        sheet,
        f: Formats::new(),
        row: 0,
    };

    w.sheet
        .merge_range(0, 0, 0, 4, INCIDENT_REPORT_TITLE, &w.f.title)?;
    w.sheet.set_row_height(0, 28.0)?;
    w.sheet.merge_range(
        1,
        0,
        1,
        4,
        &format!("障害番号 {}　作成日 {}", r.number, format_long(r.issued_on)),
        &w.f.right,
    )?;
    w.row = 3;

    w.section("1. 概要")?;
    for (label, value) in &r.summary {
        w.prop(label, value)?;
    }
    w.prop("状況", &r.description)?;
    w.gap();

    w.section("2. 発生から完了までの時刻")?;
    for (label, value) in &r.times {
        w.prop(label, value)?;
    }
    w.gap();

    w.section("3. 経過")?;
    w.head(["日時", "段階", "記録", "記録者", "内容"])?;
    for e in &r.timeline {
        w.cells([&e.at, &e.stage, &e.kind, &e.author, &e.text], None)?;
    }
    w.gap();

    w.section("4. 原因")?;
    w.text(&r.cause, 3.0)?;
    w.gap();

    w.section("5. 回避策及び指導")?;
    if r.workarounds.is_empty() {
        w.text("回避策は実施していない。", 1.0)?;
    }
    for g in &r.workarounds {
        w.prop("実施日時", &g.at)?;
        w.prop("回避策", &g.workaround)?;
        w.prop("指導先", &g.guidance_to)?;
        w.prop("指導内容", &g.guidance)?;
    }
    w.gap();

    w.section("6. 復旧作業")?;
    w.text(&r.recovery, 2.0)?;
    if !r.work.is_empty() {
        w.head(["作業日", "時間", "作業者", "時間数", "作業内容"])?;
        for x in &r.work {
            let hours = unyo_domain::support::hours_label(x.minutes);
            // Minutes of a day are far below 2^53, so the conversion is exact.
            w.cells(
                [
                    &format!("{}（No.{}）", x.date, x.id),
                    &x.time,
                    &x.workers,
                    &hours,
                    &x.description,
                ],
                Some(x.minutes as f64 / 60.0),
            )?;
        }
        let total = r.work_minutes as f64 / 60.0;
        w.sheet
            .write_string_with_format(w.row, 0, "合計", &w.f.label)?;
        for c in [1u16, 2, 4] {
            w.sheet.write_blank(w.row, c, &w.f.blank)?;
        }
        w.sheet
            .write_number_with_format(w.row, 3, total, &w.f.number)?;
        w.row += 1;
    }
    w.gap();

    w.section("7. 復旧の確認（立会い）")?;
    match &r.witness {
        Some(x) => {
            w.prop("立会者の氏名", &x.name)?;
            w.prop("立会者の所属", &x.org)?;
            w.prop("立会日時", &x.at)?;
            w.prop("所見", &x.remark)?;
            w.prop("記録者", &x.recorded_by)?;
        }
        None => w.text("立会いは記録されていない。", 1.0)?,
    }
    w.gap();

    w.section("8. 再発防止策")?;
    w.text(&r.prevention, 3.0)?;
    w.gap();

    w.section("確認欄")?;
    w.prop("確認者（氏名）", "")?;
    w.prop("確認日", "　　年　　月　　日")?;

    let sheet = w.sheet;
    sheet.set_paper_size(PAPER_A4);
    sheet.set_portrait();
    sheet.set_margins(0.6, 0.6, 0.75, 0.75, 0.3, 0.3);
    sheet.set_print_center_horizontally(true);
    // One page wide, as many pages tall as needed.
    sheet.set_print_fit_to_pages(1, 0);
    sheet.set_header(format!("&R{} {}", INCIDENT_REPORT_TITLE, r.number));
    sheet.set_footer("&C&P / &N ページ");
    Ok(workbook.save_to_buffer()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use calamine::{Data, Reader, Xlsx, open_workbook_from_rs};
    use std::io::Cursor;
    use unyo_store::incidents::{IncidentRow, KnownErrorLink, NodeRef};
    use unyo_store::support::{SiteRef, TerminalRef, WorkRow};

    fn row() -> IncidentRow {
        IncidentRow {
            id: 1,
            number: "INC-R8-0001".into(),
            fiscal_year: 2026,
            title: "伊万里保健福祉事務所 端末が集約ネットワークに接続できない".into(),
            severity: "high".into(),
            source: "phone".into(),
            stage: "closed".into(),
            description: "拠点から電話連絡。業務端末で照会できない。".into(),
            probable_cause: None,
            known_error_id: None,
            known_error_number: None,
            resolved_by_known_error: false,
            occurred_at: "2026-08-10T00:30:00Z".into(),
            noticed_at: "2026-08-10T00:35:00Z".into(),
            first_response_at: Some("2026-08-10T00:45:00Z".into()),
            workaround_at: Some("2026-08-10T01:10:00Z".into()),
            recovered_at: Some("2026-08-10T05:50:00Z".into()),
            closed_at: Some("2026-08-10T06:10:00Z".into()),
            witness_entry_id: Some(9),
            reopen_count: 0,
            created_by_id: Some(2),
            created_by: "staff".into(),
            created_by_name: "市民 課男".into(),
            created_at: "2026-08-10T00:36:00Z".into(),
            updated_at: "2026-08-10T06:10:00Z".into(),
            sites: "伊万里保健福祉事務所".into(),
            age_minutes: 335,
            mtta_minutes: Some(10),
            mttr_minutes: Some(320),
        }
    }

    fn entry(id: i64, kind: &str, stage: &str, at: &str, text: &str) -> IncidentEntry {
        IncidentEntry {
            id,
            incident_id: 1,
            kind: kind.into(),
            stage: stage.into(),
            action: None,
            from_stage: None,
            to_stage: None,
            author_id: Some(3),
            author: "se".into(),
            author_name: "保守 技郎".into(),
            at: at.into(),
            recorded_at: at.into(),
            text: text.into(),
            guidance_to: String::new(),
            guidance: String::new(),
            witness_name: None,
            witness_org: None,
            witnessed_at: None,
            remark: None,
            work_ids: Vec::new(),
        }
    }

    fn detail() -> IncidentDetail {
        let mut investigate = entry(2, "stage", "investigating", "2026-08-10T00:45:00Z", "");
        investigate.action = Some("investigate".into());
        investigate.from_stage = Some("reported".into());
        investigate.to_stage = Some("investigating".into());
        let mut finding = entry(
            3,
            "finding",
            "investigating",
            "2026-08-10T00:50:00Z",
            "端末→RT-伊万里は応答なし。",
        );
        finding.work_ids = vec![12];
        let mut workaround = entry(
            4,
            "workaround",
            "workaround",
            "2026-08-10T01:10:00Z",
            "県庁の代表端末で代行照会",
        );
        workaround.action = Some("workaround".into());
        workaround.guidance_to = "伊万里保健福祉事務所 総務課".into();
        workaround.guidance = "照会依頼は電話で県庁へ".into();
        let cause = entry(
            5,
            "cause",
            "recovering",
            "2026-08-10T04:40:00Z",
            "拠点内スイッチのポート障害",
        );
        let mut recover = entry(
            6,
            "recovery",
            "recovered",
            "2026-08-10T05:50:00Z",
            "予備ポートへ接続を変更して復旧",
        );
        recover.action = Some("recover".into());
        recover.work_ids = vec![13];
        let mut witness = entry(9, "witness", "recovered", "2026-08-10T06:00:00Z", "");
        witness.author_name = "市民 課男".into();
        witness.witness_name = Some("有田 健一".into());
        witness.witness_org = Some("伊万里保健福祉事務所 総務課".into());
        witness.witnessed_at = Some("2026-08-10T06:00:00Z".into());
        witness.remark = Some("照会・更新とも正常".into());
        let work = |id: i64, start: &str, end: &str, minutes: i64, follow: &str| WorkRow {
            id,
            contract_id: 1,
            contract_number: "R8-情-001".into(),
            work_date: "2026-08-10".into(),
            start_time: start.into(),
            end_time: end.into(),
            minutes,
            mode: "onsite".into(),
            site_id: Some(7),
            site_name: Some("伊万里保健福祉事務所".into()),
            category: "incident_response".into(),
            clause: "5".into(),
            description: "疎通確認と切り分け".into(),
            result: "切り分け完了".into(),
            follow_up: follow.into(),
            request_id: None,
            request_number: None,
            created_by: "se".into(),
            created_at: "2026-08-10T06:00:00Z".into(),
            updated_at: "2026-08-10T06:00:00Z".into(),
            worker_ids: vec![3],
            workers: "保守 技郎".into(),
            terminal_ids: vec![],
            terminals: String::new(),
            hours: String::new(),
        };
        IncidentDetail {
            incident: row(),
            sites: vec![SiteRef {
                id: 7,
                code: "HOFUKU-IMARI".into(),
                name: "伊万里保健福祉事務所".into(),
            }],
            terminals: vec![TerminalRef {
                id: 16,
                hostname: "jk-hfk-imari01".into(),
                kind: "business".into(),
                site_id: 7,
                site_name: "伊万里保健福祉事務所".into(),
            }],
            nodes: vec![NodeRef {
                id: 6,
                name: "RT-伊万里".into(),
                kind: "router".into(),
            }],
            entries: vec![
                investigate,
                finding,
                workaround,
                cause,
                recover,
                witness.clone(),
            ],
            work: vec![
                work(12, "09:45", "10:45", 60, ""),
                work(
                    13,
                    "13:30",
                    "15:30",
                    120,
                    "スイッチの交換について県と協議する。",
                ),
            ],
            work_minutes: 180,
            known_error: None,
            known_errors: vec![KnownErrorLink {
                id: 1,
                number: "KE-0001".into(),
                title: "拠点内スイッチのポート障害".into(),
            }],
            witness: Some(witness),
        }
    }

    fn issued() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 8, 12).expect("date")
    }

    #[test]
    fn the_report_is_shaped_in_japanese_with_wareki_times() {
        let r = incident_report(&detail(), issued());
        assert_eq!(r.number, "INC-R8-0001");
        let get = |v: &[(String, String)], k: &str| {
            v.iter()
                .find(|(l, _)| l == k)
                .map(|(_, v)| v.clone())
                .unwrap_or_else(|| panic!("{k} missing"))
        };
        assert_eq!(get(&r.summary, "重大度"), "高");
        assert_eq!(get(&r.summary, "検知経路"), "電話連絡");
        assert_eq!(get(&r.summary, "現在の段階"), "完了");
        assert_eq!(
            get(&r.summary, "影響端末"),
            "jk-hfk-imari01（伊万里保健福祉事務所）"
        );
        assert_eq!(get(&r.times, "発生日時"), "令和8年8月10日 09:30");
        assert_eq!(get(&r.times, "復旧日時"), "令和8年8月10日 14:50");
        assert_eq!(get(&r.times, "初動までの時間（認知→初動）"), "10分");
        assert_eq!(get(&r.times, "復旧までの時間（発生→復旧）"), "5時間20分");
        assert_eq!(get(&r.times, "作業時間の合計"), "3時間（作業記録 2件）");
        assert_eq!(r.timeline.len(), 6);
        assert_eq!(r.timeline[0].kind, "原因調査開始");
        assert!(r.timeline[0].text.contains("受付 → 原因調査"));
        assert!(r.timeline[1].text.contains("作業記録: No.12"));
        assert!(
            r.timeline[2]
                .text
                .contains("指導先: 伊万里保健福祉事務所 総務課")
        );
        assert!(r.timeline[5].text.contains("立会者: 有田 健一"));
        assert_eq!(r.cause, "拠点内スイッチのポート障害");
        assert_eq!(r.workarounds.len(), 1);
        assert_eq!(r.workarounds[0].guidance, "照会依頼は電話で県庁へ");
        assert_eq!(r.recovery, "予備ポートへ接続を変更して復旧");
        assert_eq!(r.work[1].date, "令和8年8月10日");
        let w = r.witness.as_ref().expect("witness");
        assert_eq!(w.at, "令和8年8月10日 15:00");
        assert!(
            r.prevention
                .contains("スイッチの交換について県と協議する。")
        );
        assert!(r.prevention.contains("KE-0001"));

        // Without a cause the findings stand in, marked as such.
        let mut d = detail();
        d.entries.retain(|e| e.kind != "cause");
        let r = incident_report(&d, issued());
        assert!(
            r.cause.starts_with("（原因は未確定。調査所見）"),
            "{}",
            r.cause
        );
    }

    #[test]
    fn the_workbook_reads_back() {
        let bytes = incident_xlsx(&detail(), issued()).expect("xlsx");
        let mut wb: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes)).expect("valid xlsx");
        assert_eq!(wb.sheet_names(), vec![INCIDENT_REPORT_TITLE.to_string()]);
        let range = wb.worksheet_range(INCIDENT_REPORT_TITLE).expect("sheet");
        let cell = |r: usize, c: usize| range.get((r, c)).cloned().unwrap_or(Data::Empty);
        let text = |r: usize, c: usize| match cell(r, c) {
            Data::String(s) => s,
            other => format!("{other:?}"),
        };
        assert_eq!(text(0, 0), "障害報告書");
        assert_eq!(text(1, 0), "障害番号 INC-R8-0001　作成日 令和8年8月12日");
        let find = |label: &str| {
            (0..range.height())
                .find(|r| text(*r, 0) == label)
                .unwrap_or_else(|| panic!("{label} not in column A"))
        };
        for (label, want) in [
            (
                "件名",
                "伊万里保健福祉事務所 端末が集約ネットワークに接続できない",
            ),
            ("発生日時", "令和8年8月10日 09:30"),
            ("認知日時", "令和8年8月10日 09:35"),
            ("初動日時", "令和8年8月10日 09:45"),
            ("回避日時", "令和8年8月10日 10:10"),
            ("復旧日時", "令和8年8月10日 14:50"),
            ("完了日時", "令和8年8月10日 15:10"),
            ("指導先", "伊万里保健福祉事務所 総務課"),
            ("立会者の氏名", "有田 健一"),
            ("立会者の所属", "伊万里保健福祉事務所 総務課"),
            ("立会日時", "令和8年8月10日 15:00"),
        ] {
            assert_eq!(text(find(label), 1), want, "{label}");
        }
        for section in [
            "1. 概要",
            "2. 発生から完了までの時刻",
            "3. 経過",
            "4. 原因",
            "5. 回避策及び指導",
            "6. 復旧作業",
            "7. 復旧の確認（立会い）",
            "8. 再発防止策",
        ] {
            find(section);
        }
        // The timeline table: header, then the entries in order.
        let head = find("日時");
        assert_eq!(text(head, 4), "内容");
        assert_eq!(text(head + 1, 0), "令和8年8月10日 09:45");
        assert_eq!(text(head + 1, 2), "原因調査開始");
        // The cause below its heading, the work hours as numbers with a total.
        assert_eq!(text(find("4. 原因") + 1, 0), "拠点内スイッチのポート障害");
        let work_head = find("作業日");
        assert_eq!(cell(work_head + 2, 3), Data::Float(2.0));
        assert_eq!(text(work_head + 3, 0), "合計");
        assert_eq!(cell(work_head + 3, 3), Data::Float(3.0));
        assert!(
            text(find("8. 再発防止策") + 1, 0).contains("スイッチの交換について県と協議する。")
        );
    }

    #[test]
    fn an_open_incident_still_prints() {
        let mut d = detail();
        d.incident.stage = "investigating".into();
        d.incident.recovered_at = None;
        d.incident.closed_at = None;
        d.incident.mttr_minutes = None;
        d.witness = None;
        d.work.clear();
        d.work_minutes = 0;
        d.known_errors.clear();
        let r = incident_report(&d, issued());
        assert_eq!(r.times[4].1, "");
        assert_eq!(r.times[7].1, "—");
        let bytes = incident_report_xlsx(&r).expect("xlsx");
        let mut wb: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes)).expect("valid xlsx");
        let range = wb.worksheet_range(INCIDENT_REPORT_TITLE).expect("sheet");
        let all: Vec<String> = range
            .rows()
            .flat_map(|r| r.iter().map(|c| c.to_string()))
            .collect();
        assert!(all.iter().any(|c| c == "立会いは記録されていない。"));
        assert_eq!(
            incident_report_file_name("INC-R8-0001"),
            "障害報告書_INC-R8-0001.xlsx"
        );
    }
}

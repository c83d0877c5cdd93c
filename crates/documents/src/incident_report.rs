//! The incident report (障害報告書, R7) of one incident as a [`Document`], rendered to PDF and XLSX by the
//! report engine, so both say the same thing.
//!
//! The content is shaped first ([`incident_report`] turns a stored [`IncidentDetail`] into an
//! [`IncidentReport`]: Japanese labels, times as JST instants shown in 和暦), then laid out
//! ([`incident_report_document`]) in numbered sections: 1 概要, 2 発生から完了までの時刻 (発生・認知・初動・回避・
//! 復旧・完了, MTTA and MTTR, work hours), 3 経過 (the timeline), 4 原因, 5 回避策及び指導, 6 復旧作業 (with the
//! linked work-log entries and their hours, totalled), 7 復旧の確認（立会い）, 8 再発防止策, and a 確認欄
//! (name and date; seals are not used). In the XLSX each section is a sheet; times are Excel dates with a
//! 和暦 format and hours are numbers.

use chrono::{NaiveDate, NaiveDateTime};
use unyo_domain::incident::{
    DetectionSource, EntryKind, IncidentAction, IncidentStage, Severity, duration_label,
};
use unyo_domain::support::hours_label;
use unyo_domain::time::{from_storage, to_jst};
use unyo_domain::wareki::format_datetime_long;
use unyo_report::{Approval, ApprovalColumn, Block, Cell, Column, Document, Section, Table};
use unyo_store::incidents::{IncidentDetail, IncidentEntry};

/// The printed title.
pub const INCIDENT_REPORT_TITLE: &str = "障害報告書";

/// What an empty free-text part of the report says.
const NOT_RECORDED: &str = "（記録なし）";

/// One line of the timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportEntry {
    /// 日時 (JST); `None` when the stored instant cannot be read.
    pub at: Option<NaiveDateTime>,
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
    /// 作業日; `None` when the stored date cannot be read.
    pub date: Option<NaiveDate>,
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
    /// 発生・認知・初動・回避・復旧・完了 (JST, `None` while not reached), in this order.
    pub times: Vec<(String, Option<NaiveDateTime>)>,
    /// MTTA and MTTR as durations (`10分`, `5時間20分`, `—` while not reached): (label, value).
    pub durations: Vec<(String, String)>,
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

/// A stored instant as a JST date and time.
fn jst(stored: &str) -> Option<NaiveDateTime> {
    from_storage(stored).map(to_jst)
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
        ("発生日時".to_string(), jst(&i.occurred_at)),
        ("認知日時".to_string(), jst(&i.noticed_at)),
        (
            "初動日時".to_string(),
            i.first_response_at.as_deref().and_then(jst),
        ),
        (
            "回避日時".to_string(),
            i.workaround_at.as_deref().and_then(jst),
        ),
        (
            "復旧日時".to_string(),
            i.recovered_at.as_deref().and_then(jst),
        ),
        ("完了日時".to_string(), i.closed_at.as_deref().and_then(jst)),
    ];
    let durations = vec![
        (
            "初動までの時間（認知→初動）".to_string(),
            minutes(i.mtta_minutes),
        ),
        (
            "復旧までの時間（発生→復旧）".to_string(),
            minutes(i.mttr_minutes),
        ),
    ];
    let timeline = d
        .entries
        .iter()
        .map(|e| ReportEntry {
            at: jst(&e.at),
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
            date: NaiveDate::parse_from_str(&w.work_date, "%Y-%m-%d").ok(),
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
        durations,
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

/// The 障害報告書 of a stored incident, dated `issued_on` (作成日; never read from the clock here).
pub fn incident_document(d: &IncidentDetail, issued_on: NaiveDate) -> Document {
    incident_report_document(&incident_report(d, issued_on))
}

/// The file name people see: `障害報告書_INC-R8-0001.pdf` / `.xlsx`.
pub fn incident_report_file_name(number: &str, format: crate::Format) -> String {
    format!("{INCIDENT_REPORT_TITLE}_{number}.{}", format.ext())
}

/// The file name people see for the PDF: `障害報告書_INC-R8-0001.pdf`.
pub fn incident_report_pdf_file_name(number: &str) -> String {
    incident_report_file_name(number, crate::Format::Pdf)
}

/// Lays out a shaped 障害報告書: A4 portrait, 作成日 in 和暦 at the top right, the incident number under the
/// title and in every page footer, the eight sections, and a 確認欄 to sign by hand.
pub fn incident_report_document(r: &IncidentReport) -> Document {
    let mut doc = Document::new(INCIDENT_REPORT_TITLE);
    doc.subtitle = Some(format!("障害番号 {}", r.number));
    doc.issued_on = Some(r.issued_on);
    doc.issued_label = "作成日".into();
    doc.footer_note = Some(format!("{INCIDENT_REPORT_TITLE} {}", r.number));

    let mut summary = r.summary.clone();
    summary.push(("状況".into(), or_not_recorded(&r.description)));
    doc.sections.push(
        Section::new("1. 概要")
            .sheet("概要")
            .push(Block::KeyValues(summary)),
    );

    // Times not reached yet stay visibly open rather than blank.
    let mut times = Table::new(vec![
        Column::left("項目", 70.0),
        Column::left("日時・時間", 110.0),
    ]);
    for (label, at) in &r.times {
        times = times.row(vec![
            label.clone().into(),
            at.map_or_else(|| "—".into(), Cell::DateTime),
        ]);
    }
    for (label, value) in &r.durations {
        times = times.row(vec![label.clone().into(), value.clone().into()]);
    }
    times = times
        .row(vec!["作業時間の合計".into(), hours_amount(r.work_minutes)])
        .row(vec![
            "作業記録の件数".into(),
            Cell::count(i64::try_from(r.work.len()).unwrap_or(i64::MAX), "件"),
        ]);
    doc.sections.push(
        Section::new("2. 発生から完了までの時刻")
            .sheet("時刻")
            .push(Block::Table(times)),
    );

    let mut timeline = Table::new(vec![
        Column::left("日時", 40.0),
        Column::left("段階", 17.0),
        Column::left("記録", 24.0),
        Column::left("記録者", 19.0),
        Column::left("内容", 80.0),
    ]);
    timeline.empty_text = Some("経過の記録はない。".into());
    for e in &r.timeline {
        timeline = timeline.row(vec![
            e.at.map_or(Cell::Empty, Cell::DateTime),
            e.stage.clone().into(),
            e.kind.clone().into(),
            e.author.clone().into(),
            e.text.clone().into(),
        ]);
    }
    doc.sections.push(
        Section::new("3. 経過")
            .sheet("経過")
            .push(Block::Table(timeline)),
    );

    doc.sections.push(
        Section::new("4. 原因")
            .sheet("原因")
            .push(Block::Paragraph(or_not_recorded(&r.cause))),
    );

    let mut workarounds = Section::new("5. 回避策及び指導").sheet("回避策及び指導");
    if r.workarounds.is_empty() {
        workarounds = workarounds.push(Block::Paragraph("回避策は実施していない。".into()));
    }
    for g in &r.workarounds {
        workarounds = workarounds.push(Block::KeyValues(vec![
            ("実施日時".into(), g.at.clone()),
            ("回避策".into(), or_not_recorded(&g.workaround)),
            ("指導先".into(), or_not_recorded(&g.guidance_to)),
            ("指導内容".into(), or_not_recorded(&g.guidance)),
        ]));
    }
    doc.sections.push(workarounds);

    let mut recovery = Section::new("6. 復旧作業")
        .sheet("復旧作業")
        .push(Block::Paragraph(or_not_recorded(&r.recovery)));
    if !r.work.is_empty() {
        let mut work = Table::new(vec![
            Column::right("No.", 12.0),
            Column::left("作業日", 30.0),
            Column::center("時間", 26.0),
            Column::left("作業者", 23.0),
            Column::right("時間数", 16.0),
            Column::left("作業内容", 73.0),
        ])
        .caption("作業記録");
        for w in &r.work {
            work = work.row(vec![
                Cell::Integer(w.id),
                w.date.map_or(Cell::Empty, Cell::Date),
                w.time.clone().into(),
                w.workers.clone().into(),
                hours_cell(w.minutes),
                w.description.clone().into(),
            ]);
        }
        recovery = recovery.push(Block::Table(work.totals(vec![
            "合計".into(),
            Cell::Empty,
            Cell::Empty,
            Cell::Empty,
            hours_cell(r.work_minutes),
            Cell::Empty,
        ])));
    }
    doc.sections.push(recovery);

    let witness = match &r.witness {
        Some(x) => Block::KeyValues(vec![
            ("立会者の氏名".into(), x.name.clone()),
            ("立会者の所属".into(), x.org.clone()),
            ("立会日時".into(), x.at.clone()),
            ("所見".into(), x.remark.clone()),
            ("記録者".into(), x.recorded_by.clone()),
        ]),
        None => Block::Paragraph("立会いは記録されていない。".into()),
    };
    doc.sections.push(
        Section::new("7. 復旧の確認（立会い）")
            .sheet("立会い")
            .push(witness),
    );

    doc.sections.push(
        Section::new("8. 再発防止策")
            .sheet("再発防止策")
            .push(Block::Paragraph(or_not_recorded(&r.prevention))),
    );

    doc.approval = Some(Approval {
        title: Some("確認欄".into()),
        columns: vec![ApprovalColumn::new("確認者")],
        seal_boxes: false,
    });
    doc
}

/// Hours as a number with as many decimals as the work log shows ("1", "1.5", "0.75").
fn hours_cell(minutes: i64) -> Cell {
    let label = hours_label(minutes);
    let decimals = label.split_once('.').map_or(0, |(_, f)| f.len());
    // Minutes of an incident are far below 2^53, so the conversion is exact.
    Cell::Number(minutes as f64 / 60.0, u8::try_from(decimals).unwrap_or(2))
}

/// [`hours_cell`] with its unit ("1.5時間").
fn hours_amount(minutes: i64) -> Cell {
    match hours_cell(minutes) {
        Cell::Number(v, d) => Cell::Amount(v, d, "時間".into()),
        other => other,
    }
}

fn or_not_recorded(text: &str) -> String {
    if text.trim().is_empty() {
        NOT_RECORDED.to_string()
    } else {
        text.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use calamine::{Data, DataType, Reader, Xlsx, open_workbook_from_rs};
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
            clause_set: false,
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

    fn jst_at(h: u32, m: u32) -> Option<NaiveDateTime> {
        NaiveDate::from_ymd_opt(2026, 8, 10).and_then(|d| d.and_hms_opt(h, m, 0))
    }

    #[test]
    fn the_report_is_shaped_in_japanese_with_jst_times() {
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
        assert_eq!(r.times[0], ("発生日時".to_string(), jst_at(9, 30)));
        assert_eq!(r.times[4], ("復旧日時".to_string(), jst_at(14, 50)));
        assert_eq!(get(&r.durations, "初動までの時間（認知→初動）"), "10分");
        assert_eq!(
            get(&r.durations, "復旧までの時間（発生→復旧）"),
            "5時間20分"
        );
        assert_eq!(r.timeline.len(), 6);
        assert_eq!(r.timeline[0].at, jst_at(9, 45));
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
        assert_eq!(r.work[1].date, NaiveDate::from_ymd_opt(2026, 8, 10));
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

    /// The report engine's XLSX of the report: a sheet per section, times as Excel dates in 和暦, hours as
    /// numbers whose total is a formula over them.
    #[test]
    fn the_workbook_has_typed_cells() {
        let doc = incident_document(&detail(), issued());
        let bytes = unyo_report::render_xlsx(&doc).expect("xlsx");
        let mut wb: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes)).expect("valid xlsx");
        assert_eq!(wb.sheet_names()[0], "概要");
        assert_eq!(wb.sheet_names().len(), 8);
        let times = wb.worksheet_range("時刻").expect("times");
        let find = |range: &calamine::Range<Data>, label: &str| {
            range
                .rows()
                .position(|r| matches!(r.first(), Some(Data::String(s)) if s == label))
                .unwrap_or_else(|| panic!("{label} not in column A"))
        };
        let occurred = find(&times, "発生日時");
        match times.get((occurred, 1)) {
            Some(Data::DateTime(t)) => {
                assert_eq!(t.as_datetime(), jst_at(9, 30));
            }
            other => panic!("発生日時 is {other:?}"),
        }
        assert_eq!(
            times
                .get((find(&times, "完了日時"), 1))
                .map(|c| c.is_datetime()),
            Some(true)
        );
        assert_eq!(
            times.get((find(&times, "作業時間の合計"), 1)),
            Some(&Data::Float(3.0))
        );
        let work = wb.worksheet_range("復旧作業").expect("work");
        let head = find(&work, "No.");
        assert_eq!(work.get((head + 1, 0)), Some(&Data::Float(12.0)));
        assert!(matches!(work.get((head + 1, 1)), Some(Data::DateTime(_))));
        assert_eq!(work.get((head + 2, 4)), Some(&Data::Float(2.0)));
        assert_eq!(work.get((head + 3, 0)), Some(&Data::String("合計".into())));
        assert_eq!(work.get((head + 3, 4)), Some(&Data::Float(3.0)));
        let formulas = wb.worksheet_formula("復旧作業").expect("formulas");
        let total = formulas
            .used_cells()
            .find(|(_, _, f)| f.contains("SUM"))
            .map(|(_, _, f)| f.clone());
        assert!(
            total.is_some_and(|f| f.starts_with("SUM(E")),
            "the total is a SUM"
        );
        assert_eq!(
            incident_report_file_name("INC-R8-0001", crate::Format::Xlsx),
            "障害報告書_INC-R8-0001.xlsx"
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
        assert_eq!(r.times[4].1, None);
        assert_eq!(r.durations[1].1, "—");
        let doc = incident_report_document(&r);
        let Some(Block::Table(times)) = doc.sections[1].blocks.first() else {
            panic!("the times table");
        };
        assert_eq!(times.rows[4][1], Cell::text("—"));
        let bytes = unyo_report::render_xlsx(&doc).expect("xlsx");
        let mut wb: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes)).expect("valid xlsx");
        let range = wb.worksheet_range("立会い").expect("sheet");
        assert!(
            range
                .rows()
                .flatten()
                .any(|c| matches!(c, Data::String(s) if s == "立会いは記録されていない。"))
        );
    }
}

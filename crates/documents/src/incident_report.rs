//! The incident report (障害報告書, R7) as a [`Document`], so that it prints as PDF through the report engine.
//!
//! The content is shaped once, by [`unyo_exchange::incident::incident_report`] (the same
//! [`IncidentReport`] the hand-written XLSX is written from), and only laid out here: the XLSX and the PDF
//! say the same thing in the same numbered sections (1 概要 … 8 再発防止策) with the same labels.

use unyo_domain::support::hours_label;
use unyo_exchange::incident::{INCIDENT_REPORT_TITLE, IncidentReport, incident_report};
use unyo_report::{Approval, ApprovalColumn, Block, Cell, Column, Document, Section, Table};
use unyo_store::incidents::IncidentDetail;

/// What an empty free-text part of the report says (the XLSX leaves an empty box to write in instead).
const NOT_RECORDED: &str = "（記録なし）";

/// The 障害報告書 of a stored incident, dated `issued_on` (作成日; never read from the clock here).
pub fn incident_document(d: &IncidentDetail, issued_on: chrono::NaiveDate) -> Document {
    incident_report_document(&incident_report(d, issued_on))
}

/// The file name people see for the PDF: `障害報告書_INC-R8-0001.pdf`.
pub fn incident_report_pdf_file_name(number: &str) -> String {
    format!("{INCIDENT_REPORT_TITLE}_{number}.pdf")
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
    let times = r
        .times
        .iter()
        .map(|(k, v)| {
            let v = if v.trim().is_empty() {
                "—"
            } else {
                v.as_str()
            };
            (k.clone(), v.to_string())
        })
        .collect();
    doc.sections.push(
        Section::new("2. 発生から完了までの時刻")
            .sheet("時刻")
            .push(Block::KeyValues(times)),
    );

    let mut timeline = Table::new(vec![
        Column::left("日時", 30.0),
        Column::left("段階", 17.0),
        Column::left("記録", 24.0),
        Column::left("記録者", 19.0),
        Column::left("内容", 90.0),
    ]);
    timeline.empty_text = Some("経過の記録はない。".into());
    for e in &r.timeline {
        timeline = timeline.row(vec![
            date_over_time(&e.at).into(),
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
            Column::left("作業日", 30.0),
            Column::center("時間", 28.0),
            Column::left("作業者", 23.0),
            Column::right("時間数", 16.0),
            Column::left("作業内容", 83.0),
        ])
        .caption("作業記録");
        for w in &r.work {
            work = work.row(vec![
                format!("{}\n（No.{}）", w.date, w.id).into(),
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

/// Hours as the XLSX shows them ("1", "1.5", "0.75"), kept as a number for the XLSX rendering.
fn hours_cell(minutes: i64) -> Cell {
    let label = hours_label(minutes);
    let decimals = label.split_once('.').map_or(0, |(_, f)| f.len());
    // Minutes of an incident are far below 2^53, so the conversion is exact.
    Cell::Number(minutes as f64 / 60.0, u8::try_from(decimals).unwrap_or(2))
}

/// "令和8年8月10日 09:45" as two lines, date over time, so a narrow column never breaks inside the date.
fn date_over_time(at: &str) -> String {
    at.replacen(' ', "\n", 1)
}

fn or_not_recorded(text: &str) -> String {
    if text.trim().is_empty() {
        NOT_RECORDED.to_string()
    } else {
        text.to_string()
    }
}

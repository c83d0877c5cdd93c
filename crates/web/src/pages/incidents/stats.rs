//! `GET /incidents/stats?fy=2026`: the incident figures of a fiscal year (by the month of 発生, JST) —
//! counts, MTTA and MTTR per month, per site and for the year, counts per severity — as tables and two
//! server-rendered SVG charts: incidents per month by severity, and the mean time to recover per month
//! (both drawn by the report crate's chart, as the documents' charts are).

use super::{Opt, duration_text, respond, with_query};
use crate::i18n::Tr;
use crate::page::{Ctx, PageMeta};
use crate::view::hours_text;
use crate::{AppState, WebError};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::Utc;
use serde::Deserialize;
use unyo_domain::Action;
use unyo_domain::incident::{Figures, Severity, jst_month};
use unyo_domain::time::from_storage;
use unyo_domain::wareki::FiscalYear;
use unyo_report::{Annotations, BarChart, BarMode, SegmentText};
use unyo_store::incidents::{IncidentQuery, IncidentRow};
use unyo_store::support::jst_today;

/// Colours of the severities (重大, 高, 中, 低), each with at least 4.5:1 contrast against the white
/// counts written on them.
const SEVERITY_FILLS: [&str; 4] = ["#b3261e", "#a14f00", "#0b4f8a", "#4a5568"];

/// The query string.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(super) struct StatsParams {
    /// The fiscal year by its starting calendar year (2026 = 令和8年度).
    pub fy: String,
}

/// One row of figures.
pub(super) struct FigureRow {
    pub label: String,
    pub href: String,
    pub count: i64,
    /// The three parts of `count` (`Figures::by_progress`).
    pub closed: i64,
    pub awaiting: i64,
    pub unrecovered: i64,
    pub mtta: String,
    pub mttr: String,
    pub outage: String,
    pub max: String,
}

/// Counts of one site per month.
pub(super) struct SiteMonths {
    pub label: String,
    pub cells: Vec<i64>,
    pub total: i64,
}

#[derive(askama::Template)]
#[template(path = "incidents_stats.html")]
struct StatsPage {
    page: PageMeta,
    fy_label: String,
    years: Vec<Opt>,
    prev_href: String,
    next_href: String,
    list_href: String,
    months: Vec<String>,
    month_rows: Vec<FigureRow>,
    year_row: FigureRow,
    site_rows: Vec<FigureRow>,
    site_months: Vec<SiteMonths>,
    severities: Vec<(String, i64)>,
    has_data: bool,
    counts_svg: String,
    mttr_svg: String,
}

fn figure_row(tr: Tr, label: String, href: String, f: &Figures) -> FigureRow {
    FigureRow {
        label,
        href,
        count: f.count,
        closed: f.closed,
        awaiting: f.awaiting_close,
        unrecovered: f.unrecovered,
        mtta: duration_text(tr, f.mtta_minutes),
        mttr: duration_text(tr, f.mttr_minutes),
        outage: if f.recovered > 0 {
            duration_text(tr, Some(f.total_outage_minutes))
        } else {
            "—".into()
        },
        max: duration_text(tr, f.max_mttr_minutes),
    }
}

/// Month labels of a fiscal year: 4月…3月 / Apr…Mar.
fn month_labels(tr: Tr, fy: FiscalYear) -> Vec<String> {
    const EN: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    fy.months()
        .map(|(_, m)| {
            if tr.is_ja() {
                format!("{m}月")
            } else {
                EN[(m as usize).saturating_sub(1) % 12].to_string()
            }
        })
        .collect()
}

/// Every incident whose 発生 lies in the fiscal year.
async fn incidents_of(state: &AppState, fy: FiscalYear) -> Result<Vec<IncidentRow>, WebError> {
    let mut out = Vec::new();
    let mut page = 1;
    loop {
        let p = state
            .store
            .incidents(
                &IncidentQuery {
                    from: Some(fy.start().format("%Y-%m-%d").to_string()),
                    to: Some(fy.end().format("%Y-%m-%d").to_string()),
                    page: Some(page),
                    per_page: Some(500),
                    ..Default::default()
                },
                Utc::now(),
            )
            .await?;
        let pages = p.pages();
        out.extend(p.items);
        if page >= pages {
            return Ok(out);
        }
        page += 1;
    }
}

/// Counts per severity (in display order) and month of the fiscal year.
fn severity_months(rows: &[IncidentRow], fy: FiscalYear) -> Vec<Vec<i64>> {
    let months: Vec<(i32, u32)> = fy.months().collect();
    Severity::ALL
        .iter()
        .map(|s| {
            months
                .iter()
                .map(|ym| {
                    let n = rows
                        .iter()
                        .filter(|r| r.severity() == Some(*s))
                        .filter(|r| from_storage(&r.occurred_at).map(jst_month) == Some(*ym))
                        .count();
                    i64::try_from(n).unwrap_or(i64::MAX)
                })
                .collect()
        })
        .collect()
}

/// `GET /incidents/stats?fy=2026`.
pub(super) async fn page(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(p): Query<StatsParams>,
) -> Result<Response, WebError> {
    ctx.require(Action::ViewIncidents)?;
    let tr = ctx.tr;
    let current = FiscalYear::containing(jst_today());
    let fy =
        p.fy.trim()
            .parse::<i32>()
            .ok()
            .filter(|y| (1990..=2200).contains(y))
            .map(FiscalYear)
            .unwrap_or(current);
    let stats = state.store.incident_stats(fy).await?;
    let rows = incidents_of(&state, fy).await?;
    let fy_label = if tr.is_ja() {
        stats.label.clone()
    } else {
        format!("FY{}", fy.0)
    };
    let months = month_labels(tr, fy);
    let month_href = |y: i32, m: u32| {
        let first = chrono::NaiveDate::from_ymd_opt(y, m, 1);
        let last = first
            .and_then(|d| d.checked_add_months(chrono::Months::new(1)))
            .and_then(|d| d.pred_opt());
        match (first, last) {
            (Some(a), Some(b)) => with_query(
                "/incidents",
                &[
                    ("from", &a.format("%Y-%m-%d").to_string()),
                    ("to", &b.format("%Y-%m-%d").to_string()),
                ],
            ),
            _ => "/incidents".to_string(),
        }
    };
    let month_rows = stats
        .months
        .iter()
        .zip(&months)
        .map(|(m, label)| figure_row(tr, label.clone(), month_href(m.year, m.month), &m.figures))
        .collect();
    let year_row = figure_row(
        tr,
        tr.t("inc.year_total").to_string(),
        String::new(),
        &stats.year,
    );
    let from = fy.start().format("%Y-%m-%d").to_string();
    let to = fy.end().format("%Y-%m-%d").to_string();
    let site_rows = stats
        .sites
        .iter()
        .map(|s| {
            let label = if s.site_id.is_none() {
                tr.t("inc.site_none").to_string()
            } else {
                s.site_name.clone()
            };
            let href = s
                .site_id
                .map(|id| {
                    with_query(
                        "/incidents",
                        &[("site_id", &id.to_string()), ("from", &from), ("to", &to)],
                    )
                })
                .unwrap_or_default();
            figure_row(tr, label, href, &s.year)
        })
        .collect();
    let site_months = stats
        .sites
        .iter()
        .map(|s| SiteMonths {
            label: if s.site_id.is_none() {
                tr.t("inc.site_none").to_string()
            } else {
                s.site_name.clone()
            },
            cells: s.months.iter().map(|m| m.figures.count).collect(),
            total: s.year.count,
        })
        .collect();
    let severities = stats
        .severities
        .iter()
        .map(|(code, n)| {
            (
                Severity::parse(code)
                    .map(|s| tr.pick(s.label_ja(), s.label_en()).to_string())
                    .unwrap_or_else(|| code.clone()),
                *n,
            )
        })
        .collect();
    let counts_svg = BarChart {
        title: format!("{fy_label} {}", tr.t("inc.chart_counts")),
        categories: months.clone(),
        series: Severity::ALL
            .iter()
            .zip(severity_months(&rows, fy))
            .map(|(s, counts)| {
                (
                    tr.pick(s.label_ja(), s.label_en()).to_string(),
                    counts.iter().map(|&k| k as f64).collect(),
                )
            })
            .collect(),
        y_label: tr.t("inc.axis_count").to_string(),
        mode: BarMode::Stacked,
        ..Default::default()
    }
    .svg_annotated(&Annotations {
        x_label: tr.t("inc.month").to_string(),
        unit: tr.t("inc.count_unit").to_string(),
        fills: SEVERITY_FILLS.to_vec(),
        segment_text: SegmentText::Values,
        totals: true,
        format: None,
        whole_steps: true,
    });
    let mttr_svg = BarChart {
        title: format!("{fy_label} {}", tr.t("inc.chart_mttr")),
        categories: months.clone(),
        series: vec![(
            tr.t("inc.mttr").to_string(),
            stats
                .months
                .iter()
                .map(|m| m.figures.mttr_minutes.unwrap_or(0) as f64 / 60.0)
                .collect(),
        )],
        y_label: tr.t("inc.axis_hours").to_string(),
        mode: BarMode::Stacked,
        ..Default::default()
    }
    .svg_annotated(&Annotations {
        x_label: tr.t("inc.month").to_string(),
        unit: tr.t("inc.hours_unit").to_string(),
        fills: vec![SEVERITY_FILLS[2]],
        segment_text: SegmentText::None,
        totals: true,
        format: Some(hours_text),
        whole_steps: false,
    });
    let mut years: Vec<i32> = vec![current.0 - 2, current.0 - 1, current.0, current.0 + 1, fy.0];
    years.sort_unstable();
    years.dedup();
    let years = years
        .iter()
        .rev()
        .map(|y| {
            let label = if tr.is_ja() {
                FiscalYear(*y).label()
            } else {
                format!("FY{y}")
            };
            Opt::new(y.to_string(), label, *y == fy.0)
        })
        .collect();
    let link = |y: i32| with_query("/incidents/stats", &[("fy", &y.to_string())]);
    let view = StatsPage {
        page: ctx.page(tr.t("inc.stats_title"), "incidents"),
        years,
        prev_href: link(fy.0 - 1),
        next_href: link(fy.0 + 1),
        list_href: with_query("/incidents", &[("from", &from), ("to", &to)]),
        has_data: stats.year.count > 0,
        fy_label,
        months,
        month_rows,
        year_row,
        site_rows,
        site_months,
        severities,
        counts_svg,
        mttr_svg,
    };
    respond(StatusCode::OK, &view)
}

//! The fiscal-year workload summary (年度別作業時間): hours by category × month and by clause (①–⑤) ×
//! month, with totals, and a stacked bar chart by clause drawn on the server as SVG.

use super::{Opt, opt_id, respond, stored_date, with_query};
use crate::i18n::Tr;
use crate::page::{Ctx, PageMeta};
use crate::view::hours_text;
use crate::{AppState, WebError};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use unyo_domain::Action;
use unyo_domain::support::{Category, Clause, hours_label};
use unyo_domain::wareki::FiscalYear;
use unyo_report::{Annotations, BarChart, BarMode, DARK_PALETTE, SegmentText};
use unyo_store::support::{MonthMinutes, jst_today};

/// The query string.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(super) struct WorkloadParams {
    /// The fiscal year by its starting calendar year (2026 = 令和8年度).
    pub fy: String,
    pub contract_id: String,
}

/// One row of a summary table: hours per month and the row's total.
pub(super) struct SumRow {
    pub label: String,
    pub cells: Vec<String>,
    pub total: String,
}

#[derive(askama::Template)]
#[template(path = "work_workload.html")]
struct WorkloadPage {
    page: PageMeta,
    fy_label: String,
    years: Vec<Opt>,
    contracts: Vec<Opt>,
    prev_href: String,
    next_href: String,
    work_href: String,
    months: Vec<String>,
    categories: Vec<SumRow>,
    category_total: SumRow,
    clauses: Vec<SumRow>,
    clause_total: SumRow,
    has_data: bool,
    svg: String,
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

/// Minutes of `key` in each month of the fiscal year.
fn per_month(data: &[MonthMinutes], fy: FiscalYear, key: &str) -> Vec<i64> {
    fy.months()
        .map(|(y, m)| {
            data.iter()
                .filter(|d| d.key == key && d.year == y && d.month == m)
                .map(|d| d.minutes)
                .sum()
        })
        .collect()
}

fn sum_row(label: String, minutes: &[i64]) -> SumRow {
    SumRow {
        label,
        cells: minutes.iter().map(|m| hours_label(*m)).collect(),
        total: hours_label(minutes.iter().sum()),
    }
}

/// Column totals of rows of minutes.
fn column_totals(rows: &[Vec<i64>]) -> Vec<i64> {
    (0..12)
        .map(|i| rows.iter().map(|r| r.get(i).copied().unwrap_or(0)).sum())
        .collect()
}

/// `GET /workload?fy=2026&contract_id=`.
pub(super) async fn page(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(p): Query<WorkloadParams>,
) -> Result<Response, WebError> {
    ctx.require(Action::ViewWork)?;
    let tr = ctx.tr;
    let current = FiscalYear::containing(jst_today());
    let fy =
        p.fy.trim()
            .parse::<i32>()
            .ok()
            .filter(|y| (1990..=2200).contains(y))
            .map(FiscalYear)
            .unwrap_or(current);
    let contract_id = opt_id(&p.contract_id);
    let contracts = state.store.contracts().await?;
    let by_category = state.store.hours_by_category_month(contract_id, fy).await?;
    let by_clause = state.store.hours_by_clause_month(contract_id, fy).await?;

    let cat_minutes: Vec<Vec<i64>> = Category::ALL
        .iter()
        .map(|c| per_month(&by_category, fy, c.code()))
        .collect();
    let categories = Category::ALL
        .iter()
        .zip(&cat_minutes)
        .map(|(c, m)| sum_row(tr.pick(c.label_ja(), c.label_en()).to_string(), m))
        .collect();
    let clause_minutes: Vec<Vec<i64>> = Clause::ALL
        .iter()
        .map(|c| per_month(&by_clause, fy, c.code()))
        .collect();
    let clauses = Clause::ALL
        .iter()
        .zip(&clause_minutes)
        .map(|(c, m)| sum_row(tr.pick(c.label_ja(), c.label_en()).to_string(), m))
        .collect();
    let total_label = tr.t("workload.row_total").to_string();
    let category_total = sum_row(total_label.clone(), &column_totals(&cat_minutes));
    let clause_total = sum_row(total_label, &column_totals(&clause_minutes));
    let has_data = by_category.iter().any(|d| d.minutes > 0);

    let fy_label = if tr.is_ja() {
        fy.label()
    } else {
        format!("FY{}", fy.0)
    };
    let months = month_labels(tr, fy);
    let chart = BarChart {
        title: format!("{fy_label} {}", tr.t("workload.chart_title")),
        categories: months.clone(),
        series: Clause::ALL
            .iter()
            .zip(&clause_minutes)
            .map(|(c, m)| {
                (
                    tr.pick(c.label_ja(), c.label_en()).to_string(),
                    m.iter().map(|&m| m as f64 / 60.0).collect(),
                )
            })
            .collect(),
        y_label: tr.t("workload.axis_hours").to_string(),
        mode: BarMode::Stacked,
        ..Default::default()
    };
    let svg = chart.svg_annotated(&Annotations {
        x_label: tr.t("workload.axis_month").to_string(),
        unit: tr.t("work.hours_unit").to_string(),
        fills: DARK_PALETTE.to_vec(),
        segment_text: SegmentText::Marks(
            Clause::ALL.iter().map(|c| c.mark().to_string()).collect(),
        ),
        totals: true,
        format: Some(hours_text),
        whole_steps: false,
    });

    // Years to choose from: those of the contracts, and around this one.
    let mut years: Vec<i32> = contracts
        .iter()
        .filter_map(|c| stored_date(&c.term_start))
        .map(|d| FiscalYear::containing(d).0)
        .chain([current.0 - 1, current.0, current.0 + 1, fy.0])
        .collect();
    years.sort_unstable();
    years.dedup();
    let year_opts = years
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
    let contract_opts = contracts
        .iter()
        .map(|c| {
            Opt::new(
                c.id.to_string(),
                format!("{} {}", c.number, c.name),
                contract_id == Some(c.id),
            )
        })
        .collect();
    let cid = contract_id.map(|c| c.to_string()).unwrap_or_default();
    let link = |y: i32| {
        with_query(
            "/workload",
            &[("fy", &y.to_string()), ("contract_id", &cid)],
        )
    };
    let view = WorkloadPage {
        page: ctx.page(tr.t("workload.title"), "workload"),
        years: year_opts,
        contracts: contract_opts,
        prev_href: link(fy.0 - 1),
        next_href: link(fy.0 + 1),
        work_href: with_query(
            "/work",
            &[
                ("from", &fy.start().format("%Y-%m-%d").to_string()),
                ("to", &fy.end().format("%Y-%m-%d").to_string()),
                ("contract_id", &cid),
            ],
        ),
        fy_label,
        months,
        categories,
        category_total,
        clauses,
        clause_total,
        has_data,
        svg,
    };
    respond(StatusCode::OK, &view)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_of_a_fiscal_year() {
        let data = vec![
            MonthMinutes {
                key: "1".into(),
                year: 2026,
                month: 5,
                minutes: 90,
            },
            MonthMinutes {
                key: "1".into(),
                year: 2027,
                month: 3,
                minutes: 30,
            },
            MonthMinutes {
                key: "2".into(),
                year: 2026,
                month: 5,
                minutes: 60,
            },
        ];
        let fy = FiscalYear(2026);
        let m = per_month(&data, fy, "1");
        assert_eq!(m.len(), 12);
        assert_eq!(m[1], 90, "May is the second month");
        assert_eq!(m[11], 30, "March is the last");
        let totals = column_totals(&[m.clone(), per_month(&data, fy, "2")]);
        assert_eq!(totals[1], 150);
        let row = sum_row("①".into(), &m);
        assert_eq!(row.total, "2");
        assert_eq!(row.cells[1], "1.5");
        let ja = Tr {
            lang: crate::i18n::Lang::Ja,
        };
        let labels = month_labels(ja, fy);
        assert_eq!(labels.first().map(String::as_str), Some("4月"));
        assert_eq!(labels.last().map(String::as_str), Some("3月"));
    }
}

//! `GET /compliance` (terminals × key items), `POST /compliance/baseline`, and the CSV/XLSX exports
//! (audited as `export.compliance`).

use super::{Badge, Errors, Opt, cell_badge, kind_label, opt_id, respond, with_query};
use crate::page::{Ctx, PageMeta};
use crate::{AppState, WebError};
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::json;
use unyo_domain::campaign::CellState;
use unyo_domain::registry::TerminalKind;
use unyo_domain::{Action, DomainError, FieldError};
use unyo_store::StoreError;
use unyo_store::audit::ExportKind;
use unyo_store::campaigns::{ComplianceGrid, ComplianceQuery};

const BASE: &str = "/compliance";
const CSV: &str = "text/csv; charset=utf-8";
const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// The query string of the page and the exports.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(super) struct Params {
    pub site_id: String,
    pub kind: String,
    pub ok: String,
}

impl Params {
    fn kind(&self) -> &str {
        let k = self.kind.trim();
        if TerminalKind::parse(k).is_some() {
            k
        } else {
            ""
        }
    }

    fn query(&self) -> ComplianceQuery {
        ComplianceQuery {
            site_id: opt_id(&self.site_id),
            kind: Some(self.kind().to_string()).filter(|k| !k.is_empty()),
        }
    }

    fn href(&self, base: &str) -> String {
        let site = opt_id(&self.site_id)
            .map(|s| s.to_string())
            .unwrap_or_default();
        with_query(base, &[("site_id", &site), ("kind", self.kind())])
    }
}

pub(super) struct ItemHead {
    pub label: String,
    pub expected: String,
    pub sources: String,
    pub lagging: usize,
    pub unknown: usize,
}

pub(super) struct CellView {
    pub id: String,
    pub badge: Badge,
    pub state: &'static str,
    pub observed: String,
    pub expected: String,
    pub reason: String,
    /// 遅れ / 不明: the reason one click away.
    pub explain: bool,
}

pub(super) struct RowView {
    pub hostname: String,
    pub inventory_href: String,
    pub site: String,
    pub kind: String,
    pub representative: bool,
    pub received: String,
    pub stale: bool,
    pub cells: Vec<CellView>,
}

#[derive(askama::Template)]
#[template(path = "compliance.html")]
struct GridPage {
    page: PageMeta,
    help: String,
    sites: Vec<Opt>,
    kinds: Vec<Opt>,
    items: Vec<ItemHead>,
    rows: Vec<RowView>,
    export_csv: String,
    export_xlsx: String,
    baseline: String,
    can_manage: bool,
    errors: Errors,
}

async fn grid_page(
    state: &AppState,
    ctx: &Ctx,
    p: &Params,
    baseline_input: Option<String>,
    errors: Vec<FieldError>,
) -> Result<Response, WebError> {
    let tr = ctx.tr;
    let grid = state.store.compliance_grid(&p.query()).await?;
    let page = ctx
        .page(tr.t("compliance.title"), "compliance")
        .with_flash(Some(p.ok.as_str()).filter(|s| !s.is_empty()));
    let items: Vec<ItemHead> = grid
        .items
        .iter()
        .enumerate()
        .map(|(i, item)| ItemHead {
            label: item.label.clone(),
            expected: item.expected(),
            sources: item.sources.join("、"),
            lagging: grid
                .rows
                .iter()
                .filter(|r| {
                    r.cells
                        .get(i)
                        .is_some_and(|c| c.state == CellState::Lagging)
                })
                .count(),
            unknown: grid
                .rows
                .iter()
                .filter(|r| {
                    r.cells
                        .get(i)
                        .is_some_and(|c| c.state == CellState::Unknown)
                })
                .count(),
        })
        .collect();
    let rows = grid
        .rows
        .iter()
        .map(|r| RowView {
            hostname: r.hostname.clone(),
            inventory_href: format!("/inventory/terminals/{}", r.terminal_id),
            site: r.site_name.clone(),
            kind: kind_label(tr, &r.kind),
            representative: TerminalKind::parse(&r.kind) == Some(TerminalKind::Representative),
            received: r
                .received_at
                .as_deref()
                .map(|at| page.datetime(at))
                .unwrap_or_default(),
            stale: r.stale,
            cells: r
                .cells
                .iter()
                .enumerate()
                .map(|(i, c)| CellView {
                    id: format!("c-{}-{i}", r.terminal_id),
                    badge: cell_badge(tr, c.state),
                    state: c.state.code(),
                    observed: c.observed.clone(),
                    expected: c.expected.clone(),
                    reason: c.reason.clone(),
                    explain: matches!(c.state, CellState::Lagging | CellState::Unknown),
                })
                .collect(),
        })
        .collect();
    let sites = state
        .store
        .site_options()
        .await?
        .into_iter()
        .map(|(id, code, name)| {
            Opt::new(
                id.to_string(),
                format!("{name}（{code}）"),
                opt_id(&p.site_id) == Some(id),
            )
        })
        .collect();
    let kinds = TerminalKind::ALL
        .iter()
        .map(|k| {
            Opt::new(
                k.code(),
                tr.pick(k.label_ja(), k.label_en()),
                p.kind() == k.code(),
            )
        })
        .collect();
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let view = GridPage {
        help: tr.t("compliance.help").replace(
            "{days}",
            &unyo_store::inventory::DEFAULT_STALE_DAYS.to_string(),
        ),
        sites,
        kinds,
        items,
        rows,
        export_csv: p.href(&format!("{BASE}/export.csv")),
        export_xlsx: p.href(&format!("{BASE}/export.xlsx")),
        baseline: baseline_input.unwrap_or_else(|| grid.baseline.clone().unwrap_or_default()),
        can_manage: ctx.user.role().allows(Action::ManageCampaigns),
        errors: Errors::new(errors, &["os_build_baseline"], ""),
        page,
    };
    respond(status, &view)
}

/// `GET /compliance`.
pub(super) async fn page(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(p): Query<Params>,
) -> Result<Response, WebError> {
    ctx.require(Action::ViewCampaigns)?;
    grid_page(&state, &ctx, &p, None, Vec::new()).await
}

/// The baseline form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct BaselineForm {
    pub os_build_baseline: String,
}

/// `POST /compliance/baseline`.
pub(super) async fn baseline(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(f): Form<BaselineForm>,
) -> Result<Response, WebError> {
    ctx.require(Action::ManageCampaigns)?;
    match state
        .store
        .set_compliance_baseline(&ctx.actor(), &f.os_build_baseline)
        .await
    {
        Ok(()) => Ok(Redirect::to(&format!("{BASE}?ok=saved")).into_response()),
        Err(StoreError::Domain(DomainError::Validation(fields))) => {
            grid_page(
                &state,
                &ctx,
                &Params::default(),
                Some(f.os_build_baseline),
                fields,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

fn attachment(body: Vec<u8>, content_type: &'static str, ext: &str) -> Response {
    let date = unyo_domain::time::to_jst(chrono::Utc::now())
        .format("%Y%m%d")
        .to_string();
    let mut res = body.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(
        header::CONTENT_DISPOSITION,
        crate::download::content_disposition(
            &format!("compliance_{date}.{ext}"),
            &format!("準拠状況_{date}.{ext}"),
        ),
    );
    res
}

async fn export(
    state: &AppState,
    ctx: &Ctx,
    p: &Params,
    format: &str,
) -> Result<Response, WebError> {
    ctx.require(Action::ViewCampaigns)?;
    let grid: ComplianceGrid = state.store.compliance_grid(&p.query()).await?;
    let (body, ct) = if format == "csv" {
        (unyo_exchange::compliance_csv(&grid), CSV)
    } else {
        (
            unyo_exchange::compliance_xlsx(&grid).map_err(|e| WebError::Internal(e.to_string()))?,
            XLSX,
        )
    };
    let lagging = grid
        .rows
        .iter()
        .flat_map(|r| &r.cells)
        .filter(|c| c.state == CellState::Lagging)
        .count();
    state
        .store
        .record_export(
            &ctx.actor(),
            ExportKind::Compliance,
            "",
            "",
            json!({
                "format": format,
                "terminals": grid.rows.len(),
                "items": grid.items.iter().map(|i| i.label.clone()).collect::<Vec<_>>(),
                "lagging_cells": lagging,
                "filter": {"site_id": opt_id(&p.site_id), "kind": p.kind()},
            }),
        )
        .await?;
    Ok(attachment(body, ct, format))
}

/// `GET /compliance/export.csv`.
pub(super) async fn csv(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(p): Query<Params>,
) -> Result<Response, WebError> {
    export(&state, &ctx, &p, "csv").await
}

/// `GET /compliance/export.xlsx`.
pub(super) async fn xlsx(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(p): Query<Params>,
) -> Result<Response, WebError> {
    export(&state, &ctx, &p, "xlsx").await
}

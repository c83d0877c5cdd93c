//! `GET|POST /inventory/agents` and `POST /inventory/agents/{id}/revoke`: the HTTP Basic credentials
//! inventory agents report with. A new credential's password is shown once, in the response to the
//! creating POST (never in a URL). Below the credentials, every agent seen reporting: its software
//! and version (FusionInventory / GLPI Agent), the protocol unyo speaks with it, its last contact.

use super::parse_id;
use crate::page::{Ctx, PageMeta, render};
use crate::{AppState, WebError};
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use unyo_domain::{Action, DomainError};
use unyo_store::StoreError;
use unyo_store::inventory::{NewAgentCredential, PROTOCOL_GLPI_JSON, PROTOCOL_OCS_XML};

pub(super) struct CredRow {
    id: i64,
    name: String,
    username: String,
    created: String,
    last_used: String,
    revoked: Option<String>,
}

/// One agent seen reporting.
pub(super) struct AgentRow {
    device_id: String,
    /// `FusionInventory 2.6-3`, `GLPI Agent 1.12`.
    software: String,
    glpi_agent_id: String,
    /// `FusionInventory XML` or `GLPI Agent JSON`.
    protocol: String,
    last_contact: String,
    last_message: String,
    credential: String,
}

#[derive(askama::Template)]
#[template(path = "inventory_agents.html")]
struct AgentsPage {
    page: PageMeta,
    rows: Vec<CredRow>,
    agents: Vec<AgentRow>,
    glpi_server_url: String,
    created: Option<NewAgentCredential>,
    server_url: String,
    name: String,
    error: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct Params {
    ok: String,
}

/// Where agents should report: this server's `/ocsinventory` (or `path`), from the `Host` the browser
/// used.
fn server_url(headers: &HeaderMap, secure: bool, path: &str) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|h| {
            h.chars()
                .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c))
        })
        .unwrap_or("unyo.example");
    let scheme = if secure { "https" } else { "http" };
    format!("{scheme}://{host}{path}")
}

async fn agents_page(
    state: &AppState,
    ctx: &Ctx,
    headers: &HeaderMap,
) -> Result<AgentsPage, WebError> {
    let meta = ctx.page(ctx.tr.t("inventory.agents"), "inventory");
    let rows = state
        .store
        .agent_credentials()
        .await?
        .into_iter()
        .map(|c| CredRow {
            id: c.id,
            name: c.name,
            username: c.username,
            created: format!("{}（{}）", meta.datetime(&c.created_at), c.created_by),
            last_used: c
                .last_used_at
                .as_deref()
                .map(|t| meta.datetime(t))
                .unwrap_or_else(|| "—".into()),
            revoked: c.revoked_at.as_deref().map(|t| meta.datetime(t)),
        })
        .collect();
    let agents = state
        .store
        .inventory_agents()
        .await?
        .into_iter()
        .map(|a| {
            let name = match a.kind.as_str() {
                "fusioninventory" => "FusionInventory",
                "glpi" => "GLPI Agent",
                _ => ctx.tr.pick("その他", "Other"),
            };
            AgentRow {
                software: match &a.version {
                    Some(v) => format!("{name} {v}"),
                    None => name.to_string(),
                },
                protocol: match a.protocol.as_str() {
                    PROTOCOL_GLPI_JSON => "GLPI Agent JSON".into(),
                    PROTOCOL_OCS_XML => "FusionInventory XML".into(),
                    other => other.to_string(),
                },
                last_contact: format!(
                    "{}（{}）",
                    meta.datetime(&a.last_contact_at),
                    a.last_contact_from
                ),
                last_message: a.last_message,
                glpi_agent_id: a.glpi_agent_id.unwrap_or_else(|| "—".into()),
                credential: format!("{}（{}）", a.credential_name, a.credential_username),
                device_id: a.device_id,
            }
        })
        .collect();
    let secure = state.config.secure_cookies;
    Ok(AgentsPage {
        page: meta,
        rows,
        agents,
        glpi_server_url: server_url(headers, secure, crate::agent::GLPI_AGENT_PATH),
        created: None,
        server_url: server_url(headers, secure, crate::agent::AGENT_PATH),
        name: String::new(),
        error: String::new(),
    })
}

/// `GET /inventory/agents`.
pub(super) async fn page(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Query(p): Query<Params>,
) -> Result<Response, WebError> {
    ctx.require(Action::ManageAgents)?;
    let mut v = agents_page(&state, &ctx, &headers).await?;
    if p.ok == "revoked" {
        v.page.flash = Some(ctx.tr.t("inventory.agent_revoked_done"));
    }
    Ok(render(&v)?.into_response())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct CreateForm {
    name: String,
}

/// `POST /inventory/agents`: creates a credential and shows its password once.
pub(super) async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Form(f): Form<CreateForm>,
) -> Result<Response, WebError> {
    ctx.require(Action::ManageAgents)?;
    match state
        .store
        .create_agent_credential(&ctx.actor(), &f.name)
        .await
    {
        Ok(created) => {
            let mut v = agents_page(&state, &ctx, &headers).await?;
            v.created = Some(created);
            Ok(render(&v)?.into_response())
        }
        Err(StoreError::Domain(DomainError::Validation(fields))) => {
            let mut v = agents_page(&state, &ctx, &headers).await?;
            v.error = fields
                .into_iter()
                .map(|f| f.message)
                .collect::<Vec<_>>()
                .join(" ");
            v.name = f.name;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&v)?).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /inventory/agents/{id}/revoke`.
pub(super) async fn revoke(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    ctx.require(Action::ManageAgents)?;
    let id = parse_id(&id)?;
    state
        .store
        .revoke_agent_credential(&ctx.actor(), id)
        .await?;
    Ok(Redirect::to("/inventory/agents?ok=revoked").into_response())
}

//! Notification channels (通知先): `GET /connectivity/channels` lists the channels (e-mail through an SMTP
//! relay, webhook, syslog) with their settings, in service or 廃止 with its date, and the recent delivery
//! attempts (time, channel, event, success or failure, error text); those allowed `ManageChecks` get the
//! create form. `POST /connectivity/channels` validates on the server and answers 422 with Japanese messages.
//!
//! As in the registry: `GET /connectivity/channels/{id}/edit` shows a channel's edit form and its retire
//! form, `POST /connectivity/channels/{id}` changes it under the create rules (the kind may change; 422 with
//! the typed values otherwise, nothing changed), `POST /connectivity/channels/{id}/retire` retires it with a
//! reason: it stays listed with its delivery attempts, marked 廃止, and is no longer notified.
//!
//! The channel model holds no secret (the SMTP relay on the closed network takes no password), so every
//! setting can be shown; should one ever be added, it must be left out of [`settings_text`].

use super::record_edit::{EditFrame, EditWords, Refusal, RetireForm};
use crate::page::{Ctx, FormErrors, PageMeta};
use crate::view::OkQuery;
use crate::view::parse_id;
use crate::{AppState, WebError};
use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use std::collections::HashMap;
use unyo_domain::connectivity::ChannelConfig;
use unyo_domain::{Action, DomainError, FieldError};
use unyo_store::connectivity::Channel;
use unyo_store::registry::Status;

/// Delivery attempts shown on the page.
const ATTEMPTS_SHOWN: i64 = 50;

/// Checks a channel's name under the domain's rule (given, one line of at most 100 characters, no
/// control character, no personal identifier), so the form lists it with the other problems. Shared by
/// the page and (through `validate_channel`) the API.
fn validate_name(name: &str) -> Result<(), DomainError> {
    unyo_domain::connectivity::validate_channel_name(name).map(|_| ())
}

/// The create form as typed.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(super) struct ChannelForm {
    name: String,
    /// `email`, `webhook` or `syslog`.
    kind: String,
    host: String,
    port: String,
    starttls: Option<String>,
    from: String,
    /// Addresses separated by commas, spaces or lines.
    to: String,
    url: String,
    /// The webhook receiver's CA certificate (PEM), optional.
    ca_pem: String,
    addr: String,
}

/// The form as a channel, or every problem found in it.
fn parse_form(f: &ChannelForm) -> Result<ChannelConfig, Vec<FieldError>> {
    let mut errors = Vec::new();
    if let Err(DomainError::Validation(e)) = validate_name(&f.name) {
        errors.extend(e);
    }
    let config = match f.kind.as_str() {
        "email" => {
            let port = if f.port.trim().is_empty() {
                Some(25)
            } else {
                f.port.trim().parse::<u16>().ok().filter(|p| *p > 0)
            };
            if port.is_none() {
                errors.push(FieldError::new(
                    "port",
                    "ポートは1〜65535の数字で入力してください。",
                ));
            }
            Some(ChannelConfig::Email {
                host: f.host.trim().to_string(),
                port: port.unwrap_or(25),
                starttls: f.starttls.is_some(),
                from: f.from.trim().to_string(),
                to: f
                    .to
                    .split(|c: char| c == ',' || c == '、' || c.is_whitespace())
                    .filter(|t| !t.is_empty())
                    .map(str::to_string)
                    .collect(),
            })
        }
        "webhook" => Some(ChannelConfig::Webhook {
            url: f.url.trim().to_string(),
            ca_pem: Some(f.ca_pem.trim().to_string()).filter(|p| !p.is_empty()),
        }),
        "syslog" => Some(ChannelConfig::Syslog {
            addr: f.addr.trim().to_string(),
        }),
        _ => {
            errors.push(FieldError::new("kind", "通知の種類を選んでください。"));
            None
        }
    };
    if let Some(Err(DomainError::Validation(e))) = config.as_ref().map(ChannelConfig::validate) {
        errors.extend(e);
    }
    match config {
        Some(c) if errors.is_empty() => Ok(c),
        _ => Err(errors),
    }
}

/// A stored channel as the form shows it, for editing.
fn input_from(c: &Channel) -> ChannelForm {
    let mut f = ChannelForm {
        name: c.name.clone(),
        kind: c.config.kind().to_string(),
        port: "25".into(),
        ..Default::default()
    };
    match &c.config {
        ChannelConfig::Email {
            host,
            port,
            starttls,
            from,
            to,
        } => {
            f.host = host.clone();
            f.port = port.to_string();
            f.starttls = starttls.then(|| "on".to_string());
            f.from = from.clone();
            f.to = to.join(", ");
        }
        ChannelConfig::Webhook { url, ca_pem } => {
            f.url = url.clone();
            f.ca_pem = ca_pem.clone().unwrap_or_default();
        }
        ChannelConfig::Syslog { addr } => f.addr = addr.clone(),
    }
    f
}

/// A channel's settings as text (nothing secret is held; see the module comment).
fn settings_text(c: &ChannelConfig) -> String {
    match c {
        ChannelConfig::Email {
            host,
            port,
            starttls,
            from,
            to,
        } => format!(
            "SMTP {host}:{port}{} / From: {from} / To: {}",
            if *starttls { " (STARTTLS)" } else { "" },
            to.join(", ")
        ),
        ChannelConfig::Webhook { url, ca_pem } => format!(
            "POST {url}{}",
            if ca_pem.is_some() {
                " (CA証明書を指定)"
            } else {
                ""
            }
        ),
        ChannelConfig::Syslog { addr } => format!("UDP {addr} (RFC 5424)"),
    }
}

struct ChannelView {
    id: i64,
    name: String,
    kind: String,
    settings: String,
    /// When it was retired (shown with the word 廃止, not by colour alone).
    retired: Option<String>,
}

struct AttemptView {
    at: String,
    channel: String,
    event: String,
    ok: bool,
    detail: String,
}

#[derive(askama::Template)]
#[template(path = "connectivity_channels.html")]
struct ChannelsPage {
    page: PageMeta,
    channels: Vec<ChannelView>,
    attempts: Vec<AttemptView>,
    can_manage: bool,
    input: ChannelForm,
    e: FormErrors,
}

#[derive(askama::Template)]
#[template(path = "connectivity_channels_edit.html")]
struct EditPage {
    page: PageMeta,
    frame: EditFrame,
    input: ChannelForm,
    e: FormErrors,
}

const EDIT_WORDS: EditWords = EditWords {
    back: "ch.back",
    retire_failed: "ch.retire_failed",
    retire_help: "ch.retire_help",
};

fn kind_label(ctx: &Ctx, c: &ChannelConfig) -> String {
    ctx.tr.t(&format!("ch.{}", c.kind())).to_string()
}

async fn render_page(
    state: &AppState,
    ctx: &Ctx,
    input: ChannelForm,
    errors: Vec<FieldError>,
    ok: Option<&str>,
) -> Result<Response, WebError> {
    let channels = state
        .store
        .notification_channel_records(Status::All)
        .await?;
    let names: HashMap<i64, String> = channels.iter().map(|c| (c.id, c.name.clone())).collect();
    let events: HashMap<i64, String> = state
        .store
        .check_events(None, 500)
        .await?
        .into_iter()
        .map(|e| {
            let to = unyo_domain::connectivity::State::parse(&e.to_state)
                .map(|s| {
                    if ctx.tr.is_ja() {
                        s.label_ja().to_string()
                    } else {
                        s.as_str().to_string()
                    }
                })
                .unwrap_or(e.to_state);
            (e.id, format!("{} → {to}", e.check_name))
        })
        .collect();
    let attempts = state
        .store
        .notification_attempts(ATTEMPTS_SHOWN)
        .await?
        .into_iter()
        .map(|a| AttemptView {
            at: crate::page::show_datetime(ctx.tr, &a.at),
            channel: names
                .get(&a.channel_id)
                .cloned()
                .unwrap_or_else(|| format!("#{}", a.channel_id)),
            event: match a.event_id {
                Some(id) => events.get(&id).cloned().unwrap_or_else(|| format!("#{id}")),
                None => ctx.tr.t("ch.test_event").to_string(),
            },
            ok: a.ok,
            detail: a.detail,
        })
        .collect();
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let view = ChannelsPage {
        page: ctx
            .page(ctx.tr.t("ch.title"), "connectivity")
            .with_flash(ok),
        channels: channels
            .iter()
            .map(|c| ChannelView {
                id: c.id,
                name: c.name.clone(),
                kind: kind_label(ctx, &c.config),
                settings: settings_text(&c.config),
                retired: c
                    .retired_at
                    .as_deref()
                    .map(|at| crate::page::show_datetime(ctx.tr, at)),
            })
            .collect(),
        attempts,
        can_manage: ctx.user.role().allows(Action::ManageChecks),
        input,
        e: FormErrors(errors),
    };
    Ok((status, crate::page::render(&view)?).into_response())
}

/// `GET /connectivity/channels`.
pub(super) async fn list(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<OkQuery>,
) -> Result<Response, WebError> {
    ctx.require(Action::ViewChecks)?;
    let input = ChannelForm {
        kind: "email".into(),
        port: "25".into(),
        ..Default::default()
    };
    render_page(&state, &ctx, input, Vec::new(), Some(q.ok.as_str())).await
}

/// `POST /connectivity/channels`.
pub(super) async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(f): Form<ChannelForm>,
) -> Result<Response, WebError> {
    ctx.require(Action::ManageChecks)?;
    let config = match parse_form(&f) {
        Ok(c) => c,
        Err(errors) => return render_page(&state, &ctx, f, errors, None).await,
    };
    match state
        .store
        .create_notification_channel(&ctx.actor(), &f.name, &config)
        .await
    {
        Ok(_) => Ok(Redirect::to("/connectivity/channels?ok=saved").into_response()),
        Err(unyo_store::StoreError::Domain(DomainError::Validation(errors))) => {
            render_page(&state, &ctx, f, errors, None).await
        }
        Err(e) => Err(e.into()),
    }
}

async fn render_edit(
    ctx: &Ctx,
    c: &Channel,
    input: ChannelForm,
    mut refusal: Refusal,
) -> Result<Response, WebError> {
    let status = refusal.status();
    let frame = EditFrame::new(
        "/connectivity/channels",
        &EDIT_WORDS,
        c.id,
        crate::page::show_datetime(ctx.tr, &c.created_at),
        c.updated_at
            .as_deref()
            .map(|at| crate::page::show_datetime(ctx.tr, at))
            .unwrap_or_default(),
        &mut refusal,
    );
    let view = EditPage {
        page: ctx.page(
            format!("{}: {}", ctx.tr.t("ch.edit_title"), c.name),
            "connectivity",
        ),
        frame,
        input,
        e: FormErrors(refusal.errors),
    };
    Ok((status, crate::page::render(&view)?).into_response())
}

/// `GET /connectivity/channels/{id}/edit`: the edit form and the retire form; a retired channel has
/// neither (back to the list, where it shows as 廃止).
pub(super) async fn edit_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    ctx.require(Action::ManageChecks)?;
    let c = state.store.notification_channel(parse_id(&id)?).await?;
    if c.retired_at.is_some() {
        return Ok(Redirect::to("/connectivity/channels").into_response());
    }
    let input = input_from(&c);
    render_edit(&ctx, &c, input, Refusal::default()).await
}

/// `POST /connectivity/channels/{id}`: changes a channel under the create rules.
pub(super) async fn update(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(f): Form<ChannelForm>,
) -> Result<Response, WebError> {
    ctx.require(Action::ManageChecks)?;
    let old = state.store.notification_channel(parse_id(&id)?).await?;
    let refusal = match parse_form(&f) {
        Err(errors) => Refusal::of_form(errors),
        Ok(config) => match state
            .store
            .update_notification_channel(&ctx.actor(), old.id, &f.name, &config)
            .await
        {
            Ok(_) => return Ok(Redirect::to("/connectivity/channels?ok=saved").into_response()),
            Err(e) => Refusal::of_update(e)?,
        },
    };
    render_edit(&ctx, &old, f, refusal).await
}

/// `POST /connectivity/channels/{id}/retire`: retires a channel with a reason.
pub(super) async fn retire(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(f): Form<RetireForm>,
) -> Result<Response, WebError> {
    ctx.require(Action::ManageChecks)?;
    let old = state.store.notification_channel(parse_id(&id)?).await?;
    let refusal = match state
        .store
        .retire_notification_channel(&ctx.actor(), old.id, &f.reason)
        .await
    {
        Ok(_) => return Ok(Redirect::to("/connectivity/channels?ok=retired").into_response()),
        Err(e) => Refusal::of_retire(e, f.reason)?,
    };
    let input = input_from(&old);
    render_edit(&ctx, &old, input, refusal).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_each_kind_and_tells_every_problem() {
        let f = ChannelForm {
            name: "運用チーム".into(),
            kind: "email".into(),
            host: "smtp.pref.lg.jp".into(),
            port: "587".into(),
            starttls: Some("on".into()),
            from: "unyo@pref.lg.jp".into(),
            to: "a@pref.lg.jp, b@pref.lg.jp".into(),
            ..Default::default()
        };
        match parse_form(&f).expect("valid") {
            ChannelConfig::Email {
                port, to, starttls, ..
            } => {
                assert_eq!((port, to.len(), starttls), (587, 2, true));
            }
            other => panic!("{other:?}"),
        }
        let bad = ChannelForm {
            name: " ".into(),
            port: "x".into(),
            to: String::new(),
            ..f
        };
        let e = parse_form(&bad).unwrap_err();
        for field in ["name", "port", "to"] {
            assert!(e.iter().any(|e| e.field == field), "{field}: {e:?}");
        }
        let hook = ChannelForm {
            name: "監視".into(),
            kind: "webhook".into(),
            url: "ftp://example".into(),
            ..Default::default()
        };
        assert!(
            parse_form(&hook).unwrap_err()[0]
                .message
                .contains("http:// または https://")
        );
        let https = ChannelForm {
            url: " https://10.0.0.5:8443/hook ".into(),
            ca_pem: "\n".into(),
            ..hook
        };
        assert_eq!(
            parse_form(&https).expect("https is allowed"),
            ChannelConfig::Webhook {
                url: "https://10.0.0.5:8443/hook".into(),
                ca_pem: None
            }
        );
    }
}

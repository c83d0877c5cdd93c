//! One's own account (R13): TOTP enrolment with a server-rendered QR code and one-time recovery codes,
//! turning TOTP off, changing the password (which ends the account's other sessions and rotates this
//! one), and API tokens: issued with a purpose and an optional expiry date, listed with their creation,
//! last use and expiry, revoked by their owner. Secrets are shown once, on a result page, and never
//! written to logs or audit details.

use crate::page::{Ctx, FormErrors, PageMeta, render};
use crate::security::{SESSION_COOKIE, set_cookie};
use crate::totp;
use crate::view::OkQuery;
use crate::{AppState, WebError};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;
use std::fmt::Write as _;
use unyo_domain::{Action, DomainError, FieldError};
use unyo_store::StoreError;
use unyo_store::users::{ApiToken, LoginOutcome};

/// Issuer shown in authenticator apps.
const ISSUER: &str = "unyo";
/// Number of recovery codes issued with TOTP.
pub const RECOVERY_CODES: usize = 10;
/// Longest API token purpose.
const MAX_TOKEN_NAME: usize = 100;

/// `/account` and its forms.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/account", get(account_page))
        .route("/account/totp/start", post(totp_start))
        .route("/account/totp/confirm", post(totp_confirm))
        .route("/account/totp/disable", post(totp_disable))
        .route("/account/password", post(change_password))
        .route("/account/tokens", post(create_token))
        .route("/account/tokens/{id}/revoke", post(revoke_token))
}

/// An API token as a row of a list (the account page's and the administrators').
pub struct TokenRow {
    pub id: i64,
    pub username: String,
    pub name: String,
    pub created: String,
    pub last_used: String,
    pub expires: String,
    /// `active`, `expired` or `revoked`.
    pub state: &'static str,
    /// The state in words.
    pub state_label: &'static str,
}

/// The rows of `tokens` with dates in the page's style (和暦 in Japanese).
pub fn token_rows(ctx: &Ctx, page: &PageMeta, tokens: Vec<ApiToken>) -> Vec<TokenRow> {
    let now = unyo_domain::time::to_storage(chrono::Utc::now());
    tokens
        .into_iter()
        .map(|t| {
            let state = t.state(&now);
            TokenRow {
                id: t.id,
                state,
                state_label: ctx.tr.t(match state {
                    "revoked" => "account.token_revoked",
                    "expired" => "account.token_expired",
                    _ => "account.token_active",
                }),
                created: page.datetime(&t.created_at),
                last_used: t
                    .last_used_at
                    .as_deref()
                    .map(|at| page.datetime(at))
                    .unwrap_or_else(|| ctx.tr.t("account.token_never_used").to_string()),
                expires: t
                    .expires_at
                    .as_deref()
                    .map(|at| page.datetime(at))
                    .unwrap_or_else(|| ctx.tr.t("account.token_no_expiry").to_string()),
                username: t.username,
                name: t.name,
            }
        })
        .collect()
}

#[derive(askama::Template)]
#[template(path = "account.html")]
struct AccountPage {
    page: PageMeta,
    username: String,
    display_name: String,
    role_label: String,
    totp_enabled: bool,
    totp_pending: bool,
    can_tokens: bool,
    errors: FormErrors,
    token_name: String,
    token_expires: String,
    tokens: Vec<TokenRow>,
}

#[derive(askama::Template)]
#[template(path = "account_totp.html")]
struct EnrolPage {
    page: PageMeta,
    secret_grouped: String,
    uri: String,
    qr_svg: String,
    error: String,
}

#[derive(askama::Template)]
#[template(path = "account_recovery.html")]
struct RecoveryPage {
    page: PageMeta,
    codes: Vec<String>,
}

#[derive(askama::Template)]
#[template(path = "account_token.html")]
struct TokenPage {
    page: PageMeta,
    name: String,
    token: String,
    expires: String,
}

fn flash(ctx: &Ctx, page: PageMeta, ok: Option<&str>) -> PageMeta {
    let special = match ok {
        Some("password") => Some(ctx.tr.t("account.password_done")),
        Some("totp_off") => Some(ctx.tr.t("account.totp_disabled_done")),
        Some("password_sessions") => Some(ctx.tr.t("account.password_done_sessions")),
        Some("token_revoked") => Some(ctx.tr.t("account.token_revoked_done")),
        _ => None,
    };
    let mut page = page.with_flash(ok);
    if special.is_some() {
        page.flash = special;
    }
    page
}

/// What the token form held, to show it again after a refusal.
#[derive(Default)]
struct TokenDraft {
    name: String,
    expires: String,
}

/// The account page, with `errors` (status 422) or without.
async fn show(
    state: &AppState,
    ctx: &Ctx,
    ok: Option<&str>,
    errors: Vec<FieldError>,
    draft: TokenDraft,
) -> Result<Response, WebError> {
    let role = ctx.user.role();
    let pending = !ctx.user.totp_enabled && state.store.totp_secret(ctx.user.id).await?.is_some();
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = flash(ctx, ctx.page(ctx.tr.t("account.title"), "account"), ok);
    let tokens = state.store.api_tokens_of(&ctx.actor(), ctx.user.id).await?;
    let tokens = token_rows(ctx, &page, tokens);
    let html = render(&AccountPage {
        page,
        username: ctx.user.username.clone(),
        display_name: ctx.user.display_name.clone(),
        role_label: ctx.tr.pick(role.label_ja(), role.label_en()).to_string(),
        totp_enabled: ctx.user.totp_enabled,
        totp_pending: pending,
        can_tokens: role.allows(Action::UseApi),
        errors: FormErrors(errors),
        token_name: draft.name,
        token_expires: draft.expires,
        tokens,
    })?;
    Ok((status, html).into_response())
}

async fn account_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<OkQuery>,
) -> Result<Response, WebError> {
    show(&state, &ctx, q.get(), Vec::new(), TokenDraft::default()).await
}

fn random_bytes<const N: usize>() -> Result<[u8; N], WebError> {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).map_err(|e| WebError::Internal(format!("random: {e}")))?;
    Ok(b)
}

/// Letters and digits that are hard to confuse when copied by hand (no i, l, o, 0); 32 of them, so a
/// random byte masked to 5 bits picks one without bias.
const RECOVERY_ALPHABET: &[u8; 32] = b"abcdefghjkmnpqrstuvwxyz123456789";

/// `n` random recovery codes like `abcd-efgh-jk` (50 bits each).
pub fn recovery_codes(n: usize) -> Result<Vec<String>, WebError> {
    (0..n)
        .map(|_| {
            let bytes = random_bytes::<10>()?;
            let s: String = bytes
                .iter()
                .map(|b| RECOVERY_ALPHABET[usize::from(b & 31)] as char)
                .collect();
            Ok(format!("{}-{}-{}", &s[0..4], &s[4..8], &s[8..10]))
        })
        .collect()
}

/// A base32 secret in groups of four, as people type it.
fn grouped(secret: &str) -> String {
    secret
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

fn escape_attr(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// `text` as a QR code in inline SVG (dark modules as one path, a quiet zone of four modules), so the page
/// needs neither JavaScript nor an image request.
pub fn qr_svg(text: &str, label: &str) -> Option<String> {
    use qrcodegen::{QrCode, QrCodeEcc};
    let qr = QrCode::encode_text(text, QrCodeEcc::Medium).ok()?;
    const BORDER: i32 = 4;
    let size = qr.size();
    let dim = size + 2 * BORDER;
    let mut d = String::new();
    for y in 0..size {
        // One rectangle per horizontal run of dark modules keeps the path short.
        let mut x = 0;
        while x < size {
            if qr.get_module(x, y) {
                let start = x;
                while x < size && qr.get_module(x, y) {
                    x += 1;
                }
                let run = x - start;
                let _ = write!(d, "M{},{}h{run}v1h-{run}z", start + BORDER, y + BORDER);
            } else {
                x += 1;
            }
        }
    }
    Some(format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {dim} {dim}" role="img" aria-label="{}" shape-rendering="crispEdges"><rect width="{dim}" height="{dim}" fill="#ffffff"/><path d="{d}" fill="#000000"/></svg>"##,
        escape_attr(label)
    ))
}

fn enrol_page(
    ctx: &Ctx,
    secret: &str,
    error: &str,
    status: StatusCode,
) -> Result<Response, WebError> {
    let uri = totp::provisioning_uri(secret, &ctx.user.username, ISSUER);
    let html = render(&EnrolPage {
        page: ctx.page(ctx.tr.t("account.totp"), "account"),
        secret_grouped: grouped(secret),
        qr_svg: qr_svg(&uri, ctx.tr.t("account.totp_qr_label")).unwrap_or_default(),
        uri,
        error: error.to_string(),
    })?;
    Ok((status, html).into_response())
}

fn unix_now() -> u64 {
    chrono::Utc::now().timestamp().max(0) as u64
}

/// `POST /account/totp/start`: a fresh secret, pending until a code confirms it.
async fn totp_start(State(state): State<AppState>, ctx: Ctx) -> Result<Response, WebError> {
    if ctx.user.totp_enabled {
        // Replacing an active secret would switch the second factor off without a code.
        return Ok(Redirect::to("/account").into_response());
    }
    let secret = totp::base32_encode(&random_bytes::<20>()?);
    state
        .store
        .set_pending_totp(&ctx.actor(), ctx.user.id, &secret)
        .await?;
    enrol_page(&ctx, &secret, "", StatusCode::OK)
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct CodeForm {
    code: String,
}

/// `POST /account/totp/confirm`: turns TOTP on and shows the recovery codes once.
async fn totp_confirm(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(form): Form<CodeForm>,
) -> Result<Response, WebError> {
    if ctx.user.totp_enabled {
        return Ok(Redirect::to("/account").into_response());
    }
    let Some(secret) = state.store.totp_secret(ctx.user.id).await? else {
        return Ok(Redirect::to("/account").into_response());
    };
    // The code's time step is used up with the change, as a login code's is: the same code cannot
    // then complete a login or confirm again.
    let codes = recovery_codes(RECOVERY_CODES)?;
    let confirmed = match totp::verify_step(&secret, form.code.trim(), unix_now()) {
        Some(step) => {
            state
                .store
                .confirm_totp(&ctx.actor(), ctx.user.id, step as i64, &codes)
                .await?
        }
        None => false,
    };
    if !confirmed {
        return enrol_page(
            &ctx,
            &secret,
            ctx.tr.t("account.totp_wrong"),
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    }
    let mut page = ctx.page(ctx.tr.t("account.totp"), "account");
    page.flash = Some(ctx.tr.t("account.totp_enabled_done"));
    Ok(render(&RecoveryPage { page, codes })?.into_response())
}

/// Ends the session after the account was locked from within it.
async fn locked_out(state: &AppState, ctx: &Ctx) -> Result<Response, WebError> {
    state.store.delete_session(&ctx.session.id_hash).await?;
    Ok(Redirect::to("/login?locked=1").into_response())
}

/// `POST /account/totp/disable`: needs the current code; wrong codes count toward the lockout.
async fn totp_disable(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(form): Form<CodeForm>,
) -> Result<Response, WebError> {
    if !ctx.user.totp_enabled {
        return Ok(Redirect::to("/account").into_response());
    }
    let secret = state
        .store
        .totp_secret(ctx.user.id)
        .await?
        .unwrap_or_default();
    // A code whose time step was used already (by a login or a confirmation) is a wrong code here too.
    let disabled = match totp::verify_step(&secret, form.code.trim(), unix_now()) {
        Some(step) => {
            state
                .store
                .disable_totp_with_code(&ctx.actor(), ctx.user.id, step as i64)
                .await?
        }
        None => false,
    };
    if !disabled {
        if state
            .store
            .record_second_factor_failure(&ctx.user, &ctx.source)
            .await?
        {
            return locked_out(&state, &ctx).await;
        }
        let err = FieldError::new("totp_code", ctx.tr.t("account.totp_wrong"));
        return show(&state, &ctx, None, vec![err], TokenDraft::default()).await;
    }
    Ok(Redirect::to("/account?ok=totp_off").into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct PasswordForm {
    current_password: String,
    new_password: String,
    new_password2: String,
}

/// Field errors of a refused store call, or the error itself when it is not about fields.
fn field_errors(e: StoreError, rename: &[(&str, &str)]) -> Result<Vec<FieldError>, WebError> {
    match e {
        StoreError::Domain(DomainError::Validation(fields)) => Ok(fields
            .into_iter()
            .map(|mut f| {
                if let Some((_, to)) = rename.iter().find(|(from, _)| *from == f.field) {
                    f.field = (*to).to_string();
                }
                f
            })
            .collect()),
        other => Err(other.into()),
    }
}

/// `POST /account/password`.
async fn change_password(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(form): Form<PasswordForm>,
) -> Result<Response, WebError> {
    let tr = ctx.tr;
    if form.new_password != form.new_password2 {
        let err = FieldError::new("new_password2", tr.t("account.password_mismatch"));
        return show(&state, &ctx, None, vec![err], TokenDraft::default()).await;
    }
    if let Err(e) = unyo_store::users::check_password_policy(&form.new_password) {
        let errors = field_errors(e.into(), &[("password", "new_password")])?;
        return show(&state, &ctx, None, errors, TokenDraft::default()).await;
    }
    match state
        .store
        .check_password(&ctx.user.username, &form.current_password, &ctx.source)
        .await?
    {
        LoginOutcome::Success(_) | LoginOutcome::NeedsSecondFactor(_) => {}
        LoginOutcome::Locked(_) => return locked_out(&state, &ctx).await,
        LoginOutcome::Failed | LoginOutcome::Disabled => {
            let err = FieldError::new("current_password", tr.t("account.password_wrong"));
            return show(&state, &ctx, None, vec![err], TokenDraft::default()).await;
        }
    }
    if let Err(e) = state
        .store
        .set_password(&ctx.actor(), ctx.user.id, &form.new_password)
        .await
    {
        let errors = field_errors(e, &[("password", "new_password")])?;
        return show(&state, &ctx, None, errors, TokenDraft::default()).await;
    }
    // Every session of the account has ended with the change; this browser gets a fresh one.
    let fresh = state.store.create_session(ctx.user.id, false).await?;
    let mut res = Redirect::to("/account?ok=password_sessions").into_response();
    res.headers_mut().append(
        axum::http::header::SET_COOKIE,
        set_cookie(&state, SESSION_COOKIE, &fresh.token, None),
    );
    Ok(res)
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct TokenForm {
    name: String,
    /// `YYYY-MM-DD` (the date input's value), empty for none.
    expires_on: String,
}

/// The instant a token given an expiry date stops working: the end of that day in JST (storage form).
/// `Err` with the key of the message when the text is not a date or the day is over.
pub fn token_expiry(text: &str, today: chrono::NaiveDate) -> Result<Option<String>, &'static str> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let day = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|_| "account.token_expires_bad")?;
    if day < today {
        return Err("account.token_expires_past");
    }
    let next = day.succ_opt().ok_or("account.token_expires_bad")?;
    let jst = chrono::FixedOffset::east_opt(9 * 3600).ok_or("account.token_expires_bad")?;
    let end = next
        .and_hms_opt(0, 0, 0)
        .and_then(|t| t.and_local_timezone(jst).single())
        .ok_or("account.token_expires_bad")?;
    Ok(Some(unyo_domain::time::to_storage(
        end.with_timezone(&chrono::Utc),
    )))
}

/// `POST /account/tokens`: a new API token, shown once.
async fn create_token(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(form): Form<TokenForm>,
) -> Result<Response, WebError> {
    ctx.require(Action::UseApi)?;
    let name = form.name.trim().to_string();
    let draft = || TokenDraft {
        name: name.clone(),
        expires: form.expires_on.trim().to_string(),
    };
    let problem = if name.is_empty() {
        Some(ctx.tr.t("account.token_name_required").to_string())
    } else if name.chars().count() > MAX_TOKEN_NAME {
        Some(ctx.tr.t("account.token_name_long").to_string())
    } else {
        // The rest of the rule (one line, no personal identifier) is the domain's, as in the store.
        match unyo_domain::account::validate_token_name(&name) {
            Err(DomainError::Validation(e)) => e.into_iter().next().map(|e| e.message),
            _ => None,
        }
    };
    if let Some(message) = problem {
        let err = FieldError::new("token_name", message);
        return show(&state, &ctx, None, vec![err], draft()).await;
    }
    let expires_at = match token_expiry(&form.expires_on, unyo_store::support::jst_today()) {
        Ok(at) => at,
        Err(key) => {
            let err = FieldError::new("token_expires", ctx.tr.t(key));
            return show(&state, &ctx, None, vec![err], draft()).await;
        }
    };
    let (row, token) = state
        .store
        .issue_api_token(&ctx.actor(), ctx.user.id, &name, expires_at.as_deref())
        .await?;
    let page = ctx.page(ctx.tr.t("account.tokens"), "account");
    let expires = row
        .expires_at
        .as_deref()
        .map(|at| page.datetime(at))
        .unwrap_or_else(|| ctx.tr.t("account.token_no_expiry").to_string());
    Ok(render(&TokenPage {
        page,
        name,
        token,
        expires,
    })?
    .into_response())
}

/// `POST /account/tokens/{id}/revoke`: one's own token (another's answers 404).
async fn revoke_token(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> Result<Response, WebError> {
    // Only one's own here, administrators included; they revoke others' on 利用者管理.
    let own = state
        .store
        .api_tokens_of(&ctx.actor(), ctx.user.id)
        .await?
        .iter()
        .any(|t| t.id == id);
    if !own {
        return Err(WebError::NotFound);
    }
    state.store.revoke_api_token(&ctx.actor(), id).await?;
    Ok(Redirect::to("/account?ok=token_revoked").into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovery_codes_look_right() {
        let codes = recovery_codes(RECOVERY_CODES).expect("random");
        assert_eq!(codes.len(), RECOVERY_CODES);
        for c in &codes {
            assert_eq!(c.len(), 12, "{c}");
            let parts: Vec<&str> = c.split('-').collect();
            assert_eq!(parts.iter().map(|p| p.len()).collect::<Vec<_>>(), [4, 4, 2]);
            assert!(
                c.bytes()
                    .all(|b| b == b'-' || RECOVERY_ALPHABET.contains(&b))
            );
        }
        let unique: std::collections::HashSet<_> = codes.iter().collect();
        assert_eq!(unique.len(), codes.len());
    }

    #[test]
    fn qr_is_one_path_with_a_label() {
        let svg = qr_svg("otpauth://totp/unyo:a?secret=ABC", "QR \"x\"").expect("fits");
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert_eq!(svg.matches("<path").count(), 1);
        assert!(svg.contains(r#"role="img""#) && svg.contains("aria-label=\"QR &quot;x&quot;\""));
        assert!(!svg.contains("style="));
        // Every dark module is drawn exactly once; the top-left finder pattern is a run of seven.
        let qr = qrcodegen::QrCode::encode_text(
            "otpauth://totp/unyo:a?secret=ABC",
            qrcodegen::QrCodeEcc::Medium,
        )
        .expect("fits");
        let dark = (0..qr.size())
            .flat_map(|y| (0..qr.size()).map(move |x| (x, y)))
            .filter(|&(x, y)| qr.get_module(x, y))
            .count();
        let d = svg
            .split(" d=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .expect("path data");
        let drawn: usize = d
            .split('M')
            .skip(1)
            .map(|seg| {
                let run = seg.split('h').nth(1).and_then(|r| r.split('v').next());
                run.unwrap_or("").parse::<usize>().expect("run length")
            })
            .sum();
        assert_eq!(drawn, dark);
        assert!(svg.contains(r#"d="M4,4h7v1h-7z"#));
    }

    #[test]
    fn token_expiry_is_the_end_of_the_day_in_jst() {
        let today = chrono::NaiveDate::from_ymd_opt(2026, 5, 1).expect("date");
        assert_eq!(token_expiry("", today), Ok(None));
        assert_eq!(
            token_expiry("2026-05-01", today),
            Ok(Some("2026-05-01T15:00:00.000000Z".into()))
        );
        assert_eq!(
            token_expiry(" 2026-12-31 ", today),
            Ok(Some("2026-12-31T15:00:00.000000Z".into()))
        );
        assert_eq!(
            token_expiry("2026-04-30", today),
            Err("account.token_expires_past")
        );
        assert_eq!(
            token_expiry("令和8年", today),
            Err("account.token_expires_bad")
        );
    }

    #[test]
    fn secret_grouping() {
        assert_eq!(grouped("ABCDEFGHIJ"), "ABCD EFGH IJ");
    }
}

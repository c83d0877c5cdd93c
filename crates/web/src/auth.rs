//! Logging in and out: password, then the TOTP second factor when enrolled; lockout; session rotation.

use crate::i18n::{Lang, Tr};
use crate::page::{PageMeta, render};
use crate::security::{
    ClientAddr, CurrentSession, LANG_COOKIE, LOGIN_CSRF_COOKIE, SESSION_COOKIE, cookie, set_cookie,
};
use crate::totp;
use crate::{AppState, WebError};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Extension, Form, Router};
use serde::Deserialize;
use unyo_store::audit::NewAuditEntry;
use unyo_store::users::{LoginOutcome, random_hex};

/// Login, second factor, logout, language switch.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/login", get(login_page).post(login_submit))
        .route("/login/totp", get(totp_page).post(totp_submit))
        .route("/logout", axum::routing::post(logout))
        .route("/lang/{code}", get(switch_lang))
}

#[derive(askama::Template)]
#[template(path = "login.html")]
struct LoginPage {
    page: PageMeta,
    next: String,
    username: String,
    error: String,
    notice: String,
}

#[derive(askama::Template)]
#[template(path = "login_totp.html")]
struct TotpPage {
    page: PageMeta,
    error: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct LoginQuery {
    next: String,
    out: Option<String>,
    expired: Option<String>,
    locked: Option<String>,
}

/// Only local paths are followed after login (no open redirect).
fn safe_next(next: &str) -> String {
    if next.starts_with('/') && !next.starts_with("//") && !next.starts_with("/\\") {
        next.to_string()
    } else {
        "/".into()
    }
}

fn login_csrf(headers: &HeaderMap) -> (String, bool) {
    match cookie(headers, LOGIN_CSRF_COOKIE).filter(|c| c.len() == 64) {
        Some(c) => (c, false),
        None => (random_hex(32).unwrap_or_default(), true),
    }
}

async fn login_page(
    State(state): State<AppState>,
    Extension(tr): Extension<Tr>,
    headers: HeaderMap,
    Query(q): Query<LoginQuery>,
) -> Result<Response, WebError> {
    let (csrf, fresh) = login_csrf(&headers);
    let notice = if q.out.is_some() {
        tr.t("login.logged_out").to_string()
    } else if q.expired.is_some() {
        tr.t("login.expired").to_string()
    } else {
        String::new()
    };
    let error = if q.locked.is_some() {
        locked_message(tr)
    } else {
        String::new()
    };
    let html = render(&LoginPage {
        page: PageMeta::public(tr, tr.t("login.title"), csrf.clone()),
        next: safe_next(&q.next),
        username: String::new(),
        error,
        notice,
    })?;
    let mut res = html.into_response();
    if fresh {
        res.headers_mut().append(
            header::SET_COOKIE,
            set_cookie(&state, LOGIN_CSRF_COOKIE, &csrf, None),
        );
    }
    Ok(res)
}

fn locked_message(tr: Tr) -> String {
    tr.pick(
        &format!(
            "ログインの失敗が{}回続いたため、アカウントを一時的にロックしました。{}分後に再度お試しいただくか、管理者にロック解除を依頼してください。",
            unyo_store::users::MAX_FAILED_LOGINS,
            unyo_store::users::LOCK_MINUTES
        ),
        &format!(
            "The account is locked after {} failed logins. Try again in {} minutes or ask an administrator to unlock it.",
            unyo_store::users::MAX_FAILED_LOGINS,
            unyo_store::users::LOCK_MINUTES
        ),
    )
    .to_string()
}

#[derive(Deserialize)]
struct LoginForm {
    username: String,
    password: String,
    #[serde(default)]
    next: String,
}

fn session_cookie_response(state: &AppState, token: &str, to: &str) -> Response {
    let mut res = Redirect::to(to).into_response();
    res.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(state, SESSION_COOKIE, token, None),
    );
    res
}

async fn login_submit(
    State(state): State<AppState>,
    Extension(tr): Extension<Tr>,
    Extension(ClientAddr(source)): Extension<ClientAddr>,
    Extension(CurrentSession(old)): Extension<CurrentSession>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Result<Response, WebError> {
    let next = safe_next(&form.next);
    let username = form.username.trim().to_string();
    let outcome = state
        .store
        .check_password(&username, &form.password, &source)
        .await?;
    // Whatever happens, an existing session id is not reused (rotation).
    if let Some(old) = old {
        state.store.delete_session(&old.id_hash).await?;
    }
    let error = match outcome {
        LoginOutcome::Success(user) => {
            let s = state.store.create_session(user.id, false).await?;
            return Ok(session_cookie_response(&state, &s.token, &next));
        }
        LoginOutcome::NeedsSecondFactor(user) => {
            let s = state.store.create_session(user.id, true).await?;
            let to = format!(
                "/login/totp?next={}",
                url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
            );
            return Ok(session_cookie_response(&state, &s.token, &to));
        }
        LoginOutcome::Failed => tr.t("login.failed").to_string(),
        LoginOutcome::Locked(_) => locked_message(tr),
        LoginOutcome::Disabled => tr.t("login.disabled").to_string(),
    };
    let (csrf, _) = login_csrf(&headers);
    let html = render(&LoginPage {
        page: PageMeta::public(tr, tr.t("login.title"), csrf),
        next,
        username,
        error,
        notice: String::new(),
    })?;
    Ok((StatusCode::UNAUTHORIZED, html).into_response())
}

fn pending(session: &CurrentSession) -> Option<&unyo_store::sessions::Session> {
    session.0.as_ref().filter(|s| s.second_factor_pending)
}

async fn totp_page(
    Extension(tr): Extension<Tr>,
    Extension(current): Extension<CurrentSession>,
) -> Result<Response, WebError> {
    let Some(s) = pending(&current) else {
        return Ok(Redirect::to("/login?expired=1").into_response());
    };
    Ok(render(&TotpPage {
        page: PageMeta::public(tr, tr.t("totp.title"), s.csrf_token.clone()),
        error: String::new(),
    })?
    .into_response())
}

#[derive(Deserialize)]
struct TotpForm {
    code: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct NextQuery {
    next: String,
}

async fn totp_submit(
    State(state): State<AppState>,
    Extension(tr): Extension<Tr>,
    Extension(ClientAddr(source)): Extension<ClientAddr>,
    Extension(current): Extension<CurrentSession>,
    Query(q): Query<NextQuery>,
    Form(form): Form<TotpForm>,
) -> Result<Response, WebError> {
    let Some(s) = pending(&current) else {
        return Ok(Redirect::to("/login?expired=1").into_response());
    };
    let user = state
        .store
        .user(s.user.id)
        .await?
        .ok_or(WebError::NotFound)?;
    let secret = state.store.totp_secret(user.id).await?.unwrap_or_default();
    let now = chrono::Utc::now().timestamp().max(0) as u64;
    let code = form.code.trim();
    let (ok, method) =
        if code.chars().filter(|c| c.is_ascii_digit()).count() == 6 && code.len() <= 8 {
            (totp::verify(&secret, code, now), "totp")
        } else {
            (
                state.store.use_recovery_code(&user, code, &source).await?,
                "recovery_code",
            )
        };
    if ok {
        state.store.delete_session(&s.id_hash).await?;
        state.store.record_login(&user, &source, method).await?;
        let fresh = state.store.create_session(user.id, false).await?;
        return Ok(session_cookie_response(
            &state,
            &fresh.token,
            &safe_next(&q.next),
        ));
    }
    let locked = state
        .store
        .record_second_factor_failure(&user, &source)
        .await?;
    if locked {
        state.store.delete_session(&s.id_hash).await?;
        return Ok(Redirect::to("/login?locked=1").into_response());
    }
    let html = render(&TotpPage {
        page: PageMeta::public(tr, tr.t("totp.title"), s.csrf_token.clone()),
        error: tr.t("totp.failed").into(),
    })?;
    Ok((StatusCode::UNAUTHORIZED, html).into_response())
}

async fn logout(
    State(state): State<AppState>,
    Extension(ClientAddr(source)): Extension<ClientAddr>,
    Extension(CurrentSession(current)): Extension<CurrentSession>,
) -> Result<Response, WebError> {
    if let Some(s) = current {
        state.store.delete_session(&s.id_hash).await?;
        state
            .store
            .audit(NewAuditEntry::new(
                &s.user.actor(&source),
                "logout",
                "user",
                s.user.id,
            ))
            .await?;
    }
    let mut res = Redirect::to("/login?out=1").into_response();
    res.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(&state, SESSION_COOKIE, "", Some(0)),
    );
    Ok(res)
}

/// `GET /lang/en` or `/lang/ja`: remembers the choice in a cookie and goes back to the page.
async fn switch_lang(
    State(state): State<AppState>,
    Path(code): Path<String>,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::from_code(&code);
    let back = headers
        .get(header::REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(|r| url::Url::parse(r).ok())
        .map(|u| {
            format!(
                "{}{}",
                u.path(),
                u.query().map(|q| format!("?{q}")).unwrap_or_default()
            )
        })
        .map(|p| safe_next(&p))
        .unwrap_or_else(|| "/".into());
    let mut res = Redirect::to(&back).into_response();
    res.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(&state, LANG_COOKIE, lang.code(), Some(365 * 86400)),
    );
    res
}

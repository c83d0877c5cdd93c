//! Logging in and out: password, then the TOTP second factor when enrolled; lockout; session rotation.
//!
//! * One answer for every refused password: an unknown name, a disabled or locked account and a wrong
//!   password all get the same page, status and message, after the same work (one Argon2 verification,
//!   against a dummy hash for an unknown name; see `Store::check_login`).
//! * Failures are limited per source address and per account name ([`LoginGuard`], built on
//!   [`crate::throttle`]): past the limit a login is refused with `429` and `Retry-After` before any
//!   password is checked. The account lockout of the store stays beside it.
//! * A burst of failures from one address makes O(1) audit rows: its first failure is written as usual,
//!   the rest are counted and written as one `login.failure_burst` entry with the count when the window
//!   closes (noticed by the next login request).
//! * `next` is followed only when it is a same-origin path as a browser would resolve it ([`safe_next`]).
//! * A TOTP code completes at most one login: its time step is stored when accepted, and that step and
//!   every earlier one are refused afterwards.

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
use serde_json::json;
use std::time::Duration;
use unyo_domain::Role;
use unyo_store::audit::NewAuditEntry;
use unyo_store::users::{LoginOutcome, random_hex};
use unyo_store::{Actor, Store};

use crate::throttle::{BurstLog, Clock, FailureLimiter, Limit, RetryAfter};

/// Limits on failed logins: per source address, per account name, and the window in which a source's
/// failures are counted into one audit entry.
#[derive(Debug, Clone)]
pub struct LoginLimits {
    /// Failures allowed from one address (offices share addresses behind NAT, so more than per account).
    pub per_source: Limit,
    /// Failures allowed for one account name, whether or not it exists.
    pub per_account: Limit,
    /// How long after a source's first failure its further failures are counted, not written one by one.
    pub burst_window: Duration,
    /// The time source (tests move it forward).
    pub clock: Clock,
}

impl Default for LoginLimits {
    fn default() -> Self {
        let window = Duration::from_secs(15 * 60);
        LoginLimits {
            per_source: Limit {
                max_failures: 30,
                window,
            },
            per_account: Limit {
                max_failures: 10,
                window,
            },
            burst_window: window,
            clock: Clock::system(),
        }
    }
}

/// Audit action of a closed burst of failed logins from one address (details: `failures`, `refused`,
/// `accounts`, `first_at`, `last_at`).
pub const BURST_ACTION: &str = "login.failure_burst";
/// Audit action of a login refused by a limit when no burst of its source was open.
pub const THROTTLED_ACTION: &str = "login.throttled";

/// The login failure limits and burst log of this instance.
#[derive(Debug)]
pub struct LoginGuard {
    by_source: FailureLimiter<String>,
    by_account: FailureLimiter<String>,
    bursts: BurstLog<String>,
}

impl LoginGuard {
    /// A guard applying `limits`.
    pub fn new(limits: &LoginLimits) -> Self {
        LoginGuard {
            by_source: FailureLimiter::new(limits.per_source, limits.clock.clone()),
            by_account: FailureLimiter::new(limits.per_account, limits.clock.clone()),
            bursts: BurstLog::new(limits.burst_window, limits.clock.clone()),
        }
    }

    /// The key of an account name (names are compared as typed, case folded, at most 64 characters).
    fn account_key(username: &str) -> String {
        username.chars().take(64).collect::<String>().to_lowercase()
    }

    /// The key of a source address: an IPv6 address by its /64 (one host usually holds a whole /64, so
    /// counting single addresses would let it try again from the next one), anything else as it is.
    pub fn source_key(source: &str) -> String {
        match source.parse::<std::net::IpAddr>() {
            Ok(std::net::IpAddr::V6(v6)) if v6.to_ipv4_mapped().is_none() => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
            Ok(std::net::IpAddr::V6(v6)) => v6
                .to_ipv4_mapped()
                .map_or_else(|| source.to_string(), |v4| v4.to_string()),
            _ => source.to_string(),
        }
    }

    /// `Err` when the source or the account has reached its limit.
    fn check(&self, source: &str, username: &str) -> Result<(), RetryAfter> {
        let a = self.by_source.check(&Self::source_key(source));
        let b = self.by_account.check(&Self::account_key(username));
        match (a, b) {
            (Err(x), Err(y)) => Err(x.max(y)),
            (Err(x), _) | (_, Err(x)) => Err(x),
            _ => Ok(()),
        }
    }

    /// Whether a failure from `source` now should be counted rather than audited on its own.
    fn quiet(&self, source: &str) -> bool {
        self.bursts.is_open(&Self::source_key(source))
    }

    /// Counts a failed login; `audited` when it was written on its own (it then opens the burst).
    fn failed(&self, source: &str, username: &str, audited: bool) {
        let source = Self::source_key(source);
        let _ = self.by_source.record_failure(&source);
        let _ = self.by_account.record_failure(&Self::account_key(username));
        if audited {
            self.bursts.open(&source);
        } else {
            self.bursts.count(&source, username, false);
        }
    }

    /// Forgets the failures of an account that logged in.
    fn succeeded(&self, username: &str) {
        self.by_account.record_success(&Self::account_key(username));
    }

    /// Counts (or, first in its window, audits) a login refused by a limit.
    async fn refused(&self, store: &Store, source: &str, username: &str, retry: RetryAfter) {
        let key = Self::source_key(source);
        if self.bursts.is_open(&key) {
            self.bursts.count(&key, username, true);
            return;
        }
        let entry = NewAuditEntry::new(&anonymous(source, username), THROTTLED_ACTION, "", "")
            .details(json!({"retry_after_seconds": retry.secs()}));
        if let Err(e) = store.audit(entry).await {
            tracing::error!(error = %e, "could not audit a throttled login");
        }
        self.bursts.open(&key);
    }

    /// Writes the bursts whose windows have closed, one entry each.
    pub async fn flush(&self, store: &Store) {
        for b in self.bursts.take_closed() {
            let at = unyo_domain::time::to_storage;
            let entry = NewAuditEntry::new(&anonymous(&b.key, "anonymous"), BURST_ACTION, "", "")
                .details(json!({
                    "failures": b.failures,
                    "refused": b.refused,
                    "accounts": b.labels,
                    "first_at": at(b.first_at),
                    "last_at": at(b.last_at),
                }));
            if let Err(e) = store.audit(entry).await {
                tracing::error!(error = %e, "could not audit a burst of failed logins");
            }
        }
    }
}

/// The actor of an audit entry about a login attempt that proved nobody.
fn anonymous(source: &str, username: &str) -> Actor {
    Actor {
        user_id: None,
        username: username.chars().take(64).collect(),
        role: Role::Auditor,
        source: source.into(),
    }
}

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

/// Where to go after logging in: `next` when it is a path of this site as a browser would resolve it,
/// else `/`. The value is joined onto a fixed base with a WHATWG URL parser (which, like a browser, strips
/// tabs and newlines and reads `\\` as `/`) and accepted only when the result keeps the base's origin and
/// its path cannot be read as another host (`//host`). Control characters anywhere make it bad. What is
/// returned is the result's path and query as the parser serialises them: no CR or LF, nothing that
/// leaves the site.
pub fn safe_next(next: &str) -> String {
    const BASE: &str = "http://unyo.invalid/";
    let home = || "/".to_string();
    if next.is_empty() || next.chars().any(char::is_control) {
        return home();
    }
    let Ok(base) = url::Url::parse(BASE) else {
        return home();
    };
    let Ok(url) = base.join(next) else {
        return home();
    };
    if url.origin() != base.origin() || !url.path().starts_with('/') || url.path().starts_with("//")
    {
        return home();
    }
    match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_string(),
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
    state.login.flush(&state.store).await;
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

/// The login page again with `error` and status `status` (the same bytes for every refused password).
fn login_again(
    tr: Tr,
    headers: &HeaderMap,
    next: String,
    username: String,
    error: String,
    status: StatusCode,
) -> Result<Response, WebError> {
    let (csrf, _) = login_csrf(headers);
    let html = render(&LoginPage {
        page: PageMeta::public(tr, tr.t("login.title"), csrf),
        next,
        username,
        error,
        notice: String::new(),
    })?;
    Ok((status, html).into_response())
}

/// `429` with `Retry-After` and a message saying how long to wait.
fn too_many(retry: RetryAfter, page: Result<Response, WebError>) -> Result<Response, WebError> {
    let mut res = page?;
    *res.status_mut() = StatusCode::TOO_MANY_REQUESTS;
    if let Ok(v) = header::HeaderValue::from_str(&retry.secs().to_string()) {
        res.headers_mut().insert(header::RETRY_AFTER, v);
    }
    Ok(res)
}

fn throttled_message(tr: Tr, retry: RetryAfter) -> String {
    let minutes = retry.minutes();
    tr.pick(
        &format!(
            "ログインの失敗が続いたため、しばらくログインを受け付けません。{minutes}分後に再度お試しください。"
        ),
        &format!("Too many failed logins. Try again in {minutes} minutes."),
    )
    .to_string()
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
    let guard = &state.login;
    guard.flush(&state.store).await;
    // Whatever happens, an existing session id is not reused (rotation).
    if let Some(old) = old {
        state.store.delete_session(&old.id_hash).await?;
    }
    if let Err(retry) = guard.check(&source, &username) {
        guard.refused(&state.store, &source, &username, retry).await;
        let message = throttled_message(tr, retry);
        let page = login_again(tr, &headers, next, username, message, StatusCode::OK);
        return too_many(retry, page);
    }
    let quiet = guard.quiet(&source);
    let outcome = state
        .store
        .check_login(&username, &form.password, &source, !quiet)
        .await?;
    match outcome {
        LoginOutcome::Success(user) => {
            guard.succeeded(&username);
            let s = state.store.create_session(user.id, false).await?;
            Ok(session_cookie_response(&state, &s.token, &next))
        }
        LoginOutcome::NeedsSecondFactor(user) => {
            let s = state.store.create_session(user.id, true).await?;
            let to = format!(
                "/login/totp?next={}",
                url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
            );
            Ok(session_cookie_response(&state, &s.token, &to))
        }
        // One answer for all of these, so that it does not tell which names exist or their state.
        LoginOutcome::Failed | LoginOutcome::Locked(_) | LoginOutcome::Disabled => {
            guard.failed(&source, &username, !quiet);
            login_again(
                tr,
                &headers,
                next,
                username,
                tr.t("login.failed").to_string(),
                StatusCode::UNAUTHORIZED,
            )
        }
    }
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
    let guard = &state.login;
    if let Err(retry) = guard.check(&source, &user.username) {
        let html = render(&TotpPage {
            page: PageMeta::public(tr, tr.t("totp.title"), s.csrf_token.clone()),
            error: throttled_message(tr, retry),
        })?;
        return too_many(retry, Ok(html.into_response()));
    }
    let secret = state.store.totp_secret(user.id).await?.unwrap_or_default();
    let now = chrono::Utc::now().timestamp().max(0) as u64;
    let code = form.code.trim();
    let (ok, method) = if code.chars().filter(|c| c.is_ascii_digit()).count() == 6
        && code.len() <= 8
    {
        // A right code counts once: its step is accepted with the login, in one transaction.
        let ok = match totp::verify_step(&secret, code, now) {
            Some(step) => {
                state
                    .store
                    .complete_totp_login(&user, i64::try_from(step).unwrap_or(i64::MAX), &source)
                    .await?
            }
            None => false,
        };
        (ok, "totp")
    } else {
        (
            state.store.use_recovery_code(&user, code, &source).await?,
            "recovery_code",
        )
    };
    if ok {
        state.store.delete_session(&s.id_hash).await?;
        if method != "totp" {
            state.store.record_login(&user, &source, method).await?;
        }
        guard.succeeded(&user.username);
        let fresh = state.store.create_session(user.id, false).await?;
        return Ok(session_cookie_response(
            &state,
            &fresh.token,
            &safe_next(&q.next),
        ));
    }
    guard.failed(&source, &user.username, true);
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

#[cfg(test)]
mod tests {
    use super::LoginGuard;

    #[test]
    fn ipv6_sources_count_by_their_64() {
        for (source, key) in [
            ("192.0.2.7", "192.0.2.7"),
            ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
            ("2001:db8:1:2:bbbb:cccc:dddd:eeee", "2001:db8:1:2::/64"),
            ("::ffff:192.0.2.7", "192.0.2.7"),
            ("unknown", "unknown"),
        ] {
            assert_eq!(LoginGuard::source_key(source), key, "{source}");
        }
    }
}

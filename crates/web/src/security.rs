//! Request guards shared by all pages: session loading, CSRF checking, security headers, cookies.

use crate::i18n::{Lang, Tr};
use crate::totp::constant_time_eq;
use crate::{AppState, MAX_BODY_BYTES, WebError};
use axum::body::{Body, to_bytes};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{Extensions, HeaderMap, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::net::SocketAddr;
use unyo_store::sessions::Session;

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "unyo_session";
/// Name of the pre-login CSRF cookie (double submit on the login form).
pub const LOGIN_CSRF_COOKIE: &str = "unyo_login_csrf";
/// Name of the language cookie.
pub const LANG_COOKIE: &str = "unyo_lang";
/// Name of the hidden form field carrying the CSRF token.
pub const CSRF_FIELD: &str = "_csrf";

/// The current session (if any), put into request extensions by [`load_session`].
#[derive(Clone)]
pub struct CurrentSession(pub Option<Session>);

/// The client's address as written to the audit log.
#[derive(Clone)]
pub struct ClientAddr(pub String);

/// The value of cookie `name`.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// A `Set-Cookie` value: `HttpOnly`, `SameSite=Lax`, `Path=/`, `Secure` when configured.
pub fn set_cookie(state: &AppState, name: &str, value: &str, max_age: Option<i64>) -> HeaderValue {
    let mut c = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax");
    if let Some(age) = max_age {
        c.push_str(&format!("; Max-Age={age}"));
    }
    if state.config.secure_cookies {
        c.push_str("; Secure");
    }
    HeaderValue::from_str(&c).unwrap_or_else(|_| HeaderValue::from_static("invalid=1"))
}

/// The client's address: with a trusted proxy (`--behind-tls-proxy`), the last `X-Forwarded-For`
/// entry, the one that proxy added for the peer it saw (the entries before it are whatever the client
/// sent, and would let it choose the address that the audit log and the failure limits see); else the
/// socket peer; else `unknown` (served without connect info).
pub fn client_addr(
    config: &crate::WebConfig,
    headers: &HeaderMap,
    extensions: &Extensions,
) -> String {
    if config.trust_proxy
        && let Some(xff) = headers.get("x-forwarded-for").and_then(|v| v.to_str().ok())
        && let Some(last) = xff.rsplit(',').next().map(str::trim)
        && !last.is_empty()
    {
        return last.chars().take(64).collect();
    }
    extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ci| ci.0.ip().to_string())
        .unwrap_or_else(|| "unknown".into())
}

/// Loads the session named by the cookie, the language and the client address into extensions.
pub async fn load_session(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let lang = cookie(req.headers(), LANG_COOKIE)
        .map(|c| Lang::from_code(&c))
        .unwrap_or_default();
    let session = match cookie(req.headers(), SESSION_COOKIE) {
        Some(token) => match state.store.session(&token, chrono::Utc::now()).await {
            Ok(s) => s,
            Err(e) => return WebError::from(e).into_response(),
        },
        None => None,
    };
    let addr = client_addr(&state.config, req.headers(), req.extensions());
    if let Some(s) = &session {
        crate::pii_watch::note_actor(&s.user.username);
    }
    req.extensions_mut().insert(Tr { lang });
    req.extensions_mut().insert(CurrentSession(session));
    req.extensions_mut().insert(ClientAddr(addr));
    next.run(req).await
}

/// Refuses a state-changing request whose CSRF token does not match the session's (or, before login,
/// the login cookie's), and one whose `Origin` names another site.
pub async fn csrf_guard(State(_state): State<AppState>, req: Request, next: Next) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(req).await;
    }
    if !same_origin(req.headers()) {
        return WebError::Csrf.into_response();
    }
    let expected = match req.extensions().get::<CurrentSession>() {
        Some(CurrentSession(Some(s))) => Some(s.csrf_token.clone()),
        _ => cookie(req.headers(), LOGIN_CSRF_COOKIE),
    };
    let Some(expected) = expected.filter(|e| !e.is_empty()) else {
        return WebError::Csrf.into_response();
    };
    let (parts, body) = req.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_BODY_BYTES).await else {
        return WebError::BadRequest("リクエストが大きすぎます。".into()).into_response();
    };
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let given = if content_type.starts_with("application/x-www-form-urlencoded") {
        url::form_urlencoded::parse(&bytes)
            .find(|(k, _)| k == CSRF_FIELD)
            .map(|(_, v)| v.into_owned())
    } else if content_type.starts_with("multipart/form-data") {
        multipart_field(&content_type, bytes.clone(), CSRF_FIELD).await
    } else {
        None
    };
    match given {
        Some(g) if constant_time_eq(g.as_bytes(), expected.as_bytes()) => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
        _ => WebError::Csrf.into_response(),
    }
}

/// A browser sends `Origin` on every cross-site POST; when present it must name this host.
fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    origin != "null" && origin.split("://").nth(1) == Some(host)
}

async fn multipart_field(content_type: &str, bytes: bytes::Bytes, name: &str) -> Option<String> {
    let boundary = multer::parse_boundary(content_type).ok()?;
    let stream = futures_util::stream::once(async move { Ok::<_, std::io::Error>(bytes) });
    let mut mp = multer::Multipart::new(stream, boundary);
    while let Ok(Some(field)) = mp.next_field().await {
        if field.name() == Some(name) {
            return field.text().await.ok();
        }
    }
    None
}

/// Security headers on every response: a CSP without inline scripts, no framing, no sniffing, no
/// referrer to other sites, no caching of pages that may hold personal data.
pub async fn headers(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let is_static = req.uri().path().starts_with("/static/");
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
        ),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        "permissions-policy",
        HeaderValue::from_static("camera=(), microphone=(), geolocation=()"),
    );
    h.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    if !is_static {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if state.config.secure_cookies {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(xff: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", HeaderValue::from_str(xff).unwrap());
        h
    }

    #[test]
    fn behind_a_proxy_the_address_is_the_one_it_added() {
        let mut config = crate::WebConfig {
            trust_proxy: true,
            ..Default::default()
        };
        let mut peer = Extensions::new();
        peer.insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 40000))));
        // A client that sends its own header cannot choose the address: the proxy appends the peer.
        assert_eq!(
            client_addr(&config, &headers("203.0.113.9, 192.0.2.77"), &peer),
            "192.0.2.77"
        );
        assert_eq!(
            client_addr(&config, &headers("192.0.2.77"), &peer),
            "192.0.2.77"
        );
        assert_eq!(client_addr(&config, &headers(" , "), &peer), "127.0.0.1");
        // Without a trusted proxy the header means nothing.
        config.trust_proxy = false;
        assert_eq!(
            client_addr(&config, &headers("192.0.2.77"), &peer),
            "127.0.0.1"
        );
        assert_eq!(
            client_addr(&config, &HeaderMap::new(), &Extensions::new()),
            "unknown"
        );
    }
}

//! Notifications on state changes: e-mail through an SMTP relay (lettre, rustls on ring), a webhook (HTTP
//! POST of the event as JSON, over http or https, through reqwest on rustls with ring) and syslog (RFC 5424
//! over UDP). Every delivery attempt is recorded; each channel has its own timeout and runs in its own task,
//! so a failing or hanging channel never stops the engine or the other channels.
//!
//! A stored channel is validated again before anything is sent ([`ChannelConfig::validate`]): a row that
//! does not pass today's rules (say a webhook URL with a line break, stored before the URL was checked)
//! fails with the reason recorded and sends nothing. The webhook request is built by the HTTP client from
//! the parsed URL, never by formatting text; it goes to the URL's host directly (no proxy), follows no
//! redirect, and over https verifies the receiver against the channel's CA (`ca_pem`) when it has one,
//! otherwise against the system's trust store. A syslog message is one line whatever the names hold:
//! control characters in MSG and in STRUCTURED-DATA values are escaped ([`syslog_message`]).

use crate::CheckEvent;
use lettre::message::header::ContentType;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use rustls::RootCertStore;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use serde_json::json;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio::net::UdpSocket;
use unyo_domain::DomainError;
use unyo_domain::connectivity::{ChannelConfig, State, webhook_url};
use unyo_store::connectivity::Channel;
use unyo_store::{Actor, Store};

/// How long one delivery may take.
pub const DELIVERY_TIMEOUT: Duration = Duration::from_secs(10);

/// What a notification says.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Notice {
    pub event_id: Option<i64>,
    pub check_id: i64,
    pub check_name: String,
    pub site: String,
    pub from: State,
    pub to: State,
    /// Unix seconds.
    pub ts: i64,
    pub cause: String,
    /// The probable point of failure, when a node on the path is down.
    pub impacted_by: Option<i64>,
}

impl Notice {
    /// From an engine event.
    pub fn from_event(
        e: &CheckEvent,
        event_id: Option<i64>,
        check_name: &str,
        site: &str,
    ) -> Notice {
        Notice {
            event_id,
            check_id: e.check_id,
            check_name: check_name.into(),
            site: site.into(),
            from: e.change.from,
            to: e.change.to,
            ts: e.change.ts,
            cause: e.change.cause.clone(),
            impacted_by: e.impacted_by,
        }
    }

    /// What makes this notice one event across instances: the check, the time of the change and the
    /// states it went from and to.
    pub fn delivery_key(&self) -> String {
        format!(
            "check:{}:{}:{}>{}",
            self.check_id,
            self.ts,
            self.from.as_str(),
            self.to.as_str()
        )
    }

    /// One-line subject (Japanese); control characters in the names are escaped.
    pub fn subject(&self) -> String {
        format!(
            "[unyo 疎通確認] {} {}: {} → {}",
            escape_text(&self.site, false),
            escape_text(&self.check_name, false),
            self.from.label_ja(),
            self.to.label_ja()
        )
    }

    fn body(&self) -> String {
        let at = chrono::DateTime::from_timestamp(self.ts, 0)
            .map(|d| {
                unyo_domain::time::to_jst(d)
                    .format("%Y-%m-%d %H:%M:%S")
                    .to_string()
            })
            .unwrap_or_default();
        format!(
            "拠点: {}\n確認項目: {}\n状態: {} → {}\n日時: {at} (JST)\n原因: {}\n",
            escape_text(&self.site, false),
            escape_text(&self.check_name, false),
            self.from.label_ja(),
            self.to.label_ja(),
            escape_text(&self.cause, false)
        )
    }
}

/// Delivers `notice` to one channel; `Ok(detail)` or `Err(reason)`.
pub async fn deliver(config: &ChannelConfig, notice: &Notice) -> Result<String, String> {
    match tokio::time::timeout(DELIVERY_TIMEOUT, deliver_inner(config, notice)).await {
        Ok(r) => r,
        Err(_) => Err(format!("タイムアウト（{} 秒）", DELIVERY_TIMEOUT.as_secs())),
    }
}

async fn deliver_inner(config: &ChannelConfig, notice: &Notice) -> Result<String, String> {
    if let Err(e) = config.validate() {
        let why = match e {
            DomainError::Validation(errors) => errors
                .into_iter()
                .map(|e| e.message)
                .collect::<Vec<_>>()
                .join(" "),
            other => other.to_string(),
        };
        return Err(format!("設定が正しくないため送信しませんでした: {why}"));
    }
    match config {
        ChannelConfig::Email {
            host,
            port,
            starttls,
            from,
            to,
        } => {
            let mut b = Message::builder()
                .from(from.parse().map_err(|e| format!("差出人: {e}"))?)
                .subject(notice.subject())
                .header(ContentType::TEXT_PLAIN);
            for t in to {
                b = b.to(t.parse().map_err(|e| format!("宛先: {e}"))?);
            }
            let msg = b.body(notice.body()).map_err(|e| e.to_string())?;
            let mut t = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host.as_str())
                .port(*port)
                .timeout(Some(DELIVERY_TIMEOUT));
            if *starttls {
                let params = TlsParameters::new(host.clone()).map_err(|e| e.to_string())?;
                t = t.tls(Tls::Required(params));
            }
            let resp = t
                .build()
                .send(msg)
                .await
                .map_err(|e| format!("SMTP: {e}"))?;
            Ok(format!("SMTP {}", resp.code()))
        }
        ChannelConfig::Webhook { url, ca_pem } => webhook(url, ca_pem.as_deref(), notice).await,
        ChannelConfig::Syslog { addr } => {
            let addr: SocketAddr = addr
                .parse()
                .map_err(|_| format!("syslog: 宛先 {addr} が正しくありません"))?;
            let line = syslog_message(notice);
            let local: SocketAddr = if addr.is_ipv4() {
                (Ipv4Addr::UNSPECIFIED, 0).into()
            } else {
                (Ipv6Addr::UNSPECIFIED, 0).into()
            };
            let sock = UdpSocket::bind(local).await.map_err(|e| e.to_string())?;
            sock.send_to(line.as_bytes(), addr)
                .await
                .map_err(|e| format!("syslog: {e}"))?;
            Ok(format!("syslog {} bytes", line.len()))
        }
    }
}

/// POSTs the notice as JSON to a webhook. The URL is parsed and checked again here (see the module comment).
async fn webhook(url: &str, ca_pem: Option<&str>, notice: &Notice) -> Result<String, String> {
    let url = webhook_url(url).map_err(|e| format!("webhook: {}", e.message))?;
    let client = reqwest::Client::builder()
        .tls_backend_preconfigured(tls_config(ca_pem)?)
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .retry(reqwest::retry::never())
        .referer(false)
        .timeout(DELIVERY_TIMEOUT)
        .user_agent("unyo")
        .build()
        .map_err(|e| format!("webhook: {}", error_chain(&e)))?;
    let response = client
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(json!(notice).to_string())
        .send()
        .await
        .map_err(|e| format!("webhook: {}", error_chain(&e)))?;
    let status = response.status().as_u16();
    if response.status().is_success() {
        Ok(format!("HTTP {status}"))
    } else {
        Err(format!("webhook: HTTP {status}"))
    }
}

/// An error with its causes, for the recorded attempt (reqwest's own text says only "error sending request").
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}

/// The TLS client configuration of one webhook: rustls on ring, trusting only the channel's CA when it has
/// one, otherwise the system's trust store.
fn tls_config(ca_pem: Option<&str>) -> Result<rustls::ClientConfig, String> {
    let roots = match ca_pem.map(str::trim).filter(|p| !p.is_empty()) {
        Some(pem) => {
            let mut roots = RootCertStore::empty();
            for cert in CertificateDer::pem_slice_iter(pem.as_bytes()) {
                let cert = cert.map_err(|e| format!("webhook: CA証明書を読めません: {e}"))?;
                roots
                    .add(cert)
                    .map_err(|e| format!("webhook: CA証明書を使えません: {e}"))?;
            }
            if roots.is_empty() {
                return Err("webhook: CA証明書がありません".into());
            }
            Arc::new(roots)
        }
        None => system_roots(),
    };
    rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("webhook: {e}"))
        .map(|b| b.with_root_certificates(roots).with_no_client_auth())
}

/// The system's trust store (read once; `SSL_CERT_FILE` and `SSL_CERT_DIR` are honoured). Certificates it
/// cannot use are skipped with a warning.
fn system_roots() -> Arc<RootCertStore> {
    static ROOTS: OnceLock<Arc<RootCertStore>> = OnceLock::new();
    ROOTS
        .get_or_init(|| {
            let found = rustls_native_certs::load_native_certs();
            for e in &found.errors {
                tracing::warn!("notify: system trust store: {e}");
            }
            let mut roots = RootCertStore::empty();
            let (_, skipped) = roots.add_parsable_certificates(found.certs);
            if skipped > 0 {
                tracing::warn!("notify: {skipped} certificates of the system trust store skipped");
            }
            Arc::new(roots)
        })
        .clone()
}

/// The structured-data ID of the event's parameters: a name with the example enterprise number of RFC 5612
/// (32473), as a site without a registered number may use.
const SD_ID: &str = "unyo@32473";

/// One RFC 5424 message for the notice, as one line:
/// `<PRI>1 TIMESTAMP - unyo - connectivity [unyo@32473 check_id=".." check=".." site=".." from=".." to=".."
/// event_id=".."] BOM MSG`. HOSTNAME and PROCID are the NILVALUE, APP-NAME and MSGID fixed printable ASCII;
/// parameter values escape `"`, `\` and `]` with a backslash; control characters are escaped in both the
/// values and MSG (`\r`, `\n`, `\t`, `\u{..}`), so a name with a line break cannot forge a second message;
/// MSG is UTF-8 after a BOM, as section 6.4 asks.
pub fn syslog_message(notice: &Notice) -> String {
    let pri = if notice.to == State::Down { 27 } else { 29 }; // daemon.err / daemon.notice
    let ts = chrono::DateTime::from_timestamp(notice.ts, 0)
        .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_else(|| "-".into());
    let mut sd = format!("[{SD_ID}");
    let mut param = |name: &str, value: &str| {
        sd.push_str(&format!(" {name}=\"{}\"", escape_text(value, true)));
    };
    param("check_id", &notice.check_id.to_string());
    param("check", &notice.check_name);
    param("site", &notice.site);
    param("from", notice.from.as_str());
    param("to", notice.to.as_str());
    if let Some(id) = notice.event_id {
        param("event_id", &id.to_string());
    }
    sd.push(']');
    let msg = escape_text(&format!("{} {}", notice.subject(), notice.cause), false);
    format!("<{pri}>1 {ts} - unyo - connectivity {sd} \u{feff}{msg}")
}

/// Escapes control characters and the Unicode line separators (`\r`, `\n`, `\t`, `\u{..}`), so that a name
/// stays on its line of a mail, a syslog message or anything else; in a syslog STRUCTURED-DATA value
/// (`param_value`) also `"`, `\` and `]`, with a backslash.
fn escape_text(text: &str, param_value: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '"' | '\\' | ']' if param_value => {
                out.push('\\');
                out.push(c);
            }
            '\r' => out.push_str("\\r"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() || c == '\u{2028}' || c == '\u{2029}' => {
                out.push_str(&format!("\\u{{{:04x}}}", u32::from(c)));
            }
            c => out.push(c),
        }
    }
    out
}

/// Delivers to every channel, each in its own task, and records every attempt. Returns at once.
pub fn notify_all(store: Store, actor: Actor, channels: Vec<Channel>, notice: Notice) {
    notify_all_once(store, actor, channels, notice, None);
}

/// As [`notify_all`]; with `claimer` (this instance's id, several instances on one database) each delivery
/// is first claimed in the database under [`Notice::delivery_key`], and only the instance whose claim
/// went in sends it. A claim that cannot be made sends nothing: a notice is told at most once, never twice.
pub fn notify_all_once(
    store: Store,
    actor: Actor,
    channels: Vec<Channel>,
    notice: Notice,
    claimer: Option<String>,
) {
    for ch in channels {
        let store = store.clone();
        let actor = actor.clone();
        let notice = notice.clone();
        let claimer = claimer.clone();
        tokio::spawn(async move {
            if let Some(me) = &claimer {
                let key = notice.delivery_key();
                match store
                    .claim_notification(
                        &actor,
                        &key,
                        ch.id,
                        me,
                        chrono::Utc::now().timestamp_millis(),
                    )
                    .await
                {
                    Ok(true) => {}
                    Ok(false) => return,
                    Err(e) => {
                        tracing::warn!("connectivity: cannot claim notification {key}: {e}");
                        return;
                    }
                }
            }
            let (ok, detail) = match deliver(&ch.config, &notice).await {
                Ok(d) => (true, d),
                Err(e) => (false, e),
            };
            if let Err(e) = store
                .record_notification_attempt(&actor, ch.id, notice.event_id, ok, &detail)
                .await
            {
                tracing::warn!("connectivity: cannot record a notification attempt: {e}");
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn notice(check_name: &str, site: &str) -> Notice {
        Notice {
            event_id: Some(7),
            check_id: 3,
            check_name: check_name.into(),
            site: site.into(),
            from: State::Up,
            to: State::Down,
            ts: 1_700_000_000,
            cause: "2回連続で応答なし\r\n<13>1 - evil".into(),
            impacted_by: None,
        }
    }

    /// Finding 2 of issue 13: a name with a line break cannot forge a second message or break the
    /// structured data.
    #[test]
    fn syslog_message_is_one_line_with_escaped_values() {
        let n = notice(
            "ルータ\r\n<13>1 2023-11-14T22:13:20Z - forged - - - \"x\"] \\ \u{0}\u{85}\u{2028}",
            "佐賀]\"",
        );
        let m = syslog_message(&n);
        assert!(
            !m.chars().any(|c| c.is_control() || c == '\u{2028}'),
            "{m:?}"
        );
        let head: Vec<&str> = m.splitn(7, ' ').collect();
        assert_eq!(
            head[..6],
            [
                "<27>1",
                "2023-11-14T22:13:20Z",
                "-",
                "unyo",
                "-",
                "connectivity"
            ]
        );
        assert!(
            head[6].starts_with(
                "[unyo@32473 check_id=\"3\" check=\"ルータ\\r\\n<13>1 2023-11-14T22:13:20Z - forged - - - \\\"x\\\"\\] \\\\ \\u{0000}\\u{0085}\\u{2028}\" site=\"佐賀\\]\\\"\" from=\"up\" to=\"down\" event_id=\"7\"] \u{feff}[unyo 疎通確認] "
            ),
            "{m}"
        );
        assert!(m.ends_with(" 2回連続で応答なし\\r\\n<13>1 - evil"), "{m}");
        // In MSG only control characters are escaped.
        assert!(
            m.contains("\u{feff}[unyo 疎通確認] 佐賀]\" ルータ\\r\\n"),
            "{m}"
        );
    }

    #[test]
    fn a_stored_channel_that_fails_validation_sends_nothing() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let bad = ChannelConfig::Webhook {
            url: "http://127.0.0.1:9/hook\r\nX-Injected: yes".into(),
            ca_pem: None,
        };
        let e = rt
            .block_on(deliver(&bad, &notice("ルータ", "佐賀")))
            .unwrap_err();
        assert!(
            e.starts_with("設定が正しくないため送信しませんでした") && e.contains("制御文字"),
            "{e}"
        );
    }
}

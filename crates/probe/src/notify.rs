//! Notifications on state changes: e-mail through an SMTP relay (lettre, rustls on ring), a webhook (HTTP
//! POST of the event as JSON) and syslog (RFC 5424 over UDP). Every delivery attempt is recorded; each
//! channel has its own timeout and runs in its own task, so a failing or hanging channel never stops the
//! engine or the other channels.

use crate::CheckEvent;
use lettre::message::header::ContentType;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde_json::json;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use unyo_domain::connectivity::{ChannelConfig, State};
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

    /// One-line subject (Japanese).
    pub fn subject(&self) -> String {
        format!(
            "[unyo 疎通確認] {} {}: {} → {}",
            self.site,
            self.check_name,
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
            self.site,
            self.check_name,
            self.from.label_ja(),
            self.to.label_ja(),
            self.cause
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
        ChannelConfig::Webhook { url } => webhook(url, notice).await,
        ChannelConfig::Syslog { addr } => {
            let pri = if notice.to == State::Down { 27 } else { 29 }; // daemon.err / daemon.notice
            let ts = chrono::DateTime::from_timestamp(notice.ts, 0)
                .map(|d| d.to_rfc3339())
                .unwrap_or_else(|| "-".into());
            let line = format!(
                "<{pri}>1 {ts} - unyo - connectivity - {} {}",
                notice.subject(),
                notice.cause
            );
            let sock = UdpSocket::bind("0.0.0.0:0")
                .await
                .map_err(|e| e.to_string())?;
            sock.send_to(line.as_bytes(), addr.as_str())
                .await
                .map_err(|e| format!("syslog: {e}"))?;
            Ok(format!("syslog {} bytes", line.len()))
        }
    }
}

async fn webhook(url: &str, notice: &Notice) -> Result<String, String> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| "http:// のみ対応".to_string())?;
    let (hostport, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let body = json!(notice).to_string();
    let req = format!(
        "POST {path} HTTP/1.1\r\nHost: {hostport}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\nUser-Agent: unyo\r\n\r\n{body}",
        body.len()
    );
    let mut s = TcpStream::connect(hostport)
        .await
        .map_err(|e| format!("webhook: {e}"))?;
    s.write_all(req.as_bytes())
        .await
        .map_err(|e| format!("webhook: {e}"))?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    while !buf.windows(2).any(|w| w == b"\r\n") {
        let n = s
            .read(&mut chunk)
            .await
            .map_err(|e| format!("webhook: {e}"))?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let line = String::from_utf8_lossy(&buf);
    let status: u16 = line
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| "webhook: 応答が不正です".to_string())?;
    if (200..300).contains(&status) {
        Ok(format!("HTTP {status}"))
    } else {
        Err(format!("webhook: HTTP {status}"))
    }
}

/// Delivers to every channel, each in its own task, and records every attempt. Returns at once.
pub fn notify_all(store: Store, actor: Actor, channels: Vec<Channel>, notice: Notice) {
    for ch in channels {
        let store = store.clone();
        let actor = actor.clone();
        let notice = notice.clone();
        tokio::spawn(async move {
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

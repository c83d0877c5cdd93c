//! Notifications against local receivers: an e-mail arrives at a local SMTP sink, a webhook at a local HTTP
//! listener, a syslog line at a local UDP socket; a channel that fails (nothing listening) is recorded as a
//! failed attempt and the engine goes on.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, UdpSocket};
use unyo_domain::connectivity::ChannelConfig;
use unyo_probe::service::start;
use unyo_store::Actor;
use unyo_store::testing::test_store;

/// A minimal SMTP sink: accepts one conversation at a time and keeps every message's DATA.
async fn smtp_sink() -> (u16, Arc<Mutex<Vec<String>>>) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    let got = Arc::new(Mutex::new(Vec::new()));
    let keep = got.clone();
    tokio::spawn(async move {
        while let Ok((s, _)) = l.accept().await {
            let keep = keep.clone();
            tokio::spawn(async move {
                let (r, mut w) = s.into_split();
                let mut r = BufReader::new(r);
                w.write_all(b"220 sink ESMTP\r\n").await.unwrap();
                let mut line = String::new();
                loop {
                    line.clear();
                    if r.read_line(&mut line).await.unwrap_or(0) == 0 {
                        return;
                    }
                    let cmd = line.to_ascii_uppercase();
                    if cmd.starts_with("EHLO") || cmd.starts_with("HELO") {
                        w.write_all(b"250-sink\r\n250 8BITMIME\r\n").await.unwrap();
                    } else if cmd.starts_with("DATA") {
                        w.write_all(b"354 go ahead\r\n").await.unwrap();
                        let mut data = String::new();
                        loop {
                            let mut l = String::new();
                            r.read_line(&mut l).await.unwrap();
                            if l == ".\r\n" {
                                break;
                            }
                            data.push_str(&l);
                        }
                        keep.lock().unwrap().push(data);
                        w.write_all(b"250 queued\r\n").await.unwrap();
                    } else if cmd.starts_with("QUIT") {
                        w.write_all(b"221 bye\r\n").await.unwrap();
                        return;
                    } else {
                        w.write_all(b"250 ok\r\n").await.unwrap();
                    }
                }
            });
        }
    });
    (port, got)
}

/// A webhook receiver answering 204 and keeping the bodies.
async fn webhook_sink() -> (u16, Arc<Mutex<Vec<String>>>) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    let got = Arc::new(Mutex::new(Vec::new()));
    let keep = got.clone();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = l.accept().await {
            let mut buf = vec![0u8; 65536];
            let mut n = 0;
            loop {
                let m = s.read(&mut buf[n..]).await.unwrap_or(0);
                n += m;
                let text = String::from_utf8_lossy(&buf[..n]).to_string();
                if let Some(i) = text.find("\r\n\r\n") {
                    let len: usize = text
                        .lines()
                        .find_map(|l| l.strip_prefix("Content-Length: "))
                        .and_then(|v| v.trim().parse().ok())
                        .unwrap_or(0);
                    if n >= i + 4 + len || m == 0 {
                        keep.lock().unwrap().push(text[i + 4..].to_string());
                        break;
                    }
                }
                if m == 0 {
                    break;
                }
            }
            let _ = s.write_all(b"HTTP/1.1 204 No Content\r\n\r\n").await;
        }
    });
    (port, got)
}

#[tokio::test]
async fn a_down_event_reaches_mail_webhook_and_syslog() {
    let db = test_store().await.unwrap();
    let s = db.store.clone();
    let a = Actor::system("test");
    let (smtp_port, mails) = smtp_sink().await;
    let (hook_port, hooks) = webhook_sink().await;
    let syslog = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let syslog_addr = syslog.local_addr().unwrap();
    let dead = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let dead_port = dead.local_addr().unwrap().port();
    drop(dead);
    for (name, config) in [
        (
            "当番メール",
            ChannelConfig::Email {
                host: "127.0.0.1".into(),
                port: smtp_port,
                starttls: false,
                from: "unyo@example.lg.jp".into(),
                to: vec!["se-team@example.lg.jp".into()],
            },
        ),
        (
            "Webhook",
            ChannelConfig::Webhook {
                url: format!("http://127.0.0.1:{hook_port}/hook"),
            },
        ),
        (
            "syslog",
            ChannelConfig::Syslog {
                addr: syslog_addr.to_string(),
            },
        ),
        (
            "壊れた受信先",
            ChannelConfig::Webhook {
                url: format!("http://127.0.0.1:{dead_port}/hook"),
            },
        ),
    ] {
        s.create_notification_channel(&a, name, &config)
            .await
            .unwrap();
    }
    let check = common::router_check(&s, dead_port).await;
    let _svc = start(s.clone(), common::quick());
    let mut buf = [0u8; 2048];
    let (n, _) = tokio::time::timeout(Duration::from_secs(10), syslog.recv_from(&mut buf))
        .await
        .expect("a syslog line arrives")
        .unwrap();
    let line = String::from_utf8_lossy(&buf[..n]).to_string();
    assert!(
        line.starts_with("<27>1 ") && line.contains("集約ルータ TCP"),
        "{line}"
    );
    let mut attempts = Vec::new();
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        attempts = s.notification_attempts(10).await.unwrap();
        if attempts.len() >= 4 {
            break;
        }
    }
    assert_eq!(attempts.len(), 4, "{attempts:?}");
    assert_eq!(attempts.iter().filter(|a| a.ok).count(), 3, "{attempts:?}");
    let failed = attempts.iter().find(|a| !a.ok).unwrap();
    assert!(failed.detail.contains("webhook"), "{failed:?}");
    let mail = mails.lock().unwrap().clone();
    assert_eq!(mail.len(), 1);
    assert!(mail[0].contains("se-team@example.lg.jp"), "{}", mail[0]);
    let hook = hooks.lock().unwrap().clone();
    assert_eq!(hook.len(), 1);
    let v: serde_json::Value = serde_json::from_str(&hook[0]).unwrap();
    assert_eq!(v["to"], "down");
    assert_eq!(v["check_id"], check.id);
    // The engine went on: results keep being stored after the failed delivery.
    let before = s.check_results(check.id, 0).await.unwrap().len();
    assert!(before >= 1);
}

//! Notifications against local receivers: an e-mail arrives at a local SMTP sink, a webhook at a local HTTP
//! listener (and at a local TLS one over https), a syslog line at a local UDP socket; a channel that fails
//! (nothing listening) is recorded as a failed attempt and the engine goes on. Issue 13: a stored webhook
//! URL with a line break sends nothing, and a check name with one gives one syslog line.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, UdpSocket};
use unyo_domain::connectivity::{ChannelConfig, State};
use unyo_probe::notify::{Notice, deliver, notify_all};
use unyo_probe::service::start;
use unyo_store::Actor;
use unyo_store::testing::{TestDb, test_store};

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
                ca_pem: None,
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
                ca_pem: None,
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

/// Runs one statement with two parameters on the test database behind the store's back (to store what the
/// store's validation would refuse, as an older version may have stored it).
async fn tamper(db: &TestDb, sql: &str, text: &str, id: i64) {
    use sqlx::Connection;
    if db.url.starts_with("postgres") {
        let mut c = sqlx::PgConnection::connect(&db.url).await.unwrap();
        sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
            .bind(text)
            .bind(id)
            .execute(&mut c)
            .await
            .unwrap();
    } else {
        let mut c = sqlx::SqliteConnection::connect(&db.url).await.unwrap();
        sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
            .bind(text)
            .bind(id)
            .execute(&mut c)
            .await
            .unwrap();
    }
}

/// A receiver that keeps every byte of every connection (until the peer stops sending for 300 ms) and
/// answers each with 204.
async fn raw_sink() -> (u16, Arc<Mutex<Vec<Vec<u8>>>>) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    let got = Arc::new(Mutex::new(Vec::new()));
    let keep = got.clone();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = l.accept().await {
            let mut bytes = Vec::new();
            let mut chunk = [0u8; 4096];
            while let Ok(Ok(n)) =
                tokio::time::timeout(Duration::from_millis(300), s.read(&mut chunk)).await
            {
                if n == 0 {
                    break;
                }
                bytes.extend_from_slice(&chunk[..n]);
            }
            keep.lock().unwrap().push(bytes);
            let _ = s
                .write_all(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
                .await;
        }
    });
    (port, got)
}

fn notice(check_name: &str) -> Notice {
    Notice {
        event_id: None,
        check_id: 1,
        check_name: check_name.into(),
        site: "佐賀".into(),
        from: State::Up,
        to: State::Down,
        ts: 1_700_000_000,
        cause: "2回連続で応答なし".into(),
        impacted_by: None,
    }
}

async fn wait_attempts(s: &unyo_store::Store, n: usize) -> Vec<unyo_store::connectivity::Attempt> {
    let mut attempts = Vec::new();
    for _ in 0..150 {
        attempts = s.notification_attempts(10).await.unwrap();
        if attempts.len() >= n {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    attempts
}

/// Finding 1 of issue 13: a webhook URL with CR/LF that is already in the database (stored before URLs were
/// checked) sends nothing and is recorded as a failed attempt; a valid URL whose query carries an encoded
/// CR/LF gives one well-formed request with no injected header.
#[tokio::test]
async fn a_stored_webhook_url_with_a_line_break_sends_nothing() {
    let db = test_store().await.unwrap();
    let s = db.store.clone();
    let a = Actor::system("test");
    let (port, got) = raw_sink().await;
    let hook = |url: String| ChannelConfig::Webhook { url, ca_pem: None };
    let smuggling = s
        .create_notification_channel(
            &a,
            "古い受信先",
            &hook(format!("http://127.0.0.1:{port}/hook")),
        )
        .await
        .unwrap();
    let smuggled = format!("http://127.0.0.1:{port}/hook\r\nX-Injected: yes\r\n\r\nSMUGGLED");
    let stored = serde_json::to_string(&hook(smuggled.clone())).unwrap();
    assert!(stored.contains("\\r\\n"), "{stored}");
    tamper(
        &db,
        "UPDATE notification_channels SET config = $1 WHERE id = $2",
        &stored,
        smuggling,
    )
    .await;
    let encoded = s
        .create_notification_channel(
            &a,
            "受信先",
            &hook(format!(
                "http://127.0.0.1:{port}/hook?x=%0D%0AX-Injected:%20yes"
            )),
        )
        .await
        .unwrap();
    let channels = s.notification_channels().await.unwrap();
    assert_eq!(channels[0].config, hook(smuggled));
    notify_all(s.clone(), a.clone(), channels, notice("集約ルータ TCP"));
    let attempts = wait_attempts(&s, 2).await;
    assert_eq!(attempts.len(), 2, "{attempts:?}");
    let bad = attempts.iter().find(|x| x.channel_id == smuggling).unwrap();
    assert!(!bad.ok, "{bad:?}");
    assert!(
        bad.detail.contains("送信しませんでした") && bad.detail.contains("制御文字"),
        "{bad:?}"
    );
    let good = attempts.iter().find(|x| x.channel_id == encoded).unwrap();
    assert!(good.ok && good.detail == "HTTP 204", "{good:?}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let got = got.lock().unwrap().clone();
    assert_eq!(got.len(), 1, "one connection: the valid channel's");
    let text = String::from_utf8(got[0].clone()).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").expect("a request head");
    let mut lines = head.split("\r\n");
    assert_eq!(
        lines.next(),
        Some("POST /hook?x=%0D%0AX-Injected:%20yes HTTP/1.1")
    );
    for line in lines {
        let (name, _) = line.split_once(": ").expect("a header line");
        assert!(
            !name.eq_ignore_ascii_case("x-injected"),
            "no injected header: {head}"
        );
    }
    assert!(!text.contains("SMUGGLED"));
    let v: serde_json::Value = serde_json::from_str(body).expect("the body is the event, alone");
    assert_eq!(v["check_name"], "集約ルータ TCP");
}

/// A CA and a server certificate for 127.0.0.1 it issued: (CA PEM, server chain, server key).
fn test_pki() -> (
    String,
    Vec<rustls::pki_types::CertificateDer<'static>>,
    rustls::pki_types::PrivateKeyDer<'static>,
) {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "unyo test CA");
    let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate().unwrap()).unwrap();
    let key = KeyPair::generate().unwrap();
    let server = CertificateParams::new(vec!["127.0.0.1".to_string()])
        .unwrap()
        .signed_by(&key, &ca)
        .unwrap();
    (
        ca.pem(),
        vec![server.der().clone(), ca.der().clone()],
        rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
    )
}

/// A TLS receiver on 127.0.0.1: keeps each request's text, answers 204.
async fn tls_sink(
    chain: Vec<rustls::pki_types::CertificateDer<'static>>,
    key: rustls::pki_types::PrivateKeyDer<'static>,
) -> (u16, Arc<Mutex<Vec<String>>>) {
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(chain, key)
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    let got = Arc::new(Mutex::new(Vec::new()));
    let keep = got.clone();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = l.accept().await {
            let Ok(mut s) = acceptor.accept(tcp).await else {
                continue;
            };
            let mut bytes = Vec::new();
            let mut chunk = [0u8; 4096];
            loop {
                let n = s.read(&mut chunk).await.unwrap_or(0);
                bytes.extend_from_slice(&chunk[..n]);
                let text = String::from_utf8_lossy(&bytes).to_string();
                let done = text.split_once("\r\n\r\n").is_some_and(|(head, body)| {
                    head.lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length: ")
                                .map(str::to_string)
                        })
                        .and_then(|v| v.trim().parse::<usize>().ok())
                        .is_some_and(|len| body.len() >= len)
                });
                if n == 0 || done {
                    keep.lock().unwrap().push(text);
                    break;
                }
            }
            let _ = s
                .write_all(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
                .await;
            let _ = s.shutdown().await;
        }
    });
    (port, got)
}

/// Webhooks over https: the receiver's certificate is verified against the channel's CA; without that CA
/// (the system's trust store does not know the test CA) the attempt fails and no request is sent.
#[tokio::test]
async fn a_webhook_over_https_reaches_a_local_tls_receiver() {
    let (ca_pem, chain, key) = test_pki();
    let (port, got) = tls_sink(chain, key).await;
    let url = format!("https://127.0.0.1:{port}/hook");
    let with_ca = ChannelConfig::Webhook {
        url: url.clone(),
        ca_pem: Some(ca_pem),
    };
    with_ca.validate().unwrap();
    let detail = deliver(&with_ca, &notice("集約ルータ HTTPS"))
        .await
        .expect("delivered over https");
    assert_eq!(detail, "HTTP 204");
    let requests = got.lock().unwrap().clone();
    assert_eq!(requests.len(), 1);
    assert!(
        requests[0].starts_with("POST /hook HTTP/1.1\r\n"),
        "{}",
        requests[0]
    );
    let body = requests[0].split_once("\r\n\r\n").unwrap().1;
    let v: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(
        (v["check_name"].as_str(), v["to"].as_str()),
        (Some("集約ルータ HTTPS"), Some("down"))
    );

    let untrusted = ChannelConfig::Webhook { url, ca_pem: None };
    let e = deliver(&untrusted, &notice("集約ルータ HTTPS"))
        .await
        .unwrap_err();
    assert!(
        e.starts_with("webhook: ") && e.to_lowercase().contains("certificate"),
        "{e}"
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(got.lock().unwrap().len(), 1, "nothing sent without trust");
}

/// Finding 2 of issue 13: a check name with CR/LF (stored behind the validation's back) gives one syslog
/// datagram, with no raw line break, and its structured-data value escaped.
#[tokio::test]
async fn a_check_name_with_a_line_break_gives_one_syslog_line() {
    let db = test_store().await.unwrap();
    let s = db.store.clone();
    let a = Actor::system("test");
    let syslog = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    s.create_notification_channel(
        &a,
        "syslog",
        &ChannelConfig::Syslog {
            addr: syslog.local_addr().unwrap().to_string(),
        },
    )
    .await
    .unwrap();
    let check = common::router_check(&s, common::closed_port().await).await;
    let forged = "ルータ\r\n<13>1 2023-11-14T22:13:20Z - forged - - - \"x\"] \\";
    tamper(
        &db,
        "UPDATE connectivity_checks SET name = $1 WHERE id = $2",
        forged,
        check.id,
    )
    .await;
    let _svc = start(s.clone(), common::quick());
    let mut buf = [0u8; 4096];
    let (n, _) = tokio::time::timeout(Duration::from_secs(10), syslog.recv_from(&mut buf))
        .await
        .expect("a syslog datagram arrives")
        .unwrap();
    let datagram = &buf[..n];
    assert!(
        !datagram.iter().any(|b| matches!(b, b'\r' | b'\n' | 0)),
        "{:?}",
        String::from_utf8_lossy(datagram)
    );
    let line = String::from_utf8(datagram.to_vec()).unwrap();
    assert!(line.starts_with("<27>1 "), "{line}");
    assert!(
        line.contains(
            " check=\"ルータ\\r\\n<13>1 2023-11-14T22:13:20Z - forged - - - \\\"x\\\"\\] \\\\\" "
        ),
        "{line}"
    );
    assert!(line.contains("\u{feff}[unyo 疎通確認] "), "{line}");
    assert_eq!(
        line.matches("<13>1").count(),
        2,
        "only inside the escaped texts: {line}"
    );
    assert!(
        tokio::time::timeout(Duration::from_millis(500), syslog.recv_from(&mut buf))
            .await
            .is_err(),
        "one event, one datagram"
    );
    let attempts = wait_attempts(&s, 1).await;
    assert!(attempts[0].ok, "{attempts:?}");
}

/// A check name with CR/LF stays inside the mail's subject and body: one message to the channel's address,
/// with no header or SMTP command made of the name.
#[tokio::test]
async fn a_check_name_with_a_line_break_stays_in_the_mail() {
    let (port, mails) = smtp_sink().await;
    let mail = ChannelConfig::Email {
        host: "127.0.0.1".into(),
        port,
        starttls: false,
        from: "unyo@example.lg.jp".into(),
        to: vec!["se-team@example.lg.jp".into()],
    };
    let name = "ルータ\r\nBcc: evil@example.com\r\n.\r\nRCPT TO:<evil@example.com>\r\n";
    let detail = deliver(&mail, &notice(name)).await.expect("delivered");
    assert!(detail.starts_with("SMTP 250"), "{detail}");
    let got = mails.lock().unwrap().clone();
    assert_eq!(got.len(), 1);
    let data = &got[0];
    let (head, body) = data.split_once("\r\n\r\n").expect("head and body");
    for line in head.split("\r\n") {
        let lower = line.to_ascii_lowercase();
        assert!(
            !lower.starts_with("bcc:") && !lower.starts_with("rcpt"),
            "{data}"
        );
    }
    assert_eq!(
        head.split("\r\n")
            .filter(|l| l.to_ascii_lowercase().starts_with("subject:"))
            .count(),
        1,
        "{data}"
    );
    assert!(
        !body
            .split("\r\n")
            .any(|l| l == "." || l.starts_with("RCPT")),
        "{data}"
    );
}

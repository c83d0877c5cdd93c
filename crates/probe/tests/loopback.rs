//! The probes and the engine against real listeners on loopback (127.0.0.0/8 only).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, UdpSocket};
use tokio::sync::mpsc;
use unyo_domain::connectivity::{
    CheckSettings, ICMP_NOT_PERMITTED, MaintenanceWindow, ProbeSpec, ProbeStatus, Recurrence, State,
};
use unyo_probe::{
    CheckPlace, Engine, EngineConfig, Evaluator, FLAG_IMPACTED, FLAG_MAINTENANCE, IcmpMode,
    ResultRecord, Scheduled, icmp_mode, probes, run_check,
};

const LO: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

fn settings(timeout_ms: u32, degraded_ms: u32) -> CheckSettings {
    CheckSettings {
        interval_s: 5,
        timeout_ms,
        retries: 0,
        degraded_ms,
        flap_n: 2,
    }
}

/// A port that nothing listens on (bound, then released).
async fn closed_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let p = l.local_addr().unwrap().port();
    drop(l);
    p
}

/// A tiny HTTP server: answers every request with `status` and `body` after `delay`.
async fn http_server(status: u16, body: &'static str, delay: Duration) -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = l.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let mut buf = [0u8; 2048];
                let mut got = Vec::new();
                while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                    match s.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => got.extend_from_slice(&buf[..n]),
                    }
                }
                tokio::time::sleep(delay).await;
                let resp = format!(
                    "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = s.write_all(resp.as_bytes()).await;
            });
        }
    });
    port
}

/// A listener that accepts and never answers.
async fn black_hole() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = l.accept().await {
            held.push(s);
        }
    });
    port
}

/// A tiny DNS responder: answers A queries for `name` with `addr`, NXDOMAIN for anything else.
async fn dns_server(name: &'static str, addr: [u8; 4]) -> u16 {
    let sock = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let port = sock.local_addr().unwrap().port();
    tokio::spawn(async move {
        let mut buf = [0u8; 512];
        loop {
            let Ok((n, peer)) = sock.recv_from(&mut buf).await else {
                return;
            };
            let q = &buf[..n];
            // Question name from offset 12.
            let mut labels = Vec::new();
            let mut at = 12;
            while q[at] != 0 {
                let len = q[at] as usize;
                labels.push(String::from_utf8_lossy(&q[at + 1..at + 1 + len]).to_string());
                at += 1 + len;
            }
            let qend = at + 5;
            let qname = labels.join(".");
            let mut r = Vec::new();
            r.extend_from_slice(&q[0..2]);
            let hit = qname == name;
            r.extend_from_slice(&[0x81, if hit { 0x80 } else { 0x83 }]);
            r.extend_from_slice(&[0, 1, 0, u8::from(hit), 0, 0, 0, 0]);
            r.extend_from_slice(&q[12..qend]);
            if hit {
                r.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4]);
                r.extend_from_slice(&addr);
            }
            let _ = sock.send_to(&r, peer).await;
        }
    });
    port
}

#[tokio::test]
async fn tcp_open_and_closed_port() {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let open = l.local_addr().unwrap().port();
    tokio::spawn(async move { while l.accept().await.is_ok() {} });
    let up = run_check(
        1,
        &ProbeSpec::Tcp {
            addr: LO,
            port: open,
        },
        &settings(1000, 500),
    )
    .await;
    assert_eq!(up.status, ProbeStatus::Up, "{}", up.message);
    assert!(up.latency_ms.is_some());
    let closed = closed_port().await;
    let down = run_check(
        2,
        &ProbeSpec::Tcp {
            addr: LO,
            port: closed,
        },
        &settings(1000, 500),
    )
    .await;
    assert_eq!(down.status, ProbeStatus::Down);
    assert!(down.message.contains("接続拒否"), "{}", down.message);
}

fn http(port: u16, expect_status: u16, body_contains: &str) -> ProbeSpec {
    ProbeSpec::Http {
        addr: LO,
        port,
        tls: false,
        host: String::new(),
        path: "/health".into(),
        expect_status,
        body_contains: body_contains.into(),
        cert_warn_days: 0,
    }
}

#[tokio::test]
async fn http_status_body_and_latency() {
    let ok = http_server(200, "juki OK", Duration::ZERO).await;
    let r = run_check(1, &http(ok, 200, "OK"), &settings(2000, 500)).await;
    assert_eq!(r.status, ProbeStatus::Up, "{}", r.message);

    let r = run_check(1, &http(ok, 200, "NG"), &settings(2000, 500)).await;
    assert_eq!(r.status, ProbeStatus::Down);
    assert!(r.message.contains("本文"), "{}", r.message);

    let err = http_server(503, "busy", Duration::ZERO).await;
    let r = run_check(1, &http(err, 200, ""), &settings(2000, 500)).await;
    assert_eq!(r.status, ProbeStatus::Down);
    assert!(r.message.contains("HTTP 503"), "{}", r.message);

    let slow = http_server(200, "slow", Duration::from_millis(300)).await;
    let r = run_check(1, &http(slow, 200, ""), &settings(2000, 100)).await;
    assert_eq!(r.status, ProbeStatus::Degraded, "{}", r.message);
    assert!(r.latency_ms.unwrap() >= 300);
}

#[tokio::test]
async fn dns_resolves_and_checks_the_answer() {
    let port = dns_server("juki.example.lg.jp", [10, 1, 2, 3]).await;
    let spec = |name: &str, expect: Option<&str>| ProbeSpec::Dns {
        addr: LO,
        port,
        name: name.into(),
        expect: expect.map(|e| e.parse().unwrap()),
    };
    let r = run_check(
        1,
        &spec("juki.example.lg.jp", Some("10.1.2.3")),
        &settings(1000, 500),
    )
    .await;
    assert_eq!(r.status, ProbeStatus::Up, "{}", r.message);
    let r = run_check(
        1,
        &spec("juki.example.lg.jp", Some("10.9.9.9")),
        &settings(1000, 500),
    )
    .await;
    assert_eq!(r.status, ProbeStatus::Down);
    assert!(r.message.contains("期待値"), "{}", r.message);
    let r = run_check(1, &spec("nope.example.lg.jp", None), &settings(1000, 500)).await;
    assert_eq!(r.status, ProbeStatus::Down);
    assert!(r.message.contains("NXDOMAIN"), "{}", r.message);
}

#[tokio::test]
async fn icmp_to_loopback_or_exact_refusal() {
    let r = run_check(1, &ProbeSpec::Icmp { addr: LO }, &settings(1000, 500)).await;
    match icmp_mode() {
        IcmpMode::None => {
            eprintln!("skipped: kernel refuses both unprivileged and raw ICMP here");
            assert_eq!(r.status, ProbeStatus::Unknown);
            assert_eq!(r.message, ICMP_NOT_PERMITTED);
        }
        mode => {
            eprintln!("ICMP mode: {mode:?}");
            assert_eq!(r.status, ProbeStatus::Up, "{}", r.message);
        }
    }
}

/// Many attempts in flight at once, each to its own loopback address, each answered by its own reply; an
/// attempt cut off before its reply leaves nothing behind for the next one to the same address.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_icmp_each_get_their_own_reply() {
    if icmp_mode() == IcmpMode::None {
        eprintln!("skipped: ICMP not permitted here");
        return;
    }
    let addr = |i: u32| IpAddr::V4(Ipv4Addr::new(127, 3, ((i + 1) >> 8) as u8, (i + 1) as u8));
    // Cut off at once: most replies to these arrive after their attempts are gone (loopback may still
    // answer within the first poll).
    for i in 0..50 {
        let a = probes::attempt(&ProbeSpec::Icmp { addr: addr(i) }, Duration::ZERO).await;
        assert!(a.ok || a.message.contains("タイムアウト"), "{}", a.message);
    }
    let mut tasks = Vec::new();
    for i in 0..500 {
        tasks.push(tokio::spawn(async move {
            let spec = ProbeSpec::Icmp {
                addr: addr(i % 300),
            };
            (
                i,
                run_check(i64::from(i), &spec, &settings(2000, 1000)).await,
            )
        }));
    }
    for t in tasks {
        let (i, r) = t.await.unwrap();
        assert_eq!(r.check_id, i64::from(i));
        assert_eq!(r.status, ProbeStatus::Up, "{i}: {}", r.message);
    }
}

#[tokio::test]
async fn a_hanging_target_times_out_and_delays_no_one() {
    let hole = black_hole().await;
    let ok = http_server(200, "OK", Duration::ZERO).await;
    let r = run_check(1, &http(hole, 200, ""), &settings(300, 100)).await;
    assert_eq!(r.status, ProbeStatus::Down);
    assert!(r.message.contains("タイムアウト"), "{}", r.message);

    // Engine with concurrency 2: one hanging check must not hold back the healthy ones.
    let (tx, mut rx) = mpsc::channel::<ResultRecord>(64);
    let checks = vec![
        Scheduled {
            id: 1,
            spec: http(hole, 200, ""),
            settings: settings(2000, 1000),
        },
        Scheduled {
            id: 2,
            spec: http(ok, 200, "OK"),
            settings: settings(2000, 1000),
        },
        Scheduled {
            id: 3,
            spec: ProbeSpec::Tcp { addr: LO, port: ok },
            settings: settings(2000, 1000),
        },
    ];
    let engine = Engine::spawn(
        checks,
        EngineConfig {
            concurrency: 2,
            jitter: false,
        },
        tx,
    );
    let started = std::time::Instant::now();
    let mut seen = Vec::new();
    while seen.len() < 2 {
        let r = tokio::time::timeout(Duration::from_secs(5), rx.recv())
            .await
            .unwrap()
            .unwrap();
        seen.push(r.check_id);
    }
    assert!(seen.contains(&2) && seen.contains(&3), "{seen:?}");
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "{:?}",
        started.elapsed()
    );
    let hung = tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(hung.check_id, 1);
    assert_eq!(hung.status, ProbeStatus::Down);
    engine.stop();
}

fn place(check_id: i64, site: Option<i64>, own_node: Option<i64>, path: &[i64]) -> CheckPlace {
    CheckPlace {
        check_id,
        site_id: site,
        own_node,
        path: path.to_vec(),
        flap_n: 2,
        state: None,
    }
}

/// Flapping: a listener that comes and goes every result changes nothing until two agree.
#[tokio::test]
async fn flapping_target_is_damped() {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    let mut listener = Some(l);
    let mut ev = Evaluator::new(vec![place(1, Some(1), None, &[])], vec![]);
    let spec = ProbeSpec::Tcp { addr: LO, port };
    let mut changes = Vec::new();
    // Two agreeing results settle the first state.
    for _ in 0..2 {
        let r = run_check(1, &spec, &settings(500, 500)).await;
        if let Some(c) = ev.apply(&r).event {
            changes.push(c.change.to);
        }
    }
    assert_eq!(changes, vec![State::Up]);
    for i in 0..8 {
        // up, down, up, down, ... : the listener is dropped on odd rounds and re-bound on even ones.
        if i % 2 == 1 {
            listener = None;
        } else if listener.is_none() {
            listener = Some(TcpListener::bind(("127.0.0.1", port)).await.unwrap());
        }
        let r = run_check(1, &spec, &settings(500, 500)).await;
        let e = ev.apply(&r);
        if let Some(c) = e.event {
            changes.push(c.change.to);
        }
    }
    assert_eq!(
        changes,
        vec![State::Up],
        "a flapping listener changes nothing"
    );
    drop(listener);
    for _ in 0..2 {
        let r = run_check(1, &spec, &settings(500, 500)).await;
        if let Some(c) = ev.apply(&r).event {
            changes.push(c.change.to);
            assert_eq!(c.change.results.len(), 2);
        }
    }
    assert_eq!(changes, vec![State::Up, State::Down]);
}

/// A path outage: the shared node (2) is down, so the terminal behind it (check 10) is 影響 and its down
/// event names node 2 instead of alerting; a terminal elsewhere (check 11) still alerts.
#[tokio::test]
async fn path_outage_marks_dependants_impacted() {
    let closed = closed_port().await;
    let node_spec = ProbeSpec::Tcp {
        addr: LO,
        port: closed,
    };
    let term_spec = ProbeSpec::Tcp {
        addr: IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2)),
        port: closed,
    };
    let mut ev = Evaluator::new(
        vec![
            place(1, None, Some(1), &[]),
            place(2, None, Some(2), &[1]),
            place(10, Some(5), None, &[2, 1]),
            place(11, Some(6), None, &[3, 1]),
        ],
        vec![],
    );
    let mut events = Vec::new();
    for _ in 0..2 {
        // The root (node 1) answers; node 2 does not.
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let root_port = l.local_addr().unwrap().port();
        let root = run_check(
            1,
            &ProbeSpec::Tcp {
                addr: LO,
                port: root_port,
            },
            &settings(500, 500),
        )
        .await;
        events.extend(ev.apply(&root).event);
        let r = run_check(2, &node_spec, &settings(500, 500)).await;
        events.extend(ev.apply(&r).event);
    }
    assert_eq!(ev.state(2), Some(State::Down));
    let r10 = run_check(10, &term_spec, &settings(500, 500)).await;
    // flap_n is 2: the second agreeing result sets the first state.
    assert!(ev.apply(&r10).event.is_none());
    let e10 = ev.apply(&r10);
    assert_eq!(e10.impacted_by, Some(2));
    assert!(e10.code & FLAG_IMPACTED != 0);
    let ev10 = e10.event.unwrap();
    assert!(!ev10.alerts(), "impacted checks do not alert");
    let mut r11 = r10.clone();
    r11.check_id = 11;
    assert!(ev.apply(&r11).event.is_none());
    let ev11 = ev.apply(&r11).event.unwrap();
    assert!(ev11.alerts());
    assert_eq!(ev11.impacted_by, None);
    let node_event = events.iter().find(|e| e.check_id == 2).unwrap();
    assert!(node_event.alerts(), "the shared node itself alerts");
}

/// A maintenance window covering the site: the down result is flagged and the event does not alert.
#[tokio::test]
async fn maintenance_window_suppresses_alerts() {
    let closed = closed_port().await;
    let now = chrono::Utc::now();
    let w = MaintenanceWindow {
        id: 1,
        title: "回線工事".into(),
        site_id: Some(5),
        node_id: None,
        check_id: None,
        when: Recurrence::Once {
            start: now - chrono::Duration::minutes(5),
            end: now + chrono::Duration::minutes(30),
        },
    };
    let mut ev = Evaluator::new(
        vec![place(10, Some(5), None, &[]), place(11, Some(6), None, &[])],
        vec![w],
    );
    let spec = ProbeSpec::Tcp {
        addr: LO,
        port: closed,
    };
    let r = run_check(10, &spec, &settings(500, 500)).await;
    // flap_n is 2: the second agreeing result sets the first state.
    assert!(ev.apply(&r).event.is_none());
    let e = ev.apply(&r);
    assert!(e.maintenance && e.code & FLAG_MAINTENANCE != 0);
    assert!(!e.event.unwrap().alerts());
    let mut r11 = r.clone();
    r11.check_id = 11;
    assert!(ev.apply(&r11).event.is_none());
    let e11 = ev.apply(&r11);
    assert!(!e11.maintenance);
    assert!(e11.event.unwrap().alerts());
    let _ = SocketAddr::from(([127, 0, 0, 1], 0));
}

//! What the service tests share: a core router whose checked TCP port nothing answers, and a service
//! configuration quick enough for a test.

// Each test file uses the part it needs.
#![allow(dead_code)]

use std::time::Duration;
use tokio::net::TcpListener;
use unyo_domain::connectivity::CheckInput;
use unyo_domain::registry::NodeInput;
use unyo_probe::EngineConfig;
use unyo_probe::service::ServiceConfig;
use unyo_store::connectivity::CheckRow;
use unyo_store::{Actor, Store};

/// A port on 127.0.0.1 that nothing listens on (bound, then released).
pub async fn closed_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    l.local_addr().unwrap().port()
}

/// Registers the node 集約ルータ at 127.0.0.1 and a TCP check of `port` on it that goes down at the first
/// refused connection (5 s interval, 300 ms timeout, no retries, `flap_n` 1). Returns the check.
pub async fn router_check(s: &Store, port: u16) -> CheckRow {
    let a = Actor::system("test");
    let node = s
        .create_node(
            &a,
            &NodeInput {
                name: "集約ルータ".into(),
                kind: "router".into(),
                ip_address: "127.0.0.1".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    s.create_check(
        &a,
        &CheckInput {
            name: "集約ルータ TCP".into(),
            target_kind: "node".into(),
            target_id: node.id,
            kind: "tcp".into(),
            address: "127.0.0.1".into(),
            port: Some(port),
            interval_s: Some(5),
            timeout_ms: Some(300),
            retries: Some(0),
            flap_n: Some(1),
            ..Default::default()
        },
    )
    .await
    .unwrap()
}

/// Four probes at a time, no jitter, a commit every 100 ms.
pub fn quick() -> ServiceConfig {
    ServiceConfig {
        engine: EngineConfig {
            concurrency: 4,
            jitter: false,
        },
        flush_every: Duration::from_millis(100),
        ..Default::default()
    }
}

//! The on-demand run path: the chosen checks are probed, the observer hears each target's line once as it
//! finishes, and the sheet is kept once with the same lines in the chosen order.

use std::collections::HashMap;
use tokio::net::TcpListener;
use unyo_domain::connectivity::CheckInput;
use unyo_domain::registry::NodeInput;
use unyo_probe::Network;
use unyo_probe::sheet::{chosen_checks, run_and_keep, run_checks_and_keep};
use unyo_store::Actor;
use unyo_store::testing::test_store;

#[tokio::test]
async fn the_observer_hears_every_line_and_the_sheet_keeps_them_in_order() {
    let db = test_store().await.unwrap();
    let s = db.store.clone();
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
    let open = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let closed = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let closed_port = closed.local_addr().unwrap().port();
    drop(closed);
    for (name, port) in [
        ("集約ルータ 開", open.local_addr().unwrap().port()),
        ("集約ルータ 閉", closed_port),
    ] {
        s.create_check(
            &a,
            &CheckInput {
                name: name.into(),
                target_kind: "node".into(),
                target_id: node.id,
                kind: "tcp".into(),
                address: "127.0.0.1".into(),
                port: Some(port),
                timeout_ms: Some(500),
                retries: Some(0),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    }
    let checks = chosen_checks(&s, &[], &[node.id]).await.unwrap();
    assert_eq!(checks.len(), 2);
    let mut heard = HashMap::new();
    let id = run_checks_and_keep(&s, &a, &checks, None, "", &Network, |i, line| {
        assert!(
            heard.insert(i, line.clone()).is_none(),
            "line {i} heard twice"
        );
    })
    .await
    .unwrap();
    assert_eq!(heard.len(), 2);
    let sheet = s.check_sheet(id).await.unwrap();
    assert_eq!(sheet.lines.len(), 2);
    for (i, (line, check)) in sheet.lines.iter().zip(&checks).enumerate() {
        assert_eq!(line.check_id, check.id);
        assert_eq!(heard[&i].check_id, line.check_id);
        assert_eq!(heard[&i].status, line.status);
    }
    let by_name: HashMap<&str, &str> = sheet
        .lines
        .iter()
        .map(|l| (l.check.as_str(), l.status.as_str()))
        .collect();
    assert_eq!(by_name["集約ルータ 開"], "up");
    assert_eq!(by_name["集約ルータ 閉"], "down");

    // The plain run path takes the same way; an empty choice is refused before anything is probed.
    assert!(
        run_and_keep(&s, &a, &[], &[node.id], None, "")
            .await
            .is_ok()
    );
    assert!(run_and_keep(&s, &a, &[], &[], None, "").await.is_err());
    assert_eq!(s.check_sheets(10).await.unwrap().len(), 2);
}

/// The kept XLSX is the documents crate's 疎通確認結果表 as the run produced it: it names the engineer by
/// display name (not the login id) and has the 確認欄.
#[tokio::test]
async fn the_kept_sheet_names_the_engineer() {
    let db = test_store().await.unwrap();
    let s = db.store.clone();
    let system = Actor::system("test");
    let se = s
        .create_user(
            &system,
            "se-taro",
            "保守 太郎",
            unyo_domain::Role::Se,
            "correct-horse-battery-9",
        )
        .await
        .unwrap()
        .actor("test");
    let node = s
        .create_node(
            &system,
            &NodeInput {
                name: "集約ルータ".into(),
                kind: "router".into(),
                ip_address: "127.0.0.1".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let open = TcpListener::bind("127.0.0.1:0").await.unwrap();
    s.create_check(
        &system,
        &CheckInput {
            name: "集約ルータ 開".into(),
            target_kind: "node".into(),
            target_id: node.id,
            kind: "tcp".into(),
            address: "127.0.0.1".into(),
            port: Some(open.local_addr().unwrap().port()),
            timeout_ms: Some(500),
            retries: Some(0),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let id = run_and_keep(&s, &se, &[], &[node.id], None, "")
        .await
        .unwrap();
    let xlsx = s.check_sheet_xlsx(id).await.unwrap();
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(xlsx)).unwrap();
    let mut strings = String::new();
    std::io::Read::read_to_string(
        &mut archive.by_name("xl/sharedStrings.xml").unwrap(),
        &mut strings,
    )
    .unwrap();
    assert!(strings.contains("疎通確認結果表"));
    assert!(strings.contains("保守 太郎"), "{strings}");
    assert!(!strings.contains("se-taro"), "the login id");
    assert!(strings.contains("確認欄") && strings.contains("確認者（県）"));
}

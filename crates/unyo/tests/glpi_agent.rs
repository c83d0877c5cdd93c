//! A GLPI Agent 1.12 reporting to a running `unyo serve`: the exchanges recorded from a real agent
//! (`crates/inventory/tests/samples/glpi-agent-exchanges/`, a copy of `../shared/data/glpi-agent-exchanges/`)
//! are replayed over HTTP with their recorded headers and bodies byte for byte, on both agent URLs, and the
//! answers are read the way the agent reads them (by their `Content-Type`). Then a JSON inventory is
//! stored and matched, a partial one merged into it, and a broken one refused with a `status: error` the
//! agent logs.

mod support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::time::Duration;
use support::{Server, unyo_command};
use unyo_inventory::BodyEncoding;
use unyo_inventory::protocol::{decode_glpi_reply, encode_glpi_request};
use unyo_store::Store;

fn exchanges() -> PathBuf {
    support::workspace_root().join("crates/inventory/tests/samples/glpi-agent-exchanges")
}

fn samples() -> PathBuf {
    support::workspace_root().join("crates/inventory/tests/samples")
}

/// Runs `unyo ARGS --data-dir DIR`, asserting success; returns standard output.
fn unyo(dir: &Path, args: &[&str]) -> String {
    let out = unyo_command()
        .args(args)
        .arg("--data-dir")
        .arg(dir)
        .output()
        .expect("run unyo");
    assert!(out.status.success(), "unyo {args:?} failed: {out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// An HTTP answer.
struct Answer {
    status: u16,
    content_type: Option<String>,
    www_authenticate: Option<String>,
    body: Vec<u8>,
}

/// POSTs `body` to `path` with the recorded request headers (`Host` set to the server, the connection
/// closed after the answer) and, when given, Basic credentials.
fn post(
    addr: SocketAddr,
    path: &str,
    recorded_headers: &str,
    body: &[u8],
    auth: Option<(&str, &str)>,
) -> Answer {
    let mut head = format!("POST {path} HTTP/1.1\r\n");
    for line in recorded_headers.lines().skip(1) {
        let Some((name, value)) = line.split_once(": ") else {
            continue;
        };
        let value = match name.to_ascii_lowercase().as_str() {
            "host" => addr.to_string(),
            "connection" => "close".to_string(),
            "keep-alive" => continue,
            "content-length" => body.len().to_string(),
            _ => value.to_string(),
        };
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if let Some((user, password)) = auth {
        let token = base64(format!("{user}:{password}").as_bytes());
        head.push_str(&format!("Authorization: Basic {token}\r\n"));
    }
    head.push_str("\r\n");
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(60))).ok();
    s.write_all(head.as_bytes()).expect("write head");
    s.write_all(body).expect("write body");
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).expect("read");
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("end of headers");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let header = |name: &str| {
        head.lines().find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
        })
    };
    Answer {
        status: head
            .split(' ')
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0),
        content_type: header("content-type"),
        www_authenticate: header("www-authenticate"),
        body: raw[split + 4..].to_vec(),
    }
}

/// Standard base64 with padding (for the Basic header).
fn base64(input: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ABC[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn read(name: &str) -> Vec<u8> {
    std::fs::read(exchanges().join(name)).unwrap()
}

fn json(b: &[u8]) -> serde_json::Value {
    serde_json::from_slice(b).unwrap()
}

/// Reads an answer as the GLPI Agent does: by its `Content-Type`.
fn agent_reads(a: &Answer) -> serde_json::Value {
    decode_glpi_reply(a.content_type.as_deref(), &a.body).unwrap_or_else(|e| {
        panic!(
            "the agent could not read the answer ({e}): {:?}",
            a.content_type
        )
    })
}

/// An inventory as the agent POSTs it (the recorded outline's keys) with a sample's content.
fn inventory_body(sample: &str, partial: bool) -> Vec<u8> {
    let s = json(&std::fs::read(samples().join(sample)).unwrap());
    let mut msg = serde_json::json!({
        "action": "inventory",
        "itemtype": "Computer",
        "deviceid": s["deviceid"],
        "content": s["content"],
    });
    if partial {
        msg["partial"] = serde_json::json!(true);
    }
    encode_glpi_request(&serde_json::to_vec(&msg).unwrap(), BodyEncoding::Zlib).1
}

#[tokio::test(flavor = "multi_thread")]
async fn recorded_glpi_agent_exchanges_replay_against_unyo() {
    let data_dir = tempfile::Builder::new()
        .prefix("unyo-test-")
        .tempdir()
        .expect("data dir");
    let dir = data_dir.path().to_path_buf();
    let sites = dir.join("sites.csv");
    std::fs::write(&sites, "code,name,kind\nKENCHO,県庁,honcho\n").unwrap();
    let terminals = dir.join("terminals.csv");
    std::fs::write(
        &terminals,
        "hostname,site_code,kind,serial_number\nglpixps,KENCHO,business,\n",
    )
    .unwrap();
    unyo(&dir, &["import", "sites", sites.to_str().unwrap()]);
    unyo(&dir, &["import", "terminals", terminals.to_str().unwrap()]);
    let out = unyo(&dir, &["agent", "credential", "create", "GLPI Agent"]);
    let field = |name: &str| -> String {
        out.lines()
            .find_map(|l| l.strip_prefix(&format!("{name}: ")))
            .unwrap_or_else(|| panic!("no `{name}:` line in:\n{out}"))
            .trim()
            .to_string()
    };
    let (user, password) = (field("user"), field("password"));
    let cred = Some((user.as_str(), password.as_str()));

    let server = Server::start_in(data_dir, ["serve"]);
    let addr = server.addr();
    let prolog_headers = String::from_utf8(read("1-prolog.request.headers.txt")).unwrap();
    let prolog = read("1-prolog.request.zlib");
    let contact_headers = String::from_utf8(read("2-contact.request.headers.txt")).unwrap();
    let contact = read("2-contact.request.zlib");
    let inventory_headers = String::from_utf8(read("3-inventory.request.headers.txt")).unwrap();

    for path in ["/ocsinventory", "/front/inventory.php"] {
        // The agent's first try carries no credentials: the Basic challenge it needs.
        let a = post(addr, path, &prolog_headers, &prolog, None);
        assert_eq!(a.status, 401, "{path}");
        assert_eq!(a.www_authenticate.as_deref(), Some("Basic realm=\"unyo\""));

        // 1. PROLOG: the GLPI protocol's answer, zlib under the request's own type.
        let a = post(addr, path, &prolog_headers, &prolog, cred);
        assert_eq!(a.status, 200, "{path}: {}", server.log());
        assert_eq!(
            a.content_type.as_deref(),
            Some("application/x-compress-zlib")
        );
        assert_eq!(agent_reads(&a), json(&read("1-prolog.response.json")));

        // 2. CONTACT: status, expiration and the inventory task, as recorded.
        let a = post(addr, path, &contact_headers, &contact, cred);
        assert_eq!(a.status, 200, "{path}");
        assert_eq!(
            a.content_type.as_deref(),
            Some("application/x-compress-zlib")
        );
        let got = agent_reads(&a);
        let want = json(&read("2-contact.response.json"));
        assert_eq!(got["status"], want["status"]);
        assert_eq!(got["expiration"], want["expiration"]);
        assert_eq!(got["tasks"]["inventory"]["server"], "glpi");
    }

    // 3. The inventory: stored and matched to the terminal by host name.
    let a = post(
        addr,
        "/ocsinventory",
        &inventory_headers,
        &inventory_body("glpi-computer_1.json", false),
        cred,
    );
    assert_eq!(a.status, 200, "{}", server.log());
    assert_eq!(agent_reads(&a), json(&read("3-inventory.response.json")));
    let store = Store::open_data_dir(&dir).await.expect("open the store");
    let terminal = store
        .terminal_choices()
        .await
        .unwrap()
        .into_iter()
        .find(|(_, h, _)| h == "glpixps")
        .map(|(id, _, _)| id)
        .expect("the terminal");
    let full = store
        .latest_inventory(terminal)
        .await
        .unwrap()
        .expect("stored");
    assert_eq!(full.source, "agent");
    assert_eq!(full.snapshot.format.code(), "glpi");

    // 4. A partial inventory (software only) is merged into it.
    let a = post(
        addr,
        "/front/inventory.php",
        &inventory_headers,
        &inventory_body("glpi-computer_1_partial_softs.json", true),
        cred,
    );
    assert_eq!(a.status, 200);
    assert_eq!(agent_reads(&a)["status"], "ok");
    let merged = store.latest_inventory(terminal).await.unwrap().unwrap();
    assert_ne!(merged.id, full.id);
    assert!(!merged.snapshot.partial);
    assert_eq!(
        merged.snapshot.os, full.snapshot.os,
        "kept from the full one"
    );

    // 5. A refused inventory: `status: error` with a Japanese and an English reason.
    let broken = encode_glpi_request(
        br#"{"action":"inventory","deviceid":"x","content":{"softwares":"no"}}"#,
        BodyEncoding::Zlib,
    )
    .1;
    let a = post(addr, "/ocsinventory", &inventory_headers, &broken, cred);
    assert_eq!(a.status, 400);
    let got = agent_reads(&a);
    assert_eq!(got["status"], "error");
    let msg = got["message"].as_str().unwrap();
    assert!(
        msg.contains("content.softwares") && msg.contains("refused"),
        "{msg}"
    );

    // The agents seen: the GLPI Agent, its version, GLPI-Agent-ID and protocol.
    let agents = store.inventory_agents().await.unwrap();
    let inv = agents
        .iter()
        .find(|a| a.device_id == "glpixps-2018-07-09-09-07-13")
        .expect("the inventory's agent");
    assert_eq!(inv.kind, "glpi");
    assert_eq!(inv.version.as_deref(), Some("1.12-dev"));
    assert_eq!(inv.protocol, "glpi-json");
    assert_eq!(
        inv.glpi_agent_id.as_deref(),
        Some("85855860-f20b-11f1-afd0-3eceba3cbc5e")
    );
    assert!(
        agents
            .iter()
            .any(|a| a.device_id == "vm-2026-12-07-06-57-59" && a.last_message == "prolog")
    );
}

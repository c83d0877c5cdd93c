//! The real `fusioninventory-agent` (Debian package) reporting to a running `unyo serve`: a terminal
//! named like this machine is registered and an agent credential created with the CLI, the agent runs
//! once (PROLOG, then INVENTORY, zlib, HTTP Basic after the 401 challenge), and the inventory is stored,
//! matched to the terminal by host name and shown on `/inventory`. A run with a wrong password stores
//! nothing and leaves an `agent.auth_failure` audit entry.
//!
//! Needs `fusioninventory-agent`: with `UNYO_E2E=1` its absence fails the test (CI installs it), with
//! `UNYO_E2E=0` the test is skipped, and otherwise it runs only when the agent is installed.

mod support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::{Server, unyo_command};
use unyo_store::Store;
use unyo_store::audit::AuditQuery;
use unyo_store::inventory::InventoryQuery;

const AGENT_TIMEOUT: Duration = Duration::from_secs(300);

fn which(cmd: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|d| PathBuf::from(d).join(cmd))
        .find(|p| p.is_file())
}

/// The agent, or `None` when the test is to be skipped.
fn agent_program() -> Option<PathBuf> {
    let setting = std::env::var("UNYO_E2E").unwrap_or_default();
    let agent = which("fusioninventory-agent");
    match (setting.trim(), agent) {
        ("0", _) => {
            eprintln!("skipped: real agent test (UNYO_E2E=0)");
            None
        }
        ("1", None) => panic!(
            "UNYO_E2E=1 but fusioninventory-agent is not installed \
             (apt-get install fusioninventory-agent)"
        ),
        (_, None) => {
            eprintln!(
                "skipped: fusioninventory-agent is not installed \
                 (apt-get install fusioninventory-agent; UNYO_E2E=1 makes this test mandatory)"
            );
            None
        }
        (_, Some(a)) => Some(a),
    }
}

/// This machine's short host name, as the agent reports it.
fn short_hostname() -> String {
    let out = Command::new("hostname")
        .arg("-s")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .filter(|h| !h.is_empty());
    out.or_else(|| {
        std::fs::read_to_string("/proc/sys/kernel/hostname")
            .ok()
            .map(|h| h.trim().split('.').next().unwrap_or("").to_string())
    })
    .expect("the host name of this machine")
}

/// Runs `unyo ARGS --data-dir DIR`, asserting success; returns standard output.
fn unyo(dir: &Path, args: &[&str]) -> String {
    let out = unyo_command()
        .args(args)
        .arg("--data-dir")
        .arg(dir)
        .output()
        .expect("run unyo");
    assert!(
        out.status.success(),
        "unyo {args:?} failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// What one agent run left behind.
struct AgentRun {
    success: bool,
    log: String,
}

/// Runs the agent once against `server_url` with its own empty configuration, and removes the state
/// it keeps per server afterwards.
fn run_agent(agent: &Path, port: u16, server_url: &str, user: &str, password: &str) -> AgentRun {
    let dir = tempfile::Builder::new()
        .prefix("unyo-agent-")
        .tempdir()
        .expect("temp dir");
    let conf = dir.path().join("agent.cfg");
    std::fs::write(&conf, "").expect("empty config");
    let log = dir.path().join("agent.log");
    let state = format!("/var/lib/fusioninventory-agent/http:__127.0.0.1:{port}_ocsinventory");
    let _ = std::fs::remove_dir_all(&state);
    let mut child = Command::new(agent)
        .arg(format!("--conf-file={}", conf.display()))
        .arg(format!("--server={server_url}"))
        .arg(format!("--user={user}"))
        .arg(format!("--password={password}"))
        .args([
            "--tasks=inventory",
            "--no-task=deploy,esx,collect,wakeonlan,netdiscovery,netinventory",
            "--no-category=process,environment",
            "--no-httpd",
            "--timeout=60",
            "--debug",
        ])
        .arg(format!("--logfile={}", log.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start fusioninventory-agent");
    let deadline = Instant::now() + AGENT_TIMEOUT;
    let status = loop {
        if let Some(st) = child.try_wait().expect("wait for the agent") {
            break st;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "the agent did not finish within {AGENT_TIMEOUT:?}; its log:\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let _ = std::fs::remove_dir_all(&state);
    AgentRun {
        success: status.success(),
        log: std::fs::read_to_string(&log).unwrap_or_default(),
    }
}

/// The last lines of an agent log, for failure messages.
fn tail(log: &str) -> String {
    let lines: Vec<&str> = log.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}

/// A `GET` with a cookie over HTTP/1.0: status and body.
fn get_with_cookie(addr: SocketAddr, path: &str, cookie: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(30))).ok();
    write!(
        s,
        "GET {path} HTTP/1.0\r\nHost: {addr}\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n"
    )
    .expect("write");
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).expect("read");
    let text = String::from_utf8_lossy(&raw).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

#[tokio::test(flavor = "multi_thread")]
async fn real_fusioninventory_agent_reports_to_unyo() {
    let Some(agent) = agent_program() else {
        return;
    };
    let host = short_hostname();

    // A site and a terminal named like this machine, and an agent credential, with the CLI.
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
        format!(
            "hostname,site_code,kind,serial_number\n{host},KENCHO,business,\n\
             pc-arg-23,KENCHO,representative,\nkencho-lf014,KENCHO,business,8C554721F\n"
        ),
    )
    .unwrap();
    unyo(&dir, &["import", "sites", sites.to_str().unwrap()]);
    unyo(&dir, &["import", "terminals", terminals.to_str().unwrap()]);
    let out = unyo(&dir, &["agent", "credential", "create", "e2e agent"]);
    let field = |name: &str| -> String {
        out.lines()
            .find_map(|l| l.strip_prefix(&format!("{name}: ")))
            .unwrap_or_else(|| panic!("no `{name}:` line in:\n{out}"))
            .trim()
            .to_string()
    };
    let (user, password) = (field("user"), field("password"));

    // `unyo inventory import FILE...`: the sample files, matched by host name and serial number or
    // queued for review; a refused file makes the exit status 1 without stopping the others.
    let samples = support::workspace_root().join("crates/inventory/tests/samples");
    let sample = |n: &str| samples.join(n).to_string_lossy().into_owned();
    let out = unyo(
        &dir,
        &[
            "inventory",
            "import",
            &sample("fusioninventory-2.xml"),
            &sample("glpi-computer_3.json"),
            &sample("glpi-computer_3_updated.json"),
            &sample("fusioninventory-3.xml"),
        ],
    );
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 4, "{out}");
    assert!(lines[0].contains("(pc-arg-23) matched terminal") && lines[0].ends_with("by hostname"));
    assert!(lines[1].contains("(LF014) matched terminal") && lines[1].ends_with("by serial"));
    assert!(lines[2].ends_with("by serial"), "{out}");
    assert!(lines[3].contains("waits for review (unknown)"), "{out}");
    let bad = dir.join("bad.xml");
    std::fs::write(&bad, "<!DOCTYPE x [<!ENTITY a \"a\">]><REQUEST/>").unwrap();
    let refused = unyo_command()
        .args([
            "inventory",
            "import",
            bad.to_str().unwrap(),
            &sample("glpi-computer_1.json"),
        ])
        .arg("--data-dir")
        .arg(&dir)
        .output()
        .expect("run unyo");
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("bad.xml"));
    assert!(String::from_utf8_lossy(&refused.stdout).contains("(glpixps)"));

    let server = Server::start_in(data_dir, ["serve"]);
    let port = server.addr().port();
    let url = server.url("/ocsinventory");
    let store = Store::open_data_dir(&dir).await.expect("open the store");
    let terminal_id = store
        .terminal_choices()
        .await
        .unwrap()
        .into_iter()
        .find(|(_, h, _)| *h == host)
        .map(|(id, _, _)| id)
        .expect("the terminal");

    // 1. The real agent with the right credential.
    let run = run_agent(&agent, port, &url, &user, &password);
    assert!(
        run.success,
        "agent failed; its log:\n{}\n--- server ---\n{}",
        tail(&run.log),
        server.log()
    );
    let latest = store
        .latest_inventory(terminal_id)
        .await
        .unwrap()
        .unwrap_or_else(|| {
            panic!(
                "nothing stored for the terminal; agent log:\n{}\n--- server ---\n{}",
                tail(&run.log),
                server.log()
            )
        });
    assert_eq!(latest.source, "agent");
    let snap = &latest.snapshot;
    assert_eq!(
        snap.hostname
            .as_deref()
            .map(|h| h.split('.').next().unwrap_or("")),
        Some(host.as_str())
    );
    assert!(
        snap.os.name.is_some() && snap.os.build.is_some(),
        "{:?}",
        snap.os
    );
    assert!(
        !snap.software.is_empty(),
        "the agent lists installed packages"
    );
    let summary = store.inventory_summary(latest.id).await.unwrap();
    assert_eq!(summary.matched_by, "hostname");
    assert_eq!(summary.received_by, format!("agent:{user}"));
    assert_eq!(summary.format, "fusion");
    eprintln!(
        "real agent: {} software, OS {:?} build {:?}, body {} bytes",
        snap.software.len(),
        snap.os.full_name,
        snap.os.build,
        summary.body_size
    );

    // It is on /inventory and on the terminal's page.
    let admin = store.user_by_name("admin").await.unwrap().expect("admin");
    let session = store.create_session(admin.id, false).await.unwrap();
    let cookie = format!("unyo_session={}", session.token);
    let (status, page) = get_with_cookie(server.addr(), "/inventory", &cookie);
    assert_eq!(status, 200, "{page}");
    assert!(page.contains(&format!("/inventory/terminals/{terminal_id}")));
    assert!(page.contains(&host));
    assert!(page.contains(&snap.software.len().to_string()));
    let (status, page) = get_with_cookie(
        server.addr(),
        &format!("/inventory/terminals/{terminal_id}"),
        &cookie,
    );
    assert_eq!(status, 200);
    if let Some(build) = &snap.os.build {
        assert!(page.contains(build.as_str()), "OS build on the page");
    }

    // 2. A wrong password: nothing stored, the refusal audited.
    let count = |store: &Store| {
        let store = store.clone();
        async move {
            store
                .inventories(&InventoryQuery::default())
                .await
                .unwrap()
                .total
        }
    };
    let before = count(&store).await;
    let failures_before = store
        .audit_log(&AuditQuery {
            action: Some("agent.auth_failure".into()),
            ..Default::default()
        })
        .await
        .unwrap()
        .total;
    let run = run_agent(&agent, port, &url, &user, "wrong-password");
    assert_eq!(count(&store).await, before, "nothing stored");
    let failures = store
        .audit_log(&AuditQuery {
            action: Some("agent.auth_failure".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(
        failures.total > failures_before,
        "no agent.auth_failure entry; agent log:\n{}",
        tail(&run.log)
    );
    assert_eq!(failures.items[0].actor, format!("agent:{user}"));
    assert_eq!(failures.items[0].source, "127.0.0.1");
    store.close().await;

    // The pages in a real browser, for the screenshots.
    if support::e2e_enabled() {
        let admin_password = server
            .log()
            .lines()
            .find_map(|l| l.trim().strip_prefix("password: ").map(str::to_string))
            .expect("the first administrator's password in the server log");
        let b = support::Browser::start().await;
        b.open(&server.url("/login")).await;
        b.fill("#username", "admin").await;
        b.fill("#password", &admin_password).await;
        b.click("form[action='/login'] button[type=submit]").await;
        let started = Instant::now();
        while b.url().await.contains("/login") {
            assert!(
                started.elapsed() < Duration::from_secs(15),
                "login did not finish"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        b.open(&server.url("/inventory")).await;
        assert!(b.text("#inventory-table").await.contains(&host));
        b.screenshot("inventory-01-overview").await;
        b.open(&server.url(&format!("/inventory/terminals/{terminal_id}")))
            .await;
        b.element("#software").await;
        b.screenshot("inventory-02-agent-terminal").await;
        let lf = page_terminal_id(&b, &server, "kencho-lf014").await;
        b.open(&server.url(&format!("/inventory/terminals/{lf}#history")))
            .await;
        assert!(b.text("#history").await.contains("4.11.3-200.fc25"));
        b.screenshot("inventory-03-history").await;
        b.open(&server.url("/inventory/review")).await;
        assert!(b.text("main").await.contains("MacBook-de-teclib"));
        b.screenshot("inventory-04-review").await;
        b.open(&server.url("/inventory/agents")).await;
        assert!(b.text("#credentials").await.contains(&user));
        b.screenshot("inventory-05-agents").await;
        b.close().await;
    }
}

/// The id of the terminal `hostname`, from the overview's link.
async fn page_terminal_id(b: &support::Browser, server: &Server, hostname: &str) -> i64 {
    b.open(&server.url("/inventory")).await;
    let links = b.elements("#inventory-table th a").await;
    for a in links {
        if a.text().await.unwrap_or_default() == hostname {
            let href = a.attr("href").await.ok().flatten().unwrap_or_default();
            return href
                .rsplit('/')
                .next()
                .and_then(|id| id.parse().ok())
                .expect("terminal id in the link");
        }
    }
    panic!("{hostname} is not on /inventory");
}

//! `cargo xtask cluster-test [--targets N] [--interval I] [--lease L] [--pg-outage]`: three `unyo serve`
//! instances on one fresh PostgreSQL database share the checks of N loopback targets (default 3,000, every
//! I = 5 s, leases of L = 10 s), and
//!
//! 1. every instance takes a share of the 256 shards and nothing is probed twice;
//! 2. one instance is killed with SIGKILL mid-round: within one interval plus the lease time (plus one
//!    beat, the moment the survivors look) every check has a result again;
//! 3. across the run no check has two results in one slot (two results closer than half an interval), no
//!    state change is notified twice (a webhook receiver in this process counts them), and the audit chain
//!    verifies;
//! 4. with `--pg-outage` (and `pg_ctlcluster` at hand), PostgreSQL is stopped for 30 s and started again
//!    (always, even when something fails meanwhile): every instance must go on without a restart, every
//!    check has results again afterwards.
//!
//! The targets: every other one TCP to a listener this process keeps on 0.0.0.0 (it answers on every
//! loopback address), the rest ICMP; the first 200 targets' TCP checks go to a second listener that this
//! process opens and closes every 25 s, so their checks go down and up again and are notified. Nothing
//! leaves the machine: every address is in 127.0.0.0/8.

use crate::bench::{add_bench_user, free_port, wait_http, write_fleet_csvs};
use anyhow::{Context, Result, bail};
use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The database the test makes afresh (and drops when it passes).
const DB: &str = "unyo_cluster_test";
/// The targets whose TCP checks go to the flapping listener.
const FLAPPING: usize = 200;
/// The flapping listener is open, then closed, this long each.
const FLAP: Duration = Duration::from_secs(25);
const INSTANCES: usize = 3;

struct Options {
    targets: usize,
    interval: u64,
    lease: u64,
    outage: bool,
    admin_url: String,
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn addr(i: usize) -> Ipv4Addr {
    let n = i as u32 + 1;
    Ipv4Addr::new(127, 1 + ((n >> 16) & 0x7f) as u8, (n >> 8) as u8, n as u8)
}

fn psql(admin_url: &str, sql: &str) -> Result<String> {
    let out = Command::new("psql")
        .args([admin_url, "-X", "-v", "ON_ERROR_STOP=1", "-tAc", sql])
        .env("PGCONNECT_TIMEOUT", "5")
        .output()
        .context("running psql")?;
    if !out.status.success() {
        bail!("psql: {}", String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn run_capture(bin: &Path, args: &[&str]) -> Result<String> {
    let out = Command::new(bin).args(args).stdin(Stdio::null()).output()?;
    if !out.status.success() {
        bail!(
            "{} {} failed: {}",
            bin.display(),
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).to_string())
}

/// Accepts and drops connections until the process ends.
fn steady_listener(port: u16) -> Result<()> {
    let l = TcpListener::bind(("0.0.0.0", port))?;
    std::thread::spawn(move || {
        for s in l.incoming() {
            drop(s);
        }
    });
    Ok(())
}

/// Opens the port for `FLAP`, closes it for `FLAP`, and so on while `run` holds.
fn flapping_listener(port: u16, run: Arc<AtomicBool>) {
    std::thread::spawn(move || {
        while run.load(Ordering::Relaxed) {
            if let Ok(l) = TcpListener::bind(("0.0.0.0", port)) {
                let _ = l.set_nonblocking(true);
                let until = Instant::now() + FLAP;
                while Instant::now() < until && run.load(Ordering::Relaxed) {
                    match l.accept() {
                        Ok((s, _)) => drop(s),
                        Err(_) => std::thread::sleep(Duration::from_millis(5)),
                    }
                }
            }
            std::thread::sleep(FLAP);
        }
    });
}

/// Notifications received, by event (check, time, from, to).
type Received = Arc<Mutex<HashMap<String, usize>>>;

/// A webhook receiver: one HTTP/1.1 POST per connection, answered 200.
fn webhook_receiver(port: u16, got: Received) -> Result<()> {
    let l = TcpListener::bind(("127.0.0.1", port))?;
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            let got = got.clone();
            std::thread::spawn(move || {
                let _ = receive(s, &got);
            });
        }
    });
    Ok(())
}

fn receive(mut s: TcpStream, got: &Received) -> Result<()> {
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let (head_end, length) = loop {
        let n = s.read(&mut chunk)?;
        if n == 0 {
            bail!("closed early");
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..p]).to_ascii_lowercase();
            let length = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            break (p + 4, length);
        }
    };
    while buf.len() < head_end + length {
        let n = s.read(&mut chunk)?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let body: serde_json::Value = serde_json::from_slice(&buf[head_end..])?;
    let key = format!(
        "{}:{}:{}>{}",
        body["check_id"], body["ts"], body["from"], body["to"]
    );
    if let Ok(mut g) = got.lock() {
        *g.entry(key).or_insert(0) += 1;
    }
    s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")?;
    Ok(())
}

#[derive(Debug, Default, serde::Deserialize)]
struct Slots {
    checks: usize,
    results: usize,
    doubled: usize,
    examples: Vec<String>,
    without: usize,
}

fn slots(bin: &Path, url: &str, since: i64) -> Result<Slots> {
    let out = run_capture(
        bin,
        &[
            "bench",
            "slots",
            "--database-url",
            url,
            "--since",
            &since.to_string(),
        ],
    )?;
    Ok(serde_json::from_str(out.trim())?)
}

/// Waits until every check has a result since `since`; returns how long it took from `from`.
fn wait_all_results(
    bin: &Path,
    url: &str,
    since: i64,
    from: Instant,
    limit: Duration,
) -> Result<Duration> {
    loop {
        let s = slots(bin, url, since)?;
        if s.without == 0 && s.checks > 0 {
            return Ok(from.elapsed());
        }
        if from.elapsed() > limit {
            bail!(
                "{} of {} checks still without a result {:.0?} after the event (limit {:.0?})",
                s.without,
                s.checks,
                from.elapsed(),
                limit
            );
        }
        std::thread::sleep(Duration::from_secs(1));
    }
}

fn status(bin: &Path, url: &str) -> Result<String> {
    run_capture(bin, &["cluster", "status", "--database-url", url])
}

/// Waits until the live instances hold every shard between them, each some.
fn wait_balanced(bin: &Path, url: &str, live: usize, limit: Duration) -> Result<String> {
    let started = Instant::now();
    loop {
        let st = status(bin, url)?;
        let alive: Vec<usize> = st
            .lines()
            .filter(|l| l.split_whitespace().nth(1) == Some("alive"))
            .filter_map(|l| l.split_whitespace().nth(3)?.parse().ok())
            .collect();
        if alive.len() == live && alive.iter().all(|n| *n > 0) && alive.iter().sum::<usize>() == 256
        {
            return Ok(st);
        }
        if started.elapsed() > limit {
            bail!("the shards were not shared by {live} instances within {limit:?}:\n{st}");
        }
        std::thread::sleep(Duration::from_secs(1));
    }
}

struct Instances {
    children: Vec<Option<Child>>,
}

impl Drop for Instances {
    fn drop(&mut self) {
        for c in self.children.iter_mut().flatten() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Starts PostgreSQL again whatever happened (others use it too).
struct PgStopped;

impl Drop for PgStopped {
    fn drop(&mut self) {
        let _ = Command::new("pg_ctlcluster")
            .args(["15", "main", "start"])
            .status();
    }
}

pub fn cluster_test(root: &Path, args: &[String]) -> Result<()> {
    let mut o = Options {
        targets: 3_000,
        interval: 5,
        lease: 10,
        outage: false,
        admin_url: "postgres://postgres@127.0.0.1:5432/postgres".into(),
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = || it.next().context("missing value").map(|s| s.to_string());
        match a.as_str() {
            "--targets" => o.targets = value()?.parse()?,
            "--interval" => o.interval = value()?.parse()?,
            "--lease" => o.lease = value()?.parse()?,
            "--pg-outage" => o.outage = true,
            "--admin-url" => o.admin_url = value()?,
            other => bail!(
                "cluster-test: unknown option `{other}` (--targets N --interval S --lease S --pg-outage --admin-url URL)"
            ),
        }
    }
    if o.targets <= FLAPPING {
        bail!("cluster-test: --targets must be more than {FLAPPING}");
    }
    let started = Instant::now();
    println!("==> cluster test: building the unyo binary");
    let status_ok = Command::new("cargo")
        .args(["build", "-p", "unyo"])
        .current_dir(root)
        .status()?;
    if !status_ok.success() {
        bail!("build failed");
    }
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| root.join("target"));
    let bin = target.join("debug/unyo");

    psql(
        &o.admin_url,
        &format!("DROP DATABASE IF EXISTS {DB} WITH (FORCE)"),
    )?;
    psql(&o.admin_url, &format!("CREATE DATABASE {DB}"))?;
    let url = match o.admin_url.rsplit_once('/') {
        Some((server, _)) => format!("{server}/{DB}"),
        None => bail!("--admin-url names no database"),
    };
    let work = std::env::temp_dir().join(format!("unyo-cluster-test-{}", std::process::id()));
    std::fs::create_dir_all(&work)?;

    // Targets: the first FLAPPING to the flapping port, the rest to the steady one.
    let steady = free_port()?;
    let flap = free_port()?;
    let hook = free_port()?;
    steady_listener(steady)?;
    let flapping = Arc::new(AtomicBool::new(true));
    flapping_listener(flap, flapping.clone());
    let got: Received = Arc::default();
    webhook_receiver(hook, got.clone())?;
    let sites = 100;
    let (sites_csv, first) = write_fleet_csvs(&work, sites, FLAPPING, |i| addr(i).to_string())?;
    let first_csv = work.join("terminals-first.csv");
    std::fs::rename(&first, &first_csv)?;
    let (_, all) = write_fleet_csvs(&work, sites, o.targets, |i| addr(i).to_string())?;
    let text = std::fs::read_to_string(&all)?;
    let mut lines = text.split_inclusive('\n');
    let header = lines.next().unwrap_or_default().to_string();
    let rest: String = header + &lines.skip(FLAPPING).collect::<String>();
    let rest_csv = work.join("terminals-rest.csv");
    std::fs::write(&rest_csv, rest)?;
    let db = ["--database-url", url.as_str()];
    let interval = o.interval.to_string();
    println!(
        "==> {} loopback targets, checks every {} s",
        o.targets, o.interval
    );
    for (kind, file, port) in [
        ("sites", &sites_csv, None),
        ("terminals", &first_csv, Some(flap)),
        ("terminals", &rest_csv, Some(steady)),
    ] {
        let f = file.display().to_string();
        run_capture(&bin, &["import", kind, &f, db[0], db[1]])?;
        if let Some(port) = port {
            let p = port.to_string();
            run_capture(
                &bin,
                &[
                    "bench",
                    "seed-checks",
                    db[0],
                    db[1],
                    "--tcp-port",
                    &p,
                    "--interval",
                    &interval,
                ],
            )?;
        }
    }
    let hook_url = format!("http://127.0.0.1:{hook}/hook");
    run_capture(
        &bin,
        &["bench", "seed-webhook", db[0], db[1], "--url", &hook_url],
    )?;

    // An account first: instances started together on an empty database would each create the first
    // administrator.
    add_bench_user(&bin, &[db[0].to_string(), db[1].to_string()])?;

    // Three instances.
    let lease = o.lease.to_string();
    let mut ports = Vec::new();
    let mut inst = Instances {
        children: Vec::new(),
    };
    for n in 0..INSTANCES {
        let port = free_port()?;
        let listen = format!("127.0.0.1:{port}");
        let log = std::fs::File::create(work.join(format!("instance-{n}.log")))?;
        let child = Command::new(&bin)
            .args([
                "serve",
                db[0],
                db[1],
                "--listen",
                &listen,
                "--lease-seconds",
                &lease,
            ])
            .env("UNYO_LOG", "info,sqlx=warn")
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()?;
        inst.children.push(Some(child));
        ports.push(port);
    }
    for p in &ports {
        wait_http(*p, "/login")?;
    }
    let run_since = unix_now();
    let interval_d = Duration::from_secs(o.interval);
    let lease_d = Duration::from_secs(o.lease);
    let beat = (lease_d / 5).max(Duration::from_secs(1));
    println!("==> three instances up; waiting for them to share the shards");
    let st = wait_balanced(&bin, &url, INSTANCES, lease_d * 3 + Duration::from_secs(20))?;
    print!("{st}");
    let since = unix_now();
    let took = wait_all_results(
        &bin,
        &url,
        since,
        Instant::now(),
        interval_d * 2 + lease_d * 2,
    )?;
    println!("    every check has results ({took:.1?})");
    // Run a while: the flapping targets go down and up.
    std::thread::sleep(FLAP * 2);

    // Kill one instance mid-round.
    let victim = 1;
    let killed_at = Instant::now();
    let killed_since = unix_now();
    if let Some(mut c) = inst.children[victim].take() {
        c.kill()?; // SIGKILL
        c.wait()?;
    }
    println!("==> instance {victim} killed with SIGKILL");
    let limit = interval_d + lease_d + beat;
    // Allowed: the interval plus the lease time plus one beat (the survivors claim at a beat), and the
    // engine's restart over the new shards (a few seconds in a debug build).
    let took = wait_all_results(
        &bin,
        &url,
        killed_since,
        killed_at,
        limit + Duration::from_secs(10),
    )?;
    println!(
        "    every check has results again {took:.1?} after the kill (interval {:?} + lease {:?} + beat {:?} = {:?})",
        interval_d, lease_d, beat, limit
    );
    let st = wait_balanced(&bin, &url, INSTANCES - 1, lease_d * 2)?;
    print!("{st}");
    std::thread::sleep(FLAP);

    if o.outage {
        println!("==> stopping PostgreSQL for 30 s");
        let guard = PgStopped;
        let ok = Command::new("pg_ctlcluster")
            .args(["15", "main", "stop"])
            .status()?;
        if !ok.success() {
            bail!("pg_ctlcluster 15 main stop failed");
        }
        std::thread::sleep(Duration::from_secs(30));
        drop(guard);
        let back = Instant::now();
        let back_since = unix_now() + 1;
        println!("    PostgreSQL started again");
        for (n, c) in inst.children.iter_mut().enumerate() {
            if let Some(c) = c
                && let Some(code) = c.try_wait()?
            {
                bail!("instance {n} ended during the outage ({code})");
            }
        }
        let took = wait_all_results(
            &bin,
            &url,
            back_since,
            back,
            limit * 2 + Duration::from_secs(20),
        )?;
        println!("    every check has results again {took:.1?} after PostgreSQL came back");
        wait_balanced(&bin, &url, INSTANCES - 1, lease_d * 3)?;
    }

    // Stop cleanly, then check the whole run.
    flapping.store(false, Ordering::Relaxed);
    for c in inst.children.iter_mut().flatten() {
        let _ = Command::new("kill")
            .args(["-INT", &c.id().to_string()])
            .status();
    }
    for c in inst.children.iter_mut() {
        if let Some(mut ch) = c.take() {
            let _ = ch.wait();
        }
    }
    std::thread::sleep(Duration::from_secs(2));
    let s = slots(&bin, &url, run_since)?;
    println!(
        "==> {} checks, {} results; pairs in one slot: {} {:?}",
        s.checks, s.results, s.doubled, s.examples
    );
    let got = got.lock().map(|g| g.clone()).unwrap_or_default();
    let twice: Vec<(&String, &usize)> = got.iter().filter(|(_, n)| **n > 1).collect();
    let sent: usize = got.values().sum();
    println!(
        "    notifications: {sent} for {} events; events notified more than once: {}",
        got.len(),
        twice.len()
    );
    let verify = run_capture(&bin, &["audit", "verify", db[0], db[1]])?;
    print!("    {verify}");
    if s.doubled > 0 {
        bail!(
            "{} pairs of results in one slot: {:?}",
            s.doubled,
            s.examples
        );
    }
    if !twice.is_empty() {
        bail!("events notified more than once: {twice:?}");
    }
    if got.is_empty() {
        bail!("no notification arrived (the flapping targets should have gone down)");
    }
    psql(
        &o.admin_url,
        &format!("DROP DATABASE IF EXISTS {DB} WITH (FORCE)"),
    )?;
    let _ = std::fs::remove_dir_all(&work);
    println!("==> cluster test passed in {:.0?}", started.elapsed());
    Ok(())
}

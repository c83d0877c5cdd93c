//! `cargo xtask bench agents`: the agent endpoint under a crowd, printed, never asserted.
//!
//! Serves a fresh SQLite database with the release binary, creates an agent credential with the CLI,
//! then posts FusionInventory inventories of 16 MiB (the endpoint's limit, made from the shape of a
//! real agent's file: its hardware sections and up to 20,000 software entries) from many clients at
//! once, in three rounds: all with the good password, all with a wrong one, then half and half. It
//! prints the server's peak resident memory in each round (sampled every 10 ms) and over the run
//! (`VmHWM`), how many good posts were stored (answered `200` and logged as stored) and how many bad
//! ones were refused (`401`, or `429` once the limiter stops a source).
//!
//! The goal of the issue: under 300 MB with 64 clients, every good post stored, every bad one refused.

use crate::bench::{build_release, free_port, load_average, spawn, wait_http};
use anyhow::{Context, Result, bail};
use base64::Engine as _;
use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

struct Options {
    clients: usize,
    mib: usize,
}

pub fn usage_line() -> &'static str {
    "cargo xtask bench agents [--clients N] [--mib M]"
}

pub fn agents(root: &Path, args: &[String]) -> Result<()> {
    let mut o = Options {
        clients: 64,
        mib: 16,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = || it.next().context("missing value").map(|s| s.to_string());
        match a.as_str() {
            "--clients" => o.clients = value()?.parse()?,
            "--mib" => o.mib = value()?.parse()?,
            other => bail!(
                "bench agents: unknown option {other}\nusage: {}",
                usage_line()
            ),
        }
    }
    let bin = build_release(root)?;
    let work = std::env::temp_dir().join(format!("unyo-bench-agents-{}", std::process::id()));
    std::fs::create_dir_all(&work)?;
    let result = run(root, &bin, &work, &o);
    let _ = std::fs::remove_dir_all(&work);
    println!("\n{}", result?);
    Ok(())
}

/// One inventory body: a head and a tail per client around a shared run of software entries.
struct Body {
    head: Vec<u8>,
    middle: Arc<Vec<u8>>,
    tail: Vec<u8>,
}

impl Body {
    fn len(&self) -> usize {
        self.head.len() + self.middle.len() + self.tail.len()
    }
}

/// The sample's head (up to its first software entry) and tail (after its last), and software entries
/// repeated, padded in a field unyo does not keep, to make `bytes` in all.
fn inventory_parts(root: &Path, bytes: usize) -> Result<(String, Arc<Vec<u8>>, String)> {
    let sample =
        std::fs::read_to_string(root.join("crates/inventory/tests/samples/fusioninventory-1.xml"))?;
    let first = sample.find("<SOFTWARES>").context("no SOFTWARES")?;
    let last = sample.rfind("</SOFTWARES>").context("no SOFTWARES")? + "</SOFTWARES>".len();
    let (head, tail) = (&sample[..first], &sample[last..]);
    let budget = bytes.saturating_sub(head.len() + tail.len() + 1024);
    // The parser keeps at most 20,000 software entries; stay under it.
    let entries = 19_000usize;
    let per_entry = budget / entries;
    let mut middle = Vec::with_capacity(budget);
    for i in 0..entries {
        let start = middle.len();
        write!(
            &mut middle as &mut dyn std::io::Write,
            "<SOFTWARES>\n      <ARCH>x86_64</ARCH>\n      <NAME>bench-package-{i}</NAME>\n      \
             <PUBLISHER>unyo bench</PUBLISHER>\n      <VERSION>1.{i}.0</VERSION>\n      <COMMENTS>"
        )?;
        let close = "</COMMENTS>\n    </SOFTWARES>\n    ";
        let pad = per_entry.saturating_sub(middle.len() - start + close.len());
        middle.extend(std::iter::repeat_n(b'x', pad));
        middle.extend_from_slice(close.as_bytes());
    }
    Ok((head.to_string(), Arc::new(middle), tail.to_string()))
}

fn body_for(head: &str, middle: &Arc<Vec<u8>>, tail: &str, client: usize, round: &str) -> Body {
    let host = format!("bench-{round}-{client:03}");
    // A device id and a host name of its own, so each post is a new inventory.
    let tail = match (tail.find("<DEVICEID>"), tail.find("</DEVICEID>")) {
        (Some(a), Some(b)) => format!(
            "{}<DEVICEID>{host}-2026-12-07-00-00-00{}",
            &tail[..a],
            &tail[b..]
        ),
        _ => tail.to_string(),
    };
    Body {
        head: head.as_bytes().to_vec(),
        middle: Arc::clone(middle),
        tail: tail.into_bytes(),
    }
}

/// Posts one body; the answer's status code (0 when the connection failed).
fn post(port: u16, credential: &str, body: &Body) -> u16 {
    let attempt = || -> std::io::Result<u16> {
        let mut s = TcpStream::connect(("127.0.0.1", port))?;
        s.set_read_timeout(Some(Duration::from_secs(600)))?;
        let auth = base64::engine::general_purpose::STANDARD.encode(credential.as_bytes());
        write!(
            s,
            "POST /ocsinventory HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUser-Agent: FusionInventory-Agent_v2.6\r\n\
             Content-Type: application/xml\r\nAuthorization: Basic {auth}\r\nContent-Length: {}\r\n\
             Connection: close\r\n\r\n",
            body.len()
        )?;
        // A refused post may be answered before its body is sent: stop writing then.
        let mut sent = s.write_all(&body.head);
        for chunk in body.middle.chunks(64 * 1024) {
            if sent.is_err() {
                break;
            }
            sent = s.write_all(chunk);
        }
        if sent.is_ok() {
            let _ = s.write_all(&body.tail);
        }
        let mut answer = Vec::new();
        let _ = s.read_to_end(&mut answer);
        let line = String::from_utf8_lossy(&answer);
        Ok(line
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0))
    };
    attempt().unwrap_or(0)
}

fn status_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix(field))
                .and_then(|v| v.split_whitespace().next()?.parse().ok())
        })
        .unwrap_or(0)
}

struct Round {
    name: &'static str,
    peak_rss_kib: u64,
    seconds: f64,
    good_sent: usize,
    good_ok: usize,
    bad_sent: usize,
    bad_refused: usize,
    other: Vec<u16>,
}

fn round(
    name: &'static str,
    pid: u32,
    port: u16,
    parts: &(String, Arc<Vec<u8>>, String),
    good: &str,
    clients: usize,
    bad_every: Option<usize>,
) -> Round {
    let sampling = Arc::new(AtomicBool::new(true));
    let peak = Arc::new(AtomicU64::new(0));
    let sampler = {
        let (sampling, peak) = (Arc::clone(&sampling), Arc::clone(&peak));
        std::thread::spawn(move || {
            while sampling.load(Ordering::Relaxed) {
                peak.fetch_max(status_kib(pid, "VmRSS:"), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(10));
            }
        })
    };
    let started = Instant::now();
    let threads: Vec<_> = (0..clients)
        .map(|i| {
            let bad = bad_every.is_some_and(|n| i % n == 0);
            let credential = if bad {
                format!("{}x", good)
            } else {
                good.to_string()
            };
            let body = body_for(&parts.0, &parts.1, &parts.2, i, name);
            std::thread::spawn(move || (bad, post(port, &credential, &body)))
        })
        .collect();
    let results: Vec<(bool, u16)> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    let seconds = started.elapsed().as_secs_f64();
    sampling.store(false, Ordering::Relaxed);
    let _ = sampler.join();
    let mut r = Round {
        name,
        peak_rss_kib: peak.load(Ordering::Relaxed),
        seconds,
        good_sent: 0,
        good_ok: 0,
        bad_sent: 0,
        bad_refused: 0,
        other: Vec::new(),
    };
    for (bad, code) in results {
        match (bad, code) {
            (false, 200) => {
                r.good_sent += 1;
                r.good_ok += 1;
            }
            (true, 401 | 429) => {
                r.bad_sent += 1;
                r.bad_refused += 1;
            }
            (false, c) => {
                r.good_sent += 1;
                r.other.push(c);
            }
            (true, c) => {
                r.bad_sent += 1;
                r.other.push(c);
            }
        }
    }
    r
}

fn run(root: &Path, bin: &Path, work: &Path, o: &Options) -> Result<String> {
    let data = work.join("data");
    let data_arg = data.display().to_string();
    let out = Command::new(bin)
        .args([
            "agent",
            "credential",
            "create",
            "bench",
            "--data-dir",
            &data_arg,
        ])
        .stdin(Stdio::null())
        .output()?;
    if !out.status.success() {
        bail!("agent credential create failed");
    }
    let out = String::from_utf8_lossy(&out.stdout);
    let field = |name: &str| {
        out.lines()
            .find_map(|l| l.strip_prefix(&format!("{name}: ")))
            .map(|v| v.trim().to_string())
            .with_context(|| format!("no `{name}:` in the credential output"))
    };
    let good = format!("{}:{}", field("user")?, field("password")?);

    let parts = inventory_parts(root, o.mib * 1024 * 1024 - 4096)?;
    let size = body_for(&parts.0, &parts.1, &parts.2, 0, "x").len();

    let port = free_port()?;
    let log = work.join("serve.log");
    let mut server = spawn(
        bin,
        &[
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--data-dir",
            &data_arg,
        ],
        &log,
    )?;
    let pid = server.id();
    let outcome = (|| -> Result<(Vec<Round>, u64, u64)> {
        wait_http(port, "/healthz")?;
        let idle = status_kib(pid, "VmRSS:");
        let rounds = vec![
            round("good", pid, port, &parts, &good, o.clients, None),
            round("bad", pid, port, &parts, &good, o.clients, Some(1)),
            round("mixed", pid, port, &parts, &good, o.clients, Some(2)),
        ];
        Ok((rounds, idle, status_kib(pid, "VmHWM:")))
    })();
    let _ = server.kill();
    let _ = server.wait();
    let (rounds, idle, hwm) = outcome?;
    let stored = std::fs::read_to_string(&log)
        .unwrap_or_default()
        .matches("inventory received from an agent")
        .count();

    let mut report = String::new();
    writeln!(
        report,
        "agent endpoint under {} concurrent clients, {:.1} MiB FusionInventory bodies (plain XML), \
         release build, SQLite; load average before: {}",
        o.clients,
        size as f64 / 1048576.0,
        load_average()
    )?;
    writeln!(report, "server resident memory idle: {} MB", idle / 1024)?;
    writeln!(
        report,
        "{:<6} {:>10} {:>9} {:>14} {:>15}  other answers",
        "round", "peak RSS", "seconds", "good stored", "bad refused"
    )?;
    let mut good_total = 0;
    let mut all_ok = true;
    for r in &rounds {
        good_total += r.good_ok;
        all_ok &= r.good_ok == r.good_sent && r.bad_refused == r.bad_sent && r.other.is_empty();
        writeln!(
            report,
            "{:<6} {:>7} MB {:>9.1} {:>8}/{:<5} {:>9}/{:<5}  {:?}",
            r.name,
            r.peak_rss_kib / 1024,
            r.seconds,
            r.good_ok,
            r.good_sent,
            r.bad_refused,
            r.bad_sent,
            r.other
        )?;
    }
    writeln!(
        report,
        "peak resident memory over the run (VmHWM): {} MB (goal: under 300 MB)",
        hwm / 1024
    )?;
    writeln!(
        report,
        "inventories logged as stored: {stored} of {good_total} good posts answered 200"
    )?;
    writeln!(
        report,
        "{}",
        if all_ok && stored == good_total && hwm < 300 * 1024 {
            "goal met: every good post stored, every bad one refused, peak under 300 MB"
        } else {
            "goal NOT met (see above)"
        }
    )?;
    Ok(report)
}

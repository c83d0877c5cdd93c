//! `cargo xtask bench board [--targets N] [--sites S] [--seconds T] [--connections C] [--interval I]`: the connectivity
//! status board under load while the engine runs. Figures are printed, never asserted.
//!
//! 1. Imports S sites and N terminals on loopback addresses (127.1.0.1 upwards, as the probe benchmark)
//!    from CSV, then gives every terminal one check in bulk (`unyo bench seed-checks`): every other one TCP
//!    to a listener this process keeps on 0.0.0.0 (it answers on every loopback address), the rest ICMP.
//! 2. Starts `unyo serve` on that SQLite database, so the engine probes all N targets (every I seconds,
//!    default 60), logs in and waits until the board shows results (checks no longer 不明; a check leaves
//!    不明 after three agreeing results, i.e. about two intervals).
//! 3. Drives `/connectivity` and some of its pages and filters with `wrk` for T seconds (default 30) and
//!    prints requests/s, p50, p99 and max, the server's CPU over the run, the load average, and how many
//!    checks had a state before and after.
//! 4. Prints the engine's start lateness (how late its runs started against their schedule) for the
//!    [`BASELINE`] before the load and during the load. The server runs with the probe service's log at
//!    debug level, where it writes one line per 5 s window with that window's p50, p99 and max; the windows
//!    that began and ended inside each period are taken. The p99 over a period is at most the largest
//!    window p99 (no more than 1 % of any window's runs lie above it), which is what is printed.

use crate::bench::{
    add_bench_user, build_release, free_port, load_average, login, need_tools, run_ok_owned,
    wait_http, write_fleet_csvs, wrk,
};
use anyhow::{Context, Result, bail};
use std::net::{Ipv4Addr, TcpListener};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long the engine's lateness is watched without the board load, before it.
const BASELINE: Duration = Duration::from_secs(20);
/// The probe service's log at debug level: its start-lateness lines.
const SERVER_LOG: &str = "info,sqlx=warn,unyo_probe::service=debug";

struct Options {
    targets: usize,
    sites: usize,
    seconds: u32,
    connections: u32,
    interval: u32,
}

/// The board's pages the load rotates through: the first page, later pages of both lists, filters by
/// state and by site code, and a filter matching nothing.
const SCRIPT: &str = r#"
local paths = {
  "/connectivity",
  "/connectivity?page=2",
  "/connectivity?sites_page=3",
  "/connectivity?state=up&sites_page=2",
  "/connectivity?state=unknown",
  "/connectivity?q=S0004",
  "/connectivity?q=%E6%8B%A0%E7%82%B900012&state=down",
  "/connectivity?q=nothing-matches",
}
local n = 0
request = function()
  n = n + 1
  return wrk.format("GET", paths[n % #paths + 1])
end
"#;

/// Terminal `i`'s address: 127.1.0.1 upwards (as `crates/probe/examples/bench_probe.rs`).
fn addr(i: usize) -> Ipv4Addr {
    let n = i as u32 + 1;
    Ipv4Addr::new(127, 1 + ((n >> 16) & 0x7f) as u8, (n >> 8) as u8, n as u8)
}

pub fn board(root: &Path, args: &[String]) -> Result<()> {
    let mut o = Options {
        targets: 100_000,
        sites: 2_000,
        seconds: 30,
        connections: 32,
        interval: 60,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = || it.next().context("missing value").map(|s| s.to_string());
        match a.as_str() {
            "--targets" => o.targets = value()?.parse()?,
            "--sites" => o.sites = value()?.parse()?,
            "--seconds" => o.seconds = value()?.parse()?,
            "--connections" => o.connections = value()?.parse()?,
            "--interval" => o.interval = value()?.parse()?,
            other => bail!("bench board: unknown option {other}"),
        }
    }
    if o.targets == 0 || o.sites == 0 || o.targets > 8_000_000 {
        bail!("bench board: --targets from 1 to 8,000,000 and --sites at least 1");
    }
    need_tools()?;
    let bin = build_release(root)?;
    let work = std::env::temp_dir().join(format!("unyo-bench-board-{}", std::process::id()));
    std::fs::create_dir_all(&work)?;
    let result = run(&bin, &work, &o);
    let _ = std::fs::remove_dir_all(&work);
    let report = result?;
    println!();
    println!("{report}");
    Ok(())
}

fn run(bin: &Path, work: &Path, o: &Options) -> Result<String> {
    // The TCP targets' listener: one socket on every loopback address; connections are accepted and
    // dropped (the probe closes first).
    let listener = TcpListener::bind("0.0.0.0:0")?;
    let tcp_port = listener.local_addr()?.port();
    std::thread::spawn(move || {
        for s in listener.incoming() {
            drop(s);
        }
    });

    let mut report = format!(
        "unyo status board benchmark — {} checks (half TCP, half ICMP, {} s interval) at {} sites, {} connections, {} s\n",
        o.targets, o.interval, o.sites, o.connections, o.seconds
    );
    let data = work.join("data");
    let db = vec!["--data-dir".to_string(), data.display().to_string()];
    let with_db = |head: &[&str]| -> Vec<String> {
        head.iter()
            .map(|s| s.to_string())
            .chain(db.iter().cloned())
            .collect()
    };
    let (sites_csv, terminals_csv) =
        write_fleet_csvs(work, o.sites, o.targets, |i| addr(i).to_string())?;
    let t = Instant::now();
    run_ok_owned(
        bin,
        &with_db(&["import", "sites", &sites_csv.display().to_string()]),
    )?;
    run_ok_owned(
        bin,
        &with_db(&["import", "terminals", &terminals_csv.display().to_string()]),
    )?;
    let imported = t.elapsed();
    let t = Instant::now();
    run_ok_owned(
        bin,
        &with_db(&[
            "bench",
            "seed-checks",
            "--tcp-port",
            &tcp_port.to_string(),
            "--interval",
            &o.interval.to_string(),
        ]),
    )?;
    let seeded = t.elapsed();
    add_bench_user(bin, &db)?;
    report.push_str(&format!(
        "set-up: import {:.1} s, {} checks created in bulk {:.1} s\n",
        imported.as_secs_f64(),
        o.targets,
        seeded.as_secs_f64()
    ));

    let port = free_port()?;
    let listen = format!("127.0.0.1:{port}");
    let args = with_db(&["serve", "--listen", &listen]);
    let log = work.join("serve.log");
    let mut server = spawn_logging(bin, &args, &log)?;
    let result = (|| -> Result<String> {
        wait_http(port, "/healthz")?;
        let cookie = login(work, port)?;
        // The first request builds the snapshot; then wait for the engine's first results.
        let started = Instant::now();
        let first = board_counts(port, &cookie)?;
        let first_ms = started.elapsed().as_secs_f64() * 1000.0;
        let waited = Instant::now();
        let before = loop {
            let c = board_counts(port, &cookie)?;
            if c.unknown < c.checks {
                break c;
            }
            if waited.elapsed() > Duration::from_secs(u64::from(o.interval) * 3 + 60) {
                bail!("no check left 不明 within three intervals and a minute");
            }
            std::thread::sleep(Duration::from_millis(500));
        };
        let mut out = format!(
            "first request (builds the snapshot): {first_ms:.0} ms, {} checks; results after {:.1} s\n",
            first.checks,
            waited.elapsed().as_secs_f64()
        );
        out.push_str(&format!("before the run: {}\n", before.describe()));
        // The engine without the board load, then with it.
        let quiet_from = log_len(&log)?;
        std::thread::sleep(BASELINE);
        let quiet = lateness_windows(&log, quiet_from, log_len(&log)?)?;
        out.push_str(&format!("{} (before)\n", load_average()));
        let load_from = log_len(&log)?;
        let cpu0 = cpu_ticks(server.id())?;
        let t = Instant::now();
        let w = wrk(
            work,
            port,
            Some(&cookie),
            o.connections,
            o.seconds,
            Some(SCRIPT),
        )?;
        let elapsed = t.elapsed().as_secs_f64();
        let cpu = (cpu_ticks(server.id())? - cpu0) as f64 / 100.0 / elapsed * 100.0;
        let loaded = lateness_windows(&log, load_from, log_len(&log)?)?;
        out.push_str(&format!("{} (at the end of the run)\n", load_average()));
        let after = board_counts(port, &cookie)?;
        out.push_str(&format!("after the run: {}\n", after.describe()));
        out.push_str(&format!(
            "status board (8 pages/filters rotating): {:.0} req/s, p50 {:.2} ms, p99 {:.2} ms, max {:.1} ms (goal p99 < 100 ms); server CPU {:.0} % of one core (engine included)\n",
            w.rps, w.p50, w.p99, w.max, cpu
        ));
        out.push_str(&format!(
            "engine start lateness without the board load ({} s before it): {}\n",
            BASELINE.as_secs(),
            describe_lateness(&quiet)
        ));
        out.push_str(&format!(
            "engine start lateness during the board load: {} (goal p99 < 50 ms)\n",
            describe_lateness(&loaded)
        ));
        Ok(out)
    })();
    let _ = server.kill();
    let _ = server.wait();
    report.push_str(&result?);
    Ok(report)
}

/// The board's totals as one request sees them.
struct Counts {
    checks: usize,
    up: usize,
    unknown: usize,
    other: usize,
}

impl Counts {
    fn describe(&self) -> String {
        format!(
            "{} checks: {} 正常, {} 不明, {} other",
            self.checks, self.up, self.unknown, self.other
        )
    }
}

fn board_counts(port: u16, cookie: &str) -> Result<Counts> {
    let out = Command::new("curl")
        .args(["-s", "-H", &format!("Cookie: {cookie}")])
        .arg(format!("http://127.0.0.1:{port}/connectivity"))
        .output()?;
    let page = String::from_utf8_lossy(&out.stdout);
    let number = |id: &str| -> Result<usize> {
        let marker = format!("id=\"{id}\">");
        page.split(&marker)
            .nth(1)
            .and_then(|s| s.split('<').next())
            .and_then(|s| s.trim().parse().ok())
            .with_context(|| format!("no {id} on the board"))
    };
    let checks = number("total-checks")?;
    let up = number("total-up")?;
    let unknown = number("total-unknown")?;
    Ok(Counts {
        checks,
        up,
        unknown,
        other: checks.saturating_sub(up + unknown),
    })
}

/// User plus system CPU time of a process, in clock ticks (100 per second on Linux).
fn cpu_ticks(pid: u32) -> Result<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // Fields after the command name (which may hold spaces) start at the last ')'.
    let rest = stat
        .rsplit_once(')')
        .map(|(_, r)| r)
        .context("unreadable /proc stat")?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the name.
    let utime: u64 = fields.get(11).context("no utime")?.parse()?;
    let stime: u64 = fields.get(12).context("no stime")?.parse()?;
    Ok(utime + stime)
}

/// `unyo serve` with its output in `log` and the probe service's lateness lines switched on.
fn spawn_logging(bin: &Path, args: &[String], log: &Path) -> Result<Child> {
    let file = std::fs::File::create(log)?;
    Ok(Command::new(bin)
        .args(args)
        .env("UNYO_LOG", SERVER_LOG)
        .stdin(Stdio::null())
        .stdout(file.try_clone()?)
        .stderr(file)
        .spawn()?)
}

fn log_len(log: &Path) -> Result<u64> {
    Ok(std::fs::metadata(log)?.len())
}

/// One window of the service's start-lateness log line.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Window {
    runs: u64,
    p50: f64,
    p99: f64,
    max: f64,
}

/// Reads `… start lateness of N runs over S s: p50 A ms, p99 B ms, max C ms` (the message text; fields
/// around it may carry terminal colour codes, the message does not).
fn parse_window(line: &str) -> Option<Window> {
    let rest = line.split("start lateness of ").nth(1)?;
    let runs = rest.split_whitespace().next()?.parse().ok()?;
    let ms = |key: &str| -> Option<f64> {
        rest.split(key)
            .nth(1)?
            .split_whitespace()
            .next()?
            .parse()
            .ok()
    };
    Some(Window {
        runs,
        p50: ms("p50 ")?,
        p99: ms("p99 ")?,
        max: ms("max ")?,
    })
}

/// The lateness windows logged between two lengths of the log, without the first (it began before).
fn lateness_windows(log: &Path, from: u64, to: u64) -> Result<Vec<Window>> {
    let bytes = std::fs::read(log)?;
    let end = usize::try_from(to)?.min(bytes.len());
    let start = usize::try_from(from)?.min(end);
    let text = String::from_utf8_lossy(&bytes[start..end]);
    Ok(text.lines().filter_map(parse_window).skip(1).collect())
}

fn describe_lateness(windows: &[Window]) -> String {
    if windows.is_empty() {
        return "no whole 5 s window logged (run longer)".into();
    }
    let runs: u64 = windows.iter().map(|w| w.runs).sum();
    let mut p50: Vec<f64> = windows.iter().map(|w| w.p50).collect();
    p50.sort_by(f64::total_cmp);
    let p99 = windows.iter().map(|w| w.p99).fold(0.0, f64::max);
    let max = windows.iter().map(|w| w.max).fold(0.0, f64::max);
    format!(
        "{runs} runs in {} windows of 5 s: p50 {:.2} ms (median of the windows; {:.2}–{:.2}), p99 at most {:.2} ms (largest window p99), max {:.2} ms",
        windows.len(),
        p50[p50.len() / 2],
        p50[0],
        p50[p50.len() - 1],
        p99,
        max
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lateness_lines_are_read_with_or_without_colour_codes() {
        let line = "\u{1b}[2m2026-05-01T00:00:00Z\u{1b}[0m \u{1b}[34mDEBUG\u{1b}[0m unyo_probe::service: connectivity: start lateness of 8334 runs over 5.0 s: p50 0.61 ms, p99 4.27 ms, max 17.40 ms";
        assert_eq!(
            parse_window(line),
            Some(Window {
                runs: 8334,
                p50: 0.61,
                p99: 4.27,
                max: 17.4
            })
        );
        assert_eq!(parse_window("INFO unyo: listening"), None);
        let w = [
            Window {
                runs: 10,
                p50: 1.0,
                p99: 3.0,
                max: 9.0,
            },
            Window {
                runs: 20,
                p50: 2.0,
                p99: 5.0,
                max: 7.0,
            },
            Window {
                runs: 30,
                p50: 0.5,
                p99: 4.0,
                max: 8.0,
            },
        ];
        let d = describe_lateness(&w);
        assert!(d.starts_with("60 runs in 3 windows"), "{d}");
        assert!(d.contains("p50 1.00 ms"), "{d}");
        assert!(d.contains("p99 at most 5.00 ms"), "{d}");
        assert!(d.contains("max 9.00 ms"), "{d}");
    }
}

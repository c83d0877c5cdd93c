//! `cargo xtask bench probe --targets N --seconds S`: the engine against N loopback targets (127.0.0.0/8),
//! half TCP (one listener on 0.0.0.0:PORT answers on every loopback address; every tenth TCP target uses a
//! port that stays closed), half ICMP. Results go through the real writer path (batched commits into a
//! temporary SQLite store with roll-ups). Prints checks/s, start lateness, CPU per check, peak RSS, memory per
//! target, database bytes per result, and the same sweep by `fping` and `nmap -sT` when installed.
//! Figures are printed, never asserted.

use std::net::{IpAddr, Ipv4Addr};
use std::process::Command;
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use unyo_domain::connectivity::{CheckSettings, ProbeSpec, ProbeStatus};
use unyo_probe::{Engine, EngineConfig, ResultRecord, Scheduled, icmp_mode, percentile};
use unyo_store::connectivity::NewResult;
use unyo_store::{Actor, Store};

fn arg(args: &[String], name: &str, default: u64) -> u64 {
    args.windows(2)
        .find(|w| w[0] == name)
        .and_then(|w| w[1].parse().ok())
        .unwrap_or(default)
}

/// (utime+stime of this process, of its waited-for children) in microseconds.
fn cpu_us() -> (u64, u64) {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<u64> = after
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0))
        .collect();
    // After the command name: state is field 0, utime 11, stime 12, cutime 13, cstime 14 (clock ticks).
    let tick = 10_000; // 100 Hz
    let g = |i: usize| f.get(i).copied().unwrap_or(0) * tick;
    (g(11) + g(12), g(13) + g(14))
}

fn status_kb(key: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.split_whitespace().next().and_then(|n| n.parse().ok()))
        .unwrap_or(0)
}

fn addr(i: usize) -> Ipv4Addr {
    // 127.1.0.1 upwards (never 127.0.0.0/24 edge cases, never outside 127.0.0.0/8).
    let n = i as u32 + 1;
    Ipv4Addr::new(127, 1 + ((n >> 16) & 0x7f) as u8, (n >> 8) as u8, n as u8)
}

fn dir_bytes(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .filter_map(|e| e.metadata().ok())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let n = arg(&args, "--targets", 1000) as usize;
    let seconds = arg(&args, "--seconds", 10);
    let interval = arg(&args, "--interval", (seconds / 2).clamp(1, 60)) as u32;
    let concurrency = arg(&args, "--concurrency", 1024) as usize;

    let open = TcpListener::bind("0.0.0.0:0").await?;
    let port = open.local_addr()?.port();
    tokio::spawn(async move { while open.accept().await.is_ok() {} });
    let closed = {
        let l = TcpListener::bind("0.0.0.0:0").await?;
        l.local_addr()?.port()
    };

    let rss0 = status_kb("VmRSS:");
    let icmp_ok = icmp_mode() != unyo_probe::IcmpMode::None;
    let settings = CheckSettings {
        interval_s: interval,
        timeout_ms: 1000,
        retries: 0,
        degraded_ms: 500,
        flap_n: 3,
    };
    let mut tcp_addrs = Vec::new();
    let mut icmp_addrs = Vec::new();
    let checks: Vec<Scheduled> = (0..n)
        .map(|i| {
            let a = addr(i);
            let spec = if i % 2 == 0 || !icmp_ok {
                tcp_addrs.push(a);
                ProbeSpec::Tcp {
                    addr: IpAddr::V4(a),
                    port: if i % 10 == 0 { closed } else { port },
                }
            } else {
                icmp_addrs.push(a);
                ProbeSpec::Icmp {
                    addr: IpAddr::V4(a),
                }
            };
            Scheduled {
                id: i as i64 + 1,
                spec,
                settings,
            }
        })
        .collect();
    let rss_targets = status_kb("VmRSS:");

    let dir = std::env::temp_dir().join(format!("unyo-bench-probe-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let url = unyo_store::sqlite_url(&dir.join("unyo.db"));
    // Open once to migrate, close (checkpoints the WAL into the file), measure, reopen.
    Store::open(&url).await?.close().await;
    let db0 = dir_bytes(&dir);
    let store = Store::open(&url).await?;
    let actor = Actor::system("bench");

    println!(
        "unyo probe benchmark — {n} targets ({} TCP incl. every 10th closed, {} ICMP{}), interval {interval} s, {seconds} s, concurrency {concurrency}",
        tcp_addrs.len(),
        icmp_addrs.len(),
        if icmp_ok {
            format!(", ICMP mode {:?}", icmp_mode())
        } else {
            " — ICMP not permitted here".into()
        }
    );
    let (tx, mut rx) = mpsc::channel::<ResultRecord>(65_536);
    let cpu0 = cpu_us().0;
    let t0 = Instant::now();
    let engine = Engine::spawn(
        checks,
        EngineConfig {
            concurrency,
            jitter: true,
        },
        tx,
    );
    let mut lateness = Vec::new();
    let mut batch: Vec<NewResult> = Vec::new();
    let (mut up, mut down, mut other) = (0u64, 0u64, 0u64);
    let mut commits = 0u64;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(seconds);
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tokio::select! {
            _ = tokio::time::sleep_until(deadline) => break,
            r = rx.recv() => {
                let Some(r) = r else { break };
                match r.status {
                    ProbeStatus::Up | ProbeStatus::Degraded => up += 1,
                    ProbeStatus::Down => down += 1,
                    ProbeStatus::Unknown => other += 1,
                }
                lateness.push(r.lateness);
                batch.push(NewResult { check_id: r.check_id, ts: r.ts, code: r.status.code(), latency_ms: r.latency_ms });
                if batch.len() >= 5000 {
                    store.append_check_results(&actor, &batch).await?;
                    commits += 1;
                    batch.clear();
                }
            }
            _ = tick.tick() => {
                if !batch.is_empty() {
                    store.append_check_results(&actor, &batch).await?;
                    commits += 1;
                    batch.clear();
                }
            }
        }
    }
    engine.stop();
    if !batch.is_empty() {
        store.append_check_results(&actor, &batch).await?;
        commits += 1;
    }
    let elapsed = t0.elapsed().as_secs_f64();
    let cpu = cpu_us().0 - cpu0;
    let results = up + down + other;
    store.close().await;
    let db1 = dir_bytes(&dir);
    lateness.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "results            {results} ({up} up, {down} down, {other} unknown) in {elapsed:.1} s, {commits} commits"
    );
    println!("checks/s           {:.0}", results as f64 / elapsed);
    println!(
        "start lateness     p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        ms(percentile(&lateness, 0.5)),
        ms(percentile(&lateness, 0.99)),
        ms(lateness.last().copied().unwrap_or_default())
    );
    let per_check = if results > 0 {
        cpu as f64 / results as f64
    } else {
        0.0
    };
    println!(
        "CPU                {:.2} s total ({:.0}% of one core), {per_check:.1} µs per check (engine + writer + SQLite)",
        cpu as f64 / 1e6,
        cpu as f64 / 1e6 / elapsed * 100.0
    );
    println!("peak RSS           {} KiB", status_kb("VmHWM:"));
    println!(
        "memory per target  {:.0} bytes (RSS growth for the target list; engine state adds the scheduler heap entry, ~24 B)",
        (rss_targets.saturating_sub(rss0) * 1024) as f64 / n.max(1) as f64
    );
    let per_result = if results > 0 {
        (db1.saturating_sub(db0)) as f64 / results as f64
    } else {
        0.0
    };
    println!(
        "database           {} bytes grown, {per_result:.1} bytes per result (raw row + index + hourly/daily roll-ups, SQLite incl. WAL)",
        db1.saturating_sub(db0)
    );
    let _ = std::fs::remove_dir_all(&dir);

    // The same targets swept by fping (ICMP) and nmap -sT (TCP), if installed.
    let ours_icmp_cpu = per_check;
    if !icmp_addrs.is_empty() && Command::new("fping").arg("-v").output().is_ok() {
        let c0 = cpu_us().1;
        let t = Instant::now();
        let out = Command::new("fping")
            .args(["-q", "-c", "1", "-t", "1000", "-i", "1", "-r", "0"])
            .args(icmp_addrs.iter().map(|a| a.to_string()))
            .output()?;
        let wall = t.elapsed().as_secs_f64();
        let c = cpu_us().1 - c0;
        let fping_per = c as f64 / icmp_addrs.len() as f64;
        println!(
            "fping              {} ICMP targets in {wall:.2} s ({:.0}/s), {fping_per:.1} µs CPU per probe (exit {})",
            icmp_addrs.len(),
            icmp_addrs.len() as f64 / wall,
            out.status.code().unwrap_or(-1)
        );
        if fping_per > 0.0 {
            println!(
                "  ratio            our CPU per check / fping's = {:.2}",
                ours_icmp_cpu / fping_per
            );
        } else {
            println!("  ratio            fping's CPU below the 10 ms clock tick; no ratio");
        }
    } else {
        println!("fping              not run (not installed, or no ICMP targets)");
    }
    if !tcp_addrs.is_empty() && Command::new("nmap").arg("--version").output().is_ok() {
        let c0 = cpu_us().1;
        let t = Instant::now();
        let out = Command::new("nmap")
            .args(["-sT", "-Pn", "-n", "-T5", "--max-retries", "0", "-p"])
            .arg(format!("{port},{closed}"))
            .args(tcp_addrs.iter().map(|a| a.to_string()))
            .output()?;
        let wall = t.elapsed().as_secs_f64();
        let c = cpu_us().1 - c0;
        let probes = tcp_addrs.len() * 2;
        let nmap_per = c as f64 / probes as f64;
        println!(
            "nmap -sT           {probes} TCP probes in {wall:.2} s ({:.0}/s), {nmap_per:.1} µs CPU per probe (exit {})",
            probes as f64 / wall,
            out.status.code().unwrap_or(-1)
        );
        if nmap_per > 0.0 {
            println!(
                "  ratio            our CPU per check / nmap's = {:.2}",
                per_check / nmap_per
            );
        }
    } else {
        println!("nmap               not run (not installed)");
    }
    Ok(())
}

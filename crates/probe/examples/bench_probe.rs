//! `cargo xtask bench probe --targets N --seconds S`: the engine against N loopback targets (127.0.0.0/8),
//! half TCP (one listener on 0.0.0.0:PORT answers on every loopback address; every tenth TCP target uses a
//! port that stays closed), half ICMP. Every result goes through the service's own writer
//! (`service::Writer`: the evaluator with its flap damper, batched commits into a temporary SQLite store
//! with roll-ups, and the retention run every `--prune-every` seconds with a short cut-off so that it
//! really deletes). The targets are stable, so every state change after a check's first state is a false
//! one and is counted. Then a separate store is filled with a realistic sample (60 s interval) to measure
//! the bytes per stored raw result, hourly and daily roll-up, and what a retention run costs on a large
//! raw table. Prints checks/s, start lateness (overall, after the first cycle, while retention runs), CPU,
//! RSS, bytes per result, false state changes, growth per target-year, and the same sweep by `fping` and
//! `nmap -sT` when installed. Figures are printed, never asserted.

use std::collections::VecDeque;
use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use unyo_domain::connectivity::{CheckSettings, ProbeSpec, ProbeStatus, State};
use unyo_probe::service::{ServiceConfig, Writer};
use unyo_probe::{
    CheckPlace, Engine, EngineConfig, Evaluator, ResultRecord, Scheduled, icmp_mode, percentile,
};
use unyo_store::connectivity::{HOUR, NewResult};
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

fn proc_kv(file: &str, key: &str) -> u64 {
    std::fs::read_to_string(file)
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.split_whitespace().next().and_then(|n| n.parse().ok()))
        .unwrap_or(0)
}

fn status_kb(key: &str) -> u64 {
    proc_kv("/proc/self/status", key)
}

/// Bytes this process caused to be written to storage (the database, its WAL and checkpoints).
fn write_bytes() -> u64 {
    proc_kv("/proc/self/io", "write_bytes:")
}

fn addr(i: usize) -> Ipv4Addr {
    // 127.1.0.1 upwards (never 127.0.0.0/24 edge cases, never outside 127.0.0.0/8).
    let n = i as u32 + 1;
    Ipv4Addr::new(127, 1 + ((n >> 16) & 0x7f) as u8, (n >> 8) as u8, n as u8)
}

fn dir_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .filter_map(|e| e.metadata().ok())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Start lateness in 10 µs buckets (exact up to 10 s, beyond that counted in the last bucket; the maximum is
/// kept exactly): a fixed size, so that a long soak's samples do not inflate the RSS being measured.
struct Lateness {
    buckets: Vec<u32>,
    n: u64,
    max: Duration,
}

impl Lateness {
    const STEP_US: u64 = 10;
    const BUCKETS: usize = 1_000_000;

    fn new() -> Lateness {
        Lateness {
            buckets: vec![0; Self::BUCKETS],
            n: 0,
            max: Duration::ZERO,
        }
    }

    fn add(&mut self, d: Duration) {
        let i = (d.as_micros() as u64 / Self::STEP_US).min(Self::BUCKETS as u64 - 1) as usize;
        self.buckets[i] += 1;
        self.n += 1;
        self.max = self.max.max(d);
    }

    /// The upper edge of the bucket holding the `p` quantile.
    fn quantile(&self, p: f64) -> Duration {
        let rank = ((self.n as f64 - 1.0) * p).round() as u64 + 1;
        let mut seen = 0u64;
        for (i, c) in self.buckets.iter().enumerate() {
            seen += u64::from(*c);
            if seen >= rank {
                return Duration::from_micros((i as u64 + 1) * Self::STEP_US).min(self.max);
            }
        }
        self.max
    }

    fn line(&self, label: &str) {
        if self.n == 0 {
            println!("{label:<19}no samples");
            return;
        }
        println!(
            "{label:<19}p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms ({} runs)",
            ms(self.quantile(0.5)),
            ms(self.quantile(0.99)),
            ms(self.max),
            self.n
        );
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let n = arg(&args, "--targets", 1000) as usize;
    let seconds = arg(&args, "--seconds", 10);
    let interval = arg(&args, "--interval", (seconds / 2).clamp(1, 60)) as u32;
    let concurrency = arg(&args, "--concurrency", 1024) as usize;
    // A cut-off short enough that retention deletes during the run (the service keeps 7 days).
    let raw_retention = arg(&args, "--raw-retention-seconds", (seconds / 2).clamp(5, 60));
    let hourly_retention = arg(&args, "--hourly-retention-seconds", raw_retention);
    let prune_every = arg(&args, "--prune-every", 10).max(1);
    let growth_checks = arg(&args, "--growth-checks", 100_000) as usize;
    let growth_hours = arg(&args, "--growth-hours", 2).max(1);
    // One interval by default, so that every ICMP target is probed once, as fping sweeps each once.
    let icmp_only_seconds = arg(
        &args,
        "--icmp-only-seconds",
        u64::from(interval).clamp(5, 60),
    );

    // `--seconds 0` skips the live run (e.g. to profile the ICMP-only phase alone).
    if seconds > 0 {
        live_run(Live {
            n,
            seconds,
            interval,
            concurrency,
            raw_retention,
            hourly_retention,
            prune_every,
            prefill: arg(&args, "--prefill-hour", 1) != 0,
        })
        .await?;
    }
    if icmp_only_seconds > 0 {
        // The live run's ICMP half: every odd index (see `live_run`).
        let icmp_addrs: Vec<Ipv4Addr> = (0..n).filter(|i| i % 2 == 1).map(addr).collect();
        icmp_only(&icmp_addrs, icmp_only_seconds, interval, concurrency).await?;
    }
    if growth_checks > 0 {
        growth(growth_checks, growth_hours).await?;
    }
    Ok(())
}

/// The live run's settings (see `main` for their flags).
struct Live {
    n: usize,
    seconds: u64,
    interval: u32,
    concurrency: usize,
    raw_retention: u64,
    hourly_retention: u64,
    prune_every: u64,
    prefill: bool,
}

async fn live_run(o: Live) -> anyhow::Result<()> {
    let Live {
        n,
        seconds,
        interval,
        concurrency,
        raw_retention,
        hourly_retention,
        prune_every,
        prefill,
    } = o;
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
    // What each check must settle on; anything after that is a false state change.
    let mut expected = Vec::with_capacity(n);
    let checks: Vec<Scheduled> = (0..n)
        .map(|i| {
            let a = addr(i);
            let spec = if i % 2 == 0 || !icmp_ok {
                tcp_addrs.push(a);
                let is_closed = i % 10 == 0;
                expected.push(if is_closed { State::Down } else { State::Up });
                ProbeSpec::Tcp {
                    addr: IpAddr::V4(a),
                    port: if is_closed { closed } else { port },
                }
            } else {
                icmp_addrs.push(a);
                expected.push(State::Up);
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
    let places: Vec<CheckPlace> = checks
        .iter()
        .map(|c| CheckPlace {
            check_id: c.id,
            flap_n: settings.flap_n,
            ..Default::default()
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
    // A whole hour of results for these checks, two hours back, left in the log: the first retention
    // run seals it beside the engine, as the service does when an hour is over, so the lateness while
    // retention runs includes a full-size seal.
    let mut prefilled = 0u64;
    if prefill {
        let t = Instant::now();
        let start = (chrono::Utc::now().timestamp() / HOUR - 2) * HOUR;
        let actor = Actor::system("bench");
        let mut batch = Vec::with_capacity(n / 60 + 1);
        for sec in 0..HOUR {
            for c in ((sec % 60) as usize..n).step_by(60) {
                batch.push(NewResult {
                    check_id: c as i64 + 1,
                    ts: start + sec,
                    code: ProbeStatus::Up.code(),
                    latency_ms: Some(1 + (c % 7) as u32),
                });
            }
            store.append_check_results(&actor, &batch).await?;
            prefilled += batch.len() as u64;
            batch.clear();
        }
        println!(
            "prefill            {prefilled} results of one hour, two hours back, left to seal ({:.1} s)",
            t.elapsed().as_secs_f64()
        );
    }
    let config = ServiceConfig {
        retention: Duration::from_secs(raw_retention),
        hourly_retention: Duration::from_secs(hourly_retention),
        ..Default::default()
    };
    let mut writer = Writer::new(
        store.clone(),
        Actor::system("bench"),
        Evaluator::new(places, vec![]),
        config,
    );

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
    println!(
        "retention          every {prune_every} s: raw results older than {raw_retention} s, hourly roll-ups older than {hourly_retention} s (the service: 7 days / 35 days, hourly)"
    );
    let (tx, mut rx) = mpsc::channel::<ResultRecord>(config.result_queue());
    let cpu0 = cpu_us().0;
    let wb0 = write_bytes();
    let t0 = Instant::now();
    let engine = Engine::spawn(
        checks,
        EngineConfig {
            concurrency,
            jitter: true,
        },
        tx,
    );
    // The first cycle is when every check gets its first state (one event, hence one commit, per result).
    let first_cycle_end = t0 + Duration::from_secs(u64::from(interval)) + Duration::from_secs(2);
    // CPU, bytes written and results when the first cycle ended, for the steady-state figures.
    let mut at_first: Option<(u64, Instant, u64, u64)> = None;
    let mut lateness = Lateness::new();
    let mut lateness_steady = Lateness::new();
    let mut lateness_pruning = Lateness::new();
    let mut prune_windows: VecDeque<(Instant, Instant)> = VecDeque::new();
    let mut prune_times = Vec::new();
    let (mut pruned_raw, mut pruned_hourly, mut sealed) = (0u64, 0u64, 0u64);
    let mut first: Vec<Option<State>> = vec![None; n];
    let (mut wrong_first, mut false_changes) = (0u64, 0u64);
    // Of the false changes: away from the expected state (a flap the damper let through), and back to it
    // after a wrong first state (from 不明 the first result decides, so a slow first run sets one).
    let (mut away, mut back) = (0u64, 0u64);
    let mut false_samples: Vec<String> = Vec::new();
    let (mut up, mut degraded, mut down, mut unknown) = (0u64, 0u64, 0u64, 0u64);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(seconds);
    let mut tick = tokio::time::interval(config.flush_every);
    let mut prune_at = Instant::now() + Duration::from_secs(prune_every);
    // As in the service: each check's last result stored once a minute.
    let mut last_at = Instant::now() + config.last_every;
    let mut pruning: Option<(
        Instant,
        tokio::task::JoinHandle<unyo_probe::service::Pruned>,
    )> = None;
    loop {
        tokio::select! {
            _ = tokio::time::sleep_until(deadline) => break,
            r = rx.recv() => {
                let Some(r) = r else { break };
                match r.status {
                    ProbeStatus::Up => up += 1,
                    ProbeStatus::Degraded => degraded += 1,
                    ProbeStatus::Down => down += 1,
                    ProbeStatus::Unknown => unknown += 1,
                }
                lateness.add(r.lateness);
                if r.started >= first_cycle_end {
                    lateness_steady.add(r.lateness);
                }
                // Runs that started while a retention run was deleting beside the writer.
                let in_prune = prune_windows.iter().rev().take(4).any(|(s, e)| r.started >= *s && r.started <= *e)
                    || pruning.as_ref().is_some_and(|(s, _)| r.started >= *s);
                if in_prune {
                    lateness_pruning.add(r.lateness);
                }
                if let Some(ev) = writer.push(&r).await {
                    let i = (ev.check_id - 1) as usize;
                    let c = &ev.change;
                    match first[i] {
                        None => {
                            first[i] = Some(c.to);
                            if c.to != expected[i] {
                                wrong_first += 1;
                            }
                        }
                        Some(_) => {
                            false_changes += 1;
                            let is_back = c.from != expected[i] && c.to == expected[i];
                            if is_back {
                                back += 1;
                            } else {
                                away += 1;
                            }
                            // Show the flaps first; a few corrections only when there is room.
                            if false_samples.len() < if is_back { 3 } else { 10 } {
                                false_samples.push(format!(
                                    "check {} at {:.0} s: {} → {} ({})",
                                    ev.check_id,
                                    t0.elapsed().as_secs_f64(),
                                    c.from.as_str(),
                                    c.to.as_str(),
                                    c.cause
                                ));
                            }
                        }
                    }
                }
            }
            _ = tick.tick() => {
                writer.flush().await;
                let now = Instant::now();
                if now >= last_at {
                    writer.flush_last().await;
                    last_at = now + config.last_every;
                }
                if at_first.is_none() && now >= first_cycle_end {
                    at_first = Some((cpu_us().0, now, write_bytes(), up + degraded + down + unknown));
                }
                if now >= prune_at && pruning.is_none() {
                    // As in the service: the retention runs in its own task beside the writer.
                    let retention = writer.retention();
                    pruning = Some((
                        now,
                        tokio::spawn(async move { retention.run(chrono::Utc::now().timestamp()).await }),
                    ));
                    prune_at = now + Duration::from_secs(prune_every);
                }
            }
            p = async { (&mut pruning.as_mut().expect("guarded").1).await }, if pruning.is_some() => {
                let (began, _) = pruning.take().expect("guarded");
                let end = Instant::now();
                let p = p.unwrap_or_default();
                pruned_raw += p.raw;
                pruned_hourly += p.hourly;
                sealed += p.sealed;
                prune_times.push(end - began);
                prune_windows.push_back((began, end));
                if prune_windows.len() > 8 {
                    prune_windows.pop_front();
                }
            }
        }
    }
    engine.stop();
    writer.flush().await;
    let elapsed = t0.elapsed().as_secs_f64();
    let cpu_end = cpu_us().0;
    let cpu = cpu_end - cpu0;
    let written_end = write_bytes();
    let written = written_end.saturating_sub(wb0);
    let results = up + degraded + down + unknown;
    store.close().await;
    let db1 = dir_bytes(&dir);

    println!(
        "results            {results} ({up} up, {degraded} degraded, {down} down, {unknown} unknown) in {elapsed:.1} s, {} commits ({} failed)",
        writer.commits, writer.failed_commits
    );
    println!("checks/s           {:.0}", results as f64 / elapsed);
    lateness.line("start lateness");
    lateness_steady.line("  after 1st cycle");
    lateness_pruning.line("  while pruning");
    prune_times.sort();
    println!(
        "retention runs     {} ({sealed} results sealed, {pruned_raw} raw results and {pruned_hourly} hourly roll-ups deleted), each p50 {:.1} ms, max {:.1} ms",
        prune_times.len(),
        ms(percentile(&prune_times, 0.5)),
        ms(prune_times.last().copied().unwrap_or_default())
    );
    let settled = first.iter().filter(|s| s.is_some()).count();
    println!(
        "false state changes: {false_changes} (after each check's first state: {away} away from the expected state, {back} back to it after a wrong first state; {settled} of {n} checks settled, {wrong_first} first on an unexpected state)"
    );
    for s in &false_samples {
        println!("  {s}");
    }
    let per_check = if results > 0 {
        cpu as f64 / results as f64
    } else {
        0.0
    };
    println!(
        "CPU                {:.2} s total ({:.0}% of one core), {per_check:.1} µs per check (engine + evaluator + writer + SQLite + the loopback listener)",
        cpu as f64 / 1e6,
        cpu as f64 / 1e6 / elapsed * 100.0
    );
    let steady =
        at_first.filter(|(_, i1, _, r1)| i1.elapsed().as_secs_f64() > 1.0 && results > *r1);
    if let Some((c1, i1, _, r1)) = steady {
        let c = (cpu_end - c1) as f64;
        println!(
            "  after 1st cycle  {:.0}% of one core, {:.1} µs per check",
            c / 1e6 / i1.elapsed().as_secs_f64() * 100.0,
            c / (results - r1) as f64
        );
    }
    println!("peak RSS           {} KiB", status_kb("VmHWM:"));
    println!(
        "memory per target  {:.0} bytes (RSS growth for the target list; engine state adds the scheduler heap entry, ~24 B)",
        (rss_targets.saturating_sub(rss0) * 1024) as f64 / n.max(1) as f64
    );
    let per = |b: u64| {
        if results > 0 {
            b as f64 / results as f64
        } else {
            0.0
        }
    };
    println!(
        "database           {} bytes at the end ({:.1} per result; pruned rows leave free pages that later rows reuse)",
        db1.saturating_sub(db0),
        per(db1.saturating_sub(db0))
    );
    println!(
        "written to storage {written} bytes, {:.1} per result (log rows, last results, events, seals, WAL and checkpoints{})",
        per(written),
        if sealed > 0 {
            format!(
                "; includes sealing {sealed} results, i.e. {:.1} per result sealed or run",
                written as f64 / (results + sealed) as f64
            )
        } else {
            String::new()
        }
    );
    if let Some((_, _, w1, r1)) = steady {
        println!(
            "  after 1st cycle  {:.1} per result",
            written_end.saturating_sub(w1) as f64 / (results - r1) as f64
        );
    }
    let _ = std::fs::remove_dir_all(&dir);

    // The same targets swept by fping (ICMP) and nmap -sT (TCP), if installed.
    if let Some(fping_per) = fping_sweep(&icmp_addrs, "fping")? {
        println!(
            "  ratio            our CPU per check / fping's = {:.2}",
            per_check / fping_per
        );
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

/// Sweeps `addrs` once with `fping -c 1` and returns its CPU per probe in µs (None when fping is missing
/// or its CPU fell below the clock tick).
fn fping_sweep(addrs: &[Ipv4Addr], label: &str) -> anyhow::Result<Option<f64>> {
    if addrs.is_empty() || Command::new("fping").arg("-v").output().is_err() {
        println!("{label:<19}not run (not installed, or no ICMP targets)");
        return Ok(None);
    }
    let c0 = cpu_us().1;
    let t = Instant::now();
    let out = Command::new("fping")
        .args(["-q", "-c", "1", "-t", "1000", "-i", "1", "-r", "0"])
        .args(addrs.iter().map(|a| a.to_string()))
        .output()?;
    let wall = t.elapsed().as_secs_f64();
    let c = cpu_us().1 - c0;
    let per = c as f64 / addrs.len() as f64;
    println!(
        "{label:<19}{} ICMP targets in {wall:.2} s ({:.0}/s), {per:.1} µs CPU per probe (exit {})",
        addrs.len(),
        addrs.len() as f64 / wall,
        out.status.code().unwrap_or(-1)
    );
    if per == 0.0 {
        println!("  ratio            fping's CPU below the 10 ms clock tick; no ratio");
    }
    Ok((per > 0.0).then_some(per))
}

/// The probe path alone: the live run's ICMP targets run by the real engine at the same interval (hence
/// the same ICMP rate), each result taken by a sink that only counts it (no evaluator, no store), for
/// `seconds`; then the same targets swept by `fping -c 1`. CPU per check is measured as in the live run
/// (process CPU / results, 10 ms tick), so the ratio to fping compares probing with probing.
async fn icmp_only(
    addrs: &[Ipv4Addr],
    seconds: u64,
    interval: u32,
    concurrency: usize,
) -> anyhow::Result<()> {
    if addrs.is_empty() || icmp_mode() == unyo_probe::IcmpMode::None {
        println!("ICMP only          not run (no ICMP targets, or ICMP not permitted here)");
        return Ok(());
    }
    let settings = CheckSettings {
        interval_s: interval,
        timeout_ms: 1000,
        retries: 0,
        degraded_ms: 500,
        flap_n: 3,
    };
    let checks: Vec<Scheduled> = addrs
        .iter()
        .enumerate()
        .map(|(i, a)| Scheduled {
            id: i as i64 + 1,
            spec: ProbeSpec::Icmp {
                addr: IpAddr::V4(*a),
            },
            settings,
        })
        .collect();
    let (tx, mut rx) = mpsc::channel::<ResultRecord>(4000);
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
    let (mut up, mut other) = (0u64, 0u64);
    let mut lateness = Lateness::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(seconds);
    loop {
        tokio::select! {
            _ = tokio::time::sleep_until(deadline) => break,
            r = rx.recv() => {
                let Some(r) = r else { break };
                lateness.add(r.lateness);
                if r.status == ProbeStatus::Up { up += 1 } else { other += 1 }
            }
        }
    }
    engine.stop();
    let elapsed = t0.elapsed().as_secs_f64();
    let cpu = cpu_us().0 - cpu0;
    let results = up + other;
    let per_check = cpu as f64 / results.max(1) as f64;
    println!(
        "ICMP only          {} targets, interval {interval} s, {seconds} s, mode {:?}: {results} results ({up} up, {other} not) in {elapsed:.1} s, {:.0} checks/s",
        addrs.len(),
        icmp_mode(),
        results as f64 / elapsed
    );
    lateness.line("  start lateness");
    println!(
        "  CPU              {:.2} s total ({:.0}% of one core), {per_check:.1} µs per check (engine + probes, results counted only)",
        cpu as f64 / 1e6,
        cpu as f64 / 1e6 / elapsed * 100.0
    );
    if let Some(fping_per) = fping_sweep(addrs, "  fping")? {
        println!(
            "  ratio            our CPU per ICMP check / fping's = {:.2}",
            per_check / fping_per
        );
    }
    Ok(())
}

/// Size of a compacted copy of the database (`VACUUM INTO`, the store's backup), i.e. the bytes its rows
/// really need, without free pages.
async fn compact_bytes(store: &Store, dir: &Path, name: &str) -> anyhow::Result<u64> {
    let to = dir.join(name);
    store.backup_to(&to).await?;
    let n = std::fs::metadata(&to)?.len();
    std::fs::remove_file(&to)?;
    Ok(n)
}

/// Fills a fresh store the way the service writes: `checks` checks at a 60 s interval for `hours` whole
/// hours, one commit per simulated second (a sixtieth of the checks), each check's last result once a
/// simulated minute, and a seal when each hour is over. Prints the bytes the process made the kernel write
/// per result (write-ahead log and checkpoints included), the seal times, the bytes each kind of row needs
/// (compacted) and what the retention costs on that table.
async fn growth(checks: usize, hours: u64) -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("unyo-bench-growth-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let url = unyo_store::sqlite_url(&dir.join("unyo.db"));
    let store = Store::open(&url).await?;
    let actor = Actor::system("bench");
    let v0 = compact_bytes(&store, &dir, "v0.db").await?;
    store.close().await;
    let live0 = dir_bytes(&dir);
    let store = Store::open(&url).await?;

    // Whole hours ending before this one; ids in the six-digit range a large fleet has (a bigger id takes a
    // byte more in every row and key).
    let start = (chrono::Utc::now().timestamp() / HOUR - hours as i64) * HOUR;
    let seconds = hours as i64 * HOUR;
    let id0 = 100_000i64;
    let per_second = checks.div_ceil(60);
    let mut batch: Vec<NewResult> = Vec::with_capacity(per_second);
    let mut last: Vec<NewResult> = Vec::with_capacity(checks);
    let (mut results, mut commits) = (0u64, 0u64);
    let (mut append_w, mut last_w, mut seal_w) = (0u64, 0u64, 0u64);
    let mut seal_times: Vec<Duration> = Vec::new();
    let mut sealed_segments = 0u64;
    let t = Instant::now();
    for sec in 0..seconds {
        let ts = start + sec;
        let slot = sec % 60;
        for c in (slot as usize..checks).step_by(60) {
            let c = c as i64;
            // Mostly up at a few to some tens of ms, one result in 2,000 down.
            let k = ((sec / 60) * 131 + c * 17) as u64;
            let (code, latency_ms) = if k.is_multiple_of(2000) {
                (ProbeStatus::Down.code(), None)
            } else {
                (ProbeStatus::Up.code(), Some(2 + (k % 29) as u32))
            };
            batch.push(NewResult {
                check_id: id0 + c,
                ts,
                code,
                latency_ms,
            });
        }
        let w = write_bytes();
        store.append_check_results(&actor, &batch).await?;
        append_w += write_bytes() - w;
        results += batch.len() as u64;
        commits += 1;
        last.append(&mut batch);
        if slot == 59 {
            let w = write_bytes();
            store.store_last_results(&actor, &last).await?;
            last_w += write_bytes() - w;
            last.clear();
        }
        if (sec + 1) % HOUR == 0 {
            let w = write_bytes();
            let t = Instant::now();
            let sealed = store.seal_check_results(&actor, ts + 1).await?;
            seal_times.push(t.elapsed());
            seal_w += write_bytes() - w;
            sealed_segments += sealed.segments;
        }
    }
    let fill = t.elapsed().as_secs_f64();
    let written = append_w + last_w + seal_w;
    let hourly_rows = checks as u64 * hours;
    store.close().await;
    let live1 = dir_bytes(&dir);
    let store = Store::open(&url).await?;
    let v1 = compact_bytes(&store, &dir, "v1.db").await?;

    // Retention on this table: first one hour, then the rest.
    let t = Instant::now();
    let slice = store
        .prune_check_results(&actor, start + HOUR)
        .await
        .unwrap_or(0);
    let slice_time = t.elapsed();
    let t = Instant::now();
    let rest = store
        .prune_check_results(&actor, start + seconds)
        .await
        .unwrap_or(0);
    let rest_time = t.elapsed();
    let v2 = compact_bytes(&store, &dir, "v2.db").await?;
    let t = Instant::now();
    let hourly_deleted = store
        .prune_hourly_rollups(&actor, start + seconds)
        .await
        .unwrap_or(0);
    let hourly_time = t.elapsed();
    let v3 = compact_bytes(&store, &dir, "v3.db").await?;
    store.close().await;
    let _ = std::fs::remove_dir_all(&dir);

    let per = |b: u64| b as f64 / results.max(1) as f64;
    let raw_b = v1.saturating_sub(v2) as f64 / results.max(1) as f64;
    let hourly_b = v2.saturating_sub(v3) as f64 / hourly_rows.max(1) as f64;
    // What is left: daily roll-ups and each check's last result.
    let daily_rows = checks as u64 * (hours.div_ceil(24));
    let kept_b = v3.saturating_sub(v0) as f64 / checks.max(1) as f64;
    let live_factor = live1.saturating_sub(live0) as f64 / v1.saturating_sub(v0).max(1) as f64;
    seal_times.sort();
    println!(
        "storage sample     {checks} checks × {hours} h at 60 s: {results} results in {commits} commits ({per_second} results each), filled in {fill:.1} s; {sealed_segments} segments sealed"
    );
    println!(
        "written per result {:.1} B in all: log appends {:.1}, last results once a minute {:.1}, hourly seals {:.1} (bytes the process made the kernel write: write-ahead log and checkpoints)",
        per(written),
        per(append_w),
        per(last_w),
        per(seal_w)
    );
    println!(
        "seal               {} seals of {per_second}×60 results: median {:.0} ms, max {:.0} ms",
        seal_times.len(),
        seal_times
            .get(seal_times.len() / 2)
            .copied()
            .map_or(0.0, ms),
        seal_times.last().copied().map_or(0.0, ms)
    );
    println!(
        "bytes per row      raw result {raw_b:.1} (in segments), hourly roll-up {hourly_b:.1}; daily roll-ups and last result {kept_b:.1} per check ({daily_rows} daily rows) (compacted; the live file was {live_factor:.2}× the compacted size)"
    );
    println!(
        "bounded window     per target at a 60 s interval: raw 7 days + hourly 35 days = {:.2} MB",
        (7.0 * 1440.0 * raw_b + 35.0 * 24.0 * hourly_b) / 1e6
    );
    println!(
        "retention cost     deleting one hour ({slice} results) of {hours} h: {:.0} ms; the remaining {rest}: {:.0} ms; {hourly_deleted} hourly roll-ups: {:.0} ms",
        ms(slice_time),
        ms(rest_time),
        ms(hourly_time)
    );
    Ok(())
}

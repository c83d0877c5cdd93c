//! `cargo xtask bench registry`: the foundation's performance figures, printed, never asserted.
//!
//! 1. Imports 2,000 sites and 100,000 terminals from CSV into a fresh SQLite database (timed).
//! 2. Serves it and drives the terminal list page (search + filter + sort + page, varied per request)
//!    with `wrk` at 32 connections; prints p50/p99 and the ratio to a trivial axum handler measured in
//!    the same run (the ceiling).
//! 3. The same import and page load on PostgreSQL when one is reachable.
//! 4. Seeds 1,000,000 audit entries and times `unyo audit verify`.

use anyhow::{Context, Result, bail};
use std::fmt::Write as _;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Options of the registry benchmark.
struct Options {
    sites: usize,
    terminals: usize,
    audit_entries: usize,
    seconds: u32,
    connections: u32,
    pg_url: Option<String>,
}

pub fn registry(root: &Path, args: &[String]) -> Result<()> {
    let mut o = Options {
        sites: 2_000,
        terminals: 100_000,
        audit_entries: 1_000_000,
        seconds: 10,
        connections: 32,
        pg_url: Some(
            std::env::var("UNYO_BENCH_PG_URL")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into()),
        ),
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = || it.next().context("missing value").map(|s| s.to_string());
        match a.as_str() {
            "--sites" => o.sites = value()?.parse()?,
            "--terminals" => o.terminals = value()?.parse()?,
            "--audit-entries" => o.audit_entries = value()?.parse()?,
            "--seconds" => o.seconds = value()?.parse()?,
            "--connections" => o.connections = value()?.parse()?,
            "--no-pg" => o.pg_url = None,
            other => bail!("bench registry: unknown option {other}"),
        }
    }
    need_tools()?;
    let bin = build_release(root)?;
    let work = std::env::temp_dir().join(format!("unyo-bench-{}", std::process::id()));
    std::fs::create_dir_all(&work)?;
    let (sites_csv, terminals_csv) = write_csvs(&work, o.sites, o.terminals)?;

    let mut report = String::new();
    writeln!(
        report,
        "unyo registry benchmark — {} sites, {} terminals, {} connections, {} s per run",
        o.sites, o.terminals, o.connections, o.seconds
    )?;

    writeln!(report, "{}", load_average())?;
    // The ceiling: a trivial axum handler on the same machine, same wrk settings.
    let port = free_port()?;
    let mut ceiling = spawn(
        &bin,
        &["bench", "ceiling", "--listen", &format!("127.0.0.1:{port}")],
        &work.join("ceiling.log"),
    )?;
    wait_http(port, "/")?;
    let ceil = wrk(&work, port, None, o.connections, o.seconds, None)?;
    let _ = ceiling.kill();
    writeln!(
        report,
        "ceiling (trivial axum handler): {:.0} req/s, p50 {:.2} ms, p99 {:.2} ms",
        ceil.rps, ceil.p50, ceil.p99
    )?;

    // SQLite.
    let data = work.join("sqlite");
    let db_args = vec!["--data-dir".to_string(), data.display().to_string()];
    run_backend(
        &bin,
        &work,
        "SQLite",
        &db_args,
        &sites_csv,
        &terminals_csv,
        &o,
        &ceil,
        &mut report,
    )?;

    // PostgreSQL, when reachable.
    if let Some(base) = &o.pg_url {
        let name = format!("unyo_bench_{}", std::process::id());
        let created = Command::new("psql")
            .args([
                &format!("{base}/postgres"),
                "-qc",
                &format!("CREATE DATABASE {name}"),
            ])
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if created {
            let db_args = vec!["--database-url".to_string(), format!("{base}/{name}")];
            let r = run_backend(
                &bin,
                &work,
                "PostgreSQL",
                &db_args,
                &sites_csv,
                &terminals_csv,
                &o,
                &ceil,
                &mut report,
            );
            let _ = Command::new("psql")
                .args([
                    &format!("{base}/postgres"),
                    "-qc",
                    &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
                ])
                .status();
            r?;
        } else {
            writeln!(report, "PostgreSQL: not reachable at {base}; skipped")?;
        }
    }

    // Audit verify over a million entries (SQLite).
    let audit_dir = work.join("audit");
    let seed = Instant::now();
    run_ok(
        &bin,
        &[
            "bench",
            "seed-audit",
            "--data-dir",
            &audit_dir.display().to_string(),
            "--entries",
            &o.audit_entries.to_string(),
        ],
    )?;
    let seeded = seed.elapsed();
    let verify = Instant::now();
    run_ok(
        &bin,
        &[
            "audit",
            "verify",
            "--data-dir",
            &audit_dir.display().to_string(),
        ],
    )?;
    let verified = verify.elapsed();
    writeln!(
        report,
        "audit verify over {} entries: {:.2} s (seeding took {:.1} s; goal < 5 s)",
        o.audit_entries,
        verified.as_secs_f64(),
        seeded.as_secs_f64()
    )?;

    writeln!(report, "{}", load_average())?;
    let _ = std::fs::remove_dir_all(&work);
    println!();
    println!("{report}");
    Ok(())
}

/// Fails unless `wrk` and `curl` are installed.
pub(crate) fn need_tools() -> Result<()> {
    for tool in ["wrk", "curl"] {
        if Command::new(tool)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_err()
        {
            bail!("`{tool}` is needed (apt-get install {tool})");
        }
    }
    Ok(())
}

/// Builds `unyo` in the release profile; its path.
pub(crate) fn build_release(root: &Path) -> Result<PathBuf> {
    println!("building the release binary ...");
    let status = Command::new("cargo")
        .args(["build", "--release", "-p", "unyo"])
        .current_dir(root)
        .status()?;
    if !status.success() {
        bail!("release build failed");
    }
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| root.join("target"));
    Ok(target.join("release/unyo"))
}

/// Adds the account [`login`] uses (an SE) to the database `db_args` names.
pub(crate) fn add_bench_user(bin: &Path, db_args: &[String]) -> Result<()> {
    let mut add = Command::new(bin);
    add.args(["user", "add", "bench", "--role", "se", "--password-stdin"])
        .args(db_args);
    let mut child = add.stdin(Stdio::piped()).stdout(Stdio::null()).spawn()?;
    if let Some(stdin) = child.stdin.as_mut() {
        use std::io::Write;
        stdin.write_all(b"bench-password-1\n")?;
    }
    if !child.wait()?.success() {
        bail!("user add failed");
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn run_backend(
    bin: &Path,
    work: &Path,
    label: &str,
    db_args: &[String],
    sites_csv: &Path,
    terminals_csv: &Path,
    o: &Options,
    ceil: &Wrk,
    report: &mut String,
) -> Result<()> {
    let with_db = |mut base: Vec<String>| {
        base.extend(db_args.iter().cloned());
        base
    };
    let t = Instant::now();
    run_ok_owned(
        bin,
        &with_db(vec![
            "import".into(),
            "sites".into(),
            sites_csv.display().to_string(),
        ]),
    )?;
    let sites_time = t.elapsed();
    let t = Instant::now();
    run_ok_owned(
        bin,
        &with_db(vec![
            "import".into(),
            "terminals".into(),
            terminals_csv.display().to_string(),
        ]),
    )?;
    let terminals_time = t.elapsed();
    writeln!(
        report,
        "{label}: import {} sites {:.2} s, {} terminals {:.2} s (goal < 10 s)",
        o.sites,
        sites_time.as_secs_f64(),
        o.terminals,
        terminals_time.as_secs_f64()
    )?;

    add_bench_user(bin, db_args)?;

    let port = free_port()?;
    let mut server = spawn(
        bin,
        &with_db(vec![
            "serve".into(),
            "--listen".into(),
            format!("127.0.0.1:{port}"),
        ])
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>(),
        &work.join(format!("{label}.log")),
    )?;
    let result = (|| -> Result<(Wrk, Wrk)> {
        wait_http(port, "/healthz")?;
        let cookie = login(work, port)?;
        // One request first: the server builds the terminal index in the background at start, and
        // the figures are about serving the list, not about that one-off build.
        let warm = Command::new("curl")
            .args(["-s", "-o", "/dev/null", "-H", &format!("Cookie: {cookie}")])
            .arg(format!("http://127.0.0.1:{port}/terminals"))
            .status()?;
        if !warm.success() {
            bail!("warm-up request failed");
        }
        let page = wrk(
            work,
            port,
            Some(&cookie),
            o.connections,
            o.seconds,
            Some(TERMINAL_LIST_SCRIPT),
        )?;
        let fresh = wrk(
            work,
            port,
            Some(&cookie),
            o.connections,
            o.seconds,
            Some(FRESH_SEARCH_SCRIPT),
        )?;
        Ok((page, fresh))
    })();
    let _ = server.kill();
    let _ = server.wait();
    let (page, fresh) = result?;
    writeln!(
        report,
        "{label}: terminal list page {:.0} req/s, p50 {:.2} ms, p99 {:.2} ms (goal p99 < 50 ms); ceiling/page throughput ratio {:.1}x, p99 ratio {:.1}x",
        page.rps,
        page.p50,
        page.p99,
        ceil.rps / page.rps.max(1.0),
        page.p99 / ceil.p99.max(0.001)
    )?;
    writeln!(
        report,
        "{label}: the same with a new search on almost every request (none remembered) {:.0} req/s, p50 {:.2} ms, p99 {:.2} ms",
        fresh.rps, fresh.p50, fresh.p99
    )?;
    Ok(())
}

fn write_csvs(dir: &Path, sites: usize, terminals: usize) -> Result<(PathBuf, PathBuf)> {
    write_fleet_csvs(dir, sites, terminals, |i| {
        format!("10.{}.{}.{}", (i >> 16) & 255, (i >> 8) & 255, i & 255)
    })
}

/// A sites CSV and a terminals CSV for the importer: `sites` sites `S00000`.., `terminals` terminals spread
/// over them in turn (the first of each its 代表端末), terminal `i` at `address(i)`.
pub(crate) fn write_fleet_csvs(
    dir: &Path,
    sites: usize,
    terminals: usize,
    address: impl Fn(usize) -> String,
) -> Result<(PathBuf, PathBuf)> {
    let mut s = String::from("\u{feff}拠点コード,拠点名,種別,所在地\r\n");
    let kinds = [
        "本庁",
        "県税事務所",
        "土木事務所",
        "保健福祉事務所",
        "その他の機関",
    ];
    for i in 0..sites {
        writeln!(
            s,
            "S{i:05},拠点{i:05},{},佐賀県佐賀市{i}番地\r",
            kinds[i % kinds.len()]
        )?;
    }
    let mut t = String::from(
        "\u{feff}ホスト名,拠点コード,種別,IPアドレス,OS,OSバージョン,製造番号,備品番号\r\n",
    );
    for i in 0..terminals {
        let site = i % sites.max(1);
        let kind = if i < sites {
            "代表端末"
        } else {
            "業務端末"
        };
        writeln!(
            t,
            "pc-{i:06}.s{site:05},S{site:05},{kind},{},Windows 11 Enterprise,23H2 (22631.{}),SN{i:08},A-{i:06}\r",
            address(i),
            4000 + i % 500
        )?;
    }
    let sp = dir.join("sites.csv");
    let tp = dir.join("terminals.csv");
    std::fs::write(&sp, s)?;
    std::fs::write(&tp, t)?;
    Ok((sp, tp))
}

pub(crate) fn login(work: &Path, port: u16) -> Result<String> {
    let jar = work.join("cookies.txt");
    let _ = std::fs::remove_file(&jar);
    let base = format!("http://127.0.0.1:{port}");
    let out = Command::new("curl")
        .args([
            "-s",
            "-c",
            &jar.display().to_string(),
            &format!("{base}/login"),
        ])
        .output()?;
    let page = String::from_utf8_lossy(&out.stdout);
    let csrf = page
        .split("name=\"_csrf\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .context("no CSRF token on the login page")?
        .to_string();
    let status = Command::new("curl")
        .args([
            "-s",
            "-o",
            "/dev/null",
            "-b",
            &jar.display().to_string(),
            "-c",
            &jar.display().to_string(),
        ])
        .args([
            "--data-urlencode",
            &format!("_csrf={csrf}"),
            "--data-urlencode",
            "username=bench",
            "--data-urlencode",
            "password=bench-password-1",
        ])
        .arg(format!("{base}/login"))
        .status()?;
    if !status.success() {
        bail!("login failed");
    }
    let jar_text = std::fs::read_to_string(&jar)?;
    let token = jar_text
        .lines()
        .find(|l| l.contains("unyo_session"))
        .and_then(|l| l.split('\t').next_back())
        .context("no session cookie after login")?;
    Ok(format!("unyo_session={token}"))
}

/// What `wrk` measured (milliseconds).
pub(crate) struct Wrk {
    pub rps: f64,
    pub p50: f64,
    pub p99: f64,
    pub max: f64,
}

/// A search the index has (almost) never been asked: a random three- or four-digit fragment (each matches
/// from tens to a few hundred terminals), so the remembered match sets rarely help and each request pays
/// the substring pass over the whole fleet.
const FRESH_SEARCH_SCRIPT: &str = r#"
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("id", threads)
end
function init(args)
  math.randomseed(os.time() * 31 + id * 7919)
end
local kinds = {"", "business"}
local sorts = {"hostname", "site", "ip", "updated", "os"}
local n = 0
request = function()
  n = n + 1
  local q = (n % 2 == 0) and string.format("%03d", math.random(0, 999)) or string.format("%04d", math.random(0, 9999))
  local path = "/terminals?q=" .. q .. "&kind=" .. kinds[n % #kinds + 1]
    .. "&sort=" .. sorts[n % #sorts + 1] .. "&page=1&per_page=50"
  return wrk.format("GET", path)
end
"#;

/// Each request a different terminal list page: search terms, kinds, sorts and pages rotate.
const TERMINAL_LIST_SCRIPT: &str = r#"
local searches = {"", "pc-01", "s0042", "windows", "10.1.", "sn0009"}
local kinds = {"", "business", "representative"}
local sorts = {"hostname", "site", "ip", "updated", "os"}
local n = 0
request = function()
  n = n + 1
  local path = "/terminals?q=" .. searches[n % #searches + 1] .. "&kind=" .. kinds[n % #kinds + 1]
    .. "&sort=" .. sorts[n % #sorts + 1] .. "&dir=" .. ((n % 2 == 0) and "asc" or "desc")
    .. "&page=" .. (n % 20 + 1) .. "&per_page=50"
  return wrk.format("GET", path)
end
"#;

/// Runs `wrk` (2 threads) against `/`, or against the paths a Lua `script` chooses; fails on any non-2xx.
pub(crate) fn wrk(
    work: &Path,
    port: u16,
    cookie: Option<&str>,
    connections: u32,
    seconds: u32,
    script: Option<&str>,
) -> Result<Wrk> {
    let mut cmd = Command::new("wrk");
    cmd.args([
        "-t2",
        &format!("-c{connections}"),
        &format!("-d{seconds}s"),
        "--latency",
    ]);
    if let Some(c) = cookie {
        cmd.args(["-H", &format!("Cookie: {c}")]);
    }
    if let Some(text) = script {
        let path = work.join("requests.lua");
        std::fs::write(&path, text)?;
        cmd.args(["-s", &path.display().to_string()]);
    }
    cmd.arg(format!("http://127.0.0.1:{port}/"));
    let out = cmd.output()?;
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    println!("{text}");
    if text.contains("Non-2xx") {
        bail!("wrk saw non-2xx responses:\n{text}");
    }
    let pct = |p: &str| -> Option<f64> {
        text.lines()
            .find(|l| l.trim_start().starts_with(p))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(parse_ms)
    };
    let rps = text
        .lines()
        .find(|l| l.starts_with("Requests/sec:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .context("no Requests/sec in wrk output")?;
    // "    Latency   avg   stdev   max   +/- stdev"
    let max = text
        .lines()
        .find(|l| l.trim_start().starts_with("Latency") && !l.contains("Distribution"))
        .and_then(|l| l.split_whitespace().nth(3))
        .and_then(parse_ms)
        .context("no maximum latency")?;
    Ok(Wrk {
        rps,
        p50: pct("50%").context("no p50")?,
        p99: pct("99%").context("no p99")?,
        max,
    })
}

/// The machine's load average, printed with the figures: on a shared machine they mean little without it.
pub(crate) fn load_average() -> String {
    let avg = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let parts: Vec<&str> = avg.split_whitespace().take(3).collect();
    format!(
        "load average (1/5/15 min): {} on {} CPUs",
        parts.join(" "),
        std::thread::available_parallelism().map_or(0, |n| n.get())
    )
}

fn parse_ms(v: &str) -> Option<f64> {
    let (num, unit) = v
        .find(|c: char| c.is_ascii_alphabetic())
        .map(|i| v.split_at(i))?;
    let n: f64 = num.parse().ok()?;
    Some(match unit {
        "us" => n / 1000.0,
        "ms" => n,
        "s" => n * 1000.0,
        "m" => n * 60_000.0,
        _ => return None,
    })
}

pub(crate) fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

pub(crate) fn spawn(bin: &Path, args: &[&str], log: &Path) -> Result<Child> {
    let file = std::fs::File::create(log)?;
    Ok(Command::new(bin)
        .args(args)
        .stdin(Stdio::null())
        .stdout(file.try_clone()?)
        .stderr(file)
        .spawn()?)
}

pub(crate) fn wait_http(port: u16, path: &str) -> Result<()> {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(30) {
        let ok = Command::new("curl")
            .args([
                "-s",
                "-o",
                "/dev/null",
                "-w",
                "%{http_code}",
                &format!("http://127.0.0.1:{port}{path}"),
            ])
            .output()
            .map(|o| o.stdout == b"200")
            .unwrap_or(false);
        if ok {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    bail!("nothing answered on port {port} within 30 s")
}

pub(crate) fn run_ok(bin: &Path, args: &[&str]) -> Result<()> {
    let status = Command::new(bin).args(args).stdin(Stdio::null()).status()?;
    if !status.success() {
        bail!("{} {} failed", bin.display(), args.join(" "));
    }
    Ok(())
}

pub(crate) fn run_ok_owned(bin: &Path, args: &[String]) -> Result<()> {
    run_ok(bin, &args.iter().map(String::as_str).collect::<Vec<_>>())
}

//! `cargo xtask bench export`: how long the full export (`unyo export --to DIR`) takes for a large
//! deployment, printed against the goals of issue 17 (under 30 s and under 300 MB peak RSS).
//!
//! 1. Builds the release binary (or takes `--bin PATH`).
//! 2. Seeds a fresh SQLite database with a large deployment's fiscal year through the hidden
//!    `unyo bench seed-year` (100,000 work entries, 5,000 incidents by default).
//! 3. Runs `unyo export --to DIR` under `/usr/bin/time -v` and prints the wall-clock seconds, the peak
//!    resident set size of the whole process, the rows and the bytes written.

use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

const GOAL_SECONDS: f64 = 30.0;
const GOAL_MB: f64 = 300.0;

/// The usage line shown by `cargo xtask bench`.
pub fn usage_line() -> &'static str {
    "cargo xtask bench export [--entries N] [--incidents N] [--bin PATH] [--keep]"
}

pub fn export(root: &Path, args: &[String]) -> Result<()> {
    let mut entries = 100_000usize;
    let mut incidents = 5_000usize;
    let mut bin: Option<PathBuf> = None;
    let mut keep = false;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = || it.next().context("missing value").map(|s| s.to_string());
        match a.as_str() {
            "--entries" => entries = value()?.parse()?,
            "--incidents" => incidents = value()?.parse()?,
            "--bin" => bin = Some(PathBuf::from(value()?)),
            "--keep" => keep = true,
            other => bail!("bench export: unknown option {other}"),
        }
    }
    if !Path::new("/usr/bin/time").exists() {
        bail!("/usr/bin/time is needed for the peak RSS (apt-get install time)");
    }
    let bin = match bin {
        Some(b) => b,
        None => crate::bench::build_release(root)?,
    };
    let work = std::env::temp_dir().join(format!("unyo-bench-export-{}", std::process::id()));
    std::fs::create_dir_all(&work)?;
    let data = work.join("data");
    let data_arg = data.display().to_string();
    println!("seeding a fiscal year: {entries} work entries, {incidents} incidents ...");
    let started = Instant::now();
    let out = Command::new(&bin)
        .args(["bench", "seed-year", "--data-dir", &data_arg])
        .args(["--entries", &entries.to_string()])
        .args(["--incidents", &incidents.to_string()])
        .env("UNYO_LOG", "error")
        .output()?;
    if !out.status.success() {
        bail!("seed-year failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    let seeded = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let seed_secs = started.elapsed().as_secs_f64();
    let db_mb = std::fs::metadata(data.join("unyo.db"))
        .map(|m| m.len() as f64 / 1e6)
        .unwrap_or(0.0);

    println!("exporting ...");
    let to = work.join("export");
    let o = Command::new("/usr/bin/time")
        .arg("-v")
        .arg(&bin)
        .args(["export", "--data-dir", &data_arg, "--to"])
        .arg(&to)
        .env("UNYO_LOG", "error")
        .output()?;
    let stderr = String::from_utf8_lossy(&o.stderr);
    if !o.status.success() {
        bail!("unyo export failed:\n{stderr}");
    }
    let stdout = String::from_utf8_lossy(&o.stdout).trim().to_string();
    let seconds = crate::bench_reports::wall_seconds(&stderr)
        .context("no wall-clock time in /usr/bin/time output")?;
    let rss_mb = crate::bench_reports::max_rss_kb(&stderr)
        .context("no maximum RSS in /usr/bin/time output")?
        / 1024.0;
    let verdict = if seconds < GOAL_SECONDS && rss_mb < GOAL_MB {
        "goal met"
    } else {
        "GOAL MISSED"
    };
    println!();
    println!(
        "unyo export benchmark — a large deployment's fiscal year (SQLite, {db_mb:.0} MB database, seeded in {seed_secs:.0} s)"
    );
    println!("  {seeded}");
    println!(
        "  goals: under {GOAL_SECONDS:.0} s and under {GOAL_MB:.0} MB peak RSS (whole `unyo export` process)"
    );
    println!("  export: {seconds:>6.2} s  {rss_mb:>6.1} MB peak RSS   {verdict}");
    for line in stdout.lines() {
        println!("  {line}");
    }
    if keep {
        println!("  files kept in {}", work.display());
    } else {
        let _ = std::fs::remove_dir_all(&work);
    }
    Ok(())
}

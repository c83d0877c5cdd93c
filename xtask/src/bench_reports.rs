//! `cargo xtask bench reports`: how long the annual council pack and one month's 業務実績簿 take for a
//! large deployment, printed against their goals: the annual pack under 10 s and under 500 MB peak RSS
//! (issue 7), the monthly record under 2 s and under 300 MB (issue 14), on this machine.
//!
//! 1. Builds the release binary.
//! 2. Seeds a fresh SQLite database with a large deployment's fiscal year through the hidden
//!    `unyo bench seed-year` (real rows in the real schema: 100,000 work entries, 5,000 incidents, 5,000
//!    requests, 300 sites, 40 SEs, 12 campaigns and the audit entries such a year writes).
//! 3. Runs `unyo report annual … --format pdf` and `--format xlsx` under `/usr/bin/time -v` and prints the
//!    wall-clock seconds and the peak resident set size of each whole process (opening the database,
//!    reading, rendering, writing the file).
//! 4. The same for one month's 業務実績簿 as PDF (about 8,000 work rows).

use anyhow::{Context, Result, bail};
use std::path::Path;
use std::process::Command;
use std::time::Instant;

const GOAL_SECONDS: f64 = 10.0;
const GOAL_MB: f64 = 500.0;
/// The monthly record's goals (issue 14).
const MONTHLY_GOAL_SECONDS: f64 = 2.0;
const MONTHLY_GOAL_MB: f64 = 300.0;

struct Options {
    entries: usize,
    incidents: usize,
    keep: bool,
}

/// One measured run.
struct Measured {
    seconds: f64,
    max_rss_mb: f64,
    bytes: u64,
}

pub fn reports(root: &Path, args: &[String]) -> Result<()> {
    let mut o = Options {
        entries: 100_000,
        incidents: 5_000,
        keep: false,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = || it.next().context("missing value").map(|s| s.to_string());
        match a.as_str() {
            "--entries" => o.entries = value()?.parse()?,
            "--incidents" => o.incidents = value()?.parse()?,
            "--keep" => o.keep = true,
            other => bail!("bench reports: unknown option {other}"),
        }
    }
    if !Path::new("/usr/bin/time").exists() {
        bail!("/usr/bin/time is needed for the peak RSS (apt-get install time)");
    }
    let bin = crate::bench::build_release(root)?;
    let work = std::env::temp_dir().join(format!("unyo-bench-reports-{}", std::process::id()));
    std::fs::create_dir_all(&work)?;
    let data = work.join("data");
    let data_arg = data.display().to_string();

    println!(
        "seeding a fiscal year: {} work entries, {} incidents ...",
        o.entries, o.incidents
    );
    let started = Instant::now();
    let out = Command::new(&bin)
        .args(["bench", "seed-year", "--data-dir", &data_arg])
        .args(["--entries", &o.entries.to_string()])
        .args(["--incidents", &o.incidents.to_string()])
        .env("UNYO_LOG", "error")
        .output()?;
    if !out.status.success() {
        bail!("seed-year failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    let seeded = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let seed_secs = started.elapsed().as_secs_f64();
    println!("{seeded}");
    let contract = seeded
        .strip_prefix("seeded contract ")
        .and_then(|s| s.split(':').next())
        .context("seed-year did not name the contract")?
        .to_string();
    let db_mb = std::fs::metadata(data.join("unyo.db"))
        .map(|m| m.len() as f64 / 1e6)
        .unwrap_or(0.0);

    let run = |args: &[&str], out: &Path| -> Result<Measured> {
        let o = Command::new("/usr/bin/time")
            .arg("-v")
            .arg(&bin)
            .args(args)
            .args(["--data-dir", &data_arg, "--out"])
            .arg(out)
            .env("UNYO_LOG", "error")
            .output()?;
        let stderr = String::from_utf8_lossy(&o.stderr);
        if !o.status.success() {
            bail!("{args:?} failed:\n{stderr}");
        }
        Ok(Measured {
            seconds: wall_seconds(&stderr).context("no wall-clock time in /usr/bin/time output")?,
            max_rss_mb: max_rss_kb(&stderr).context("no maximum RSS in /usr/bin/time output")?
                / 1024.0,
            bytes: std::fs::metadata(out).map(|m| m.len()).unwrap_or(0),
        })
    };
    let annual = |format: &str| -> Result<Measured> {
        run(
            &[
                "report",
                "annual",
                "--contract",
                &contract,
                "--fiscal-year",
                "2026",
                "--issued-on",
                "2027-04-10",
                "--format",
                format,
            ],
            &work.join(format!("annual.{format}")),
        )
    };
    println!("rendering the annual council pack ...");
    let pdf = annual("pdf")?;
    let xlsx = annual("xlsx")?;
    println!("rendering one month's work record ...");
    let monthly = run(
        &[
            "report",
            "monthly",
            "--contract",
            &contract,
            "--month",
            "2026-05",
            "--issued-on",
            "2026-06-10",
            "--format",
            "pdf",
        ],
        &work.join("monthly-2026-05.pdf"),
    )?;
    let pages = Command::new("pdfinfo")
        .arg(work.join("annual.pdf"))
        .output()
        .ok()
        .and_then(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .find_map(|l| l.strip_prefix("Pages:").map(|p| p.trim().to_string()))
        })
        .unwrap_or_else(|| "?".into());
    let monthly_pages = Command::new("pdfinfo")
        .arg(work.join("monthly-2026-05.pdf"))
        .output()
        .ok()
        .and_then(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .find_map(|l| l.strip_prefix("Pages:").map(|p| p.trim().to_string()))
        })
        .unwrap_or_else(|| "?".into());

    let verdict = |m: &Measured, seconds: f64, mb: f64| {
        if m.seconds < seconds && m.max_rss_mb < mb {
            "goal met"
        } else {
            "GOAL MISSED"
        }
    };
    println!();
    println!(
        "unyo report benchmark — a large deployment's fiscal year (SQLite, {db_mb:.0} MB database, seeded in {seed_secs:.0} s)"
    );
    println!("  {seeded}");
    println!(
        "  goals (whole `unyo report` process): the annual pack in under {GOAL_SECONDS:.0} s and under {GOAL_MB:.0} MB peak RSS,"
    );
    println!(
        "  one month's record in under {MONTHLY_GOAL_SECONDS:.0} s and under {MONTHLY_GOAL_MB:.0} MB peak RSS"
    );
    println!(
        "  annual pack PDF : {:>6.2} s  {:>6.1} MB peak RSS  {:>9} bytes, {pages} pages   {}",
        pdf.seconds,
        pdf.max_rss_mb,
        pdf.bytes,
        verdict(&pdf, GOAL_SECONDS, GOAL_MB)
    );
    println!(
        "  annual pack XLSX: {:>6.2} s  {:>6.1} MB peak RSS  {:>9} bytes              {}",
        xlsx.seconds,
        xlsx.max_rss_mb,
        xlsx.bytes,
        verdict(&xlsx, GOAL_SECONDS, GOAL_MB)
    );
    println!(
        "  monthly PDF     : {:>6.2} s  {:>6.1} MB peak RSS  {:>9} bytes, {monthly_pages} pages   {}  (令和8年5月)",
        monthly.seconds,
        monthly.max_rss_mb,
        monthly.bytes,
        verdict(&monthly, MONTHLY_GOAL_SECONDS, MONTHLY_GOAL_MB)
    );
    if o.keep {
        println!("  files kept in {}", work.display());
    } else {
        let _ = std::fs::remove_dir_all(&work);
    }
    Ok(())
}

/// `Elapsed (wall clock) time (h:mm:ss or m:ss): 0:03.21` → 3.21.
pub(crate) fn wall_seconds(time_v: &str) -> Option<f64> {
    let line = time_v
        .lines()
        .find(|l| l.contains("Elapsed (wall clock) time"))?;
    let value = line.rsplit(": ").next()?.trim();
    let mut secs = 0.0;
    for part in value.split(':') {
        secs = secs * 60.0 + part.parse::<f64>().ok()?;
    }
    Some(secs)
}

/// `Maximum resident set size (kbytes): 123456` → 123456.
pub(crate) fn max_rss_kb(time_v: &str) -> Option<f64> {
    time_v
        .lines()
        .find(|l| l.contains("Maximum resident set size"))?
        .rsplit(": ")
        .next()?
        .trim()
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_time_v() {
        let out = "\tElapsed (wall clock) time (h:mm:ss or m:ss): 1:03.25\n\tMaximum resident set size (kbytes): 204800\n";
        assert_eq!(wall_seconds(out), Some(63.25));
        assert_eq!(max_rss_kb(out), Some(204800.0));
    }
}

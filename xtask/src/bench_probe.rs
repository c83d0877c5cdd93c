//! `cargo xtask bench probe [--targets N] [--seconds S] [--interval I] [--concurrency C] [--debug]`: builds
//! and runs the probe benchmark (`crates/probe/examples/bench_probe.rs`, release profile unless `--debug`).
//! Also passed through: `--raw-retention-seconds`, `--hourly-retention-seconds`, `--prune-every` (the
//! retention run during the benchmark) and `--growth-checks`, `--growth-days` (the storage sample; 0 checks
//! skips it). Figures are printed, never asserted.

use anyhow::{Result, bail};
use std::path::Path;
use std::process::Command;

/// Runs the benchmark with the given options.
pub fn probe(root: &Path, args: &[String]) -> Result<()> {
    let mut pass: Vec<String> = Vec::new();
    let mut release = true;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--targets"
            | "--seconds"
            | "--interval"
            | "--concurrency"
            | "--raw-retention-seconds"
            | "--hourly-retention-seconds"
            | "--prune-every"
            | "--growth-checks"
            | "--growth-days" => {
                let Some(v) = it.next() else {
                    bail!("bench probe: {a} needs a value");
                };
                if v.parse::<u64>().is_err() {
                    bail!("bench probe: {a} {v}: not a number");
                }
                pass.push(a.clone());
                pass.push(v.clone());
            }
            "--debug" => release = false,
            other => bail!("bench probe: unknown option {other}"),
        }
    }
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(root)
        .args(["run", "-q", "-p", "unyo-probe", "--example", "bench_probe"]);
    if release {
        cmd.arg("--release");
    }
    cmd.arg("--").args(&pass);
    println!("$ {cmd:?}");
    let status = cmd.status()?;
    if !status.success() {
        bail!("bench probe failed ({status})");
    }
    Ok(())
}

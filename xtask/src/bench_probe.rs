//! `cargo xtask bench probe [options]`: builds and runs the probe benchmark
//! (`crates/probe/examples/bench_probe.rs`, release profile unless `--debug`). Every option is listed in
//! [`USAGE`], which is built from the same table the options are parsed with, so that the help text names
//! every flag the benchmark accepts. Figures are printed, never asserted.

use anyhow::{Result, bail};
use std::path::Path;
use std::process::Command;

/// The options that take a number and are passed to the benchmark: (flag, value, meaning). The parser and
/// [`USAGE`] both come from this table.
const VALUE_OPTIONS: &[(&str, &str, &str)] = &[
    (
        "--targets",
        "N",
        "loopback targets, half TCP, half ICMP (default 1000)",
    ),
    (
        "--seconds",
        "S",
        "length of the live run (default 10; 0 skips it)",
    ),
    (
        "--interval",
        "I",
        "check interval in seconds (default S/2, from 1 to 60)",
    ),
    (
        "--concurrency",
        "C",
        "checks in flight at most (default 1024)",
    ),
    (
        "--raw-retention-seconds",
        "R",
        "retention cut-off for raw results during the run (default S/2, from 5 to 60)",
    ),
    (
        "--hourly-retention-seconds",
        "H",
        "retention cut-off for hourly roll-ups (default R)",
    ),
    (
        "--prune-every",
        "P",
        "run the retention every P seconds (default 10)",
    ),
    (
        "--prefill-hour",
        "0|1",
        "leave an hour of results for every check in the log before the live run, for its first retention run to seal beside the engine (default 1)",
    ),
    (
        "--icmp-only-seconds",
        "T",
        "length of the probe-only ICMP phase: the ICMP targets through the engine alone, then fping (default I, from 5 to 60; 0 skips it)",
    ),
    (
        "--growth-checks",
        "G",
        "checks in the storage sample, written as the service writes (default 100000; 0 skips the sample)",
    ),
    (
        "--growth-hours",
        "GH",
        "whole hours in the storage sample, each sealed when it is over (default 2)",
    ),
];

/// The options without a value: (flag, meaning).
const SWITCHES: &[(&str, &str)] = &[
    (
        "--debug",
        "build and run in the debug profile (default: release)",
    ),
    ("--help", "print this text"),
];

/// The usage line of `cargo xtask bench probe`, with every option.
pub fn usage_line() -> String {
    let mut line = String::from("cargo xtask bench probe");
    for (flag, value, _) in VALUE_OPTIONS {
        line.push_str(&format!(" [{flag} {value}]"));
    }
    line.push_str(" [--debug]");
    line
}

/// The full help text: the usage line and every option with its meaning.
pub fn usage() -> String {
    let mut text = format!("usage: {}\n\noptions:\n", usage_line());
    let width = VALUE_OPTIONS
        .iter()
        .map(|(f, v, _)| f.len() + 1 + v.len())
        .chain(SWITCHES.iter().map(|(f, _)| f.len()))
        .max()
        .unwrap_or(0);
    for (flag, value, meaning) in VALUE_OPTIONS {
        let head = format!("{flag} {value}");
        text.push_str(&format!("  {head:<width$}  {meaning}\n"));
    }
    for (flag, meaning) in SWITCHES {
        text.push_str(&format!("  {flag:<width$}  {meaning}\n"));
    }
    text.push_str(
        "\nFigures are printed, never asserted (see crates/probe/README.md, \"Benchmark\").",
    );
    text
}

/// Runs the benchmark with the given options.
pub fn probe(root: &Path, args: &[String]) -> Result<()> {
    let mut pass: Vec<String> = Vec::new();
    let mut release = true;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            flag if VALUE_OPTIONS.iter().any(|(f, _, _)| *f == flag) => {
                let Some(v) = it.next() else {
                    bail!("bench probe: {a} needs a value\n\n{}", usage());
                };
                if v.parse::<u64>().is_err() {
                    bail!("bench probe: {a} {v}: not a number\n\n{}", usage());
                }
                pass.push(a.clone());
                pass.push(v.clone());
            }
            "--debug" => release = false,
            "--help" | "-h" => {
                println!("{}", usage());
                return Ok(());
            }
            other => bail!("bench probe: unknown option {other}\n\n{}", usage()),
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Every flag the benchmark example reads is accepted here and named in the help text.
    #[test]
    fn usage_names_every_flag_the_benchmark_reads() {
        let example = include_str!("../../crates/probe/examples/bench_probe.rs");
        let read: Vec<&str> = example
            .match_indices("arg(&args, \"")
            .map(|(i, m)| {
                let rest = &example[i + m.len()..];
                &rest[..rest.find('"').expect("closing quote")]
            })
            .collect();
        assert!(read.len() >= 9, "{read:?}");
        let text = usage();
        for flag in read {
            assert!(
                VALUE_OPTIONS.iter().any(|(f, _, _)| *f == flag),
                "{flag} is read by the benchmark but not accepted"
            );
            assert!(text.contains(flag), "{flag} missing from the usage text");
            assert!(
                usage_line().contains(flag),
                "{flag} missing from the usage line"
            );
        }
        assert!(text.contains("--debug") && text.contains("--help"));
    }
}

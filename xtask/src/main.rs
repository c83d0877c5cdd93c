//! Project automation for unyo: `cargo xtask <command>`.
//!
//! Commands:
//!
//! * `ci [--quick]` — format check, clippy, the whole test suite on SQLite with
//!   the mandatory browser tests, then the storage and HTTP suites against
//!   PostgreSQL, the brief parser fuzzing and the schemathesis pass against the
//!   API. `--quick` skips the browser tests, PostgreSQL and both fuzzing passes.
//! * `e2e [FILTER...]` — only the browser tests, one at a time, output shown.
//! * `bench registry` — performance figures of the foundation (see `bench.rs`).
//! * `cluster-test` — three instances on one PostgreSQL, one killed (see `cluster_test.rs`).
//! * `bench board` — the connectivity status board under load while the engine runs (see `bench_board.rs`).
//! * `api-fuzz` — a bounded schemathesis pass against the demo's JSON API (see `api_fuzz.rs`).
//!
//! Everything is plain `std::process::Command`; each step is printed before it
//! runs and the first failure stops the run with a non-zero exit status.

use std::env;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

mod api_fuzz;
mod bench;
mod bench_agents;
mod bench_board;
mod bench_export;
mod bench_probe;
mod bench_reports;
mod cluster_test;

const USAGE: &str = "\
usage: cargo xtask <command> [options]

commands:
  ci [--quick]     fmt check, clippy, tests on SQLite (browser tests mandatory),
                   storage + HTTP tests on PostgreSQL, brief parser fuzzing,
                   the schemathesis pass against the API (api-fuzz).
                   --quick skips the browser tests, PostgreSQL and fuzzing.
  e2e [FILTER...]  only the browser tests (UNYO_E2E=1, one test at a time)
  bench registry   registry import, list-page load (wrk) and audit-verify figures
  bench reports    annual council pack of a large deployment's year: seconds and peak RSS
  bench probe      connectivity engine on N loopback targets (--targets N --seconds S;
                   every option: cargo xtask bench probe --help)
  bench board      status board under wrk while the engine runs ([--targets N] [--sites S]
                   [--seconds T] [--connections C] [--interval I])
  cluster-test     three `unyo serve` on one fresh PostgreSQL database share N loopback
                   targets; one is killed with SIGKILL: every check has results again within
                   interval + lease, no result twice in a slot, no notification twice, audit
                   verifies ([--targets N] [--interval S] [--lease S] [--pg-outage])
  api-fuzz         a bounded schemathesis pass against the demo's API (see api_fuzz.rs;
                   options: --max-examples N --workers W --seed S --phases P --keep)
  help             this message

environment:
  UNYO_TEST_PG_URL  PostgreSQL URL for `ci` (default: postgres://postgres@127.0.0.1:5432/unyo_test)
  UNYO_SKIP_PG=1    let `ci` continue with a warning when PostgreSQL is unreachable
  UNYO_SKIP_API_FUZZ=1  let `ci` skip the schemathesis pass (with a warning)
  UNYO_API_FUZZ_VENV    the venv holding schemathesis (default: ~/.cache/unyo/api-fuzz/venv)";

const DEFAULT_PG_URL: &str = "postgres://postgres@127.0.0.1:5432/unyo_test";

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!();
            eprintln!("xtask: error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &[String]) -> Result<()> {
    let Some((command, rest)) = args.split_first() else {
        println!("{USAGE}");
        bail!("no command given");
    };
    match command.as_str() {
        "ci" => ci(rest),
        "e2e" => e2e(rest),
        "bench" => bench(rest),
        "cluster-test" => cluster_test::cluster_test(&workspace_root(), rest),
        "api-fuzz" => api_fuzz::api_fuzz(&workspace_root(), rest),
        "help" | "-h" | "--help" => {
            println!("{USAGE}");
            Ok(())
        }
        other => {
            println!("{USAGE}");
            bail!("unknown command `{other}`")
        }
    }
}

// ---------------------------------------------------------------------------
// ci
// ---------------------------------------------------------------------------

fn ci(args: &[String]) -> Result<()> {
    let mut quick = false;
    for arg in args {
        match arg.as_str() {
            "--quick" => quick = true,
            other => bail!("`ci`: unknown option `{other}` (expected: --quick)"),
        }
    }

    let root = workspace_root();
    let mut report = Report::default();

    report.step("format check", || {
        cargo(&root, ["fmt", "--all", "--", "--check"])
            .run()
            .context("code is not formatted: run `cargo fmt --all`")
    })?;

    report.step("clippy", || {
        cargo(
            &root,
            [
                "clippy",
                "--workspace",
                "--all-targets",
                "--",
                "-D",
                "warnings",
            ],
        )
        .run()
    })?;

    if quick {
        report.step("tests (SQLite, browser tests skipped)", || {
            cargo(&root, ["test", "--workspace"])
                .env("UNYO_E2E", "0")
                .env_remove("TEST_DATABASE_URL")
                .run()
        })?;
        report.skip("browser tests and PostgreSQL (--quick)");
    } else {
        report.step("tests (SQLite, browser tests mandatory)", || {
            cargo(&root, ["test", "--workspace"])
                .env("UNYO_E2E", "1")
                .env_remove("TEST_DATABASE_URL")
                .run()
        })?;

        let pg_url = env::var("UNYO_TEST_PG_URL")
            .ok()
            .filter(|url| !url.trim().is_empty())
            .unwrap_or_else(|| DEFAULT_PG_URL.to_owned());
        match ensure_pg_database(&pg_url) {
            Ok(()) => {
                report.step("storage + HTTP tests (PostgreSQL)", || {
                    cargo(
                        &root,
                        [
                            "test",
                            "-p",
                            "unyo-store",
                            "-p",
                            "unyo-web",
                            "-p",
                            "unyo-demo",
                        ],
                    )
                    .env("TEST_DATABASE_URL", &pg_url)
                    .env("UNYO_E2E", "0")
                    .run()
                })?;
                let (admin_url, _) = split_pg_url(&pg_url)?;
                report.step("cluster test (three instances on PostgreSQL)", || {
                    cluster_test::cluster_test(
                        &root,
                        &["--admin-url".to_string(), admin_url.clone()],
                    )
                })?;
            }
            Err(err) if env_is("UNYO_SKIP_PG", "1") => {
                warn_loudly(&format!(
                    "PostgreSQL tests SKIPPED because UNYO_SKIP_PG=1: {err:#}"
                ));
                report.skip("storage + HTTP tests (PostgreSQL): UNYO_SKIP_PG=1");
            }
            Err(err) => {
                return Err(err.context(
                    "PostgreSQL is required by `cargo xtask ci` \
                     (set UNYO_TEST_PG_URL to point at another server, \
                     or UNYO_SKIP_PG=1 to skip these tests)",
                ));
            }
        }

        // The inventory parsers face hostile input from the network: fuzz them briefly on every run.
        report.step("fuzz the inventory parsers briefly", || {
            let mut cmd = Cmd::new("bash");
            cmd.args(["crates/inventory/fuzz/run-briefly.sh", "15"])
                .current_dir(&root);
            if let Ok(dir) = env::var("CARGO_TARGET_DIR") {
                cmd.env("FUZZ_TARGET_DIR", &format!("{dir}/fuzz"));
            }
            cmd.run()
        })?;

        // The API against its own OpenAPI document: no 5xx, no disagreement (bounded, see api_fuzz.rs).
        if env_is("UNYO_SKIP_API_FUZZ", "1") {
            warn_loudly("API fuzzing SKIPPED because UNYO_SKIP_API_FUZZ=1");
            report.skip("API fuzzing (schemathesis): UNYO_SKIP_API_FUZZ=1");
        } else {
            report.step("API fuzzing (schemathesis against the demo)", || {
                api_fuzz::api_fuzz(&root, &[])
            })?;
        }
    }

    report.finish();
    Ok(())
}

/// Makes sure the database named in `url` exists, creating it when missing.
/// Fails when the server cannot be reached.
fn ensure_pg_database(url: &str) -> Result<()> {
    let (admin_url, dbname) = split_pg_url(url)?;
    println!();
    println!(
        "==> PostgreSQL: checking database `{dbname}` ({})",
        redact(url)
    );

    let query = format!(
        "SELECT 1 FROM pg_database WHERE datname = '{}'",
        dbname.replace('\'', "''")
    );
    let exists = Cmd::new("psql")
        .args([admin_url.as_str(), "-X", "-tAc", query.as_str()])
        .env("PGCONNECT_TIMEOUT", "5")
        .output()
        .with_context(|| format!("cannot reach PostgreSQL at {}", redact(&admin_url)))?;

    // Each test opens its own database `unyo_t_<random>`; remove those left by earlier runs.
    let stale = Cmd::new("psql")
        .args([
            admin_url.as_str(),
            "-X",
            "-tAc",
            r"SELECT datname FROM pg_database WHERE datname LIKE 'unyo\_t\_%'",
        ])
        .env("PGCONNECT_TIMEOUT", "5")
        .output()
        .unwrap_or_default();
    let stale: Vec<&str> = stale
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    if !stale.is_empty() {
        println!(
            "    dropping {} test databases left by earlier runs",
            stale.len()
        );
        for name in stale {
            let drop = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
            let _ = Cmd::new("psql")
                .args([admin_url.as_str(), "-X", "-qc", drop.as_str()])
                .env("PGCONNECT_TIMEOUT", "5")
                .output();
        }
    }

    if exists.trim() == "1" {
        println!("    database `{dbname}` exists");
        return Ok(());
    }

    println!("    database `{dbname}` is missing: creating it");
    let create = format!("CREATE DATABASE \"{}\"", dbname.replace('"', "\"\""));
    Cmd::new("psql")
        .args([
            admin_url.as_str(),
            "-X",
            "-v",
            "ON_ERROR_STOP=1",
            "-qc",
            create.as_str(),
        ])
        .env("PGCONNECT_TIMEOUT", "5")
        .run()
        .with_context(|| format!("cannot create database `{dbname}`"))
}

/// Splits `postgres://user@host:port/db?opts` into a URL for the `postgres`
/// maintenance database (same server and options) and the database name.
fn split_pg_url(url: &str) -> Result<(String, String)> {
    let Some((scheme, rest)) = url.split_once("://") else {
        bail!("UNYO_TEST_PG_URL is not a URL: `{}`", redact(url));
    };
    if !matches!(scheme, "postgres" | "postgresql") {
        bail!("UNYO_TEST_PG_URL must start with postgres:// (got `{scheme}://`)");
    }
    let (before_query, query) = match rest.split_once('?') {
        Some((head, query)) => (head, Some(query)),
        None => (rest, None),
    };
    let Some((authority, dbname)) = before_query.split_once('/') else {
        bail!("UNYO_TEST_PG_URL names no database: `{}`", redact(url));
    };
    if dbname.is_empty() || dbname.contains('/') || dbname.contains('%') {
        bail!("UNYO_TEST_PG_URL: unsupported database name `{dbname}`");
    }
    let mut admin = format!("{scheme}://{authority}/postgres");
    if let Some(query) = query {
        admin.push('?');
        admin.push_str(query);
    }
    Ok((admin, dbname.to_owned()))
}

/// Hides the password of a `scheme://user:password@host/...` URL.
fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _password)) => format!("{scheme}://{user}:***@{host}{tail}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

// ---------------------------------------------------------------------------
// e2e, bench
// ---------------------------------------------------------------------------

fn e2e(filters: &[String]) -> Result<()> {
    let root = workspace_root();
    let mut report = Report::default();
    report.step("browser tests", || {
        cargo(&root, ["test", "-p", "unyo", "--test", "e2e", "--"])
            .args(["--nocapture", "--test-threads=1"])
            .args(filters)
            .env("UNYO_E2E", "1")
            .run()
    })?;
    report.finish();
    Ok(())
}

fn bench(args: &[String]) -> Result<()> {
    let root = workspace_root();
    match args.split_first() {
        Some((what, rest)) if what == "registry" => bench::registry(&root, rest),
        Some((what, rest)) if what == "reports" => bench_reports::reports(&root, rest),
        Some((what, rest)) if what == "export" => bench_export::export(&root, rest),
        Some((what, rest)) if what == "probe" => bench_probe::probe(&root, rest),
        Some((what, rest)) if what == "board" => bench_board::board(&root, rest),
        Some((what, rest)) if what == "agents" => bench_agents::agents(&root, rest),
        _ => bail!(
            "usage: cargo xtask bench registry [--sites N] [--terminals N] [--audit-entries N] [--seconds S] [--connections C] [--no-pg]\n       {}\n       cargo xtask bench board [--targets N] [--sites S] [--seconds T] [--connections C] [--interval I]\n       cargo xtask bench reports [--entries N] [--incidents N] [--keep]\n       {}\n       {}",
            bench_probe::usage_line(),
            bench_export::usage_line(),
            bench_agents::usage_line()
        ),
    }
}

// ---------------------------------------------------------------------------
// helpers
// ---------------------------------------------------------------------------

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one level below the workspace root")
        .to_path_buf()
}

fn env_is(name: &str, value: &str) -> bool {
    env::var(name).is_ok_and(|v| v.trim() == value)
}

fn warn_loudly(message: &str) {
    let bar = "!".repeat(78);
    eprintln!();
    eprintln!("{bar}");
    eprintln!("!!! WARNING: {message}");
    eprintln!("{bar}");
    eprintln!();
}

fn cargo<I, S>(root: &Path, args: I) -> Cmd
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut cmd = Cmd::new("cargo");
    cmd.args(args).current_dir(root);
    cmd
}

/// A `Command` that remembers how to print itself.
struct Cmd {
    inner: Command,
    shown: String,
}

impl Cmd {
    fn new(program: &str) -> Self {
        Self {
            inner: Command::new(program),
            shown: program.to_owned(),
        }
    }

    fn args<I, S>(&mut self, args: I) -> &mut Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        for arg in args {
            let arg = arg.as_ref();
            self.shown.push(' ');
            self.shown.push_str(&shell_quote(&arg.to_string_lossy()));
            self.inner.arg(arg);
        }
        self
    }

    fn env(&mut self, key: &str, value: &str) -> &mut Self {
        self.shown = format!("{key}={} {}", shell_quote(&redact(value)), self.shown);
        self.inner.env(key, value);
        self
    }

    fn env_remove(&mut self, key: &str) -> &mut Self {
        self.inner.env_remove(key);
        self
    }

    fn current_dir(&mut self, dir: &Path) -> &mut Self {
        self.inner.current_dir(dir);
        self
    }

    /// Runs with inherited stdio; an error unless it exits successfully.
    fn run(&mut self) -> Result<()> {
        println!("$ {}", self.shown);
        let status = self
            .inner
            .stdin(Stdio::null())
            .status()
            .with_context(|| format!("cannot start `{}`", self.shown))?;
        if !status.success() {
            bail!("`{}` failed ({status})", self.shown);
        }
        Ok(())
    }

    /// Runs capturing stdout (stderr is passed through); an error unless it
    /// exits successfully.
    fn output(&mut self) -> Result<String> {
        println!("$ {}", self.shown);
        let output = self
            .inner
            .stdin(Stdio::null())
            .stderr(Stdio::inherit())
            .output()
            .with_context(|| format!("cannot start `{}`", self.shown))?;
        if !output.status.success() {
            bail!("`{}` failed ({})", self.shown, output.status);
        }
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    }
}

fn shell_quote(arg: &str) -> String {
    let plain = !arg.is_empty()
        && arg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@,+%".contains(c));
    if plain {
        arg.to_owned()
    } else {
        format!("'{}'", arg.replace('\'', r"'\''"))
    }
}

/// Numbered steps with timings, and the closing summary.
#[derive(Default)]
struct Report {
    passed: usize,
    skipped: Vec<String>,
    started: Option<Instant>,
}

impl Report {
    fn step(&mut self, name: &str, body: impl FnOnce() -> Result<()>) -> Result<()> {
        let started = *self.started.get_or_insert_with(Instant::now);
        let number = self.passed + 1;
        println!();
        println!("==> [{number}] {name}");
        let step_started = Instant::now();
        match body() {
            Ok(()) => {
                self.passed += 1;
                println!(
                    "==> [{number}] {name}: ok ({}, total {})",
                    elapsed(step_started.elapsed()),
                    elapsed(started.elapsed())
                );
                Ok(())
            }
            Err(err) => {
                eprintln!(
                    "==> [{number}] {name}: FAILED after {}",
                    elapsed(step_started.elapsed())
                );
                Err(err.context(format!("step [{number}] `{name}` failed")))
            }
        }
    }

    fn skip(&mut self, what: &str) {
        println!();
        println!("==> skipped: {what}");
        self.skipped.push(what.to_owned());
    }

    fn finish(self) {
        println!();
        for what in &self.skipped {
            println!("note: skipped {what}");
        }
        println!("{} passed, 0 failed", self.passed);
    }
}

fn elapsed(duration: Duration) -> String {
    let secs = duration.as_secs();
    if secs >= 60 {
        format!("{}m{:02}s", secs / 60, secs % 60)
    } else {
        format!("{:.1}s", duration.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_pg_urls() {
        let (admin, db) = split_pg_url("postgres://postgres@127.0.0.1:5432/unyo_test").unwrap();
        assert_eq!(admin, "postgres://postgres@127.0.0.1:5432/postgres");
        assert_eq!(db, "unyo_test");

        let (admin, db) = split_pg_url("postgresql://u:p@db/x?sslmode=disable").unwrap();
        assert_eq!(admin, "postgresql://u:p@db/postgres?sslmode=disable");
        assert_eq!(db, "x");

        assert!(split_pg_url("postgres://host").is_err());
        assert!(split_pg_url("mysql://host/db").is_err());
    }

    #[test]
    fn redacts_passwords() {
        assert_eq!(redact("postgres://u:secret@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact("plain"), "plain");
    }

    #[test]
    fn quotes_for_display() {
        assert_eq!(shell_quote("--check"), "--check");
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
    }
}

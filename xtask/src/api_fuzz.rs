//! `cargo xtask api-fuzz`: a bounded schemathesis pass against the demo.
//!
//! Starts `unyo demo` on a free loopback port with a fresh data directory, creates an API token for the
//! demo's administrator, and runs schemathesis (the version pinned in `xtask/api-fuzz-requirements.txt`,
//! installed into a venv by `.ci/run`) against `/api/v1/openapi.json` with the checks for server errors,
//! status codes, content types and response bodies. Any 5xx or disagreement between the document and
//! the server fails the pass. Nothing leaves the machine: the server listens on 127.0.0.1 and the demo's
//! probes stay on loopback.

use std::env;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::bench::free_port;

/// The checks run on every response.
const CHECKS: &str = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance";

/// Operations left out: revoking a token could revoke the pass's own token and turn the rest of the run
/// into `401`s.
const EXCLUDED_OPERATIONS: &[&str] = &["revoke_token"];

pub fn usage_line() -> &'static str {
    "cargo xtask api-fuzz [--max-examples N] [--workers W] [--seed S] [--phases P] [--keep] [-- ST-ARGS...]"
}

struct Options {
    max_examples: u32,
    workers: u32,
    seed: String,
    phases: String,
    keep: bool,
    extra: Vec<String>,
}

fn options(args: &[String]) -> Result<Options> {
    let mut o = Options {
        max_examples: 10,
        workers: 2,
        // A fixed seed by default, so that CI explores the same requests each time; pass another to explore.
        seed: "2026".into(),
        phases: "examples,coverage,fuzzing".into(),
        keep: false,
        extra: Vec::new(),
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = || {
            it.next()
                .cloned()
                .with_context(|| format!("`{arg}` needs a value"))
        };
        match arg.as_str() {
            "--max-examples" => o.max_examples = value()?.parse().context("--max-examples")?,
            "--workers" => o.workers = value()?.parse().context("--workers")?,
            "--seed" => o.seed = value()?,
            "--phases" => o.phases = value()?,
            "--keep" => o.keep = true,
            "--" => {
                o.extra = it.cloned().collect();
                break;
            }
            other => bail!(
                "`api-fuzz`: unknown option `{other}`\nusage: {}",
                usage_line()
            ),
        }
    }
    Ok(o)
}

/// The venv schemathesis is installed in.
pub fn venv_dir() -> PathBuf {
    match env::var("UNYO_API_FUZZ_VENV") {
        Ok(dir) if !dir.trim().is_empty() => PathBuf::from(dir),
        _ => PathBuf::from(env::var("HOME").unwrap_or_else(|_| ".".into()))
            .join(".cache/unyo/api-fuzz/venv"),
    }
}

/// The pinned version from `xtask/api-fuzz-requirements.txt` (`schemathesis==X.Y.Z`).
fn pinned_version(root: &Path) -> Result<String> {
    let path = root.join("xtask/api-fuzz-requirements.txt");
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    text.lines()
        .find_map(|l| l.trim().strip_prefix("schemathesis=="))
        .map(|v| v.trim().to_owned())
        .with_context(|| format!("no `schemathesis==` pin in {}", path.display()))
}

/// The `st` executable of the venv, checked to be the pinned version.
fn schemathesis(root: &Path) -> Result<PathBuf> {
    let venv = venv_dir();
    let st = venv.join("bin/st");
    let pinned = pinned_version(root)?;
    let how = format!(
        "install it with:\n  python3 -m venv {v}\n  {v}/bin/pip install -r xtask/api-fuzz-requirements.txt\n(.ci/run does this)",
        v = venv.display()
    );
    let out = Command::new(&st)
        .arg("--version")
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("schemathesis is not installed at {}; {how}", st.display()))?;
    let version = String::from_utf8_lossy(&out.stdout);
    if !version.contains(&pinned) {
        bail!(
            "{} is `{}`, not schemathesis {pinned}; {how}",
            st.display(),
            version.trim()
        );
    }
    Ok(st)
}

/// Kills the server when the pass ends, however it ends.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn wait_for(port: u16, path: &str, server: &mut Server, log: &Path) -> Result<()> {
    let started = Instant::now();
    // The demo loads a year of records first; a debug build takes a while.
    while started.elapsed() < Duration::from_secs(300) {
        if let Some(status) = server.0.try_wait()? {
            bail!(
                "the demo exited ({status}) before answering; its log:\n{}",
                std::fs::read_to_string(log).unwrap_or_default()
            );
        }
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
        std::thread::sleep(Duration::from_millis(300));
    }
    bail!("the demo did not answer on port {port} within 300 s")
}

pub fn api_fuzz(root: &Path, args: &[String]) -> Result<()> {
    let o = options(args)?;
    let st = schemathesis(root)?;

    println!("building unyo ...");
    let status = Command::new("cargo")
        .args(["build", "-p", "unyo"])
        .current_dir(root)
        .status()?;
    if !status.success() {
        bail!("`cargo build -p unyo` failed");
    }
    let target = env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| root.join("target"));
    let bin = target.join("debug/unyo");

    let work = env::temp_dir().join(format!("unyo-api-fuzz-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work)?;
    let data = work.join("demo");
    let data_arg = data.to_string_lossy().into_owned();
    let log = work.join("server.log");
    let port = free_port()?;
    let listen = format!("127.0.0.1:{port}");

    println!("starting the demo on {listen} (log: {})", log.display());
    let file = std::fs::File::create(&log)?;
    let mut server = Server(
        Command::new(&bin)
            .args(["demo", "--data-dir", &data_arg, "--listen", &listen])
            .env("UNYO_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(file.try_clone()?)
            .stderr(file)
            .spawn()
            .with_context(|| format!("starting {}", bin.display()))?,
    );
    wait_for(port, "/api/v1/openapi.json", &mut server, &log)?;

    let out = Command::new(&bin)
        .args([
            "token",
            "create",
            "--data-dir",
            &data_arg,
            "--user",
            "admin",
            "--name",
            "api-fuzz",
        ])
        .stdin(Stdio::null())
        .output()?;
    if !out.status.success() {
        bail!(
            "`unyo token create` failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let token = String::from_utf8_lossy(&out.stdout).trim().to_owned();

    let schema = format!("http://{listen}/api/v1/openapi.json");
    let mut cmd = Command::new(&st);
    cmd.args(["run", &schema])
        .args(["--url", &format!("http://{listen}/api/v1")])
        .args(["--checks", CHECKS])
        .args(["--phases", &o.phases])
        .args(["--max-examples", &o.max_examples.to_string()])
        .args(["--workers", &o.workers.to_string()])
        .args(["--seed", &o.seed])
        .args(["--request-timeout", "30"])
        .args(["--suppress-health-check", "all"])
        .arg("--no-shrink");
    for id in EXCLUDED_OPERATIONS {
        cmd.args(["--exclude-operation-id", id]);
    }
    cmd.args(["--report", "junit", "--report-dir"])
        .arg(work.join("report"))
        .args(&o.extra);
    println!(
        "$ st run {schema} --checks {CHECKS} --phases {} --max-examples {} --workers {} --seed {} -H 'Authorization: Bearer ***'",
        o.phases, o.max_examples, o.workers, o.seed
    );
    cmd.args(["--header", &format!("Authorization: Bearer {token}")]);
    let started = Instant::now();
    let status = cmd.stdin(Stdio::null()).status()?;
    println!("schemathesis took {:.0?}", started.elapsed());

    drop(server);
    if o.keep || !status.success() {
        println!("kept: {} (server log, report)", work.display());
    } else {
        let _ = std::fs::remove_dir_all(&work);
    }
    if !status.success() {
        bail!("schemathesis found server errors or disagreements with the OpenAPI document");
    }
    Ok(())
}

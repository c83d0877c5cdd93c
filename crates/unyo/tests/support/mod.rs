//! Test harness shared by the integration and end-to-end tests in
//! `crates/unyo/tests/*.rs` (each does `mod support;`).
//!
//! * [`Server`] runs the real `unyo` binary on a loopback port with a fresh
//!   data directory and kills it when dropped.
//! * [`Browser`] runs Debian's `chromedriver` + headless `chromium` on
//!   loopback and drives them through fantoccini (plain HTTP connector, no TLS
//!   features). Everything is torn down when it is dropped.
//! * [`e2e_enabled`] decides whether browser tests run:
//!   `UNYO_E2E=1` makes them mandatory (missing chromium or chromedriver is
//!   a panic, so CI cannot skip silently), `UNYO_E2E=0` skips them, and when
//!   the variable is unset they run only if both programs are installed.
//!
//! The harness panics with a clear message instead of returning errors:
//! it only ever runs inside tests.

// Every test binary compiles this module but uses only part of it.
#![allow(dead_code)]

use std::env;
use std::ffi::OsStr;
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::ops::Deref;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use tempfile::TempDir;

/// How long a server may take to answer `GET /healthz`.
const SERVER_START_TIMEOUT: Duration = Duration::from_secs(60);
/// How long chromedriver may take to answer `GET /status`.
const DRIVER_START_TIMEOUT: Duration = Duration::from_secs(30);
/// How long opening a browser session may take.
const SESSION_TIMEOUT: Duration = Duration::from_secs(60);
/// Default wait for an element to appear.
const ELEMENT_TIMEOUT: Duration = Duration::from_secs(10);

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// A TCP port on 127.0.0.1 that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("cannot bind 127.0.0.1:0 to find a free port")
}

/// The `unyo` binary built for these tests, as a [`Command`], for running
/// one-shot subcommands (`user`, `import`, `audit verify` ...).
pub fn unyo_command() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_unyo"));
    cmd.stdin(Stdio::null());
    cmd
}

/// The workspace root (two levels above this crate).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("crates/unyo lives two levels below the workspace root")
        .to_path_buf()
}

// ---------------------------------------------------------------------------
// Server
// ---------------------------------------------------------------------------

/// A running `unyo` server on `127.0.0.1:<free port>`, killed on drop.
pub struct Server {
    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub base_url: String,
    /// The server's `--data-dir`; also holds `server.log`.
    pub data_dir: TempDir,
    addr: SocketAddr,
    log_path: PathBuf,
    child: Child,
    /// Set once the server is up: from then on a failing test shows the log.
    show_log_on_panic: bool,
}

impl Server {
    /// `unyo demo --listen 127.0.0.1:PORT --data-dir <fresh tempdir>`.
    pub fn demo() -> Self {
        Self::serve_with(["demo"])
    }

    /// `unyo ARGS... --listen 127.0.0.1:PORT --data-dir <fresh tempdir>`;
    /// `args` starts with the subcommand, e.g. `["serve"]`.
    pub fn serve_with<I, S>(args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let data_dir = tempfile::Builder::new()
            .prefix("unyo-test-")
            .tempdir()
            .expect("cannot create a temporary data directory");
        Self::start_in(data_dir, args)
    }

    /// Like [`Server::serve_with`], in a data directory the test prepared
    /// (e.g. with [`unyo_command`]) beforehand.
    pub fn start_in<I, S>(data_dir: TempDir, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let port = free_port();
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let log_path = data_dir.path().join("server.log");
        let (stdout, stderr) = log_file(&log_path);

        let mut cmd = unyo_command();
        cmd.args(args)
            .arg("--listen")
            .arg(addr.to_string())
            .arg("--data-dir")
            .arg(data_dir.path())
            .stdout(stdout)
            .stderr(stderr);
        let shown = format!("{cmd:?}");
        let child = cmd
            .spawn()
            .unwrap_or_else(|err| panic!("cannot start {shown}: {err}"));

        let mut server = Self {
            base_url: format!("http://{addr}"),
            data_dir,
            addr,
            log_path,
            child,
            show_log_on_panic: false,
        };
        server.wait_healthy(&shown);
        server.show_log_on_panic = true;
        server
    }

    fn wait_healthy(&mut self, shown: &str) {
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "{shown} exited during start-up ({status}); its output:\n{}",
                    tail(&self.log_path)
                );
            }
            if matches!(http_request(self.addr, "GET", "/healthz"), Ok((200, _))) {
                return;
            }
            if started.elapsed() > SERVER_START_TIMEOUT {
                panic!(
                    "{shown}: GET /healthz did not answer 200 within {SERVER_START_TIMEOUT:?}; \
                     its output:\n{}",
                    tail(&self.log_path)
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// `base_url` + `path` (`path` starts with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// The listening address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// A plain `GET` over HTTP/1.0: the status code and the body.
    pub fn get(&self, path: &str) -> (u16, String) {
        http_request(self.addr, "GET", path)
            .unwrap_or_else(|err| panic!("GET {}: {err}", self.url(path)))
    }

    /// Everything the server printed so far.
    pub fn log(&self) -> String {
        fs::read_to_string(&self.log_path).unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if self.show_log_on_panic && std::thread::panicking() {
            eprintln!(
                "--- server log ({}) ---\n{}",
                self.log_path.display(),
                tail(&self.log_path)
            );
        }
    }
}

// ---------------------------------------------------------------------------
// Browser
// ---------------------------------------------------------------------------

/// Whether browser tests should run; call at the top of each browser test:
///
/// ```ignore
/// if !support::e2e_enabled() { return; }
/// ```
///
/// Panics when `UNYO_E2E=1` and chromium or chromedriver is missing.
pub fn e2e_enabled() -> bool {
    let setting = env::var("UNYO_E2E").unwrap_or_default();
    match setting.trim() {
        "1" => {
            if let Err(missing) = browser_programs() {
                panic!(
                    "UNYO_E2E=1 but {missing}; install them with \
                     `apt-get install chromium chromium-driver`"
                );
            }
            true
        }
        "0" => {
            eprintln!("skipped: browser test (UNYO_E2E=0); set UNYO_E2E=1 to run it");
            false
        }
        "" => match browser_programs() {
            Ok(_) => true,
            Err(missing) => {
                eprintln!("skipped: set UNYO_E2E=1 ({missing})");
                false
            }
        },
        other => panic!("UNYO_E2E must be 1 or 0, not `{other}`"),
    }
}

/// `(chromium, chromedriver)`, or a description of what is missing.
/// `UNYO_CHROMIUM` and `UNYO_CHROMEDRIVER` override the paths.
fn browser_programs() -> Result<(PathBuf, PathBuf), String> {
    let chromium = env::var_os("UNYO_CHROMIUM")
        .map(PathBuf::from)
        .or_else(|| Some(PathBuf::from(CHROMIUM)).filter(|p| p.is_file()))
        .or_else(|| find_in_path("chromium"));
    let driver = env::var_os("UNYO_CHROMEDRIVER")
        .map(PathBuf::from)
        .or_else(|| find_in_path("chromedriver"))
        .or_else(|| Some(PathBuf::from(CHROMEDRIVER)).filter(|p| p.is_file()));
    match (chromium, driver) {
        (Some(chromium), Some(driver)) if chromium.is_file() && driver.is_file() => {
            Ok((chromium, driver))
        }
        (chromium, driver) => {
            let mut missing = Vec::new();
            if !chromium.is_some_and(|p| p.is_file()) {
                missing.push(format!("chromium ({CHROMIUM}) is not installed"));
            }
            if !driver.is_some_and(|p| p.is_file()) {
                missing.push("chromedriver (PATH or /usr/bin) is not installed".to_owned());
            }
            Err(missing.join(" and "))
        }
    }
}

fn find_in_path(program: &str) -> Option<PathBuf> {
    env::split_paths(&env::var_os("PATH")?)
        .map(|dir| dir.join(program))
        .find(|path| path.is_file())
}

/// Headless chromium driven through chromedriver, both on loopback.
///
/// Derefs to [`fantoccini::Client`], so all of its methods are available
/// (`goto`, `find`, `current_url`, `execute` ...). Dropping it ends the
/// session and kills chromedriver and the browser; [`Browser::close`] does
/// the same politely.
pub struct Browser {
    client: Client,
    session_id: Option<String>,
    driver: Driver,
}

/// The chromedriver process (and, through its process group, chromium);
/// killed on drop.
struct Driver {
    child: Child,
    addr: SocketAddr,
    log_path: PathBuf,
    /// Holds the browser profile and `chromedriver.log`.
    _scratch: TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        // Kill the whole process group (chromium and its helpers included).
        // `kill` here is the shell builtin, which every Debian has.
        let _ = Command::new("sh")
            .args(["-c", "kill -KILL -\"$1\" 2>/dev/null", "sh"])
            .arg(self.child.id().to_string())
            .stdin(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Driver {
    async fn wait_until_ready(&mut self) {
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "chromedriver exited during start-up ({status}); its output:\n{}",
                    tail(&self.log_path)
                );
            }
            if matches!(driver_request(self.addr, "GET", "/status"), Ok((200, _))) {
                return;
            }
            if started.elapsed() > DRIVER_START_TIMEOUT {
                panic!(
                    "chromedriver did not answer on {} within {DRIVER_START_TIMEOUT:?}; \
                     its output:\n{}",
                    self.addr,
                    tail(&self.log_path)
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Browser {
    /// Starts chromedriver and opens a browser session.
    pub async fn start() -> Self {
        let (chromium, driver_path) = browser_programs().unwrap_or_else(|missing| {
            panic!("cannot start a browser: {missing} (apt-get install chromium chromium-driver)")
        });
        let scratch = tempfile::Builder::new()
            .prefix("unyo-browser-")
            .tempdir()
            .expect("cannot create a temporary browser directory");
        let profile = scratch.path().join("profile");
        let log_path = scratch.path().join("chromedriver.log");
        let (stdout, stderr) = log_file(&log_path);

        let port = free_port();
        let driver_addr = SocketAddr::from(([127, 0, 0, 1], port));
        let child = Command::new(&driver_path)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr)
            // Its own process group, so that drop can kill chromium too.
            .process_group(0)
            .spawn()
            .unwrap_or_else(|err| panic!("cannot start {}: {err}", driver_path.display()));

        // From here on, dropping `driver` cleans up even if a step panics.
        let mut driver = Driver {
            child,
            addr: driver_addr,
            log_path,
            _scratch: scratch,
        };
        driver.wait_until_ready().await;

        let capabilities = serde_json::json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": [
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-dev-shm-usage",
                    "--disable-quic",
                    "--no-first-run",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--window-size=1280,900",
                    format!("--user-data-dir={}", profile.display()),
                    "--lang=ja",
                ],
            },
        });
        let serde_json::Value::Object(capabilities) = capabilities else {
            unreachable!("capabilities are a JSON object")
        };
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let driver_url = format!("http://{driver_addr}");
        let mut builder = ClientBuilder::new(connector);
        builder.capabilities(capabilities);
        let connecting = builder.connect(&driver_url);
        let client = match tokio::time::timeout(SESSION_TIMEOUT, connecting).await {
            Ok(Ok(client)) => client,
            Ok(Err(err)) => panic!(
                "cannot open a chromium session through {driver_url}: {err}\n\
                 chromedriver log:\n{}",
                tail(&driver.log_path)
            ),
            Err(_) => panic!(
                "opening a chromium session took over {SESSION_TIMEOUT:?}\n\
                 chromedriver log:\n{}",
                tail(&driver.log_path)
            ),
        };
        let session_id = client.session_id().await.ok().flatten();
        Self {
            client,
            session_id,
            driver,
        }
    }

    /// The fantoccini client (also reachable through `Deref`).
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Navigates to `url`.
    pub async fn open(&self, url: &str) {
        self.client
            .goto(url)
            .await
            .unwrap_or_else(|err| panic!("cannot open {url}: {err}"));
    }

    /// Waits (up to 10 s) for the first element matching `css`.
    pub async fn element(&self, css: &str) -> Element {
        self.client
            .wait()
            .at_most(ELEMENT_TIMEOUT)
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|err| {
                panic!("no element matches `{css}` within {ELEMENT_TIMEOUT:?}: {err}")
            })
    }

    /// All elements matching `css` right now (possibly none).
    pub async fn elements(&self, css: &str) -> Vec<Element> {
        self.client
            .find_all(Locator::Css(css))
            .await
            .unwrap_or_else(|err| panic!("cannot search for `{css}`: {err}"))
    }

    /// The visible text of the first element matching `css`.
    pub async fn text(&self, css: &str) -> String {
        self.element(css)
            .await
            .text()
            .await
            .unwrap_or_else(|err| panic!("cannot read the text of `{css}`: {err}"))
    }

    /// Clicks the first element matching `css`.
    pub async fn click(&self, css: &str) {
        self.element(css)
            .await
            .click()
            .await
            .unwrap_or_else(|err| panic!("cannot click `{css}`: {err}"));
    }

    /// Replaces the value of the input matching `css` with `value`.
    pub async fn fill(&self, css: &str, value: &str) {
        let input = self.element(css).await;
        input
            .clear()
            .await
            .unwrap_or_else(|err| panic!("cannot clear `{css}`: {err}"));
        input
            .send_keys(value)
            .await
            .unwrap_or_else(|err| panic!("cannot type into `{css}`: {err}"));
    }

    /// The page's current URL.
    pub async fn url(&self) -> String {
        self.client
            .current_url()
            .await
            .map(|url| url.to_string())
            .unwrap_or_else(|err| panic!("cannot read the current URL: {err}"))
    }

    /// Saves a PNG of the viewport as `NAME.png` in [`screenshot_dir`] and
    /// returns its path.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let png = self
            .client
            .screenshot()
            .await
            .unwrap_or_else(|err| panic!("cannot take screenshot `{name}`: {err}"));
        let dir = screenshot_dir();
        fs::create_dir_all(&dir)
            .unwrap_or_else(|err| panic!("cannot create {}: {err}", dir.display()));
        let path = dir.join(format!("{}.png", file_stem(name)));
        fs::write(&path, png)
            .unwrap_or_else(|err| panic!("cannot write {}: {err}", path.display()));
        path
    }

    /// Ends the session cleanly (chromium exits), then drop stops the driver.
    pub async fn close(mut self) {
        if let Err(err) = self.client.clone().close().await {
            eprintln!("warning: closing the browser session failed: {err}");
        }
        self.session_id = None;
    }
}

impl Deref for Browser {
    type Target = Client;

    fn deref(&self) -> &Client {
        &self.client
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Drop cannot await, so end the session with a blocking request
        // (chromedriver then quits chromium); `driver` is dropped next.
        if let Some(id) = self.session_id.take() {
            let _ = driver_request(self.driver.addr, "DELETE", &format!("/session/{id}"));
        }
    }
}

/// Where screenshots go: `$UNYO_ARTIFACTS` (relative to the workspace root
/// when relative), else `<workspace>/artifacts/screenshots`.
pub fn screenshot_dir() -> PathBuf {
    match env::var_os("UNYO_ARTIFACTS").filter(|dir| !dir.is_empty()) {
        Some(dir) => workspace_root().join(dir),
        None => workspace_root().join("artifacts").join("screenshots"),
    }
}

fn file_stem(name: &str) -> String {
    let stem: String = name
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let stem = stem.trim_start_matches('.');
    if stem.is_empty() {
        "screenshot".to_owned()
    } else {
        stem.to_owned()
    }
}

// ---------------------------------------------------------------------------
// helpers
// ---------------------------------------------------------------------------

/// A log file opened twice, for a child's stdout and stderr.
fn log_file(path: &Path) -> (File, File) {
    let file =
        File::create(path).unwrap_or_else(|err| panic!("cannot create {}: {err}", path.display()));
    let copy = file
        .try_clone()
        .unwrap_or_else(|err| panic!("cannot reopen {}: {err}", path.display()));
    (file, copy)
}

/// The last 60 lines of a log file.
fn tail(path: &Path) -> String {
    let text = match fs::read(path) {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(err) => return format!("(cannot read {}: {err})", path.display()),
    };
    let lines: Vec<&str> = text.lines().collect();
    let start = lines.len().saturating_sub(60);
    if lines.is_empty() {
        "(no output)".to_owned()
    } else {
        lines[start..].join("\n")
    }
}

/// One HTTP/1.0 request without a body, on a fresh connection: the status
/// code and the body (headers dropped). HTTP/1.0 keeps the body free of
/// chunked encoding.
pub fn http_request(addr: SocketAddr, method: &str, path: &str) -> io::Result<(u16, String)> {
    raw_request(addr, method, path, "HTTP/1.0", "")
}

/// As [`http_request`], a `GET` with `Authorization: Bearer TOKEN` (the API).
pub fn api_get(addr: SocketAddr, path: &str, token: &str) -> io::Result<(u16, String)> {
    let auth = format!("Authorization: Bearer {token}\r\n");
    raw_request(addr, "GET", path, "HTTP/1.0", &auth)
}

/// chromedriver refuses HTTP/1.0.
fn driver_request(addr: SocketAddr, method: &str, path: &str) -> io::Result<(u16, String)> {
    raw_request(addr, method, path, "HTTP/1.1", "")
}

fn raw_request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    version: &str,
    headers: &str,
) -> io::Result<(u16, String)> {
    let timeout = Duration::from_secs(5);
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    write!(
        stream,
        "{method} {path} {version}\r\nHost: {addr}\r\n{headers}Content-Length: 0\r\nConnection: close\r\n\r\n"
    )?;
    stream.flush()?;

    let mut response = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        match stream.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => response.extend_from_slice(&chunk[..n]),
            // A server that keeps the connection open: use what arrived.
            Err(err)
                if matches!(
                    err.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) && !response.is_empty() =>
            {
                break;
            }
            Err(err) => return Err(err),
        }
    }

    let response = String::from_utf8_lossy(&response);
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "no HTTP status line"))?;
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
        .unwrap_or_default();
    Ok((status, body))
}

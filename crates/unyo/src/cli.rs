//! Commands: `serve`, `demo`, `user add`, `token create`, `audit verify`, `backup`, `inventory import`,
//! `agent credential create`, `export`, `import-export`, `erase`.

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand};
use std::io::{BufRead, IsTerminal, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use unyo_domain::Role;
use unyo_store::audit::ChainReport;
use unyo_store::{Actor, Store, redact_url};
use unyo_web::WebConfig;

#[derive(Parser)]
#[command(
    name = "unyo",
    version,
    about = "unyo — 住民基本台帳ネットワークシステム運用支援 (operations support for Juki-Net terminals)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Where the data lives: a data directory with an embedded SQLite database (default), or PostgreSQL.
#[derive(Args, Clone)]
struct DataArgs {
    /// Data directory holding the SQLite database `unyo.db`.
    #[arg(long, env = "UNYO_DATA_DIR", global = true)]
    data_dir: Option<PathBuf>,
    /// Database URL instead of a data directory, e.g. `postgres://user@host/unyo`.
    #[arg(
        long,
        env = "UNYO_DATABASE_URL",
        global = true,
        conflicts_with = "data_dir"
    )]
    database_url: Option<String>,
}

impl DataArgs {
    async fn open(&self, default_dir: &str) -> Result<Store> {
        match &self.database_url {
            Some(url) => Store::open(url)
                .await
                .with_context(|| format!("opening {}", redact_url(url))),
            None => {
                let dir = self
                    .data_dir
                    .clone()
                    .unwrap_or_else(|| PathBuf::from(default_dir));
                Store::open_data_dir(&dir)
                    .await
                    .with_context(|| format!("opening data directory {}", dir.display()))
            }
        }
    }
}

#[derive(Subcommand)]
enum Command {
    /// Serve unyo on an existing (or new, empty) database.
    Serve {
        #[command(flatten)]
        data: DataArgs,
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080", env = "UNYO_LISTEN")]
        listen: SocketAddr,
        /// TLS certificate chain (PEM), e.g. from the prefecture's internal CA.
        #[arg(long, requires = "tls_key", env = "UNYO_TLS_CERT")]
        tls_cert: Option<PathBuf>,
        /// TLS private key (PEM).
        #[arg(long, requires = "tls_cert", env = "UNYO_TLS_KEY")]
        tls_key: Option<PathBuf>,
        /// Running behind a TLS-terminating proxy: cookies are `Secure` and the client's address is the last
        /// `X-Forwarded-For` entry (the one the proxy added).
        #[arg(long, env = "UNYO_BEHIND_TLS_PROXY")]
        behind_tls_proxy: bool,
        /// Several instances on one PostgreSQL: a lease (and an instance's beat) lapses this many seconds
        /// after its last renewal, and the others take its checks and jobs over.
        #[arg(long, default_value_t = 15, env = "UNYO_LEASE_SECONDS", value_parser = clap::value_parser!(u64).range(3..=600))]
        lease_seconds: u64,
    },
    /// Create a fresh demo database (the fleet of the specification, one account per role) and serve it.
    Demo {
        /// Data directory for the demo database (replaced if it holds an earlier demo; never if it holds
        /// other data).
        #[arg(long, default_value = "data/demo")]
        data_dir: PathBuf,
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
    },
    /// Manage accounts.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Manage API tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Several instances on one database: `status` shows the instances, their beats, the shards each
    /// holds and who runs each singleton job.
    Cluster {
        #[command(subcommand)]
        command: ClusterCommand,
    },
    /// The audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Import the registry from a CSV file (UTF-8 or CP932). All or nothing.
    Import {
        #[command(flatten)]
        data: DataArgs,
        /// What the file holds: sites, nodes or terminals.
        kind: ImportKind,
        /// The CSV file.
        file: PathBuf,
    },
    /// Documents: the monthly work record (業務実績簿) and the annual council pack (審議会資料).
    Report {
        #[command(subcommand)]
        command: ReportCommand,
    },
    /// Benchmark helpers (used by `cargo xtask bench`).
    #[command(hide = true)]
    Bench {
        #[command(subcommand)]
        command: BenchCommand,
    },
    /// Export every table (CSV, JSON Lines, JSON Schema), every stored file and the verified audit chain
    /// into a new directory, with SHA256SUMS and a Japanese README (R11). One snapshot; the server may run.
    Export {
        #[command(flatten)]
        data: DataArgs,
        /// The directory to write (must be new or empty).
        #[arg(long)]
        to: PathBuf,
    },
    /// Import an export (`unyo export`) into a new, empty database of the same unyo version.
    ImportExport {
        #[command(flatten)]
        data: DataArgs,
        /// The export directory.
        dir: PathBuf,
    },
    /// Erase the data directory after a verified export and write the 消去証明書 (overwrite = NIST SP
    /// 800-88 Clear). Stop the server first.
    Erase {
        #[command(flatten)]
        data: DataArgs,
        /// The certificate PDF to write, outside the data directory (the XLSX is written beside it).
        #[arg(long)]
        certificate: PathBuf,
        /// The export made of this data just before (`unyo export --to DIR`); verified first.
        #[arg(long)]
        export: PathBuf,
        /// Who erases (default: the OS account).
        #[arg(long)]
        operator: Option<String>,
        /// Who witnesses (立会者).
        #[arg(long, default_value = "")]
        witness: String,
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
    },
    /// Write a consistent copy of a live SQLite database.
    Backup {
        #[command(flatten)]
        data: DataArgs,
        /// The file to write (must not exist).
        #[arg(long)]
        to: PathBuf,
    },
    /// Terminal inventories (FusionInventory XML, GLPI-agent JSON).
    Inventory {
        #[command(subcommand)]
        command: InventoryCommand,
    },
    /// Inventory agents reporting to `/ocsinventory`.
    Agent {
        #[command(subcommand)]
        command: AgentCommand,
    },
    /// Vulnerability feeds brought in on removable media (NVD, JVN, OSV, RustSec).
    Feed {
        #[command(subcommand)]
        command: FeedCommand,
    },
    /// Print unyo's own SBOM (CycloneDX 1.5 JSON of the crates it is built from).
    Sbom {
        #[command(flatten)]
        data: DataArgs,
    },
}

#[derive(Subcommand)]
enum FeedCommand {
    /// Import feed files or directories (NVD CVE API 2.0 JSON plain or gzip, JVN VULDEF/JVNRSS XML, OSV JSON or
    /// zip, a RustSec advisory folder), then match the inventories and unyo itself against them. A refused file
    /// does not stop the others; exits 1 when any file was refused.
    Import {
        #[command(flatten)]
        data: DataArgs,
        /// The files or directories.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
}

#[derive(Subcommand)]
enum InventoryCommand {
    /// Import inventory files (FusionInventory/OCS XML or GLPI-agent JSON, plain, zlib or gzip). Each
    /// file is matched to a terminal (UUID, serial number, host name) or waits in the review queue;
    /// exits 1 when any file was refused.
    Import {
        #[command(flatten)]
        data: DataArgs,
        /// The files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

#[derive(Subcommand)]
enum AgentCommand {
    /// HTTP Basic credentials of agents.
    Credential {
        #[command(subcommand)]
        command: AgentCredentialCommand,
    },
}

#[derive(Subcommand)]
enum AgentCredentialCommand {
    /// Create a credential and print its user and password (the password is shown only this once).
    Create {
        #[command(flatten)]
        data: DataArgs,
        /// What the credential is for (e.g. a site or a group of terminals).
        name: String,
    },
}

#[derive(Subcommand)]
enum ReportCommand {
    /// The monthly work record (業務実績簿) of a contract and month, as generated from the data now (a
    /// draft; submitting freezes a version and is done on the 業務実績簿 page).
    Monthly {
        #[command(flatten)]
        data: DataArgs,
        /// The contract's id.
        #[arg(long)]
        contract: i64,
        /// The month, `YYYY-MM` (or 令和8年5月).
        #[arg(long)]
        month: String,
        /// pdf or xlsx.
        #[arg(long, value_enum)]
        format: ReportFormat,
        /// The file to write.
        #[arg(long)]
        out: PathBuf,
        /// The 提出日 printed (default: today in JST).
        #[arg(long)]
        issued_on: Option<String>,
    },
    /// The annual council pack (本人確認情報保護審議会資料) of a fiscal year.
    Annual {
        #[command(flatten)]
        data: DataArgs,
        /// The contract's id.
        #[arg(long)]
        contract: i64,
        /// The fiscal year by its starting calendar year (2026 = 令和8年度).
        #[arg(long)]
        fiscal_year: i32,
        /// pdf or xlsx.
        #[arg(long, value_enum)]
        format: ReportFormat,
        /// The file to write.
        #[arg(long)]
        out: PathBuf,
        /// The 作成日 printed (default: today in JST).
        #[arg(long)]
        issued_on: Option<String>,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum ReportFormat {
    Pdf,
    Xlsx,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum ImportKind {
    Sites,
    Nodes,
    Terminals,
}

#[derive(Subcommand)]
enum BenchCommand {
    /// Serve a trivial handler (the ceiling a real page is compared with).
    Ceiling {
        #[arg(long)]
        listen: SocketAddr,
    },
    /// Append N synthetic audit entries.
    SeedAudit {
        #[command(flatten)]
        data: DataArgs,
        #[arg(long)]
        entries: usize,
    },
    /// One connectivity check on every terminal in service without one: every other one TCP to
    /// `--tcp-port`, the rest ICMP (for `cargo xtask bench board`).
    SeedChecks {
        #[command(flatten)]
        data: DataArgs,
        #[arg(long)]
        tcp_port: u16,
        /// Seconds between two runs of a check.
        #[arg(long, default_value_t = 60)]
        interval: u32,
    },
    /// A webhook notification channel to `--url` (for `cargo xtask cluster-test`).
    SeedWebhook {
        #[command(flatten)]
        data: DataArgs,
        #[arg(long)]
        url: String,
    },
    /// Every check's results since `--since` (Unix seconds) as JSON: how many, how many pairs closer than
    /// half an interval (two in one slot), checks without any, the oldest last result (for
    /// `cargo xtask cluster-test`).
    Slots {
        #[command(flatten)]
        data: DataArgs,
        #[arg(long)]
        since: i64,
    },
    /// Fill an empty database with a large deployment's fiscal year (for `cargo xtask bench reports`).
    SeedYear {
        #[command(flatten)]
        data: DataArgs,
        /// Work entries.
        #[arg(long, default_value_t = 100_000)]
        entries: usize,
        /// Incidents.
        #[arg(long, default_value_t = 5_000)]
        incidents: usize,
        /// Support requests.
        #[arg(long, default_value_t = 5_000)]
        requests: usize,
        /// Sites (one terminal each).
        #[arg(long, default_value_t = 300)]
        sites: usize,
        /// SEs on the contract.
        #[arg(long, default_value_t = 40)]
        workers: usize,
        /// The fiscal year by its starting calendar year.
        #[arg(long, default_value_t = 2026)]
        fiscal_year: i32,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add an account. The password is asked for, or read from standard input with `--password-stdin`.
    Add {
        #[command(flatten)]
        data: DataArgs,
        /// Login name.
        name: String,
        /// Role: admin, staff, se or auditor.
        #[arg(long)]
        role: String,
        /// Display name (defaults to the login name).
        #[arg(long)]
        display_name: Option<String>,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create an API token for a user and print it (once).
    Create {
        #[command(flatten)]
        data: DataArgs,
        /// The user the token acts as.
        #[arg(long)]
        user: String,
        /// What the token is for.
        #[arg(long, default_value = "cli")]
        name: String,
    },
}

#[derive(Subcommand)]
enum ClusterCommand {
    /// Instances, beats, shard leases per instance, singleton holders.
    Status {
        #[command(flatten)]
        data: DataArgs,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Walk the hash chain; exit 0 when intact, 1 and the first broken entry otherwise.
    Verify {
        #[command(flatten)]
        data: DataArgs,
    },
}

const DEFAULT_DATA_DIR: &str = "data/unyo";

/// Runs the command line.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("UNYO_LOG")
                .unwrap_or_else(|_| "info,sqlx=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Serve {
            data,
            listen,
            tls_cert,
            tls_key,
            behind_tls_proxy,
            lease_seconds,
        } => {
            let store = data.open(DEFAULT_DATA_DIR).await?;
            ensure_first_admin(&store).await?;
            let tls = tls_cert.zip(tls_key);
            let config = serve_config(tls.is_some(), behind_tls_proxy);
            let lease = std::time::Duration::from_secs(lease_seconds);
            serve(store, listen, config, tls, lease).await?;
        }
        Command::Demo { data_dir, listen } => {
            let store = fresh_demo(&data_dir).await?;
            let scheme = "http";
            println!();
            println!("unyo デモを起動しました / unyo demo is running");
            println!("  URL: {scheme}://{listen}/");
            println!("  データ / data: {}", data_dir.display());
            println!("  ログイン / log in (ID / password):");
            for a in unyo_demo::ACCOUNTS {
                println!(
                    "    {:<8} {:<18} {}",
                    a.username,
                    a.password,
                    a.role.label_ja()
                );
            }
            println!("  停止 / stop: Ctrl+C");
            println!();
            // The demo's 鳥栖 line is down without a packet leaving the machine: its loopback addresses are
            // silent to the demo's probes (and only to the demo's).
            let blackhole = unyo_probe::Blackhole::loopback(unyo_demo::silent_addresses())?;
            serve(
                store,
                listen,
                WebConfig {
                    demo: true,
                    blackhole,
                    ..Default::default()
                },
                None,
                std::time::Duration::from_secs(15),
            )
            .await?;
        }
        Command::User {
            command:
                UserCommand::Add {
                    data,
                    name,
                    role,
                    display_name,
                    password_stdin,
                },
        } => {
            let store = data.open(DEFAULT_DATA_DIR).await?;
            let Some(role) = Role::parse(&role) else {
                bail!("unknown role {role:?}: use admin, staff, se or auditor");
            };
            let password = if password_stdin {
                read_stdin_line()?
            } else {
                prompt_password(&format!("Password for {name}: "))?
            };
            let user = store
                .create_user(
                    &Actor::system("cli"),
                    &name,
                    display_name.as_deref().unwrap_or(&name),
                    role,
                    &password,
                )
                .await
                .map_err(human)?;
            println!("created user {} ({})", user.username, role.as_str());
        }
        Command::Token {
            command: TokenCommand::Create { data, user, name },
        } => {
            let store = data.open(DEFAULT_DATA_DIR).await?;
            let Some(u) = store.user_by_name(&user).await? else {
                bail!("no such user: {user}");
            };
            let token = store
                .create_api_token(&Actor::system("cli"), u.id, &name)
                .await
                .map_err(human)?;
            println!("{token}");
        }
        Command::Cluster {
            command: ClusterCommand::Status { data },
        } => {
            let store = data.open(DEFAULT_DATA_DIR).await?;
            crate::cluster::status(&store).await?;
            store.close().await;
        }
        Command::Audit {
            command: AuditCommand::Verify { data },
        } => {
            let store = data.open(DEFAULT_DATA_DIR).await?;
            let started = std::time::Instant::now();
            match store.verify_and_record_audit_chain().await? {
                ChainReport::Intact { entries, head } => {
                    println!(
                        "audit chain intact: {entries} entries, head {head} ({:.2?})",
                        started.elapsed()
                    );
                }
                ChainReport::Broken { id, reason } => {
                    println!("audit chain BROKEN at entry {id}: {reason}");
                    return Ok(ExitCode::FAILURE);
                }
            }
        }
        Command::Import { data, kind, file } => {
            let store = data.open(DEFAULT_DATA_DIR).await?;
            let bytes = read_at_most(&file, unyo_exchange::MAX_INPUT_BYTES)
                .with_context(|| format!("reading {}", file.display()))?;
            let text = unyo_exchange::decode_text(&bytes).map_err(|e| anyhow::anyhow!("{e}"))?;
            let actor = Actor::system("cli");
            let started = std::time::Instant::now();
            let outcome = match kind {
                ImportKind::Sites => match unyo_exchange::parse_sites(&text) {
                    Ok(rows) => store.import_sites(&actor, &rows).await.map_err(human)?,
                    Err(errors) => Err(errors),
                },
                ImportKind::Nodes => match unyo_exchange::parse_nodes(&text) {
                    Ok(rows) => store.import_nodes(&actor, &rows).await.map_err(human)?,
                    Err(errors) => Err(errors),
                },
                ImportKind::Terminals => match unyo_exchange::parse_terminals(&text) {
                    Ok(rows) => store.import_terminals(&actor, &rows).await.map_err(human)?,
                    Err(errors) => Err(errors),
                },
            };
            match outcome {
                Ok(s) => println!(
                    "imported {}: {} created, {} updated, {} unchanged ({:.2?})",
                    file.display(),
                    s.created,
                    s.updated,
                    s.unchanged,
                    started.elapsed()
                ),
                Err(errors) => {
                    eprintln!(
                        "取込できませんでした（何も登録していません） / import refused, nothing written:"
                    );
                    for e in errors.iter().take(50) {
                        eprintln!("  {}行目 {}: {}", e.line, e.column, e.message);
                    }
                    if errors.len() > 50 {
                        eprintln!("  ... ({} errors in all)", errors.len());
                    }
                    return Ok(ExitCode::FAILURE);
                }
            }
        }
        Command::Bench {
            command: BenchCommand::Ceiling { listen },
        } => {
            let app = axum::Router::new().route("/", axum::routing::get(|| async { "ok" }));
            let listener = tokio::net::TcpListener::bind(listen).await?;
            axum::serve(listener, app).await?;
        }
        Command::Bench {
            command: BenchCommand::SeedWebhook { data, url },
        } => {
            let store = data.open(DEFAULT_DATA_DIR).await?;
            let id = store
                .create_notification_channel(
                    &Actor::system("cli"),
                    "cluster-test webhook",
                    &unyo_domain::connectivity::ChannelConfig::Webhook { url, ca_pem: None },
                )
                .await
                .map_err(human)?;
            store.close().await;
            println!("created channel {id}");
        }
        Command::Bench {
            command: BenchCommand::Slots { data, since },
        } => {
            let store = data.open(DEFAULT_DATA_DIR).await?;
            println!("{}", crate::cluster::slots(&store, since).await?);
            store.close().await;
        }
        Command::Bench {
            command: BenchCommand::SeedAudit { data, entries },
        } => {
            let store = data.open(DEFAULT_DATA_DIR).await?;
            store.seed_synthetic_audit(entries).await?;
            store.close().await;
        }
        Command::Bench {
            command:
                BenchCommand::SeedChecks {
                    data,
                    tcp_port,
                    interval,
                },
        } => {
            let store = data.open(DEFAULT_DATA_DIR).await?;
            let started = std::time::Instant::now();
            let n = store
                .seed_bench_checks(tcp_port, interval)
                .await
                .map_err(human)?;
            store.close().await;
            println!("created {n} checks ({:.1?})", started.elapsed());
        }
        Command::Bench {
            command:
                BenchCommand::SeedYear {
                    data,
                    entries,
                    incidents,
                    requests,
                    sites,
                    workers,
                    fiscal_year,
                },
        } => {
            let store = data.open(DEFAULT_DATA_DIR).await?;
            let started = std::time::Instant::now();
            let s = store
                .seed_synthetic_year(&unyo_store::records::SeedYear {
                    fiscal_year: unyo_domain::wareki::FiscalYear(fiscal_year),
                    work_entries: entries,
                    incidents,
                    requests,
                    sites,
                    workers,
                    campaigns: 12,
                })
                .await
                .map_err(human)?;
            store.close().await;
            println!(
                "seeded contract {}: {} work entries, {} requests, {} incidents, {} audit entries ({:.1?})",
                s.contract_id,
                s.work_entries,
                s.requests,
                s.incidents,
                s.audit_entries,
                started.elapsed()
            );
        }
        Command::Report { command } => return report(command).await,
        Command::Export { data, to } => {
            let store = data.open(DEFAULT_DATA_DIR).await?;
            let started = std::time::Instant::now();
            let s = store
                .export_all(&Actor::system("cli"), &to)
                .await
                .map_err(human)?;
            let rows: u64 = s.manifest.tables.iter().map(|t| t.rows).sum();
            println!(
                "exported {} tables, {rows} rows, {} stored files into {} ({} files, {} bytes, {:.2?})",
                s.manifest.tables.len(),
                s.manifest.files,
                to.display(),
                s.file_count,
                s.bytes,
                started.elapsed()
            );
            let chain = &s.manifest.audit_chain;
            if chain.intact {
                println!("audit chain intact: {} entries", chain.entries);
            } else {
                println!(
                    "audit chain BROKEN: {}",
                    chain.broken.as_deref().unwrap_or_default()
                );
            }
            println!(
                "SHA-256 of SHA256SUMS (record it at hand-over): {}",
                s.manifest_sha256
            );
            if !chain.intact {
                return Ok(ExitCode::FAILURE);
            }
        }
        Command::ImportExport { data, dir } => {
            let store = data.open(DEFAULT_DATA_DIR).await?;
            let s = unyo_store::export::import_export(&store, &dir)
                .await
                .map_err(human)?;
            let rows: u64 = s.tables.iter().map(|(_, n)| n).sum();
            println!(
                "imported {} tables, {rows} rows from {} (SHA256SUMS {})",
                s.tables.len(),
                dir.display(),
                s.manifest_sha256
            );
            match s.audit {
                ChainReport::Intact { entries, head } => {
                    println!("audit chain intact: {entries} entries, head {head}");
                }
                ChainReport::Broken { id, reason } => {
                    println!("audit chain BROKEN at entry {id}: {reason}");
                    return Ok(ExitCode::FAILURE);
                }
            }
        }
        Command::Erase {
            data,
            certificate,
            export,
            operator,
            witness,
            yes,
        } => {
            if data.database_url.is_some() {
                bail!(
                    "a PostgreSQL database is erased by DROP DATABASE and then the storage procedure of its \
                     server (for example destroying the key of its encrypted volume); record both in the \
                     erasure register (消去記録) and produce the certificate there"
                );
            }
            let data_dir = data
                .data_dir
                .clone()
                .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR));
            if !yes {
                if !std::io::stdin().is_terminal() {
                    bail!("refusing to erase without --yes when not run from a terminal");
                }
                print!(
                    "Erase everything in {} irrecoverably? Type the word erase to go on: ",
                    data_dir.display()
                );
                std::io::stdout().flush()?;
                if read_stdin_line()?.trim() != "erase" {
                    bail!("nothing erased");
                }
            }
            let operator = operator
                .or_else(|| std::env::var("USER").ok())
                .unwrap_or_else(|| "operator".into());
            let ok = crate::erase::erase(&crate::erase::EraseRequest {
                data_dir,
                certificate,
                export,
                operator,
                witness,
            })
            .await?;
            if !ok {
                return Ok(ExitCode::FAILURE);
            }
        }
        Command::Backup { data, to } => {
            let store = data.open(DEFAULT_DATA_DIR).await?;
            store.backup_and_record(&to).await.map_err(human)?;
            println!("backup written to {}", to.display());
        }
        Command::Feed {
            command: FeedCommand::Import { data, paths },
        } => {
            let store = data.open(DEFAULT_DATA_DIR).await?;
            return import_feeds(&store, &paths).await;
        }
        Command::Sbom { data: _ } => {
            // Built into the binary: no database is opened.
            print!("{}", unyo_vuln::sbom::OWN);
        }
        Command::Inventory {
            command: InventoryCommand::Import { data, files },
        } => {
            let store = data.open(DEFAULT_DATA_DIR).await?;
            return import_inventories(&store, &files).await;
        }
        Command::Agent {
            command:
                AgentCommand::Credential {
                    command: AgentCredentialCommand::Create { data, name },
                },
        } => {
            let store = data.open(DEFAULT_DATA_DIR).await?;
            let c = store
                .create_agent_credential(&Actor::system("cli"), &name)
                .await
                .map_err(human)?;
            let mut out = std::io::stdout().lock();
            writeln!(
                out,
                "Created agent credential {} ({}). The password is shown only once:",
                c.id, c.name
            )?;
            writeln!(out, "user: {}", c.username)?;
            writeln!(out, "password: {}", c.password)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `unyo feed import FILE|DIR...`: each file on its own, then one matching run.
async fn import_feeds(store: &Store, paths: &[PathBuf]) -> Result<ExitCode> {
    let actor = Actor::system("cli");
    let mut refused = 0usize;
    let mut files = 0usize;
    for path in paths {
        let outcomes = store.import_feed_path(&actor, path).await.map_err(human)?;
        for o in outcomes {
            files += 1;
            if o.ok {
                let newest = o
                    .newest
                    .map(|d| d.format("%Y-%m-%d").to_string())
                    .unwrap_or_else(|| "-".into());
                println!(
                    "{}: {} {} 件（追加 {}・更新 {}・変更なし {}）最新 {newest} / {} records",
                    o.file_name,
                    o.feed.map(|f| f.label()).unwrap_or("-"),
                    o.records,
                    o.added,
                    o.updated,
                    o.unchanged,
                    o.records
                );
                if !o.message.is_empty() {
                    eprintln!(
                        "{}: 一部を読み飛ばしました / skipped: {}",
                        o.file_name, o.message
                    );
                }
            } else {
                refused += 1;
                eprintln!("取り込めません / refused: {}", o.message);
            }
        }
    }
    let m = store.rematch_vulnerabilities(&actor).await.map_err(human)?;
    println!(
        "照合 / matched {} 対象: 新規 {}・継続 {}・対応済 {}・取下げ {}・再検出 {}",
        m.subjects, m.opened, m.seen, m.resolved, m.withdrawn, m.reopened
    );
    Ok(if refused == 0 {
        ExitCode::SUCCESS
    } else {
        eprintln!("{refused} of {files} file(s) refused");
        ExitCode::FAILURE
    })
}

/// `unyo inventory import FILE...`: each file on its own; a refused file does not stop the others.
async fn import_inventories(store: &Store, files: &[PathBuf]) -> Result<ExitCode> {
    use unyo_store::inventory::{InventorySource, Submitter, body_digest};
    let by = Submitter::Person(Actor::system("cli"));
    let mut failed = 0usize;
    for file in files {
        let bytes = match read_at_most(file, unyo_inventory::limits::MAX_BYTES) {
            Ok(b) => b,
            Err(e) => {
                eprintln!("{}: 読み込めません / cannot read: {e}", file.display());
                failed += 1;
                continue;
            }
        };
        let snapshot = match unyo_inventory::parse_any(&bytes) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("{}: 取り込めません / refused: {e}", file.display());
                failed += 1;
                continue;
            }
        };
        let (sha, size) = body_digest(&bytes);
        let o = store
            .store_inventory(&by, &snapshot, &sha, size, InventorySource::File)
            .await
            .map_err(human)?;
        let host = snapshot.hostname.as_deref().unwrap_or("-");
        match o.terminal_id {
            Some(t) => println!(
                "{}: inventory {} ({host}) matched terminal {t} by {}",
                file.display(),
                o.inventory_id,
                o.matched_by.code()
            ),
            None => println!(
                "{}: inventory {} ({host}) waits for review ({})",
                file.display(),
                o.inventory_id,
                o.review_reason.as_deref().unwrap_or("unknown")
            ),
        }
    }
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        eprintln!("{failed} of {} file(s) refused", files.len());
        ExitCode::FAILURE
    })
}

/// `unyo report monthly|annual`: renders the document and writes it; the export is audited (R12).
async fn report(command: ReportCommand) -> Result<ExitCode> {
    use unyo_documents::Format;
    let today = unyo_store::support::jst_today();
    let date = |s: Option<String>| -> Result<chrono::NaiveDate> {
        match s {
            None => Ok(today),
            Some(s) => unyo_domain::support::parse_date(&s)
                .with_context(|| format!("not a date: {s:?} (use YYYY-MM-DD or 令和8年6月10日)")),
        }
    };
    let (store, doc, format, out, action, details) = match command {
        ReportCommand::Monthly {
            data,
            contract,
            month,
            format,
            out,
            issued_on,
        } => {
            let m = unyo_domain::records::Month::parse(&month)
                .with_context(|| format!("not a month: {month:?} (use YYYY-MM)"))?;
            let store = data.open(DEFAULT_DATA_DIR).await?;
            let doc =
                unyo_documents::monthly_record(&store, contract, m.year, m.month, date(issued_on)?)
                    .await
                    .map_err(document_error)?;
            let details = serde_json::json!({"contract_id": contract, "month": m.code()});
            (
                store,
                doc,
                format,
                out,
                unyo_store::audit::ExportKind::MonthlyRecord,
                details,
            )
        }
        ReportCommand::Annual {
            data,
            contract,
            fiscal_year,
            format,
            out,
            issued_on,
        } => {
            let store = data.open(DEFAULT_DATA_DIR).await?;
            let doc = unyo_documents::annual_pack(&store, contract, fiscal_year, date(issued_on)?)
                .await
                .map_err(document_error)?;
            let details = serde_json::json!({"contract_id": contract, "fiscal_year": fiscal_year});
            (
                store,
                doc,
                format,
                out,
                unyo_store::audit::ExportKind::AnnualPack,
                details,
            )
        }
    };
    let format = match format {
        ReportFormat::Pdf => Format::Pdf,
        ReportFormat::Xlsx => Format::Xlsx,
    };
    let started = std::time::Instant::now();
    let bytes = unyo_documents::render_blocking(doc, format)
        .await
        .map_err(document_error)?;
    std::fs::write(&out, &bytes).with_context(|| format!("writing {}", out.display()))?;
    let sha = unyo_documents::sha256_hex(&bytes);
    let mut details = details;
    details["format"] = serde_json::json!(format.ext());
    details["size"] = serde_json::json!(bytes.len());
    details["sha256"] = serde_json::json!(sha);
    store
        .record_export(&Actor::system("cli"), action, "", "", details)
        .await?;
    store.close().await;
    println!(
        "wrote {} ({} bytes, SHA-256 {sha}, rendered in {:.2?})",
        out.display(),
        bytes.len(),
        started.elapsed()
    );
    Ok(ExitCode::SUCCESS)
}

fn document_error(e: unyo_documents::DocumentError) -> anyhow::Error {
    match e {
        unyo_documents::DocumentError::Store(s) => human(s),
        other => anyhow::anyhow!("{other}"),
    }
}

/// Turns a store error into a message for the operator (Japanese domain messages as they are).
fn human(e: unyo_store::StoreError) -> anyhow::Error {
    match e {
        unyo_store::StoreError::Domain(unyo_domain::DomainError::Validation(fields)) => {
            anyhow::anyhow!(
                "{}",
                fields
                    .iter()
                    .map(|f| format!("{}: {}", f.field, f.message))
                    .collect::<Vec<_>>()
                    .join("\n")
            )
        }
        other => anyhow::anyhow!("{other}"),
    }
}

/// Reads a file of at most `limit` bytes. The read stops at the limit, so a larger file (or an
/// endless one such as a pipe or a device) is refused without being held in memory.
fn read_at_most(path: &Path, limit: usize) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let file = std::fs::File::open(path)?;
    // The size is a hint for the buffer only; what counts is what the read delivers.
    let hint = file.metadata().map_or(0, |m| m.len()).min(limit as u64);
    let mut bytes = Vec::with_capacity(usize::try_from(hint).unwrap_or(0));
    file.take(limit as u64 + 1).read_to_end(&mut bytes)?;
    if bytes.len() > limit {
        return Err(std::io::Error::new(
            std::io::ErrorKind::FileTooLarge,
            format!(
                "ファイルが大きすぎます（上限{} MB） / the file is larger than {} MB",
                limit / (1024 * 1024),
                limit / (1024 * 1024)
            ),
        ));
    }
    Ok(bytes)
}

fn read_stdin_line() -> Result<String> {
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

fn prompt_password(prompt: &str) -> Result<String> {
    let first = rpassword::prompt_password(prompt)?;
    let second = rpassword::prompt_password("Again: ")?;
    if first != second {
        bail!("the passwords do not match");
    }
    Ok(first)
}

/// A new system has no accounts: ask for the first administrator's password on a terminal, or create
/// one with a random password and print it once.
async fn ensure_first_admin(store: &Store) -> Result<()> {
    if store.user_count().await? > 0 {
        return Ok(());
    }
    let sys = Actor::system("cli");
    if std::io::stdin().is_terminal() {
        println!("No accounts yet. Create the first administrator (login name: admin).");
        loop {
            let password = prompt_password("Password (10+ characters): ")?;
            match store
                .create_user(&sys, "admin", "県管理者", Role::Admin, &password)
                .await
            {
                Ok(_) => break,
                Err(e) => eprintln!("{}", human(e)),
            }
        }
    } else {
        let password = unyo_store::users::random_hex(12)?;
        store
            .create_user(&sys, "admin", "県管理者", Role::Admin, &password)
            .await
            .map_err(human)?;
        let mut out = std::io::stdout().lock();
        writeln!(
            out,
            "Created the first administrator. This password is shown only once:"
        )?;
        writeln!(out, "  login: admin")?;
        writeln!(out, "  password: {password}")?;
    }
    Ok(())
}

/// A fresh demo database in `dir`. An earlier demo there is replaced; any other data is left alone.
async fn fresh_demo(dir: &Path) -> Result<Store> {
    let db = dir.join("unyo.db");
    if db.exists() {
        let store = Store::open_data_dir(dir).await?;
        let demo = unyo_demo::is_demo(&store).await?;
        store.close().await;
        if !demo {
            bail!(
                "{} holds data that is not the demo; refusing to replace it. Choose another --data-dir.",
                dir.display()
            );
        }
        for suffix in ["", "-wal", "-shm"] {
            let f = dir.join(format!("unyo.db{suffix}"));
            if f.exists() {
                std::fs::remove_file(&f).with_context(|| format!("removing {}", f.display()))?;
            }
        }
    }
    let store = Store::open_data_dir(dir).await?;
    unyo_demo::load(&store, &DocumentDesk)
        .await
        .map_err(human)?;
    Ok(store)
}

/// The demo's monthly records are rendered and frozen by the documents crate, as the 業務実績簿 page does.
struct DocumentDesk;

impl unyo_demo::RecordDesk for DocumentDesk {
    async fn submit(
        &self,
        store: &Store,
        actor: &Actor,
        contract_id: i64,
        month: unyo_domain::records::Month,
        on: chrono::NaiveDate,
    ) -> unyo_store::Result<i64> {
        unyo_documents::submit_monthly(store, actor, contract_id, month, on)
            .await
            .map(|r| r.id)
            .map_err(Into::into)
    }

    async fn confirm(
        &self,
        store: &Store,
        actor: &Actor,
        record_id: i64,
        on: chrono::NaiveDate,
    ) -> unyo_store::Result<()> {
        unyo_documents::confirm_monthly(store, actor, record_id, on)
            .await
            .map(|_| ())
            .map_err(Into::into)
    }
}

async fn serve(
    store: Store,
    listen: SocketAddr,
    config: WebConfig,
    tls: Option<(PathBuf, PathBuf)>,
    lease: std::time::Duration,
) -> Result<()> {
    // Several instances may share one PostgreSQL: this one registers, beats and takes its share of the
    // checks and the singleton jobs by leases in the database. On SQLite it is the only one.
    let membership = (store.backend_name() == "postgres").then(|| {
        let mut cluster = unyo_probe::cluster::ClusterConfig::new(&listen.to_string());
        cluster.ttl = lease;
        cluster.beat = (lease / 5).max(std::time::Duration::from_secs(1));
        tracing::info!(instance = %cluster.instance.id, "joining the instances on this database");
        unyo_probe::cluster::Membership::start(store.clone(), cluster)
    });
    // Housekeeping: sessions past their absolute timeout are removed hourly (by one instance at a time).
    let hk = store.clone();
    let hk_membership = membership.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
        let mut last: Option<tokio::time::Instant> = None;
        loop {
            tick.tick().await;
            let mine = hk_membership
                .as_ref()
                .is_none_or(|m| m.holds(unyo_probe::cluster::HOUSEKEEPING_JOB).is_some());
            if !mine || last.is_some_and(|t| t.elapsed() < std::time::Duration::from_secs(3600)) {
                continue;
            }
            last = Some(tokio::time::Instant::now());
            if let Err(e) = hk.purge_sessions(chrono::Utc::now()).await {
                tracing::warn!(error = %e, "session purge failed");
            }
        }
    });
    // Build the terminal list's index now rather than on the first visitor's request.
    let warm = store.clone();
    tokio::spawn(async move {
        if let Err(e) = warm.warm_terminal_index().await {
            tracing::warn!(error = %e, "terminal index warm-up failed");
        }
    });
    // The connectivity-check engine (疎通確認): runs the registered checks, writes results in batches,
    // records state changes and opens automatic incidents. Stops with the server.
    let connectivity = if config.blackhole.is_empty() {
        unyo_probe::service::start_clustered(
            store.clone(),
            Default::default(),
            unyo_probe::Network,
            membership.clone(),
        )
    } else {
        unyo_probe::service::start_clustered(
            store.clone(),
            Default::default(),
            config.blackhole.clone(),
            membership.clone(),
        )
    };
    let app =
        unyo_web::router(store.clone(), config).into_make_service_with_connect_info::<SocketAddr>();
    let handle = axum_server::Handle::new();
    let shutdown = handle.clone();
    tokio::spawn(async move {
        let _ = tokio::signal::ctrl_c().await;
        shutdown.graceful_shutdown(Some(std::time::Duration::from_secs(5)));
    });
    match tls {
        Some((cert, key)) => {
            let _ = rustls::crypto::ring::default_provider().install_default();
            let cfg = axum_server::tls_rustls::RustlsConfig::from_pem_file(&cert, &key)
                .await
                .with_context(|| {
                    format!(
                        "loading TLS certificate {} and key {}",
                        cert.display(),
                        key.display()
                    )
                })?;
            tracing::info!(%listen, "serving https");
            axum_server::bind_rustls(listen, cfg)
                .handle(handle)
                .serve(app)
                .await?;
        }
        None => {
            tracing::info!(%listen, "serving http");
            axum_server::bind(listen).handle(handle).serve(app).await?;
        }
    }
    drop(connectivity);
    if let Some(m) = &membership {
        // A clean stop: the others take this instance's checks and jobs at their next beat.
        m.stop().await;
    }
    store.close().await;
    Ok(())
}

/// The web settings of `serve`: cookies are `Secure` (and HSTS is sent) whenever the browser reaches unyo
/// over TLS, terminated here (`--tls-cert`/`--tls-key`) or by a proxy (`--behind-tls-proxy`, which also
/// makes the proxy's `X-Forwarded-For` entry the client's address).
fn serve_config(tls: bool, behind_tls_proxy: bool) -> WebConfig {
    WebConfig {
        secure_cookies: tls || behind_tls_proxy,
        trust_proxy: behind_tls_proxy,
        ..Default::default()
    }
}

#[cfg(test)]
mod serve_tests {
    use super::serve_config;

    #[test]
    fn cookies_are_secure_under_tls_or_behind_a_tls_proxy() {
        for (tls, proxy, secure, trust) in [
            (false, false, false, false),
            (true, false, true, false),
            (false, true, true, true),
            (true, true, true, true),
        ] {
            let c = serve_config(tls, proxy);
            assert_eq!(c.secure_cookies, secure, "tls={tls} proxy={proxy}");
            assert_eq!(c.trust_proxy, trust, "tls={tls} proxy={proxy}");
        }
    }
}

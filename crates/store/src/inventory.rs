//! Inventories: the credentials endpoint agents report with, every inventory received (kept as a
//! snapshot, never overwritten), its matching to a registered terminal, and the review queue of the
//! inventories that could not be matched.
//!
//! # Matching rule
//!
//! An inventory is matched to an **active** (not retired) terminal by the first rule that finds any
//! candidate; if that rule finds exactly one terminal it is the match, if it finds several the inventory
//! waits in the review queue with them as candidates (the later rules are not tried):
//!
//! 1. **UUID** — the inventory's SMBIOS UUID (ignoring all-zero and other placeholder UUIDs, compared in
//!    upper case) equals the UUID stored on the terminal; else the agent's **device id** (`DEVICEID`)
//!    equals the one stored on the terminal. Both are stored on a terminal when a person links an
//!    inventory to it (or registers the terminal from one), so a machine that was once confirmed is
//!    recognised by them from then on, whatever its name.
//! 2. **Serial number** — the inventory's serial (ignoring placeholders such as
//!    `To be filled by O.E.M.`) equals the terminal's 製造番号, case-insensitively, spaces around ignored.
//! 3. **Host name** — the short name (before the first dot), case-insensitively, equals the short name
//!    of the terminal's host name.
//!
//! Rules 2 and 3 skip terminals already bound to *another* machine (a stored UUID different from the
//! inventory's): a renamed or swapped machine must not silently take over a terminal's history.
//! An inventory no rule matches waits in the review queue as `unknown`. There a person links it to a
//! terminal ([`Store::link_inventory`], which also stores the UUID and device id on the terminal) or
//! registers a new terminal from it ([`Store::register_terminal_from_inventory`]). Linking attaches every
//! other unlinked inventory of the same machine (same UUID, else device id, serial or host name) too, and
//! a newer inventory of a machine already waiting replaces the older one in the queue (`superseded`).
//!
//! # Snapshots
//!
//! Every inventory is kept as its own row (`inventories`), with the SHA-256 and size of the body it came
//! in, how it came in (`agent`, `file`, `upload`) and who sent it. The latest inventory of a terminal is
//! the one received last. [`Store::inventory_history`] gives a terminal's snapshots newest first with
//! what changed since the one before ([`unyo_domain::inventory::diff`]). An inventory is stale when the
//! latest one of its terminal was received more than N days ago ([`DEFAULT_STALE_DAYS`]).
//!
//! # Audit
//!
//! `inventory.receive` (every inventory, with the match), `inventory.link`, `inventory.register` (with
//! `terminal.create`), `agent.credential_create`, `agent.credential_revoke`, `agent.auth_failure`,
//! `agent.register` and `agent.change` (an agent seen for the first time, or with other software).
//!
//! # Partial inventories
//!
//! A GLPI Agent may send only what changed (`"partial": true`). Such an inventory is stored merged into
//! the newest inventory of its terminal (or, when it matches none, of the same machine): the sections
//! it carries replace the earlier ones, the others are kept, and `merged_from` names the inventory it
//! was merged into. So every stored snapshot is whole and diffs compare whole snapshots. A partial
//! inventory with nothing before it is stored as it came.

use crate::audit::{AuditSink, NewAuditEntry};
use crate::kit::{not_found, paging};
use crate::registry::RegistryConn;
use crate::users::{hash_password, random_hex};
use crate::{Actor, Page, Result, Store, StoreError, now};
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordVerifier};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::HashMap;
use unyo_domain::inventory::{Antivirus, InventoryDiff, InventorySnapshot, diff};
use unyo_domain::registry::TerminalInput;
use unyo_domain::{Action, DomainError};

/// Days after which a terminal's latest inventory counts as stale, unless the caller says otherwise.
pub const DEFAULT_STALE_DAYS: i64 = 7;

/// How many snapshots [`Store::inventory_history`] returns at most when asked for more.
pub const MAX_HISTORY: usize = 200;

// ------------------------------------------------------------------------------------------- values

/// One stored inventory snapshot.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredInventory {
    /// Row id.
    pub id: i64,
    /// The terminal it was matched or linked to; `None` while it waits in the review queue.
    pub terminal_id: Option<i64>,
    /// When unyo received it (storage instant, UTC).
    pub received_at: String,
    /// How it came in: `agent`, `file` or `upload`.
    pub source: String,
    /// The snapshot itself.
    pub snapshot: InventorySnapshot,
}

/// How an inventory came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InventorySource {
    /// Sent by an agent to `/ocsinventory`.
    Agent,
    /// Imported from a file with `unyo inventory import`.
    File,
    /// Uploaded on the inventory upload page.
    Upload,
}

impl InventorySource {
    /// The stored code.
    pub fn code(self) -> &'static str {
        match self {
            InventorySource::Agent => "agent",
            InventorySource::File => "file",
            InventorySource::Upload => "upload",
        }
    }

    /// Japanese label.
    pub fn label_ja(code: &str) -> &'static str {
        match code {
            "agent" => "エージェント",
            "file" => "ファイル取込（コマンド）",
            "upload" => "ファイル取込（画面）",
            _ => "不明",
        }
    }

    /// English label.
    pub fn label_en(code: &str) -> &'static str {
        match code {
            "agent" => "Agent",
            "file" => "File (command line)",
            "upload" => "File (upload)",
            _ => "Unknown",
        }
    }
}

/// How an inventory got its terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchedBy {
    /// SMBIOS UUID stored on the terminal.
    Uuid,
    /// Agent device id stored on the terminal.
    DeviceId,
    /// Serial number = the terminal's 製造番号.
    Serial,
    /// Short host name.
    Hostname,
    /// Not matched (waits in the review queue, or waited there before a person resolved it).
    None,
    /// Linked by a person from the review queue.
    Linked,
    /// A person registered a new terminal from it.
    Registered,
}

impl MatchedBy {
    /// The stored code.
    pub fn code(self) -> &'static str {
        match self {
            MatchedBy::Uuid => "uuid",
            MatchedBy::DeviceId => "device_id",
            MatchedBy::Serial => "serial",
            MatchedBy::Hostname => "hostname",
            MatchedBy::None => "none",
            MatchedBy::Linked => "linked",
            MatchedBy::Registered => "registered",
        }
    }

    /// Parses a stored code.
    pub fn parse(code: &str) -> Option<MatchedBy> {
        [
            MatchedBy::Uuid,
            MatchedBy::DeviceId,
            MatchedBy::Serial,
            MatchedBy::Hostname,
            MatchedBy::None,
            MatchedBy::Linked,
            MatchedBy::Registered,
        ]
        .into_iter()
        .find(|m| m.code() == code)
    }

    /// Japanese label.
    pub fn label_ja(self) -> &'static str {
        match self {
            MatchedBy::Uuid => "UUID",
            MatchedBy::DeviceId => "エージェントのデバイスID",
            MatchedBy::Serial => "製造番号",
            MatchedBy::Hostname => "ホスト名",
            MatchedBy::None => "未照合",
            MatchedBy::Linked => "手動で紐付け",
            MatchedBy::Registered => "インベントリから端末を登録",
        }
    }

    /// English label.
    pub fn label_en(self) -> &'static str {
        match self {
            MatchedBy::Uuid => "UUID",
            MatchedBy::DeviceId => "Agent device id",
            MatchedBy::Serial => "Serial number",
            MatchedBy::Hostname => "Host name",
            MatchedBy::None => "Not matched",
            MatchedBy::Linked => "Linked by hand",
            MatchedBy::Registered => "Terminal registered from it",
        }
    }
}

/// Who hands an inventory to the store.
#[derive(Debug, Clone)]
pub enum Submitter {
    /// A person (upload page, CLI as `system`); needs [`Action::ImportInventory`].
    Person(Actor),
    /// An agent authenticated with its credential, from a remote address.
    Agent {
        /// The credential it authenticated with.
        credential: AgentIdentity,
        /// The remote address.
        source: String,
    },
}

/// What [`Store::store_inventory`] did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoreOutcome {
    /// The new inventory's id.
    pub inventory_id: i64,
    /// The terminal it was matched to.
    pub terminal_id: Option<i64>,
    /// The rule that matched it (`None` when it waits in the review queue).
    pub matched_by: MatchedBy,
    /// Whether it waits in the review queue.
    pub queued: bool,
    /// Why it waits: `unknown` or `ambiguous`.
    pub review_reason: Option<String>,
}

/// An inventory as listed: everything but the software list.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InventorySummary {
    pub id: i64,
    pub terminal_id: Option<i64>,
    /// The linked terminal's host name.
    pub terminal_hostname: Option<String>,
    pub received_at: String,
    /// `agent`, `file` or `upload`.
    pub source: String,
    /// Login name of the person, or `agent:USERNAME`.
    pub received_by: String,
    /// `uuid`, `device_id`, `serial`, `hostname`, `none`, `linked`, `registered`.
    pub matched_by: String,
    pub device_id: Option<String>,
    pub hostname: Option<String>,
    /// Usable UUID, upper case.
    pub uuid: Option<String>,
    pub serial: Option<String>,
    /// `fusion` or `glpi`.
    pub format: String,
    /// When the agent collected it (its local wall-clock time), `YYYY-MM-DD hh:mm:ss`.
    pub collected_at: Option<String>,
    pub os_name: Option<String>,
    pub os_full_name: Option<String>,
    pub os_version: Option<String>,
    pub os_build: Option<String>,
    pub software_count: i64,
    pub antivirus: Vec<Antivirus>,
    /// SHA-256 of the body as received.
    pub body_sha256: String,
    /// Size of the body as received, in bytes.
    pub body_size: i64,
}

impl InventorySummary {
    /// The match rule as a value.
    pub fn matched(&self) -> MatchedBy {
        MatchedBy::parse(&self.matched_by).unwrap_or(MatchedBy::None)
    }
}

/// One inventory with its snapshot (the API's full view).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InventoryRecord {
    #[serde(flatten)]
    pub summary: InventorySummary,
    pub snapshot: InventorySnapshot,
}

impl InventoryRecord {
    /// The same as a [`StoredInventory`].
    pub fn stored(&self) -> StoredInventory {
        StoredInventory {
            id: self.summary.id,
            terminal_id: self.summary.terminal_id,
            received_at: self.summary.received_at.clone(),
            source: self.summary.source.clone(),
            snapshot: self.snapshot.clone(),
        }
    }
}

/// Filter of [`Store::inventories`].
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct InventoryQuery {
    /// Host name as reported (compared by short name, case-insensitively: `PC01`, `pc01.example.lg.jp`).
    pub hostname: Option<String>,
    /// Only inventories linked to this terminal.
    pub terminal_id: Option<i64>,
    /// 1-based page.
    pub page: Option<i64>,
    /// Rows per page (1..=500, default 50).
    pub per_page: Option<i64>,
}

/// One snapshot in a terminal's history and what changed since the one before it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HistoryEntry {
    pub summary: InventorySummary,
    /// `None` for the oldest snapshot shown (nothing to compare with).
    pub changes: Option<InventoryDiff>,
}

/// A terminal and its latest inventory, for the overview.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TerminalInventoryRow {
    pub terminal_id: i64,
    pub hostname: String,
    pub site_id: i64,
    pub site_name: String,
    /// Terminal kind code.
    pub kind: String,
    /// The latest inventory, if any was ever received.
    pub latest: Option<InventorySummary>,
    /// The latest inventory is older than the stale limit (false when there is none).
    pub stale: bool,
}

/// A terminal an inventory might belong to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Candidate {
    pub terminal_id: i64,
    pub hostname: String,
    pub site_name: String,
    /// The rule that made it a candidate (`uuid`, `device_id`, `serial`, `hostname`).
    pub rule: String,
}

/// An inventory waiting for a person.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReviewItem {
    pub inventory: InventorySummary,
    /// `unknown` (no terminal matched) or `ambiguous` (several did).
    pub reason: String,
    pub candidates: Vec<Candidate>,
    pub queued_at: String,
}

/// An agent credential as listed (never the password).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct AgentCredential {
    pub id: i64,
    /// What the credential is for (e.g. the site or the group of terminals).
    pub name: String,
    /// The HTTP Basic user name.
    pub username: String,
    pub created_by: String,
    pub created_at: String,
    pub last_used_at: Option<String>,
    pub revoked_at: Option<String>,
    pub revoked_by: Option<String>,
}

/// A credential just created: the password is shown this once and never stored in clear.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAgentCredential {
    pub id: i64,
    pub name: String,
    pub username: String,
    pub password: String,
}

/// An agent that authenticated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AgentIdentity {
    /// The credential's id.
    pub id: i64,
    pub name: String,
    pub username: String,
}

impl AgentIdentity {
    /// The name written to the audit log and `received_by`.
    pub fn actor_name(&self) -> String {
        format!("agent:{}", self.username)
    }
}

/// A burst of refused agent requests from one source, audited as one entry
/// ([`Store::record_agent_auth_failure_burst`]).
#[derive(Debug, Clone)]
pub struct AgentFailureBurst<'a> {
    /// Refusals after the first.
    pub failures: u64,
    /// Of those, refused by a failure limit without a password check.
    pub refused: u64,
    /// User names tried (a few).
    pub usernames: &'a [String],
    /// RFC 3339 times of the first and last counted refusal.
    pub first_at: String,
    /// See `first_at`.
    pub last_at: String,
}

/// What one authenticated agent request tells about the agent, recorded by
/// [`Store::record_agent_contact`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentContact<'a> {
    /// The agent's device id (`DEVICEID`, `deviceid`): one agent per device id.
    pub device_id: &'a str,
    /// `fusioninventory`, `glpi` or `other` (from its User-Agent).
    pub kind: &'a str,
    /// Its version, when it said.
    pub version: Option<&'a str>,
    /// The `GLPI-Agent-ID` header (a GLPI Agent's own UUID).
    pub glpi_agent_id: Option<&'a str>,
    /// The protocol unyo speaks with it: [`PROTOCOL_OCS_XML`] or [`PROTOCOL_GLPI_JSON`].
    pub protocol: &'a str,
    /// The message it sent (`prolog`, `inventory`, `contact`).
    pub message: &'a str,
}

/// The FusionInventory / OCS XML protocol (PROLOG, INVENTORY).
pub const PROTOCOL_OCS_XML: &str = "ocs-xml";
/// The GLPI Agent's JSON protocol (contact, inventory).
pub const PROTOCOL_GLPI_JSON: &str = "glpi-json";

/// An agent seen reporting, for the agents page.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, Serialize)]
pub struct InventoryAgent {
    pub id: i64,
    pub device_id: String,
    /// The credential it last used.
    pub credential_name: String,
    pub credential_username: String,
    /// `fusioninventory`, `glpi` or `other`.
    pub kind: String,
    pub version: Option<String>,
    pub glpi_agent_id: Option<String>,
    /// [`PROTOCOL_OCS_XML`] or [`PROTOCOL_GLPI_JSON`].
    pub protocol: String,
    pub first_seen_at: String,
    pub last_contact_at: String,
    /// The client address of the last contact.
    pub last_contact_from: String,
    /// The last message (`prolog`, `inventory`, `contact`).
    pub last_message: String,
}

/// A partial inventory laid over the full one before it (`base`): the sections and identifiers the
/// partial one carries replace the base's, the others are kept (a partial inventory leaves out what did
/// not change, it does not report it gone).
fn merge_partial(base: &InventorySnapshot, part: &InventorySnapshot) -> InventorySnapshot {
    fn take<T: Clone>(dst: &mut Option<T>, src: &Option<T>) {
        if src.is_some() {
            dst.clone_from(src);
        }
    }
    let mut m = base.clone();
    m.format = part.format;
    take(&mut m.device_id, &part.device_id);
    take(&mut m.uuid, &part.uuid);
    take(&mut m.serial, &part.serial);
    take(&mut m.hostname, &part.hostname);
    take(&mut m.domain, &part.domain);
    take(&mut m.collected_at, &part.collected_at);
    if !part.os.is_empty() {
        m.os = part.os.clone();
    }
    if !part.software.is_empty() {
        m.software = part.software.clone();
    }
    if !part.antivirus.is_empty() {
        m.antivirus = part.antivirus.clone();
    }
    if !part.ip_addresses.is_empty() {
        m.ip_addresses = part.ip_addresses.clone();
    }
    if !part.mac_addresses.is_empty() {
        m.mac_addresses = part.mac_addresses.clone();
    }
    m.partial = false;
    m
}

// ------------------------------------------------------------------------------------------- helpers

/// The short host name used for matching: before the first dot, lower case, trimmed.
pub fn short_hostname(name: &str) -> String {
    name.trim()
        .split('.')
        .next()
        .unwrap_or("")
        .trim()
        .to_lowercase()
}

/// The lower-case hex SHA-256 and the size of a body as received (what [`Store::store_inventory`]
/// records for it).
pub fn body_digest(body: &[u8]) -> (String, i64) {
    use sha2::{Digest, Sha256};
    (
        hex::encode(Sha256::digest(body)),
        i64::try_from(body.len()).unwrap_or(i64::MAX),
    )
}

/// Whether an inventory received at `received_at` is older than `days` days at `now`.
pub fn is_stale(received_at: &str, days: i64, now: chrono::DateTime<chrono::Utc>) -> bool {
    unyo_domain::time::from_storage(received_at)
        .is_some_and(|at| now - at > chrono::Duration::days(days.max(0)))
}

/// Identifies one machine across its inventories: its UUID, else its agent's device id, else its
/// serial, else its host name; empty when it has none of them.
fn machine_key(s: &InventorySnapshot) -> String {
    if let Some(u) = s.usable_uuid() {
        return format!("uuid:{u}");
    }
    if let Some(d) = s
        .device_id
        .as_deref()
        .map(str::trim)
        .filter(|d| !d.is_empty())
    {
        return format!("device:{d}");
    }
    if let Some(serial) = s.usable_serial() {
        return format!("serial:{}", serial.to_lowercase());
    }
    match s.hostname.as_deref().map(short_hostname) {
        Some(h) if !h.is_empty() => format!("host:{h}"),
        _ => String::new(),
    }
}

/// `s` with `%`, `_` and `\` escaped for `LIKE … ESCAPE '\'`.
fn like_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn to_json_text<T: Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| StoreError::caused("json", e))
}

/// A password hash never matched against, so that an unknown agent user costs the same time as a
/// known one.
fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| hash_password("agent-timing-equaliser").unwrap_or_default())
}

fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

const SUMMARY_COLUMNS: &str = "i.id, i.terminal_id, t.hostname AS terminal_hostname, i.received_at, i.source,
    i.received_by, i.matched_by, i.device_id, i.hostname, i.uuid, i.serial, i.format, i.collected_at, i.os_name,
    i.os_full_name, i.os_version, i.os_build, i.software_count, i.antivirus, i.body_sha256, i.body_size";

const FROM: &str = " FROM inventories i LEFT JOIN terminals t ON t.id = i.terminal_id";

/// The newest inventory of every terminal that has one.
const LATEST_IDS: &str =
    "SELECT MAX(id) FROM inventories WHERE terminal_id IS NOT NULL GROUP BY terminal_id";

/// (terminal id, host name, site id, site name, kind) of the overview.
type TerminalRow = (i64, String, i64, String, String);

#[derive(sqlx::FromRow)]
struct SummaryRow {
    id: i64,
    terminal_id: Option<i64>,
    terminal_hostname: Option<String>,
    received_at: String,
    source: String,
    received_by: String,
    matched_by: String,
    device_id: Option<String>,
    hostname: Option<String>,
    uuid: Option<String>,
    serial: Option<String>,
    format: String,
    collected_at: Option<String>,
    os_name: Option<String>,
    os_full_name: Option<String>,
    os_version: Option<String>,
    os_build: Option<String>,
    software_count: i64,
    antivirus: String,
    body_sha256: String,
    body_size: i64,
}

impl SummaryRow {
    fn into_summary(self) -> InventorySummary {
        InventorySummary {
            id: self.id,
            terminal_id: self.terminal_id,
            terminal_hostname: self.terminal_hostname,
            received_at: self.received_at,
            source: self.source,
            received_by: self.received_by,
            matched_by: self.matched_by,
            device_id: self.device_id,
            hostname: self.hostname,
            uuid: self.uuid,
            serial: self.serial,
            format: self.format,
            collected_at: self.collected_at,
            os_name: self.os_name,
            os_full_name: self.os_full_name,
            os_version: self.os_version,
            os_build: self.os_build,
            software_count: self.software_count,
            antivirus: serde_json::from_str(&self.antivirus).unwrap_or_default(),
            body_sha256: self.body_sha256,
            body_size: self.body_size,
        }
    }
}

#[derive(sqlx::FromRow)]
struct SnapshotRow {
    id: i64,
    terminal_id: Option<i64>,
    received_at: String,
    source: String,
    snapshot: String,
}

impl SnapshotRow {
    fn into_stored(self) -> Result<StoredInventory> {
        let snapshot = serde_json::from_str(&self.snapshot).map_err(|e| {
            StoreError::caused(format!("inventory {}: stored snapshot", self.id), e)
        })?;
        Ok(StoredInventory {
            id: self.id,
            terminal_id: self.terminal_id,
            received_at: self.received_at,
            source: self.source,
            snapshot,
        })
    }
}

const SNAPSHOT_COLUMNS: &str = "id, terminal_id, received_at, source, snapshot";

/// The outcome of the matching rule.
struct Match {
    terminal_id: Option<i64>,
    matched_by: MatchedBy,
    /// Several terminals fit the first rule that found any.
    candidates: Vec<Candidate>,
}

/// Everything written for a new inventory.
struct NewInventory<'a> {
    received_at: &'a str,
    source: &'a str,
    received_by: &'a str,
    agent_credential_id: Option<i64>,
    machine_key: &'a str,
    snap: &'a InventorySnapshot,
    snapshot_json: &'a str,
    antivirus_json: &'a str,
    body_sha256: &'a str,
    body_size: i64,
    /// The full inventory a partial one was merged into.
    merged_from: Option<i64>,
}

/// Inventory writes and the matching reads, for both backends' transactions.
trait InventoryConn {
    /// Active terminals found by a rule's query with one text parameter.
    async fn rule_candidates(
        &mut self,
        rule: MatchedBy,
        sql: &'static str,
        a: &str,
    ) -> Result<Vec<Candidate>>;
    /// Applies the matching rule.
    async fn match_terminal(&mut self, s: &InventorySnapshot) -> Result<Match>;
    async fn insert_inventory(&mut self, n: &NewInventory<'_>, m: &Match) -> Result<i64>;
    /// The newest inventory of a terminal, else of a machine (its key): the base of a partial one.
    async fn partial_base(
        &mut self,
        terminal_id: Option<i64>,
        machine_key: &str,
    ) -> Result<Option<StoredInventory>>;
    /// Queues an inventory for review; older open entries of the same machine are superseded.
    async fn queue_review(
        &mut self,
        inventory_id: i64,
        machine_key: &str,
        reason: &str,
        candidates: &[Candidate],
        at: &str,
    ) -> Result<()>;
    /// Links `inventory_id` and every other unlinked inventory of the same machine to `terminal_id`,
    /// resolves their reviews, and remembers the machine's UUID and device id on the terminal (clearing
    /// them from any other terminal). Returns the ids linked.
    async fn link_machine(
        &mut self,
        inventory_id: i64,
        terminal_id: i64,
        how: MatchedBy,
        by: &str,
        at: &str,
    ) -> Result<Vec<i64>>;
}

const RULE_UUID: &str =
    "SELECT t.id, t.hostname, s.name FROM terminals t JOIN sites s ON s.id = t.site_id
    WHERE t.retired_at IS NULL AND t.uuid = $1 ORDER BY t.id";
const RULE_DEVICE: &str =
    "SELECT t.id, t.hostname, s.name FROM terminals t JOIN sites s ON s.id = t.site_id
    WHERE t.retired_at IS NULL AND t.device_id = $1 ORDER BY t.id";
/// `$2`: the inventory's usable UUID or NULL; a terminal bound to another UUID is skipped.
const RULE_SERIAL: &str =
    "SELECT t.id, t.hostname, s.name FROM terminals t JOIN sites s ON s.id = t.site_id
    WHERE t.retired_at IS NULL AND LOWER(TRIM(t.serial_number)) = $1
    AND (t.uuid IS NULL OR $2 IS NULL OR t.uuid = $2) ORDER BY t.id";
/// `$1`: the short name; `$2`: its `LIKE` prefix pattern; `$3` as `$2` of [`RULE_SERIAL`].
const RULE_HOST: &str =
    "SELECT t.id, t.hostname, s.name FROM terminals t JOIN sites s ON s.id = t.site_id
    WHERE t.retired_at IS NULL AND (t.hostname_key = $1 OR t.hostname_key LIKE $2 ESCAPE '\\')
    AND (t.uuid IS NULL OR $3 IS NULL OR t.uuid = $3) ORDER BY t.id";

macro_rules! inventory_conn {
    ($conn:ty) => {
        impl InventoryConn for $conn {
            async fn rule_candidates(
                &mut self,
                rule: MatchedBy,
                sql: &'static str,
                a: &str,
            ) -> Result<Vec<Candidate>> {
                let rows: Vec<(i64, String, String)> =
                    sqlx::query_as(sql).bind(a).fetch_all(&mut *self).await?;
                Ok(rows
                    .into_iter()
                    .map(|(terminal_id, hostname, site_name)| Candidate {
                        terminal_id,
                        hostname,
                        site_name,
                        rule: rule.code().into(),
                    })
                    .collect())
            }

            async fn match_terminal(&mut self, s: &InventorySnapshot) -> Result<Match> {
                let uuid = s.usable_uuid();
                let to_candidates = |rule: MatchedBy, rows: Vec<(i64, String, String)>| {
                    rows.into_iter()
                        .map(|(terminal_id, hostname, site_name)| Candidate {
                            terminal_id,
                            hostname,
                            site_name,
                            rule: rule.code().into(),
                        })
                        .collect::<Vec<_>>()
                };
                let mut found: Vec<Candidate> = Vec::new();
                let mut rule = MatchedBy::None;
                if let Some(u) = &uuid {
                    found = self.rule_candidates(MatchedBy::Uuid, RULE_UUID, u).await?;
                    rule = MatchedBy::Uuid;
                }
                if found.is_empty()
                    && let Some(d) = s.device_id.as_deref().map(str::trim).filter(|d| !d.is_empty())
                {
                    found = self
                        .rule_candidates(MatchedBy::DeviceId, RULE_DEVICE, d)
                        .await?;
                    rule = MatchedBy::DeviceId;
                }
                if found.is_empty()
                    && let Some(serial) = s.usable_serial()
                {
                    let rows: Vec<(i64, String, String)> = sqlx::query_as(RULE_SERIAL)
                        .bind(serial.to_lowercase())
                        .bind(uuid.as_deref())
                        .fetch_all(&mut *self)
                        .await?;
                    found = to_candidates(MatchedBy::Serial, rows);
                    rule = MatchedBy::Serial;
                }
                if found.is_empty()
                    && let Some(host) = s.hostname.as_deref().map(short_hostname).filter(|h| !h.is_empty())
                {
                    let rows: Vec<(i64, String, String)> = sqlx::query_as(RULE_HOST)
                        .bind(&host)
                        .bind(format!("{}.%", like_escape(&host)))
                        .bind(uuid.as_deref())
                        .fetch_all(&mut *self)
                        .await?;
                    found = to_candidates(MatchedBy::Hostname, rows);
                    rule = MatchedBy::Hostname;
                }
                Ok(match found.len() {
                    0 => Match {
                        terminal_id: None,
                        matched_by: MatchedBy::None,
                        candidates: Vec::new(),
                    },
                    1 => Match {
                        terminal_id: Some(found[0].terminal_id),
                        matched_by: rule,
                        candidates: Vec::new(),
                    },
                    _ => Match {
                        terminal_id: None,
                        matched_by: MatchedBy::None,
                        candidates: found,
                    },
                })
            }

            async fn insert_inventory(&mut self, n: &NewInventory<'_>, m: &Match) -> Result<i64> {
                let s = n.snap;
                Ok(sqlx::query_scalar(
                    "INSERT INTO inventories (terminal_id, received_at, source, received_by, agent_credential_id,
                     matched_by, machine_key, device_id, hostname, hostname_key, uuid, serial, format, collected_at,
                     os_name, os_full_name, os_version, os_build, software_count, antivirus, snapshot, body_sha256,
                     body_size, merged_from)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19,
                     $20, $21, $22, $23, $24) RETURNING id",
                )
                .bind(m.terminal_id)
                .bind(n.received_at)
                .bind(n.source)
                .bind(n.received_by)
                .bind(n.agent_credential_id)
                .bind(m.matched_by.code())
                .bind(n.machine_key)
                .bind(&s.device_id)
                .bind(&s.hostname)
                .bind(s.hostname.as_deref().map(short_hostname).unwrap_or_default())
                .bind(s.usable_uuid())
                .bind(s.usable_serial())
                .bind(s.format.code())
                .bind(s.collected_at.map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string()))
                .bind(&s.os.name)
                .bind(&s.os.full_name)
                .bind(&s.os.version)
                .bind(&s.os.build)
                .bind(i64::try_from(s.software.len()).unwrap_or(i64::MAX))
                .bind(n.antivirus_json)
                .bind(n.snapshot_json)
                .bind(n.body_sha256)
                .bind(n.body_size)
                .bind(n.merged_from)
                .fetch_one(&mut *self)
                .await?)
            }

            async fn partial_base(
                &mut self,
                terminal_id: Option<i64>,
                machine_key: &str,
            ) -> Result<Option<StoredInventory>> {
                let row: Option<SnapshotRow> = match terminal_id {
                    Some(t) => sqlx::query_as(
                        "SELECT id, terminal_id, received_at, source, snapshot FROM inventories
                         WHERE terminal_id = $1 ORDER BY id DESC LIMIT 1",
                    )
                    .bind(t)
                    .fetch_optional(&mut *self)
                    .await?,
                    None if !machine_key.is_empty() => sqlx::query_as(
                        "SELECT id, terminal_id, received_at, source, snapshot FROM inventories
                         WHERE machine_key = $1 ORDER BY id DESC LIMIT 1",
                    )
                    .bind(machine_key)
                    .fetch_optional(&mut *self)
                    .await?,
                    None => None,
                };
                row.map(SnapshotRow::into_stored).transpose()
            }

            async fn queue_review(
                &mut self,
                inventory_id: i64,
                machine_key: &str,
                reason: &str,
                candidates: &[Candidate],
                at: &str,
            ) -> Result<()> {
                if !machine_key.is_empty() {
                    sqlx::query(
                        "UPDATE inventory_review SET resolved_at = $1, resolved_by = 'system', resolution = 'superseded'
                         WHERE resolved_at IS NULL AND inventory_id IN
                         (SELECT id FROM inventories WHERE machine_key = $2 AND terminal_id IS NULL)",
                    )
                    .bind(at)
                    .bind(machine_key)
                    .execute(&mut *self)
                    .await?;
                }
                sqlx::query(
                    "INSERT INTO inventory_review (inventory_id, reason, candidates, queued_at) VALUES ($1, $2, $3, $4)",
                )
                .bind(inventory_id)
                .bind(reason)
                .bind(to_json_text(&candidates)?)
                .bind(at)
                .execute(&mut *self)
                .await?;
                Ok(())
            }

            async fn link_machine(
                &mut self,
                inventory_id: i64,
                terminal_id: i64,
                how: MatchedBy,
                by: &str,
                at: &str,
            ) -> Result<Vec<i64>> {
                let row: Option<(String, Option<String>, Option<String>)> = sqlx::query_as(
                    "SELECT machine_key, uuid, device_id FROM inventories WHERE id = $1",
                )
                .bind(inventory_id)
                .fetch_optional(&mut *self)
                .await?;
                let Some((key, uuid, device_id)) = row else {
                    return Err(not_found("インベントリ"));
                };
                let mut ids: Vec<i64> = if key.is_empty() {
                    Vec::new()
                } else {
                    sqlx::query_scalar(
                        "SELECT id FROM inventories WHERE machine_key = $1 AND terminal_id IS NULL AND id <> $2 ORDER BY id",
                    )
                    .bind(&key)
                    .bind(inventory_id)
                    .fetch_all(&mut *self)
                    .await?
                };
                ids.push(inventory_id);
                for id in &ids {
                    sqlx::query("UPDATE inventories SET terminal_id = $1, matched_by = $2 WHERE id = $3")
                        .bind(terminal_id)
                        .bind(how.code())
                        .bind(id)
                        .execute(&mut *self)
                        .await?;
                    sqlx::query(
                        "UPDATE inventory_review SET resolved_at = $1, resolved_by = $2, resolution = $3
                         WHERE inventory_id = $4 AND resolved_at IS NULL",
                    )
                    .bind(at)
                    .bind(by)
                    .bind(how.code())
                    .bind(id)
                    .execute(&mut *self)
                    .await?;
                }
                // The machine's identity now belongs to this terminal only.
                if let Some(u) = &uuid {
                    sqlx::query("UPDATE terminals SET uuid = NULL WHERE uuid = $1 AND id <> $2")
                        .bind(u)
                        .bind(terminal_id)
                        .execute(&mut *self)
                        .await?;
                }
                if let Some(d) = &device_id {
                    sqlx::query("UPDATE terminals SET device_id = NULL WHERE device_id = $1 AND id <> $2")
                        .bind(d)
                        .bind(terminal_id)
                        .execute(&mut *self)
                        .await?;
                }
                sqlx::query(
                    "UPDATE terminals SET uuid = COALESCE($1, uuid), device_id = COALESCE($2, device_id) WHERE id = $3",
                )
                .bind(&uuid)
                .bind(&device_id)
                .bind(terminal_id)
                .execute(&mut *self)
                .await?;
                ids.sort_unstable();
                Ok(ids)
            }
        }
    };
}
inventory_conn!(sqlx::SqliteConnection);
inventory_conn!(sqlx::PgConnection);

// ------------------------------------------------------------------------------------------- store

impl Store {
    /// Stores one inventory: matches it to a terminal (see the module documentation), keeps the
    /// snapshot, queues it for review when no single terminal matched, and audits `inventory.receive`.
    /// `raw_sha256` and `size` describe the body as received (compressed or not).
    pub async fn store_inventory(
        &self,
        by: &Submitter,
        snapshot: &InventorySnapshot,
        raw_sha256: &str,
        size: i64,
        source: InventorySource,
    ) -> Result<StoreOutcome> {
        let (received_by, audit_source, credential_id) = match by {
            Submitter::Person(actor) => {
                actor.require(Action::ImportInventory)?;
                if source == InventorySource::Agent {
                    return Err(StoreError::Internal(
                        "an inventory from a person cannot have the source `agent`".into(),
                    ));
                }
                (actor.username.clone(), actor.source.clone(), None)
            }
            Submitter::Agent {
                credential,
                source: remote,
            } => {
                if source != InventorySource::Agent {
                    return Err(StoreError::Internal(
                        "an inventory from an agent must have the source `agent`".into(),
                    ));
                }
                (credential.actor_name(), remote.clone(), Some(credential.id))
            }
        };
        let at = self.record_time();
        let outcome = write_tx!(self, |tx| {
            let mut m = tx.match_terminal(snapshot).await?;
            // A partial inventory is kept merged into the newest one of its terminal (or, while it waits
            // for review, of its machine), so that every stored snapshot is whole.
            let mut merged: Option<(i64, InventorySnapshot)> = None;
            if snapshot.partial
                && let Some(base) = tx
                    .partial_base(m.terminal_id, &machine_key(snapshot))
                    .await?
            {
                let whole = merge_partial(&base.snapshot, snapshot);
                if m.terminal_id.is_none() {
                    m = tx.match_terminal(&whole).await?;
                }
                merged = Some((base.id, whole));
            }
            let (merged_from, stored) = match &merged {
                Some((id, whole)) => (Some(*id), whole),
                None => (None, snapshot),
            };
            let snapshot_json = to_json_text(stored)?;
            let antivirus_json = to_json_text(&stored.antivirus)?;
            let key = machine_key(stored);
            let new = NewInventory {
                received_at: &at,
                source: source.code(),
                received_by: &received_by,
                agent_credential_id: credential_id,
                machine_key: &key,
                snap: stored,
                snapshot_json: &snapshot_json,
                antivirus_json: &antivirus_json,
                body_sha256: raw_sha256,
                body_size: size,
                merged_from,
            };
            let id = tx.insert_inventory(&new, &m).await?;
            let reason = match (m.terminal_id, m.candidates.is_empty()) {
                (Some(_), _) => None,
                (None, true) => Some("unknown"),
                (None, false) => Some("ambiguous"),
            };
            if let Some(reason) = reason {
                tx.queue_review(id, &key, reason, &m.candidates, &at)
                    .await?;
            }
            if let Some(cid) = credential_id {
                sqlx::query("UPDATE agent_credentials SET last_used_at = $1 WHERE id = $2")
                    .bind(&at)
                    .bind(cid)
                    .execute(&mut *tx)
                    .await?;
            }
            let entry = NewAuditEntry {
                actor: received_by.clone(),
                action: "inventory.receive".into(),
                entity: "inventory".into(),
                entity_id: id.to_string(),
                details: json!({
                    "source": source.code(),
                    "terminal_id": m.terminal_id,
                    "matched_by": m.matched_by.code(),
                    "review": reason,
                    "candidates": m.candidates.iter().map(|c| c.terminal_id).collect::<Vec<_>>(),
                    "hostname": snapshot.hostname,
                    "device_id": snapshot.device_id,
                    "format": snapshot.format.code(),
                    "software": stored.software.len(),
                    "partial": snapshot.partial,
                    "merged_from": merged_from,
                    "sha256": raw_sha256,
                    "size": size,
                }),
                source: audit_source.clone(),
            };
            tx.append_audit(&entry).await?;
            StoreOutcome {
                inventory_id: id,
                terminal_id: m.terminal_id,
                matched_by: m.matched_by,
                queued: reason.is_some(),
                review_reason: reason.map(str::to_string),
            }
        });
        Ok(outcome)
    }

    /// The newest inventory of one terminal.
    pub async fn latest_inventory(&self, terminal_id: i64) -> Result<Option<StoredInventory>> {
        let sql = format!(
            "SELECT {SNAPSHOT_COLUMNS} FROM inventories WHERE terminal_id = $1 ORDER BY id DESC LIMIT 1"
        );
        let row: Option<SnapshotRow> =
            read_db!(self, |db| sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(terminal_id)
                .fetch_optional(db)
                .await?);
        row.map(SnapshotRow::into_stored).transpose()
    }

    /// The newest inventory of every terminal that has one (retired terminals included), by terminal id.
    pub async fn latest_inventories(&self) -> Result<Vec<StoredInventory>> {
        let sql = format!(
            "SELECT {SNAPSHOT_COLUMNS} FROM inventories WHERE id IN ({LATEST_IDS}) ORDER BY terminal_id"
        );
        let rows: Vec<SnapshotRow> = read_db!(self, |db| sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .fetch_all(db)
            .await?);
        rows.into_iter().map(SnapshotRow::into_stored).collect()
    }

    /// One inventory with its snapshot.
    pub async fn inventory(&self, id: i64) -> Result<StoredInventory> {
        Ok(self.inventory_record(id).await?.stored())
    }

    /// One inventory: its summary and its snapshot.
    pub async fn inventory_record(&self, id: i64) -> Result<InventoryRecord> {
        let summary = self.inventory_summary(id).await?;
        let json: String = read_db!(self, |db| sqlx::query_scalar(
            "SELECT snapshot FROM inventories WHERE id = $1"
        )
        .bind(id)
        .fetch_one(db)
        .await?);
        let snapshot = serde_json::from_str(&json)
            .map_err(|e| StoreError::caused(format!("inventory {id}: stored snapshot"), e))?;
        Ok(InventoryRecord { summary, snapshot })
    }

    /// One inventory's summary.
    pub async fn inventory_summary(&self, id: i64) -> Result<InventorySummary> {
        let sql = format!("SELECT {SUMMARY_COLUMNS}{FROM} WHERE i.id = $1");
        let row: Option<SummaryRow> = read_db!(self, |db| sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(db)
            .await?);
        row.map(SummaryRow::into_summary)
            .ok_or_else(|| not_found("インベントリ"))
    }

    /// Inventories, newest first, filtered by host name and/or terminal.
    pub async fn inventories(&self, q: &InventoryQuery) -> Result<Page<InventorySummary>> {
        let mut f = crate::Filter::default();
        if let Some(h) = q
            .hostname
            .as_deref()
            .map(short_hostname)
            .filter(|h| !h.is_empty())
        {
            let p = f.bind(crate::Param::Text(h));
            f.push(format!("i.hostname_key = {p}"));
        }
        if let Some(t) = q.terminal_id {
            let p = f.bind(crate::Param::Int(t));
            f.push(format!("i.terminal_id = {p}"));
        }
        let count_sql = format!("SELECT COUNT(*) FROM inventories i{}", f.where_clause());
        let list_sql = format!(
            "SELECT {SUMMARY_COLUMNS}{FROM}{} ORDER BY i.id DESC",
            f.where_clause()
        );
        let rows: Page<SummaryRow> = self
            .page_of(count_sql, list_sql, &f.params, paging(q.page, q.per_page))
            .await?;
        Ok(Page {
            items: rows
                .items
                .into_iter()
                .map(SummaryRow::into_summary)
                .collect(),
            total: rows.total,
            page: rows.page,
            per_page: rows.per_page,
        })
    }

    /// A terminal's snapshots, newest first, at most `limit` (≤ [`MAX_HISTORY`]), each with what
    /// changed since the snapshot before it.
    pub async fn inventory_history(
        &self,
        terminal_id: i64,
        limit: usize,
    ) -> Result<Vec<HistoryEntry>> {
        let limit = limit.clamp(1, MAX_HISTORY);
        // One more than shown, so that the oldest shown has something to compare with.
        let fetch = limit + 1;
        let sql = format!(
            "SELECT {SUMMARY_COLUMNS}{FROM} WHERE i.terminal_id = $1 ORDER BY i.id DESC LIMIT {fetch}"
        );
        let snap_sql = format!(
            "SELECT {SNAPSHOT_COLUMNS} FROM inventories WHERE terminal_id = $1 ORDER BY id DESC LIMIT {fetch}"
        );
        let (rows, snaps): (Vec<SummaryRow>, Vec<SnapshotRow>) = read_db!(self, |db| {
            let rows = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(terminal_id)
                .fetch_all(db)
                .await?;
            let snaps = sqlx::query_as(sqlx::AssertSqlSafe(snap_sql))
                .bind(terminal_id)
                .fetch_all(db)
                .await?;
            (rows, snaps)
        });
        let snaps: Vec<StoredInventory> = snaps
            .into_iter()
            .map(SnapshotRow::into_stored)
            .collect::<Result<_>>()?;
        let mut out = Vec::with_capacity(limit);
        for (i, row) in rows.into_iter().enumerate().take(limit) {
            let changes = match (snaps.get(i), snaps.get(i + 1)) {
                (Some(new), Some(old)) if new.id == row.id => {
                    Some(diff(&old.snapshot, &new.snapshot))
                }
                _ => None,
            };
            out.push(HistoryEntry {
                summary: row.into_summary(),
                changes,
            });
        }
        Ok(out)
    }

    /// Every active terminal with its latest inventory (if any) and whether that one is stale (older
    /// than `stale_days` days), by host name.
    pub async fn inventory_overview(&self, stale_days: i64) -> Result<Vec<TerminalInventoryRow>> {
        let terms_sql = "SELECT t.id, t.hostname, t.site_id, s.name, t.kind FROM terminals t
            JOIN sites s ON s.id = t.site_id WHERE t.retired_at IS NULL ORDER BY t.hostname_key, t.id";
        let latest_sql = format!("SELECT {SUMMARY_COLUMNS}{FROM} WHERE i.id IN ({LATEST_IDS})");
        let (terms, latest): (Vec<TerminalRow>, Vec<SummaryRow>) = read_db!(self, |db| {
            let terms = sqlx::query_as(terms_sql).fetch_all(db).await?;
            let latest = sqlx::query_as(sqlx::AssertSqlSafe(latest_sql))
                .fetch_all(db)
                .await?;
            (terms, latest)
        });
        let mut by_terminal: HashMap<i64, InventorySummary> = latest
            .into_iter()
            .filter_map(|r| r.terminal_id.map(|t| (t, r.into_summary())))
            .collect();
        let now = chrono::Utc::now();
        Ok(terms
            .into_iter()
            .map(|(terminal_id, hostname, site_id, site_name, kind)| {
                let latest = by_terminal.remove(&terminal_id);
                let stale = latest
                    .as_ref()
                    .is_some_and(|l| is_stale(&l.received_at, stale_days, now));
                TerminalInventoryRow {
                    terminal_id,
                    hostname,
                    site_id,
                    site_name,
                    kind,
                    latest,
                    stale,
                }
            })
            .collect())
    }

    /// Inventories waiting for a person, oldest first.
    pub async fn review_queue(&self) -> Result<Vec<ReviewItem>> {
        let sql = format!(
            "SELECT {SUMMARY_COLUMNS}, r.reason, r.candidates, r.queued_at{FROM}
             JOIN inventory_review r ON r.inventory_id = i.id WHERE r.resolved_at IS NULL ORDER BY r.queued_at, i.id"
        );
        #[derive(sqlx::FromRow)]
        struct Row {
            #[sqlx(flatten)]
            summary: SummaryRow,
            reason: String,
            candidates: String,
            queued_at: String,
        }
        let rows: Vec<Row> = read_db!(self, |db| sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .fetch_all(db)
            .await?);
        Ok(rows
            .into_iter()
            .map(|r| ReviewItem {
                inventory: r.summary.into_summary(),
                reason: r.reason,
                candidates: serde_json::from_str(&r.candidates).unwrap_or_default(),
                queued_at: r.queued_at,
            })
            .collect())
    }

    /// Number of inventories waiting for a person.
    pub async fn review_count(&self) -> Result<i64> {
        Ok(read_db!(self, |db| sqlx::query_scalar(
            "SELECT COUNT(*) FROM inventory_review WHERE resolved_at IS NULL"
        )
        .fetch_one(db)
        .await?))
    }

    /// Links an inventory (and the other unlinked inventories of the same machine) to a terminal, and
    /// remembers the machine's UUID and device id on the terminal so that its next inventories match by
    /// them. Needs [`Action::ReviewInventory`]. Returns the ids linked. Audited `inventory.link`.
    pub async fn link_inventory(
        &self,
        actor: &Actor,
        inventory_id: i64,
        terminal_id: i64,
    ) -> Result<Vec<i64>> {
        actor.require(Action::ReviewInventory)?;
        let inv = self.inventory_summary(inventory_id).await?;
        if inv.terminal_id.is_some() {
            return Err(DomainError::Conflict(
                "このインベントリは既に端末に紐付いています。".into(),
            )
            .into());
        }
        self.check_terminal_active(terminal_id).await?;
        let at = now();
        let ids = write_tx!(self, |tx| {
            let ids = tx
                .link_machine(
                    inventory_id,
                    terminal_id,
                    MatchedBy::Linked,
                    &actor.username,
                    &at,
                )
                .await?;
            tx.append_audit(
                &NewAuditEntry::new(actor, "inventory.link", "inventory", inventory_id).details(
                    json!({
                        "terminal_id": terminal_id,
                        "inventories": ids,
                        "uuid": inv.uuid,
                        "device_id": inv.device_id,
                        "hostname": inv.hostname,
                    }),
                ),
            )
            .await?;
            ids
        });
        Ok(ids)
    }

    /// Registers a new terminal from an inventory (host name, OS, serial number and first IPv4 address
    /// taken from it) at `site_id` with kind `kind`, and links the inventory (and the other unlinked ones
    /// of the same machine) to it. Needs [`Action::ReviewInventory`] and [`Action::EditRegistry`].
    /// Audited `terminal.create` and `inventory.register`. Returns the new terminal's id.
    pub async fn register_terminal_from_inventory(
        &self,
        actor: &Actor,
        inventory_id: i64,
        site_id: i64,
        kind: &str,
    ) -> Result<i64> {
        actor.require(Action::ReviewInventory)?;
        actor.require(Action::EditRegistry)?;
        let rec = self.inventory_record(inventory_id).await?;
        if rec.summary.terminal_id.is_some() {
            return Err(DomainError::Conflict(
                "このインベントリは既に端末に紐付いています。".into(),
            )
            .into());
        }
        let s = &rec.snapshot;
        let os_name =
            s.os.full_name
                .clone()
                .or_else(|| s.os.name.clone())
                .unwrap_or_default();
        let os_version =
            s.os.build
                .clone()
                .or_else(|| s.os.version.clone())
                .unwrap_or_default();
        let input = TerminalInput {
            site_id: Some(site_id),
            hostname: s
                .hostname
                .as_deref()
                .map(|h| h.trim().split('.').next().unwrap_or("").to_string())
                .unwrap_or_default(),
            kind: kind.into(),
            ip_address: s
                .ip_addresses
                .iter()
                .find(|a| a.parse::<std::net::Ipv4Addr>().is_ok())
                .cloned()
                .unwrap_or_default(),
            os_name: os_name.chars().take(100).collect(),
            os_version: os_version.chars().take(100).collect(),
            serial_number: s
                .usable_serial()
                .map(|x| x.chars().take(100).collect())
                .unwrap_or_default(),
            asset_number: String::new(),
            note: String::new(),
        };
        let draft = input.validate()?;
        self.check_site_open(site_id).await?;
        let at = now();
        let terminal_id = write_tx!(self, |tx| {
            let terminal_id = tx.insert_terminal(&draft, &at).await?;
            tx.append_audit(
                &NewAuditEntry::new(actor, "terminal.create", "terminal", terminal_id).details(
                    serde_json::to_value(&draft)
                        .map(|mut v| {
                            if let Some(o) = v.as_object_mut() {
                                o.insert("from_inventory".into(), json!(inventory_id));
                            }
                            v
                        })
                        .unwrap_or_default(),
                ),
            )
            .await?;
            let ids = tx
                .link_machine(
                    inventory_id,
                    terminal_id,
                    MatchedBy::Registered,
                    &actor.username,
                    &at,
                )
                .await?;
            tx.append_audit(
                &NewAuditEntry::new(actor, "inventory.register", "inventory", inventory_id)
                    .details(json!({"terminal_id": terminal_id, "inventories": ids})),
            )
            .await?;
            terminal_id
        });
        Ok(terminal_id)
    }

    /// The machine identity remembered on a terminal for matching: (UUID, agent device id).
    pub async fn terminal_identity(
        &self,
        terminal_id: i64,
    ) -> Result<(Option<String>, Option<String>)> {
        let row: Option<(Option<String>, Option<String>)> = read_db!(self, |db| sqlx::query_as(
            "SELECT uuid, device_id FROM terminals WHERE id = $1"
        )
        .bind(terminal_id)
        .fetch_optional(db)
        .await?);
        row.ok_or_else(|| not_found("端末"))
    }

    /// Active terminals to link an inventory to: (id, host name, site name), by host name.
    pub async fn terminal_choices(&self) -> Result<Vec<(i64, String, String)>> {
        read_db!(self, |db| Ok(sqlx::query_as(
            "SELECT t.id, t.hostname, s.name FROM terminals t JOIN sites s ON s.id = t.site_id
             WHERE t.retired_at IS NULL ORDER BY t.hostname_key, t.id"
        )
        .fetch_all(db)
        .await?))
    }

    async fn check_terminal_active(&self, terminal_id: i64) -> Result<()> {
        let retired: Option<Option<String>> = read_db!(self, |db| sqlx::query_scalar(
            "SELECT retired_at FROM terminals WHERE id = $1"
        )
        .bind(terminal_id)
        .fetch_optional(db)
        .await?);
        match retired {
            None => {
                Err(DomainError::invalid("terminal_id", "指定された端末が見つかりません。").into())
            }
            Some(Some(_)) => Err(DomainError::invalid(
                "terminal_id",
                "廃止済みの端末には紐付けられません。",
            )
            .into()),
            Some(None) => Ok(()),
        }
    }

    async fn check_site_open(&self, site_id: i64) -> Result<()> {
        let retired: Option<Option<String>> = read_db!(self, |db| sqlx::query_scalar(
            "SELECT retired_at FROM sites WHERE id = $1"
        )
        .bind(site_id)
        .fetch_optional(db)
        .await?);
        match retired {
            None => Err(DomainError::invalid("site_id", "指定された拠点が見つかりません。").into()),
            Some(Some(_)) => {
                Err(DomainError::invalid("site_id", "廃止済みの拠点には登録できません。").into())
            }
            Some(None) => Ok(()),
        }
    }

    // --------------------------------------------------------------------- agent credentials

    /// Creates an agent credential named `name` and returns it with its password, which is shown this
    /// once (only an Argon2id hash is kept). Needs [`Action::ManageAgents`]. Audited
    /// `agent.credential_create`.
    pub async fn create_agent_credential(
        &self,
        actor: &Actor,
        name: &str,
    ) -> Result<NewAgentCredential> {
        actor.require(Action::ManageAgents)?;
        let name = unyo_domain::account::validate_agent_name(name)?
            .as_str()
            .to_string();
        let username = format!("agent-{}", random_hex(4)?);
        let password = random_hex(16)?;
        let hash = hash_password(&password)?;
        let at = self.record_time();
        let id = write_tx!(self, |tx| {
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO agent_credentials (name, username, password_hash, created_by, created_at)
                 VALUES ($1, $2, $3, $4, $5) RETURNING id",
            )
            .bind(&name)
            .bind(&username)
            .bind(&hash)
            .bind(&actor.username)
            .bind(&at)
            .fetch_one(&mut *tx)
            .await?;
            tx.append_audit(
                &NewAuditEntry::new(actor, "agent.credential_create", "agent_credential", id)
                    .details(json!({"name": name, "username": username})),
            )
            .await?;
            id
        });
        Ok(NewAgentCredential {
            id,
            name,
            username,
            password,
        })
    }

    /// Every agent credential, newest first (never the passwords).
    pub async fn agent_credentials(&self) -> Result<Vec<AgentCredential>> {
        read_db!(self, |db| {
            Ok(sqlx::query_as(
            "SELECT id, name, username, created_by, created_at, last_used_at, revoked_at, revoked_by
             FROM agent_credentials ORDER BY id DESC"
        )
        .fetch_all(db)
        .await?)
        })
    }

    /// Revokes an agent credential: the agent is refused from then on. Needs [`Action::ManageAgents`].
    /// Audited `agent.credential_revoke`.
    pub async fn revoke_agent_credential(&self, actor: &Actor, id: i64) -> Result<()> {
        actor.require(Action::ManageAgents)?;
        let at = now();
        write_tx!(self, |tx| {
            let done = sqlx::query(
                "UPDATE agent_credentials SET revoked_at = $1, revoked_by = $2 WHERE id = $3 AND revoked_at IS NULL",
            )
            .bind(&at)
            .bind(&actor.username)
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if done == 0 {
                return Err(DomainError::Conflict(
                    "この認証情報は見つからないか、既に失効しています。".into(),
                )
                .into());
            }
            tx.append_audit(&NewAuditEntry::new(
                actor,
                "agent.credential_revoke",
                "agent_credential",
                id,
            ))
            .await?;
        });
        Ok(())
    }

    /// Checks an agent's Basic credentials: the credential behind `username` when it exists, is not
    /// revoked and `password` is its password. Costs the same for unknown names. A credential verified
    /// a moment ago is not checked with Argon2 again (see [`Store::remembered_agent_credential`]).
    /// Writes nothing (see [`Store::record_agent_auth_failure`]).
    pub async fn verify_agent_credential(
        &self,
        username: &str,
        password: &str,
    ) -> Result<Option<AgentIdentity>> {
        let row = self.agent_credential_row(username).await?;
        if let Some(known) = self.remembered(username, password, &row) {
            return Ok(Some(known));
        }
        let secret = password.to_string();
        let (hash, found) = match &row {
            Some((_, _, hash, _)) => (hash.clone(), true),
            None => (dummy_hash().to_string(), false),
        };
        self.agent_secrets.counted();
        // Argon2 takes tens of milliseconds of CPU: keep it off the async workers.
        let verified_hash = hash.clone();
        let ok = tokio::task::spawn_blocking(move || verify_password(&secret, &hash))
            .await
            .map_err(|e| StoreError::caused("password check", e))?;
        Ok(match row {
            Some((id, name, _, None)) if ok && found => {
                self.agent_secrets
                    .remember(username, password, &verified_hash);
                Some(AgentIdentity {
                    id,
                    name,
                    username: username.to_string(),
                })
            }
            _ => None,
        })
    }

    /// The credential behind these Basic credentials when they were verified a moment ago against
    /// the credential as it is stored now (not revoked, same hash); `None` otherwise, without any
    /// password check. Lets the endpoint accept a known agent before it applies failure limits.
    pub async fn remembered_agent_credential(
        &self,
        username: &str,
        password: &str,
    ) -> Result<Option<AgentIdentity>> {
        let row = self.agent_credential_row(username).await?;
        Ok(self.remembered(username, password, &row))
    }

    async fn agent_credential_row(
        &self,
        username: &str,
    ) -> Result<Option<(i64, String, String, Option<String>)>> {
        Ok(read_db!(self, |db| {
            sqlx::query_as(
                "SELECT id, name, password_hash, revoked_at FROM agent_credentials WHERE username = $1",
            )
            .bind(username)
            .fetch_optional(db)
            .await?
        }))
    }

    fn remembered(
        &self,
        username: &str,
        password: &str,
        row: &Option<(i64, String, String, Option<String>)>,
    ) -> Option<AgentIdentity> {
        match row {
            Some((id, name, hash, None)) if self.agent_secrets.knows(username, password, hash) => {
                Some(AgentIdentity {
                    id: *id,
                    name: name.clone(),
                    username: username.to_string(),
                })
            }
            _ => None,
        }
    }

    /// How many Argon2 checks of agent passwords this store (and its clones) has run: a credential
    /// verified a moment ago is remembered for
    /// [`REMEMBER_FOR`](crate::agent_secrets::REMEMBER_FOR) and not checked again.
    pub fn agent_password_checks(&self) -> u64 {
        self.agent_secrets.checks()
    }

    /// Audits a refused agent (`agent.auth_failure`): the user name it tried (cut to 64 characters),
    /// where from, and why (`unknown_or_wrong_password`, `malformed_header`).
    pub async fn record_agent_auth_failure(
        &self,
        username: &str,
        source: &str,
        reason: &str,
    ) -> Result<()> {
        let entry = NewAuditEntry {
            actor: format!("agent:{}", username.chars().take(64).collect::<String>()),
            action: "agent.auth_failure".into(),
            entity: "agent_credential".into(),
            entity_id: String::new(),
            details: json!({"reason": reason}),
            source: source.chars().take(64).collect(),
        };
        self.audit(entry).await?;
        Ok(())
    }

    /// Audits a burst of refused agent requests from one source as one `agent.auth_failure` entry with
    /// its count: `failures` after the first (which has its own entry), of which `refused` were turned
    /// away by a failure limit without a password check, the user names tried (at most a few) and the
    /// time of the first and the last.
    pub async fn record_agent_auth_failure_burst(
        &self,
        source: &str,
        burst: &AgentFailureBurst<'_>,
    ) -> Result<()> {
        let entry = NewAuditEntry {
            actor: "agent:".into(),
            action: "agent.auth_failure".into(),
            entity: "agent_credential".into(),
            entity_id: String::new(),
            details: json!({
                "reason": "burst",
                "count": burst.failures,
                "refused_by_limit": burst.refused,
                "usernames": burst.usernames,
                "first_at": burst.first_at,
                "last_at": burst.last_at,
            }),
            source: source.chars().take(64).collect(),
        };
        self.audit(entry).await?;
        Ok(())
    }

    /// Records what an authenticated agent's request tells about it (one agent per device id) and
    /// marks its credential used. A new agent is audited `agent.register`; a change of its software,
    /// version, GLPI-Agent-ID, protocol or credential `agent.change` (with the values before); a
    /// contact that changes nothing else only moves its last contact, unaudited, like a session's
    /// last activity.
    pub async fn record_agent_contact(
        &self,
        agent: &AgentIdentity,
        c: &AgentContact<'_>,
        source: &str,
    ) -> Result<()> {
        let at = self.record_time();
        let cut = |v: &str, n: usize| {
            v.chars()
                .filter(|c| !c.is_control())
                .take(n)
                .collect::<String>()
        };
        let device_id = cut(c.device_id, 255);
        let version = c.version.map(|v| cut(v, 64));
        let glpi_agent_id = c.glpi_agent_id.map(|v| cut(v, 64));
        let source = cut(source, 64);
        write_tx!(self, |tx| {
            type Known = (i64, i64, String, Option<String>, Option<String>, String);
            let known: Option<Known> = sqlx::query_as(
                "SELECT id, agent_credential_id, kind, version, glpi_agent_id, protocol
                 FROM inventory_agents WHERE device_id = $1",
            )
            .bind(&device_id)
            .fetch_optional(&mut *tx)
            .await?;
            let now_is = json!({
                "device_id": device_id,
                "credential": agent.username,
                "kind": c.kind,
                "version": version,
                "glpi_agent_id": glpi_agent_id,
                "protocol": c.protocol,
            });
            match known {
                None => {
                    let id: i64 = sqlx::query_scalar(
                        "INSERT INTO inventory_agents (device_id, agent_credential_id, kind, version,
                         glpi_agent_id, protocol, first_seen_at, last_contact_at, last_contact_from,
                         last_message) VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8, $9) RETURNING id",
                    )
                    .bind(&device_id)
                    .bind(agent.id)
                    .bind(c.kind)
                    .bind(&version)
                    .bind(&glpi_agent_id)
                    .bind(c.protocol)
                    .bind(&at)
                    .bind(&source)
                    .bind(c.message)
                    .fetch_one(&mut *tx)
                    .await?;
                    tx.append_audit(&NewAuditEntry {
                        actor: agent.actor_name(),
                        action: "agent.register".into(),
                        entity: "inventory_agent".into(),
                        entity_id: id.to_string(),
                        details: now_is,
                        source: source.clone(),
                    })
                    .await?;
                }
                Some((id, cred, kind, old_version, old_agent_id, protocol)) => {
                    sqlx::query(
                        "UPDATE inventory_agents SET agent_credential_id = $1, kind = $2, version = $3,
                         glpi_agent_id = $4, protocol = $5, last_contact_at = $6, last_contact_from = $7,
                         last_message = $8 WHERE id = $9",
                    )
                    .bind(agent.id)
                    .bind(c.kind)
                    .bind(&version)
                    .bind(&glpi_agent_id)
                    .bind(c.protocol)
                    .bind(&at)
                    .bind(&source)
                    .bind(c.message)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                    let changed = cred != agent.id
                        || kind != c.kind
                        || old_version != version
                        || old_agent_id != glpi_agent_id
                        || protocol != c.protocol;
                    if changed {
                        tx.append_audit(&NewAuditEntry {
                            actor: agent.actor_name(),
                            action: "agent.change".into(),
                            entity: "inventory_agent".into(),
                            entity_id: id.to_string(),
                            details: json!({
                                "now": now_is,
                                "before": {
                                    "credential_id": cred,
                                    "kind": kind,
                                    "version": old_version,
                                    "glpi_agent_id": old_agent_id,
                                    "protocol": protocol,
                                },
                            }),
                            source: source.clone(),
                        })
                        .await?;
                    }
                }
            }
            sqlx::query("UPDATE agent_credentials SET last_used_at = $1 WHERE id = $2")
                .bind(&at)
                .bind(agent.id)
                .execute(&mut *tx)
                .await?;
        });
        Ok(())
    }

    /// Every agent seen reporting, last contact first.
    pub async fn inventory_agents(&self) -> Result<Vec<InventoryAgent>> {
        read_db!(self, |db| {
            Ok(sqlx::query_as(
                "SELECT a.id, a.device_id, c.name AS credential_name, c.username AS credential_username,
                 a.kind, a.version, a.glpi_agent_id, a.protocol, a.first_seen_at, a.last_contact_at,
                 a.last_contact_from, a.last_message
                 FROM inventory_agents a JOIN agent_credentials c ON c.id = a.agent_credential_id
                 ORDER BY a.last_contact_at DESC, a.id DESC",
            )
            .fetch_all(db)
            .await?)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use unyo_domain::inventory::InventoryFormat;

    #[test]
    fn short_names() {
        assert_eq!(short_hostname(" PC-ARG-23.cedre.local "), "pc-arg-23");
        assert_eq!(short_hostname("vm"), "vm");
        assert_eq!(short_hostname(""), "");
    }

    #[test]
    fn machine_keys_prefer_uuid_then_device_then_serial_then_host() {
        let mut s = InventorySnapshot::empty(InventoryFormat::Fusion);
        assert_eq!(machine_key(&s), "");
        s.hostname = Some("PC01.example".into());
        assert_eq!(machine_key(&s), "host:pc01");
        s.serial = Some("To be filled by O.E.M.".into());
        assert_eq!(machine_key(&s), "host:pc01");
        s.serial = Some("ABC123".into());
        assert_eq!(machine_key(&s), "serial:abc123");
        s.device_id = Some("pc01-2026-01-01-00-00-00".into());
        assert_eq!(machine_key(&s), "device:pc01-2026-01-01-00-00-00");
        s.uuid = Some("00000000-0000-0000-0000-000000000000".into());
        assert_eq!(machine_key(&s), "device:pc01-2026-01-01-00-00-00");
        s.uuid = Some("4c4c4544-0034".into());
        assert_eq!(machine_key(&s), "uuid:4C4C4544-0034");
    }

    #[test]
    fn staleness() {
        let now = chrono::Utc::now();
        let at = |days: i64| unyo_domain::time::to_storage(now - chrono::Duration::days(days));
        assert!(!is_stale(&at(6), 7, now));
        assert!(is_stale(&at(8), 7, now));
        assert!(is_stale(&at(2), 1, now));
        assert!(!is_stale("garbage", 7, now));
    }

    #[test]
    fn like_patterns_are_escaped() {
        assert_eq!(like_escape("a_b%c\\"), "a\\_b\\%c\\\\");
    }
}

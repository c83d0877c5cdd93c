//! Sites, terminals and network nodes: lists with server-side search/filter/sort/paging, create, edit,
//! retire (never delete), all-or-nothing import, and history from the audit log.

use crate::audit::{AuditSink, NewAuditEntry};
use crate::kit::{diff, paging, placeholders};
use crate::{
    Actor, Filter, Page, Param, Result, Store, StoreError, conflict_on_unique, contains_pattern,
    now,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::HashMap;
use unyo_domain::registry::{
    NodeDraft, NodeInput, SiteDraft, SiteInput, TerminalDraft, TerminalInput, upstream_path,
};
use unyo_domain::{Action, DomainError};

/// A site as listed and shown.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Site {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub kind: String,
    pub address: String,
    pub phone: String,
    pub uplink_node_id: Option<i64>,
    pub uplink_node_name: Option<String>,
    pub note: String,
    pub terminal_count: i64,
    pub created_at: String,
    pub updated_at: String,
    pub retired_at: Option<String>,
}

/// A terminal as listed and shown.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Terminal {
    pub id: i64,
    pub site_id: i64,
    pub site_code: String,
    pub site_name: String,
    pub hostname: String,
    pub kind: String,
    pub ip_address: Option<String>,
    pub os_name: String,
    pub os_version: String,
    pub serial_number: String,
    pub asset_number: String,
    pub note: String,
    pub created_at: String,
    pub updated_at: String,
    pub retired_at: Option<String>,
}

/// A node of the 集約ネットワーク as listed and shown.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct NetworkNode {
    pub id: i64,
    pub name: String,
    pub kind: String,
    pub site_id: Option<i64>,
    pub site_name: Option<String>,
    pub ip_address: Option<String>,
    pub upstream_id: Option<i64>,
    pub upstream_name: Option<String>,
    pub note: String,
    pub created_at: String,
    pub updated_at: String,
    pub retired_at: Option<String>,
}

/// Which records a list shows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// In service (the default).
    #[default]
    Active,
    /// Retired only.
    Retired,
    /// Both.
    All,
}

impl Status {
    /// The condition on a table's `retired_at` column (`alias.` included when given), if any.
    pub(crate) fn retired_condition(self, alias: &str) -> Option<String> {
        match self {
            Status::Active => Some(format!("{alias}retired_at IS NULL")),
            Status::Retired => Some(format!("{alias}retired_at IS NOT NULL")),
            Status::All => None,
        }
    }
}

/// List parameters shared by the three registry lists. Unknown sort keys fall back to the default.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ListQuery {
    /// Free-text search (case-insensitive, anywhere in the main text columns).
    pub q: Option<String>,
    /// Only records at this site.
    pub site_id: Option<i64>,
    /// Only records of this kind (code).
    pub kind: Option<String>,
    /// Active, retired or all.
    pub status: Option<Status>,
    /// Sort key (see each list for the allowed keys).
    pub sort: Option<String>,
    /// `asc` or `desc`.
    pub dir: Option<String>,
    /// 1-based page.
    pub page: Option<i64>,
    /// Rows per page (1..=500).
    pub per_page: Option<i64>,
}

impl ListQuery {
    fn page(&self) -> (i64, i64) {
        paging(self.page, self.per_page)
    }

    fn order(&self, allowed: &[(&str, &str)], default: &str, alias: &str) -> String {
        let column = self
            .sort
            .as_deref()
            .and_then(|s| allowed.iter().find(|(k, _)| *k == s))
            .map(|(_, c)| *c)
            .unwrap_or(default);
        let dir = if self.dir.as_deref() == Some("desc") {
            "DESC"
        } else {
            "ASC"
        };
        format!(" ORDER BY {column} {dir}, {alias}.id ASC")
    }

    fn base_filter(&self, alias: &str, search_columns: &[&str]) -> Filter {
        let mut f = Filter::default();
        if let Some(c) = self
            .status
            .unwrap_or_default()
            .retired_condition(&format!("{alias}."))
        {
            f.push(c);
        }
        if let Some(q) = self.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
            let p = f.bind(Param::Text(contains_pattern(q)));
            let ors: Vec<String> = search_columns
                .iter()
                .map(|c| format!("LOWER(COALESCE({c}, '')) LIKE {p} ESCAPE '\\'"))
                .collect();
            f.push(format!("({})", ors.join(" OR ")));
        }
        if let Some(kind) = self.kind.as_deref().filter(|k| !k.is_empty()) {
            let p = f.bind(Param::Text(kind.to_string()));
            f.push(format!("{alias}.kind = {p}"));
        }
        f
    }
}

const SITE_SELECT: &str = "SELECT s.id, s.code, s.name, s.kind, s.address, s.phone, s.uplink_node_id,
    n.name AS uplink_node_name, s.note,
    (SELECT COUNT(*) FROM terminals t WHERE t.site_id = s.id AND t.retired_at IS NULL) AS terminal_count,
    s.created_at, s.updated_at, s.retired_at
    FROM sites s LEFT JOIN network_nodes n ON n.id = s.uplink_node_id";

const TERMINAL_SELECT: &str = "SELECT t.id, t.site_id, s.code AS site_code, s.name AS site_name, t.hostname, t.kind,
    t.ip_address, t.os_name, t.os_version, t.serial_number, t.asset_number, t.note, t.created_at, t.updated_at,
    t.retired_at FROM terminals t JOIN sites s ON s.id = t.site_id";

const NODE_SELECT: &str = "SELECT n.id, n.name, n.kind, n.site_id, s.name AS site_name, n.ip_address, n.upstream_id,
    u.name AS upstream_name, n.note, n.created_at, n.updated_at, n.retired_at
    FROM network_nodes n LEFT JOIN sites s ON s.id = n.site_id LEFT JOIN network_nodes u ON u.id = n.upstream_id";

fn to_json<T: Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// One row of an import file: its line number (1-based, header is line 1) and content.
#[derive(Debug, Clone)]
pub struct ImportRow<T> {
    /// Line in the file, for error messages.
    pub line: usize,
    /// The row's values.
    pub data: T,
}

/// A terminal row from an import file; the site is named by its code.
#[derive(Debug, Clone, Default)]
pub struct TerminalImport {
    pub site_code: String,
    pub input: TerminalInput,
}

/// A site row from an import file; the uplink node is named by its name.
#[derive(Debug, Clone, Default)]
pub struct SiteImport {
    pub uplink_node: String,
    pub input: SiteInput,
}

/// A node row from an import file; site and upstream are named.
#[derive(Debug, Clone, Default)]
pub struct NodeImport {
    pub site_code: String,
    pub upstream: String,
    pub input: NodeInput,
}

/// Why one row of an import was refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowError {
    /// Line in the file (header = 1).
    pub line: usize,
    /// Column name as in the header.
    pub column: String,
    /// What is wrong, in Japanese.
    pub message: String,
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportSummary {
    /// New records.
    pub created: usize,
    /// Existing records (same key) that changed.
    pub updated: usize,
    /// Existing records that were identical.
    pub unchanged: usize,
}

/// The outcome of an import: all rows written, or none and the reasons.
pub type ImportResult = std::result::Result<ImportSummary, Vec<RowError>>;

fn row_errors(line: usize, e: DomainError) -> Vec<RowError> {
    match e {
        DomainError::Validation(fields) => fields
            .into_iter()
            .map(|f| RowError {
                line,
                column: f.field,
                message: f.message,
            })
            .collect(),
        other => vec![RowError {
            line,
            column: String::new(),
            message: other.to_string(),
        }],
    }
}

impl Store {
    // ---------------------------------------------------------------- sites

    /// Sites, filtered, sorted and paged. Sort keys: `code`, `name`, `kind`, `terminals`, `updated`.
    pub async fn sites(&self, q: &ListQuery) -> Result<Page<Site>> {
        let f = q.base_filter("s", &["s.code", "s.name", "s.address", "s.note"]);
        let order = q.order(
            &[
                ("code", "s.code"),
                ("name", "s.name"),
                ("kind", "s.kind"),
                ("terminals", "terminal_count"),
                ("updated", "s.updated_at"),
            ],
            "s.id",
            "s",
        );
        let count_sql = format!("SELECT COUNT(*) FROM sites s{}", f.where_clause());
        let list_sql = format!("{SITE_SELECT}{}{order}", f.where_clause());
        self.page_of(count_sql, list_sql, &f.params, q.page()).await
    }

    /// Every site in service, by code (for selects and the network map).
    pub async fn all_sites(&self) -> Result<Vec<Site>> {
        let sql = format!("{SITE_SELECT} WHERE s.retired_at IS NULL ORDER BY s.id");
        read_db!(self, |db| Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .fetch_all(db)
            .await?))
    }

    /// Sites in service as (id, code, name), for selects: cheaper than [`Store::all_sites`], which also
    /// counts terminals.
    pub async fn site_options(&self) -> Result<Vec<(i64, String, String)>> {
        read_db!(self, |db| Ok(sqlx::query_as(
            "SELECT id, code, name FROM sites WHERE retired_at IS NULL ORDER BY code"
        )
        .fetch_all(db)
        .await?))
    }

    /// The id, code and name of the site with this code (exact, as registered), if any.
    pub async fn site_by_code(&self, code: &str) -> Result<Option<(i64, String, String)>> {
        read_db!(self, |db| Ok(sqlx::query_as(
            "SELECT id, code, name FROM sites WHERE code = $1"
        )
        .bind(code)
        .fetch_optional(db)
        .await?))
    }

    /// One site.
    pub async fn site(&self, id: i64) -> Result<Site> {
        let sql = format!("{SITE_SELECT} WHERE s.id = $1");
        let row: Option<Site> = read_db!(self, |db| sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(db)
            .await?);
        row.ok_or_else(|| DomainError::NotFound(format!("拠点 {id}")).into())
    }

    /// Creates a site.
    pub async fn create_site(&self, actor: &Actor, input: &SiteInput) -> Result<Site> {
        actor.require(Action::EditRegistry)?;
        let draft = input.validate()?;
        self.check_node_exists(draft.uplink_node_id, "uplink_node_id")
            .await?;
        let at = now();
        let id = write_tx!(self, |tx| {
            let id = tx.insert_site(&draft, &at).await?;
            tx.append_audit(
                &NewAuditEntry::new(actor, "site.create", "site", id).details(to_json(&draft)),
            )
            .await?;
            id
        });
        self.site(id).await
    }

    /// Changes a site; the audit entry holds the differences.
    pub async fn update_site(&self, actor: &Actor, id: i64, input: &SiteInput) -> Result<Site> {
        actor.require(Action::EditRegistry)?;
        let draft = input.validate()?;
        self.check_node_exists(draft.uplink_node_id, "uplink_node_id")
            .await?;
        let old = self.site(id).await?;
        if old.retired_at.is_some() {
            return Err(DomainError::Conflict("廃止済みの拠点は変更できません。".into()).into());
        }
        let before = to_json(&site_draft_of(&old));
        let at = now();
        write_tx!(self, |tx| {
            sqlx::query(
                "UPDATE sites SET code=$1, name=$2, kind=$3, address=$4, phone=$5, uplink_node_id=$6, note=$7, updated_at=$8 WHERE id=$9",
            )
            .bind(&draft.code)
            .bind(draft.name.as_str())
            .bind(draft.kind.code())
            .bind(draft.address.as_str())
            .bind(draft.phone.as_str())
            .bind(draft.uplink_node_id)
            .bind(draft.note.as_str())
            .bind(&at)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(|e| conflict_on_unique(e, || format!("拠点コード「{}」は既に登録されています。", draft.code)))?;
            tx.append_audit(
                &NewAuditEntry::new(actor, "site.update", "site", id)
                    .details(diff(&before, &to_json(&draft))),
            )
            .await?;
        });
        self.site(id).await
    }

    /// Retires a site (kept, with history). A site with terminals in service cannot be retired.
    pub async fn retire_site(&self, actor: &Actor, id: i64, reason: &str) -> Result<Site> {
        actor.require(Action::EditRegistry)?;
        let site = self.site(id).await?;
        if site.retired_at.is_some() {
            return Err(DomainError::Conflict("この拠点は既に廃止されています。".into()).into());
        }
        if site.terminal_count > 0 {
            return Err(DomainError::Conflict(format!(
                "この拠点には稼働中の端末が{}台あります。先に端末を移設または廃止してください。",
                site.terminal_count
            ))
            .into());
        }
        self.retire("sites", "site", actor, id, reason).await?;
        self.site(id).await
    }

    // ---------------------------------------------------------------- terminals

    /// Terminals, filtered, sorted and paged. Sort keys: `hostname`, `site` (code), `kind`, `ip`
    /// (numeric), `os` (name and version), `updated`. The search matches the host name, address, OS,
    /// serial and asset numbers and the site's code and name, ignoring case and full/half width.
    /// Answered from the in-memory index (see `terminal_index`); the rows themselves are read fresh.
    pub async fn terminals(&self, q: &ListQuery) -> Result<Page<Terminal>> {
        Ok(self.terminal_list(q).await?.0)
    }

    /// [`Store::terminals`], and the number of sites in service from the same look at the registry (the
    /// list page chooses its site filter by it), so that one request reads the registry's version once.
    pub async fn terminal_list(&self, q: &ListQuery) -> Result<(Page<Terminal>, i64)> {
        let (page, per_page) = q.page();
        let offset = usize::try_from((page - 1).saturating_mul(per_page)).unwrap_or(usize::MAX);
        let (items, total, active_sites) = self.terminal_page(q, offset, per_page as usize).await?;
        let page = Page {
            items,
            total: total as i64,
            page,
            per_page,
        };
        Ok((page, active_sites))
    }

    /// The terminals with these ids, in the order given (ids that do not exist are left out), and the
    /// registry's version read in the same query (`None` when no row came back), so that a list request
    /// checks its index snapshot without a round trip of its own.
    pub(crate) async fn terminals_by_id(
        &self,
        ids: &[i64],
    ) -> Result<(Vec<Terminal>, Option<i64>)> {
        use sqlx::{FromRow, Row};
        if ids.is_empty() {
            return Ok((Vec::new(), None));
        }
        let mut f = Filter::default();
        let list = placeholders(&mut f, ids);
        let select = TERMINAL_SELECT.replacen(
            " FROM terminals t",
            ", rv.version AS registry_version FROM registry_version rv, terminals t",
            1,
        );
        let sql = format!("{select} WHERE rv.id = 1 AND t.id IN ({list})");
        let params = f.params;
        let (rows, version) = read_db!(self, |db| {
            let rows = bind_params!(sqlx::query(sqlx::AssertSqlSafe(sql)), params)
                .fetch_all(db)
                .await?;
            let mut version = None;
            let mut terminals = Vec::with_capacity(rows.len());
            for r in &rows {
                version = Some(r.try_get::<i64, _>("registry_version")?);
                terminals.push(Terminal::from_row(r)?);
            }
            (terminals, version)
        });
        let mut by_id: HashMap<i64, Terminal> = rows.into_iter().map(|t| (t.id, t)).collect();
        Ok((
            ids.iter().filter_map(|id| by_id.remove(id)).collect(),
            version,
        ))
    }

    /// One terminal.
    pub async fn terminal(&self, id: i64) -> Result<Terminal> {
        let sql = format!("{TERMINAL_SELECT} WHERE t.id = $1");
        let row: Option<Terminal> = read_db!(self, |db| sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(db)
            .await?);
        row.ok_or_else(|| DomainError::NotFound(format!("端末 {id}")).into())
    }

    /// Creates a terminal.
    pub async fn create_terminal(&self, actor: &Actor, input: &TerminalInput) -> Result<Terminal> {
        actor.require(Action::EditRegistry)?;
        let draft = input.validate()?;
        self.check_site_active(draft.site_id).await?;
        let at = now();
        let id = write_tx!(self, |tx| {
            let id = tx.insert_terminal(&draft, &at).await?;
            tx.append_audit(
                &NewAuditEntry::new(actor, "terminal.create", "terminal", id)
                    .details(to_json(&draft)),
            )
            .await?;
            id
        });
        self.terminal(id).await
    }

    /// Changes a terminal; the audit entry holds the differences.
    pub async fn update_terminal(
        &self,
        actor: &Actor,
        id: i64,
        input: &TerminalInput,
    ) -> Result<Terminal> {
        actor.require(Action::EditRegistry)?;
        let draft = input.validate()?;
        let old = self.terminal(id).await?;
        if old.retired_at.is_some() {
            return Err(DomainError::Conflict("廃止済みの端末は変更できません。".into()).into());
        }
        if old.site_id != draft.site_id {
            self.check_site_active(draft.site_id).await?;
        }
        let before = to_json(&terminal_draft_of(&old));
        let at = now();
        write_tx!(self, |tx| {
            tx.update_terminal(id, &draft, &at).await?;
            tx.append_audit(
                &NewAuditEntry::new(actor, "terminal.update", "terminal", id)
                    .details(diff(&before, &to_json(&draft))),
            )
            .await?;
        });
        self.terminal(id).await
    }

    /// Retires a terminal (kept, with history).
    pub async fn retire_terminal(&self, actor: &Actor, id: i64, reason: &str) -> Result<Terminal> {
        actor.require(Action::EditRegistry)?;
        let t = self.terminal(id).await?;
        if t.retired_at.is_some() {
            return Err(DomainError::Conflict("この端末は既に廃止されています。".into()).into());
        }
        self.retire("terminals", "terminal", actor, id, reason)
            .await?;
        self.terminal(id).await
    }

    // ---------------------------------------------------------------- network nodes

    /// Network nodes, filtered, sorted and paged. Sort keys: `name`, `kind`, `site`, `ip`, `upstream`.
    pub async fn nodes(&self, q: &ListQuery) -> Result<Page<NetworkNode>> {
        let mut f = q.base_filter("n", &["n.name", "n.ip_address", "n.note", "s.name"]);
        if let Some(site) = q.site_id {
            let p = f.bind(Param::Int(site));
            f.push(format!("n.site_id = {p}"));
        }
        let order = q.order(
            &[
                ("name", "n.name"),
                ("kind", "n.kind"),
                ("site", "s.name"),
                ("ip", "n.ip_address"),
                ("upstream", "u.name"),
            ],
            "n.id",
            "n",
        );
        let count_sql = format!(
            "SELECT COUNT(*) FROM network_nodes n LEFT JOIN sites s ON s.id = n.site_id{}",
            f.where_clause()
        );
        let list_sql = format!("{NODE_SELECT}{}{order}", f.where_clause());
        self.page_of(count_sql, list_sql, &f.params, q.page()).await
    }

    /// Every node in service (for selects and the network map).
    pub async fn all_nodes(&self) -> Result<Vec<NetworkNode>> {
        let sql = format!("{NODE_SELECT} WHERE n.retired_at IS NULL ORDER BY n.id");
        read_db!(self, |db| Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .fetch_all(db)
            .await?))
    }

    /// One node.
    pub async fn node(&self, id: i64) -> Result<NetworkNode> {
        let sql = format!("{NODE_SELECT} WHERE n.id = $1");
        let row: Option<NetworkNode> =
            read_db!(self, |db| sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(id)
                .fetch_optional(db)
                .await?);
        row.ok_or_else(|| DomainError::NotFound(format!("ネットワーク機器 {id}")).into())
    }

    /// The path from a node up to the root of the 集約ネットワーク (the node first).
    pub async fn node_path(&self, id: i64) -> Result<Vec<NetworkNode>> {
        let all = self.all_nodes().await?;
        let ups: HashMap<i64, Option<i64>> = all.iter().map(|n| (n.id, n.upstream_id)).collect();
        let path = upstream_path(id, |n| ups.get(&n).copied().flatten())?;
        Ok(path
            .into_iter()
            .filter_map(|id| all.iter().find(|n| n.id == id).cloned())
            .collect())
    }

    /// Creates a node.
    pub async fn create_node(&self, actor: &Actor, input: &NodeInput) -> Result<NetworkNode> {
        actor.require(Action::EditRegistry)?;
        let draft = input.validate(None)?;
        self.check_node_refs(None, &draft).await?;
        let at = now();
        let id = write_tx!(self, |tx| {
            let id = tx.insert_node(&draft, &at).await?;
            tx.append_audit(
                &NewAuditEntry::new(actor, "node.create", "node", id).details(to_json(&draft)),
            )
            .await?;
            id
        });
        self.node(id).await
    }

    /// Changes a node; refuses an upstream that would make a cycle.
    pub async fn update_node(
        &self,
        actor: &Actor,
        id: i64,
        input: &NodeInput,
    ) -> Result<NetworkNode> {
        actor.require(Action::EditRegistry)?;
        let draft = input.validate(Some(id))?;
        let old = self.node(id).await?;
        if old.retired_at.is_some() {
            return Err(DomainError::Conflict("廃止済みの機器は変更できません。".into()).into());
        }
        self.check_node_refs(Some(id), &draft).await?;
        let before = to_json(&node_draft_of(&old));
        let at = now();
        write_tx!(self, |tx| {
            sqlx::query("UPDATE network_nodes SET name=$1, kind=$2, site_id=$3, ip_address=$4, upstream_id=$5, note=$6, updated_at=$7 WHERE id=$8")
                .bind(draft.name.as_str())
                .bind(draft.kind.code())
                .bind(draft.site_id)
                .bind(&draft.ip_address)
                .bind(draft.upstream_id)
                .bind(draft.note.as_str())
                .bind(&at)
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(|e| conflict_on_unique(e, || format!("機器名「{}」は既に登録されています。", draft.name)))?;
            tx.append_audit(
                &NewAuditEntry::new(actor, "node.update", "node", id)
                    .details(diff(&before, &to_json(&draft))),
            )
            .await?;
        });
        self.node(id).await
    }

    /// Retires a node. Refused while sites or other nodes still connect through it.
    pub async fn retire_node(&self, actor: &Actor, id: i64, reason: &str) -> Result<NetworkNode> {
        actor.require(Action::EditRegistry)?;
        let node = self.node(id).await?;
        if node.retired_at.is_some() {
            return Err(DomainError::Conflict("この機器は既に廃止されています。".into()).into());
        }
        let dependants: i64 = read_db!(self, |db| {
            sqlx::query_scalar(
            "SELECT (SELECT COUNT(*) FROM sites WHERE uplink_node_id = $1 AND retired_at IS NULL)
                  + (SELECT COUNT(*) FROM network_nodes WHERE upstream_id = $1 AND retired_at IS NULL)"
        )
        .bind(id)
        .fetch_one(db)
        .await?
        });
        if dependants > 0 {
            return Err(DomainError::Conflict(format!(
                "この機器を経由している拠点・機器が{dependants}件あります。先に経路を変更してください。"
            ))
            .into());
        }
        self.retire("network_nodes", "node", actor, id, reason)
            .await?;
        self.node(id).await
    }

    // ---------------------------------------------------------------- shared

    async fn retire(
        &self,
        table: &'static str,
        entity: &str,
        actor: &Actor,
        id: i64,
        reason: &str,
    ) -> Result<()> {
        let reason = unyo_domain::registry::validate_retire_reason(reason)?;
        let reason = reason.as_str();
        let at = now();
        let sql = format!(
            "UPDATE {table} SET retired_at = $1, updated_at = $1 WHERE id = $2 AND retired_at IS NULL"
        );
        write_tx!(self, |tx| {
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(&at)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            tx.append_audit(
                &NewAuditEntry::new(actor, &format!("{entity}.retire"), entity, id)
                    .details(json!({"reason": reason})),
            )
            .await?;
        });
        Ok(())
    }

    async fn check_site_active(&self, site_id: i64) -> Result<()> {
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

    async fn check_node_exists(&self, node: Option<i64>, field: &str) -> Result<()> {
        let Some(node) = node else { return Ok(()) };
        let found: Option<i64> = read_db!(self, |db| sqlx::query_scalar(
            "SELECT id FROM network_nodes WHERE id = $1 AND retired_at IS NULL"
        )
        .bind(node)
        .fetch_optional(db)
        .await?);
        match found {
            Some(_) => Ok(()),
            None => Err(DomainError::invalid(
                field,
                "指定された機器が見つからないか、廃止されています。",
            )
            .into()),
        }
    }

    async fn check_node_refs(&self, id: Option<i64>, draft: &NodeDraft) -> Result<()> {
        if let Some(site) = draft.site_id {
            self.check_site_active(site).await?;
        }
        self.check_node_exists(draft.upstream_id, "upstream_id")
            .await?;
        if let (Some(id), Some(up)) = (id, draft.upstream_id) {
            let all = self.all_nodes().await?;
            let ups: HashMap<i64, Option<i64>> =
                all.iter().map(|n| (n.id, n.upstream_id)).collect();
            // Would the new upstream lead back to this node?
            upstream_path(id, |n| {
                if n == id {
                    Some(up)
                } else {
                    ups.get(&n).copied().flatten()
                }
            })?;
        }
        Ok(())
    }

    // ---------------------------------------------------------------- import

    /// Imports terminals: rows whose hostname exists are updated, others created. All or nothing: any bad
    /// row (validation, unknown site code, duplicate hostname in the file) refuses the whole file.
    pub async fn import_terminals(
        &self,
        actor: &Actor,
        rows: &[ImportRow<TerminalImport>],
    ) -> Result<ImportResult> {
        actor.require(Action::ImportRegistry)?;
        let sites: HashMap<String, (i64, bool)> = read_db!(self, |db| sqlx::query_as::<
            _,
            (String, i64, Option<String>),
        >(
            "SELECT code, id, retired_at FROM sites"
        )
        .fetch_all(db)
        .await?)
        .into_iter()
        .map(|(code, id, retired)| (code, (id, retired.is_none())))
        .collect();
        let mut errors = Vec::new();
        let mut drafts = Vec::with_capacity(rows.len());
        let mut seen: HashMap<String, usize> = HashMap::new();
        for row in rows {
            let mut input = row.data.input.clone();
            match sites.get(row.data.site_code.trim()) {
                Some((id, true)) => input.site_id = Some(*id),
                Some((_, false)) => errors.push(RowError {
                    line: row.line,
                    column: "site_code".into(),
                    message: format!(
                        "拠点コード「{}」は廃止済みです。",
                        row.data.site_code.trim()
                    ),
                }),
                None => errors.push(RowError {
                    line: row.line,
                    column: "site_code".into(),
                    message: format!(
                        "拠点コード「{}」は登録されていません。",
                        row.data.site_code.trim()
                    ),
                }),
            }
            if input.site_id.is_none() {
                input.site_id = Some(0);
            }
            match input.validate() {
                Ok(d) => {
                    let key = d.hostname.to_lowercase();
                    if let Some(first) = seen.insert(key, row.line) {
                        errors.push(RowError {
                            line: row.line,
                            column: "hostname".into(),
                            message: format!(
                                "ホスト名「{}」が{first}行目と重複しています。",
                                d.hostname
                            ),
                        });
                    }
                    drafts.push((row.line, d));
                }
                Err(e) => errors.extend(row_errors(row.line, e)),
            }
        }
        if !errors.is_empty() {
            return Ok(Err(errors));
        }
        let existing: HashMap<String, Terminal> = {
            let sql = format!("{TERMINAL_SELECT} WHERE t.retired_at IS NULL");
            let all: Vec<Terminal> = read_db!(self, |db| sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .fetch_all(db)
                .await?);
            all.into_iter()
                .map(|t| (t.hostname.to_lowercase(), t))
                .collect()
        };
        let at = now();
        let mut summary = ImportSummary::default();
        write_tx!(self, |tx| {
            let mut new = Vec::new();
            for (_, d) in &drafts {
                match existing.get(&d.hostname.to_lowercase()) {
                    Some(old) => {
                        let before = to_json(&terminal_draft_of(old));
                        let changes = diff(&before, &to_json(d));
                        if changes.as_object().is_some_and(|m| m.is_empty()) {
                            summary.unchanged += 1;
                            continue;
                        }
                        tx.update_terminal(old.id, d, &at).await?;
                        tx.append_audit(
                            &NewAuditEntry::new(
                                actor,
                                "terminal.import_update",
                                "terminal",
                                old.id,
                            )
                            .details(changes),
                        )
                        .await?;
                        summary.updated += 1;
                    }
                    None => new.push(d),
                }
            }
            // New terminals go in with multi-row inserts, their audit entries likewise: a fleet-sized
            // file is a few hundred statements rather than a few hundred thousand round trips.
            let ids = tx.insert_terminals(&new, &at).await?;
            let entries: Vec<NewAuditEntry> = new
                .iter()
                .zip(&ids)
                .map(|(d, id)| {
                    NewAuditEntry::new(actor, "terminal.import_create", "terminal", id)
                        .details(to_json(d))
                })
                .collect();
            tx.append_audit_batch(&entries).await?;
            summary.created += ids.len();
            tx.append_audit(
                &NewAuditEntry::new(actor, "import.terminals", "", "").details(to_json(&summary)),
            )
            .await?;
        });
        Ok(Ok(summary))
    }

    /// Imports sites by code (create or update). All or nothing.
    pub async fn import_sites(
        &self,
        actor: &Actor,
        rows: &[ImportRow<SiteImport>],
    ) -> Result<ImportResult> {
        actor.require(Action::ImportRegistry)?;
        let nodes: HashMap<String, i64> = self
            .all_nodes()
            .await?
            .into_iter()
            .map(|n| (n.name, n.id))
            .collect();
        let mut errors = Vec::new();
        let mut drafts = Vec::new();
        let mut seen: HashMap<String, usize> = HashMap::new();
        for row in rows {
            let mut input = row.data.input.clone();
            let up = row.data.uplink_node.trim();
            if !up.is_empty() {
                match nodes.get(up) {
                    Some(id) => input.uplink_node_id = Some(*id),
                    None => errors.push(RowError {
                        line: row.line,
                        column: "uplink_node".into(),
                        message: format!("接続機器「{up}」は登録されていません。"),
                    }),
                }
            }
            match input.validate() {
                Ok(d) => {
                    if let Some(first) = seen.insert(d.code.clone(), row.line) {
                        errors.push(RowError {
                            line: row.line,
                            column: "code".into(),
                            message: format!(
                                "拠点コード「{}」が{first}行目と重複しています。",
                                d.code
                            ),
                        });
                    }
                    drafts.push(d);
                }
                Err(e) => errors.extend(row_errors(row.line, e)),
            }
        }
        if !errors.is_empty() {
            return Ok(Err(errors));
        }
        let existing: HashMap<String, Site> = {
            let sql = format!("{SITE_SELECT} WHERE s.retired_at IS NULL");
            let all: Vec<Site> = read_db!(self, |db| sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .fetch_all(db)
                .await?);
            all.into_iter().map(|s| (s.code.clone(), s)).collect()
        };
        let at = now();
        let mut summary = ImportSummary::default();
        write_tx!(self, |tx| {
            for d in &drafts {
                match existing.get(&d.code) {
                    Some(old) => {
                        let changes = diff(&to_json(&site_draft_of(old)), &to_json(d));
                        if changes.as_object().is_some_and(|m| m.is_empty()) {
                            summary.unchanged += 1;
                            continue;
                        }
                        sqlx::query("UPDATE sites SET name=$1, kind=$2, address=$3, phone=$4, uplink_node_id=$5, note=$6, updated_at=$7 WHERE id=$8")
                            .bind(d.name.as_str()).bind(d.kind.code()).bind(d.address.as_str()).bind(d.phone.as_str()).bind(d.uplink_node_id).bind(d.note.as_str()).bind(&at).bind(old.id)
                            .execute(&mut *tx).await?;
                        tx.append_audit(
                            &NewAuditEntry::new(actor, "site.import_update", "site", old.id)
                                .details(changes),
                        )
                        .await?;
                        summary.updated += 1;
                    }
                    None => {
                        let id = tx.insert_site(d, &at).await?;
                        tx.append_audit(
                            &NewAuditEntry::new(actor, "site.import_create", "site", id)
                                .details(to_json(d)),
                        )
                        .await?;
                        summary.created += 1;
                    }
                }
            }
            tx.append_audit(
                &NewAuditEntry::new(actor, "import.sites", "", "").details(to_json(&summary)),
            )
            .await?;
        });
        Ok(Ok(summary))
    }

    /// Imports network nodes by name (create or update), resolving upstream names within the file too.
    /// All or nothing.
    pub async fn import_nodes(
        &self,
        actor: &Actor,
        rows: &[ImportRow<NodeImport>],
    ) -> Result<ImportResult> {
        actor.require(Action::ImportRegistry)?;
        let sites: HashMap<String, i64> = self
            .all_sites()
            .await?
            .into_iter()
            .map(|s| (s.code, s.id))
            .collect();
        let existing: HashMap<String, NetworkNode> = self
            .all_nodes()
            .await?
            .into_iter()
            .map(|n| (n.name.clone(), n))
            .collect();
        let mut errors = Vec::new();
        let mut drafts: Vec<(usize, NodeDraft, String)> = Vec::new();
        let mut seen: HashMap<String, usize> = HashMap::new();
        let in_file: Vec<String> = rows
            .iter()
            .map(|r| r.data.input.name.trim().to_string())
            .collect();
        for row in rows {
            let mut input = row.data.input.clone();
            let code = row.data.site_code.trim();
            if !code.is_empty() {
                match sites.get(code) {
                    Some(id) => input.site_id = Some(*id),
                    None => errors.push(RowError {
                        line: row.line,
                        column: "site_code".into(),
                        message: format!("拠点コード「{code}」は登録されていません。"),
                    }),
                }
            }
            let up = row.data.upstream.trim().to_string();
            if !up.is_empty() && !existing.contains_key(&up) && !in_file.contains(&up) {
                errors.push(RowError {
                    line: row.line,
                    column: "upstream".into(),
                    message: format!("上位機器「{up}」は登録されていません。"),
                });
            }
            match input.validate(None) {
                Ok(d) => {
                    if let Some(first) = seen.insert(d.name.to_string(), row.line) {
                        errors.push(RowError {
                            line: row.line,
                            column: "name".into(),
                            message: format!("機器名「{}」が{first}行目と重複しています。", d.name),
                        });
                    }
                    drafts.push((row.line, d, up));
                }
                Err(e) => errors.extend(row_errors(row.line, e)),
            }
        }
        if !errors.is_empty() {
            return Ok(Err(errors));
        }
        let at = now();
        let mut summary = ImportSummary::default();
        write_tx!(self, |tx| {
            // First pass: create or update every node without its upstream; second pass: link upstreams,
            // so a file may list nodes in any order.
            let mut ids: HashMap<String, i64> =
                existing.iter().map(|(k, v)| (k.clone(), v.id)).collect();
            let mut ups: HashMap<i64, Option<i64>> =
                existing.values().map(|n| (n.id, n.upstream_id)).collect();
            for (_, d, _) in &drafts {
                let mut d = d.clone();
                match existing.get(d.name.as_str()) {
                    Some(old) => {
                        d.upstream_id = old.upstream_id;
                        let changes = diff(&to_json(&node_draft_of(old)), &to_json(&d));
                        if !changes.as_object().is_some_and(|m| m.is_empty()) {
                            sqlx::query("UPDATE network_nodes SET kind=$1, site_id=$2, ip_address=$3, note=$4, updated_at=$5 WHERE id=$6")
                                .bind(d.kind.code()).bind(d.site_id).bind(&d.ip_address).bind(d.note.as_str()).bind(&at).bind(old.id)
                                .execute(&mut *tx).await?;
                            tx.append_audit(
                                &NewAuditEntry::new(actor, "node.import_update", "node", old.id)
                                    .details(changes),
                            )
                            .await?;
                            summary.updated += 1;
                        } else {
                            summary.unchanged += 1;
                        }
                    }
                    None => {
                        d.upstream_id = None;
                        let id = tx.insert_node(&d, &at).await?;
                        tx.append_audit(
                            &NewAuditEntry::new(actor, "node.import_create", "node", id)
                                .details(to_json(&d)),
                        )
                        .await?;
                        ids.insert(d.name.to_string(), id);
                        ups.insert(id, None);
                        summary.created += 1;
                    }
                }
            }
            let mut cycle = Vec::new();
            for (line, d, up) in &drafts {
                let id = ids[d.name.as_str()];
                let new_up = if up.is_empty() {
                    None
                } else {
                    ids.get(up).copied()
                };
                if ups.get(&id).copied().flatten() != new_up {
                    ups.insert(id, new_up);
                    sqlx::query(
                        "UPDATE network_nodes SET upstream_id=$1, updated_at=$2 WHERE id=$3",
                    )
                    .bind(new_up)
                    .bind(&at)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                    tx.append_audit(
                        &NewAuditEntry::new(actor, "node.import_update", "node", id)
                            .details(json!({"upstream_id": [Value::Null, new_up]})),
                    )
                    .await?;
                }
                if upstream_path(id, |n| ups.get(&n).copied().flatten()).is_err() {
                    cycle.push(RowError {
                        line: *line,
                        column: "upstream".into(),
                        message: "上位機器の指定が循環しています。".into(),
                    });
                }
            }
            if !cycle.is_empty() {
                // Leaving before the commit drops the transaction, which rolls every row back.
                return Ok(Err(cycle));
            }
            tx.append_audit(
                &NewAuditEntry::new(actor, "import.nodes", "", "").details(to_json(&summary)),
            )
            .await?;
        });
        Ok(Ok(summary))
    }
}

/// Registry writes shared by single edits and imports, for both backends' transactions.
pub(crate) trait RegistryConn {
    async fn insert_site(&mut self, d: &SiteDraft, at: &str) -> Result<i64>;
    async fn insert_terminal(&mut self, d: &TerminalDraft, at: &str) -> Result<i64>;
    /// Inserts many terminals with multi-row statements; their ids, in the order given.
    async fn insert_terminals(&mut self, drafts: &[&TerminalDraft], at: &str) -> Result<Vec<i64>>;
    async fn update_terminal(&mut self, id: i64, d: &TerminalDraft, at: &str) -> Result<()>;
    async fn insert_node(&mut self, d: &NodeDraft, at: &str) -> Result<i64>;
}

/// Terminals per multi-row insert. PostgreSQL: many per statement saves round trips (11 parameters
/// each stays under its 65,535 limit). SQLite has no round trips, and binding to one statement costs
/// time quadratic in its parameter count there, so a few rows per statement is fastest.
const TERMINAL_BATCH_ROWS_PG: usize = 1000;
const TERMINAL_BATCH_ROWS_SQLITE: usize = 16;

/// `INSERT INTO terminals ... VALUES (...), (...) RETURNING id, hostname_key` for `rows` terminals.
fn terminal_batch_sql(rows: usize) -> String {
    let mut sql = String::from(
        "INSERT INTO terminals (site_id, hostname, hostname_key, kind, ip_address, os_name, os_version, serial_number, asset_number, note, created_at, updated_at) VALUES ",
    );
    for r in 0..rows {
        let b = r * 11;
        if r > 0 {
            sql.push_str(", ");
        }
        let p: Vec<String> = (1..=11).map(|c| format!("${}", b + c)).collect();
        sql.push_str(&format!("({}, ${})", p.join(", "), b + 11));
    }
    sql.push_str(" RETURNING id, hostname_key");
    sql
}

macro_rules! registry_conn {
    ($conn:ty, $batch_rows:expr) => {
        impl RegistryConn for $conn {
            async fn insert_site(&mut self, d: &SiteDraft, at: &str) -> Result<i64> {
                sqlx::query_scalar(
                    "INSERT INTO sites (code, name, kind, address, phone, uplink_node_id, note, created_at, updated_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING id",
                )
                .bind(&d.code).bind(d.name.as_str()).bind(d.kind.code()).bind(d.address.as_str()).bind(d.phone.as_str()).bind(d.uplink_node_id).bind(d.note.as_str()).bind(at)
                .fetch_one(&mut *self)
                .await
                .map_err(|e| conflict_on_unique(e, || format!("拠点コード「{}」は既に登録されています。", d.code)))
            }
            async fn insert_terminal(&mut self, d: &TerminalDraft, at: &str) -> Result<i64> {
                sqlx::query_scalar(
                    "INSERT INTO terminals (site_id, hostname, hostname_key, kind, ip_address, os_name, os_version, serial_number, asset_number, note, created_at, updated_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) RETURNING id",
                )
                .bind(d.site_id).bind(&d.hostname).bind(d.hostname.to_lowercase()).bind(d.kind.code()).bind(&d.ip_address)
                .bind(d.os_name.as_str()).bind(d.os_version.as_str()).bind(d.serial_number.as_str()).bind(d.asset_number.as_str()).bind(d.note.as_str()).bind(at)
                .fetch_one(&mut *self)
                .await
                .map_err(|e| conflict_on_unique(e, || format!("ホスト名「{}」は既に登録されています。", d.hostname)))
            }
            async fn insert_terminals(&mut self, drafts: &[&TerminalDraft], at: &str) -> Result<Vec<i64>> {
                let mut ids = Vec::with_capacity(drafts.len());
                for chunk in drafts.chunks($batch_rows) {
                    let sql = terminal_batch_sql(chunk.len());
                    let mut q = sqlx::query_as::<_, (i64, String)>(sqlx::AssertSqlSafe(sql));
                    for d in chunk {
                        q = q.bind(d.site_id).bind(&d.hostname).bind(d.hostname.to_lowercase()).bind(d.kind.code())
                            .bind(&d.ip_address).bind(d.os_name.as_str()).bind(d.os_version.as_str()).bind(d.serial_number.as_str())
                            .bind(d.asset_number.as_str()).bind(d.note.as_str()).bind(at);
                    }
                    // RETURNING gives no order guarantee: match the ids back by host name.
                    let mut by_key: HashMap<String, i64> = q
                        .fetch_all(&mut *self)
                        .await
                        .map_err(|e| conflict_on_unique(e, || "ホスト名が既に登録されている端末があります。".to_string()))?
                        .into_iter()
                        .map(|(id, key)| (key, id))
                        .collect();
                    for d in chunk {
                        let id = by_key.remove(&d.hostname.to_lowercase()).ok_or_else(|| {
                            StoreError::Internal(format!("no id returned for terminal {}", d.hostname))
                        })?;
                        ids.push(id);
                    }
                }
                Ok(ids)
            }
            async fn update_terminal(&mut self, id: i64, d: &TerminalDraft, at: &str) -> Result<()> {
                sqlx::query(
                    "UPDATE terminals SET site_id=$1, hostname=$2, hostname_key=$3, kind=$4, ip_address=$5, os_name=$6, os_version=$7,
                     serial_number=$8, asset_number=$9, note=$10, updated_at=$11 WHERE id=$12",
                )
                .bind(d.site_id).bind(&d.hostname).bind(d.hostname.to_lowercase()).bind(d.kind.code()).bind(&d.ip_address)
                .bind(d.os_name.as_str()).bind(d.os_version.as_str()).bind(d.serial_number.as_str()).bind(d.asset_number.as_str()).bind(d.note.as_str()).bind(at).bind(id)
                .execute(&mut *self)
                .await
                .map_err(|e| conflict_on_unique(e, || format!("ホスト名「{}」は既に登録されています。", d.hostname)))?;
                Ok(())
            }
            async fn insert_node(&mut self, d: &NodeDraft, at: &str) -> Result<i64> {
                sqlx::query_scalar(
                    "INSERT INTO network_nodes (name, kind, site_id, ip_address, upstream_id, note, created_at, updated_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id",
                )
                .bind(d.name.as_str()).bind(d.kind.code()).bind(d.site_id).bind(&d.ip_address).bind(d.upstream_id).bind(d.note.as_str()).bind(at)
                .fetch_one(&mut *self)
                .await
                .map_err(|e| conflict_on_unique(e, || format!("機器名「{}」は既に登録されています。", d.name)))
            }
        }
    };
}
registry_conn!(sqlx::SqliteConnection, TERMINAL_BATCH_ROWS_SQLITE);
registry_conn!(sqlx::PgConnection, TERMINAL_BATCH_ROWS_PG);

fn site_draft_of(s: &Site) -> Value {
    json!({
        "code": s.code, "name": s.name, "kind": s.kind, "address": s.address, "phone": s.phone,
        "uplink_node_id": s.uplink_node_id, "note": s.note,
    })
}

fn terminal_draft_of(t: &Terminal) -> Value {
    json!({
        "site_id": t.site_id, "hostname": t.hostname, "kind": t.kind, "ip_address": t.ip_address,
        "os_name": t.os_name, "os_version": t.os_version, "serial_number": t.serial_number,
        "asset_number": t.asset_number, "note": t.note,
    })
}

fn node_draft_of(n: &NetworkNode) -> Value {
    json!({
        "name": n.name, "kind": n.kind, "site_id": n.site_id, "ip_address": n.ip_address,
        "upstream_id": n.upstream_id, "note": n.note,
    })
}

//! Incidents (障害対応, R7) and the known-error library (既知の障害): reporting, automatic incidents from the
//! connectivity checks (one open incident per probable cause), the stage machine of
//! [`unyo_domain::incident`] with its timeline, the witness record that unlocks 完了, reopening, figures
//! (counts, MTTA, MTTR per month, fiscal year and site), and known errors created by hand or from a closed
//! incident.
//!
//! Every write checks the actor's permission, runs the domain rules against the stored state inside the
//! write transaction and appends its audit entry in the same transaction. Stage changes are optimistic
//! (`UPDATE … WHERE stage = $old`): if another change won the race, `Conflict(STALE_MESSAGE)` and nothing
//! changes. Numbering (`INC-R8-0001` per fiscal year of 認知, `KE-0001`) and the probable-cause
//! de-duplication are serialised by SQLite's single `BEGIN IMMEDIATE` writer, and on PostgreSQL by a
//! transaction advisory lock; a unique partial index (`incidents_open_cause`) backs the de-duplication up.
//!
//! Times are stored in UTC (`unyo_domain::time::to_storage`); typed times are JST wall-clock times.

use crate::audit::{AuditSink, NewAuditEntry};
use crate::kit::{conflict, given, invalid, jst_midnight, not_found, paging, placeholders};
use crate::numbering::{NumberingConn, Serial, Series};
use crate::support::{SiteRef, TerminalRef, WorkRow};
use crate::{Actor, Filter, Page, Param, Result, Store, StoreError, contains_pattern};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::{BTreeSet, HashMap};
use unyo_domain::incident::{
    AutoIncidentInput, DetectionSource, EntryInput, EntryKind, Figures, IncidentAction,
    IncidentDraft, IncidentFacts, IncidentInput, IncidentStage, IncidentTimes,
    IncidentTransitionInput, KnownErrorInput, MonthFigures, Severity, WitnessDraft, WitnessInput,
    check_entry_stage, check_entry_time, check_incident_transition, figures_by_month,
    figures_by_site, figures_for_fiscal_year, jst_fiscal_year, next_stage,
};
use unyo_domain::support::parse_date;
use unyo_domain::time::{from_storage, to_jst, to_storage};
use unyo_domain::wareki::FiscalYear;
use unyo_domain::{Action, DomainError, FieldError};

/// Advisory-lock key serialising incident numbering and the probable-cause check on PostgreSQL.
const LOCK_INCIDENT: i64 = 7_164_201;
/// Advisory-lock key serialising known-error numbering on PostgreSQL.
const LOCK_KNOWN_ERROR: i64 = 7_164_202;

/// Refusal of a known error from an incident that is not closed.
pub const KNOWN_ERROR_NEEDS_CLOSED_MESSAGE: &str = "既知の障害は完了した障害からのみ作成できます。";

// ------------------------------------------------------------------------------------------------ rows

/// An incident as listed.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct IncidentRow {
    pub id: i64,
    /// `INC-R8-0001`: the fiscal year of 認知 (era letter and year), then the sequence within it.
    pub number: String,
    /// The fiscal year of the number (starting calendar year: 2026 = 令和8年度).
    pub fiscal_year: i64,
    pub title: String,
    /// [`Severity`] code.
    pub severity: String,
    /// [`DetectionSource`] code.
    pub source: String,
    /// [`IncidentStage`] code.
    pub stage: String,
    pub description: String,
    /// The de-duplication key of automatic incidents (`node:12:unreachable`).
    pub probable_cause: Option<String>,
    /// The known error this incident is attributed to.
    pub known_error_id: Option<i64>,
    pub known_error_number: Option<String>,
    /// Resolved by applying that known error's workaround.
    pub resolved_by_known_error: bool,
    /// 発生 (UTC storage form, like every instant below).
    pub occurred_at: String,
    /// 認知.
    pub noticed_at: String,
    /// 初動.
    pub first_response_at: Option<String>,
    /// 回避.
    pub workaround_at: Option<String>,
    /// 復旧 (cleared when the recovery is undone or the incident reopened).
    pub recovered_at: Option<String>,
    /// 完了.
    pub closed_at: Option<String>,
    /// The witness entry of the current recovery; `Some` means 完了 is possible.
    pub witness_entry_id: Option<i64>,
    pub reopen_count: i64,
    pub created_by_id: Option<i64>,
    /// Login name of the reporter (`system` for automatic incidents).
    pub created_by: String,
    /// Display name of the reporter (the login name when unknown).
    pub created_by_name: String,
    pub created_at: String,
    pub updated_at: String,
    /// Affected site names joined with `、`.
    #[sqlx(skip)]
    pub sites: String,
    /// Minutes since 認知 (open) or from 認知 to 完了 (closed).
    #[sqlx(skip)]
    pub age_minutes: i64,
    /// 認知→初動 of this incident.
    #[sqlx(skip)]
    pub mtta_minutes: Option<i64>,
    /// 発生→復旧 of this incident.
    #[sqlx(skip)]
    pub mttr_minutes: Option<i64>,
}

impl IncidentRow {
    /// The stage as a domain value.
    pub fn stage(&self) -> Option<IncidentStage> {
        IncidentStage::parse(&self.stage)
    }

    /// The severity as a domain value.
    pub fn severity(&self) -> Option<Severity> {
        Severity::parse(&self.severity)
    }

    /// The detection source as a domain value.
    pub fn source(&self) -> Option<DetectionSource> {
        DetectionSource::parse(&self.source)
    }

    /// Whether a witness is recorded for the current recovery.
    pub fn witnessed(&self) -> bool {
        self.witness_entry_id.is_some()
    }

    /// The stored times as domain values (`None` only if a stored value is corrupt).
    pub fn times(&self) -> Option<IncidentTimes> {
        let opt = |s: &Option<String>| match s {
            None => Some(None),
            Some(s) => from_storage(s).map(Some),
        };
        Some(IncidentTimes {
            occurred_at: from_storage(&self.occurred_at)?,
            noticed_at: from_storage(&self.noticed_at)?,
            first_response_at: opt(&self.first_response_at)?,
            workaround_at: opt(&self.workaround_at)?,
            recovered_at: opt(&self.recovered_at)?,
            closed_at: opt(&self.closed_at)?,
        })
    }
}

/// One entry of an incident's timeline.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct IncidentEntry {
    pub id: i64,
    pub incident_id: i64,
    /// [`EntryKind`] code.
    pub kind: String,
    /// The stage when it was written (for transitions: the new stage).
    pub stage: String,
    /// The [`IncidentAction`] code, for transitions.
    pub action: Option<String>,
    pub from_stage: Option<String>,
    pub to_stage: Option<String>,
    pub author_id: Option<i64>,
    /// Login name.
    pub author: String,
    /// Display name (login name when unknown).
    pub author_name: String,
    /// When it happened (UTC storage form).
    pub at: String,
    /// When it was written.
    pub recorded_at: String,
    pub text: String,
    /// 指導先 (回避策・指導).
    pub guidance_to: String,
    /// 指導内容 (回避策・指導).
    pub guidance: String,
    /// 立会者の氏名 (立会い entries).
    pub witness_name: Option<String>,
    /// 立会者の所属.
    pub witness_org: Option<String>,
    /// 立会日時 (UTC storage form).
    pub witnessed_at: Option<String>,
    /// 所見.
    pub remark: Option<String>,
    /// Linked work entries.
    #[sqlx(skip)]
    pub work_ids: Vec<i64>,
}

impl IncidentEntry {
    /// The kind as a domain value.
    pub fn kind(&self) -> Option<EntryKind> {
        EntryKind::parse(&self.kind)
    }
}

/// A network node named by an incident.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct NodeRef {
    pub id: i64,
    pub name: String,
    pub kind: String,
}

/// An incident linked from a known error.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct IncidentLink {
    pub id: i64,
    pub number: String,
    pub title: String,
    pub stage: String,
}

/// A known error linked from an incident.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct KnownErrorLink {
    pub id: i64,
    pub number: String,
    pub title: String,
}

/// A known error (既知の障害).
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct KnownError {
    pub id: i64,
    /// `KE-0001`.
    pub number: String,
    pub title: String,
    pub symptoms: String,
    pub cause: String,
    pub workaround: String,
    pub created_from_incident_id: Option<i64>,
    pub created_from_number: Option<String>,
    pub created_by_id: Option<i64>,
    pub created_by: String,
    pub created_by_name: String,
    pub created_at: String,
    pub updated_at: String,
    /// The incidents it explains, oldest first.
    #[sqlx(skip)]
    pub incidents: Vec<IncidentLink>,
}

/// An incident with everything its page and its report (障害報告書) show.
#[derive(Debug, Clone, Serialize)]
pub struct IncidentDetail {
    pub incident: IncidentRow,
    pub sites: Vec<SiteRef>,
    pub terminals: Vec<TerminalRef>,
    pub nodes: Vec<NodeRef>,
    /// The timeline, oldest first (by the time it happened, then as written).
    pub entries: Vec<IncidentEntry>,
    /// Linked work entries (each once), in date order.
    pub work: Vec<WorkRow>,
    /// Their minutes, summed.
    pub work_minutes: i64,
    /// The known error the incident is attributed to.
    pub known_error: Option<KnownError>,
    /// Every known error linked to it.
    pub known_errors: Vec<KnownErrorLink>,
    /// The witness entry of the current recovery.
    pub witness: Option<IncidentEntry>,
}

/// An incident with what a report says of it ([`Store::incident_accounts`]).
#[derive(Debug, Clone, Serialize)]
pub struct IncidentAccount {
    pub incident: IncidentRow,
    /// Its affected sites.
    pub site_ids: Vec<i64>,
    /// Its 原因, 回避策・指導, 復旧作業, 再発防止策 and 立会い entries, oldest first.
    pub entries: Vec<IncidentEntry>,
}

impl IncidentAccount {
    /// The texts of its entries of `kind`, oldest first (empty texts left out).
    pub fn texts(&self, kind: EntryKind) -> Vec<&IncidentEntry> {
        self.entries
            .iter()
            .filter(|e| e.kind() == Some(kind))
            .collect()
    }
}

/// What [`Store::open_automatic_incident`] did.
#[derive(Debug, Clone, Serialize)]
pub struct AutoIncidentOutcome {
    /// The new incident, or the open one with the same probable cause.
    pub incident: IncidentRow,
    /// Whether a new incident was opened (`false`: a comment was added to the open one).
    pub created: bool,
}

/// Figures of one site, for the year and each month.
#[derive(Debug, Clone, Serialize)]
pub struct SiteStats {
    /// `None`: incidents that name no site.
    pub site_id: Option<i64>,
    pub site_code: String,
    /// `拠点指定なし` for `None`.
    pub site_name: String,
    pub year: Figures,
    /// April to March.
    pub months: Vec<MonthFigures>,
}

/// The incident figures of a fiscal year (by 発生 in JST): the monthly record and the council pack.
#[derive(Debug, Clone, Serialize)]
pub struct IncidentStats {
    pub fiscal_year: i32,
    /// `令和8年度`.
    pub label: String,
    pub year: Figures,
    /// April to March, all twelve.
    pub months: Vec<MonthFigures>,
    /// Sites with incidents, by site code; incidents naming no site last.
    pub sites: Vec<SiteStats>,
    /// (severity code, count), every severity in display order.
    pub severities: Vec<(String, i64)>,
}

// ------------------------------------------------------------------------------------------------ queries

/// Filter for the incident list. Dates accept ISO or 和暦 and apply to 発生 (JST days, inclusive).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct IncidentQuery {
    /// Stage code.
    pub stage: Option<String>,
    /// Only incidents not yet closed.
    pub open_only: Option<bool>,
    /// Severity code.
    pub severity: Option<String>,
    /// Incidents affecting this site.
    pub site_id: Option<i64>,
    pub from: Option<String>,
    pub to: Option<String>,
    /// Free text in number, title, description and probable cause.
    pub q: Option<String>,
    pub page: Option<i64>,
    /// 1..=500, default 50.
    pub per_page: Option<i64>,
}

/// Filter for the known-error library.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct KnownErrorQuery {
    /// Free text in number, title, symptoms, cause and workaround.
    pub q: Option<String>,
    pub page: Option<i64>,
    /// 1..=500, default 50.
    pub per_page: Option<i64>,
}

fn like_any(f: &mut Filter, q: &str, columns: &[&str]) {
    let p = f.bind(Param::Text(contains_pattern(q)));
    let ors: Vec<String> = columns
        .iter()
        .map(|c| format!("LOWER({c}) LIKE {p} ESCAPE '\\'"))
        .collect();
    f.push(format!("({})", ors.join(" OR ")));
}

impl IncidentQuery {
    fn filter(&self, with_stage: bool) -> Filter {
        let mut f = Filter::default();
        if with_stage && let Some(s) = given(&self.stage) {
            let p = f.bind(Param::Text(s));
            f.push(format!("i.stage = {p}"));
        }
        if with_stage && self.open_only == Some(true) {
            f.push("i.stage <> 'closed'".into());
        }
        if let Some(s) = given(&self.severity) {
            let p = f.bind(Param::Text(s));
            f.push(format!("i.severity = {p}"));
        }
        if let Some(site) = self.site_id {
            let p = f.bind(Param::Int(site));
            f.push(format!(
                "EXISTS (SELECT 1 FROM incident_sites x WHERE x.incident_id = i.id AND x.site_id = {p})"
            ));
        }
        if let Some(d) = given(&self.from).as_deref().and_then(parse_date) {
            let p = f.bind(Param::Text(to_storage(jst_midnight(d))));
            f.push(format!("i.occurred_at >= {p}"));
        }
        if let Some(d) = given(&self.to)
            .as_deref()
            .and_then(parse_date)
            .and_then(|d| d.succ_opt())
        {
            let p = f.bind(Param::Text(to_storage(jst_midnight(d))));
            f.push(format!("i.occurred_at < {p}"));
        }
        if let Some(q) = given(&self.q) {
            like_any(
                &mut f,
                &q,
                &[
                    "i.number",
                    "i.title",
                    "i.description",
                    "COALESCE(i.probable_cause, '')",
                ],
            );
        }
        f
    }
}

// ------------------------------------------------------------------------------------------------ helpers

/// The number of the `seq`-th incident of fiscal year `fy`: `INC-R8-0001`.
pub fn incident_number(fy: FiscalYear, seq: i64) -> String {
    Series::Incidents.number(fy, seq)
}

/// The number of the `seq`-th known error: `KE-0001`.
pub fn known_error_number(seq: i64) -> String {
    format!("KE-{seq:04}")
}

fn corrupt(what: &str, id: i64) -> StoreError {
    StoreError::Internal(format!("{what} {id}: stored value not readable"))
}

/// Refuses unless the actor's role allows one of `actions`.
fn require_any(actor: &Actor, actions: &[Action]) -> Result<()> {
    if actions.iter().any(|a| actor.require(*a).is_ok()) {
        Ok(())
    } else {
        Err(DomainError::Forbidden.into())
    }
}

fn jst_label(at: DateTime<Utc>) -> String {
    unyo_domain::wareki::format_datetime_long(to_jst(at))
}

/// Errors of a time check moved onto the form's one time field.
fn onto_field(e: DomainError, field: &str) -> StoreError {
    match e {
        DomainError::Validation(errors) => DomainError::Validation(
            errors
                .into_iter()
                .map(|x| FieldError::new(field, x.message))
                .collect(),
        )
        .into(),
        other => other.into(),
    }
}

fn open_cause_message(key: &str, number: &str) -> String {
    if number.is_empty() {
        format!("推定原因「{key}」の障害は既に対応中です。")
    } else {
        format!("推定原因「{key}」の障害は既に対応中です（{number}）。")
    }
}

fn draft_json(number: &str, d: &IncidentDraft) -> Value {
    json!({
        "number": number, "title": d.title, "severity": d.severity.code(), "source": d.source.code(),
        "occurred_at": to_storage(d.occurred_at), "noticed_at": to_storage(d.noticed_at),
        "site_ids": d.site_ids, "terminal_ids": d.terminal_ids, "node_ids": d.node_ids,
        "description": d.description, "probable_cause": d.probable_cause,
        "known_error_id": d.known_error_id,
    })
}

/// Text of entries of `kinds`, oldest first, joined by blank lines, at most `max` characters.
fn joined(entries: &[IncidentEntry], kinds: &[EntryKind], max: usize) -> String {
    let parts: Vec<&str> = entries
        .iter()
        .filter(|e| e.kind().is_some_and(|k| kinds.contains(&k)))
        .map(|e| e.text.trim())
        .filter(|t| !t.is_empty())
        .collect();
    let s = parts.join("\n\n");
    if s.chars().count() > max {
        s.chars().take(max).collect()
    } else {
        s
    }
}

/// A timeline row about to be written.
struct NewEntry<'a> {
    incident_id: i64,
    kind: EntryKind,
    stage: IncidentStage,
    action: Option<IncidentAction>,
    from: Option<IncidentStage>,
    actor: &'a Actor,
    at: DateTime<Utc>,
    recorded_at: &'a str,
    text: &'a str,
    guidance_to: &'a str,
    guidance: &'a str,
    witness: Option<&'a WitnessDraft>,
}

impl<'a> NewEntry<'a> {
    fn new(
        incident_id: i64,
        kind: EntryKind,
        stage: IncidentStage,
        actor: &'a Actor,
        at: DateTime<Utc>,
        recorded_at: &'a str,
        text: &'a str,
    ) -> Self {
        NewEntry {
            incident_id,
            kind,
            stage,
            action: None,
            from: None,
            actor,
            at,
            recorded_at,
            text,
            guidance_to: "",
            guidance: "",
            witness: None,
        }
    }
}

/// The stored state a rule is checked against.
#[derive(sqlx::FromRow)]
struct StateRow {
    number: String,
    stage: String,
    occurred_at: String,
    noticed_at: String,
    first_response_at: Option<String>,
    workaround_at: Option<String>,
    recovered_at: Option<String>,
    closed_at: Option<String>,
    witness_entry_id: Option<i64>,
    probable_cause: Option<String>,
}

struct State {
    number: String,
    stage: IncidentStage,
    times: IncidentTimes,
    witness_entry_id: Option<i64>,
    probable_cause: Option<String>,
}

impl StateRow {
    fn into_state(self, id: i64) -> Result<State> {
        let opt = |s: &Option<String>| -> Result<Option<DateTime<Utc>>> {
            match s {
                None => Ok(None),
                Some(s) => from_storage(s)
                    .map(Some)
                    .ok_or_else(|| corrupt("incident", id)),
            }
        };
        Ok(State {
            stage: IncidentStage::parse(&self.stage).ok_or_else(|| corrupt("incident", id))?,
            times: IncidentTimes {
                occurred_at: from_storage(&self.occurred_at)
                    .ok_or_else(|| corrupt("incident", id))?,
                noticed_at: from_storage(&self.noticed_at)
                    .ok_or_else(|| corrupt("incident", id))?,
                first_response_at: opt(&self.first_response_at)?,
                workaround_at: opt(&self.workaround_at)?,
                recovered_at: opt(&self.recovered_at)?,
                closed_at: opt(&self.closed_at)?,
            },
            number: self.number,
            witness_entry_id: self.witness_entry_id,
            probable_cause: self.probable_cause,
        })
    }
}

fn unique_to_conflict(e: impl Into<StoreError>, message: impl FnOnce() -> String) -> StoreError {
    let e = e.into();
    if e.is_unique_violation() {
        conflict(message())
    } else {
        e
    }
}

// ------------------------------------------------------------------------------------------------ in-transaction helpers

/// Reads and writes that must run inside the caller's transaction, for both backends.
trait IncidentConn {
    async fn state(&mut self, id: i64) -> Result<State>;
    async fn witnessed_at(&mut self, entry_id: Option<i64>) -> Result<Option<DateTime<Utc>>>;
    /// The open incident with this probable cause: (id, number, stage).
    async fn open_for_cause(&mut self, key: &str) -> Result<Option<(i64, String, String)>>;
    async fn check_targets(
        &mut self,
        sites: &[i64],
        terminals: &[i64],
        nodes: &[i64],
    ) -> Result<()>;
    async fn add_targets(
        &mut self,
        id: i64,
        sites: &[i64],
        terminals: &[i64],
        nodes: &[i64],
    ) -> Result<()>;
    async fn insert_entry(&mut self, e: &NewEntry<'_>) -> Result<i64>;
    /// Checks the work entries exist and links them to the entry.
    async fn link_work(&mut self, entry_id: i64, incident_id: i64, work_ids: &[i64]) -> Result<()>;
    /// (number, title) of a known error.
    async fn known_error_ref(&mut self, id: i64) -> Result<Option<(String, String)>>;
    async fn link_known_error(&mut self, known_error_id: i64, incident_id: i64) -> Result<()>;
    async fn touch(&mut self, id: i64, at: &str) -> Result<()>;
    /// Numbers and inserts a new incident with its targets, known-error link and 受付 entry.
    async fn insert_incident(
        &mut self,
        d: &IncidentDraft,
        actor: &Actor,
        recorded_at: &str,
    ) -> Result<(i64, String)>;
}

macro_rules! incident_conn {
    ($conn:ty) => {
        impl IncidentConn for $conn {
            async fn state(&mut self, id: i64) -> Result<State> {
                let row: Option<StateRow> = sqlx::query_as(
                    "SELECT number, stage, occurred_at, noticed_at, first_response_at, workaround_at,
                     recovered_at, closed_at, witness_entry_id, probable_cause FROM incidents WHERE id = $1",
                )
                .bind(id)
                .fetch_optional(&mut *self)
                .await?;
                row.ok_or_else(|| not_found(format!("障害 {id}")))?
                    .into_state(id)
            }

            async fn witnessed_at(&mut self, entry_id: Option<i64>) -> Result<Option<DateTime<Utc>>> {
                let Some(entry_id) = entry_id else { return Ok(None) };
                let at: Option<Option<String>> =
                    sqlx::query_scalar("SELECT witnessed_at FROM incident_entries WHERE id = $1")
                        .bind(entry_id)
                        .fetch_optional(&mut *self)
                        .await?;
                Ok(at.flatten().as_deref().and_then(from_storage))
            }

            async fn open_for_cause(&mut self, key: &str) -> Result<Option<(i64, String, String)>> {
                Ok(sqlx::query_as(
                    "SELECT id, number, stage FROM incidents WHERE probable_cause = $1 AND stage <> 'closed'
                     ORDER BY id LIMIT 1",
                )
                .bind(key)
                .fetch_optional(&mut *self)
                .await?)
            }

            async fn check_targets(
                &mut self,
                sites: &[i64],
                terminals: &[i64],
                nodes: &[i64],
            ) -> Result<()> {
                let mut errors = Vec::new();
                for (table, field, label, name_col, ids) in [
                    ("sites", "site_ids", "拠点", "name", sites),
                    ("terminals", "terminal_ids", "端末", "hostname", terminals),
                    ("network_nodes", "node_ids", "ネットワーク機器", "name", nodes),
                ] {
                    if ids.is_empty() {
                        continue;
                    }
                    let mut f = Filter::default();
                    let list = placeholders(&mut f, ids);
                    let sql =
                        format!("SELECT id, {name_col}, retired_at FROM {table} WHERE id IN ({list})");
                    let rows: Vec<(i64, String, Option<String>)> =
                        bind_params!(sqlx::query_as(sqlx::AssertSqlSafe(sql)), f.params)
                            .fetch_all(&mut *self)
                            .await?;
                    for id in ids {
                        match rows.iter().find(|r| r.0 == *id) {
                            None => errors.push(FieldError::new(
                                field,
                                format!("選択された{label}が見つかりません。"),
                            )),
                            Some((_, name, Some(_))) => errors.push(FieldError::new(
                                field,
                                format!("{label} {name} は廃止されています。"),
                            )),
                            Some(_) => {}
                        }
                    }
                }
                if errors.is_empty() {
                    Ok(())
                } else {
                    Err(DomainError::Validation(errors).into())
                }
            }

            async fn add_targets(
                &mut self,
                id: i64,
                sites: &[i64],
                terminals: &[i64],
                nodes: &[i64],
            ) -> Result<()> {
                for (sql, ids) in [
                    (
                        "INSERT INTO incident_sites (incident_id, site_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                        sites,
                    ),
                    (
                        "INSERT INTO incident_terminals (incident_id, terminal_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                        terminals,
                    ),
                    (
                        "INSERT INTO incident_nodes (incident_id, node_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                        nodes,
                    ),
                ] {
                    for target in ids {
                        sqlx::query(sql)
                            .bind(id)
                            .bind(*target)
                            .execute(&mut *self)
                            .await?;
                    }
                }
                Ok(())
            }

            async fn insert_entry(&mut self, e: &NewEntry<'_>) -> Result<i64> {
                let to = e.from.map(|_| e.stage.code());
                Ok(sqlx::query_scalar(
                    "INSERT INTO incident_entries (incident_id, kind, stage, action, from_stage, to_stage, author_id,
                     author, at, recorded_at, text, guidance_to, guidance, witness_name, witness_org, witnessed_at,
                     remark)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) RETURNING id",
                )
                .bind(e.incident_id)
                .bind(e.kind.code())
                .bind(e.stage.code())
                .bind(e.action.map(|a| a.code()))
                .bind(e.from.map(|s| s.code()))
                .bind(to)
                .bind(e.actor.user_id)
                .bind(&e.actor.username)
                .bind(to_storage(e.at))
                .bind(e.recorded_at)
                .bind(e.text)
                .bind(e.guidance_to)
                .bind(e.guidance)
                .bind(e.witness.map(|w| w.witness_name.as_str()))
                .bind(e.witness.map(|w| w.witness_org.as_str()))
                .bind(e.witness.map(|w| to_storage(w.witnessed_at)))
                .bind(e.witness.map(|w| w.remark.as_str()))
                .fetch_one(&mut *self)
                .await?)
            }

            async fn link_work(&mut self, entry_id: i64, incident_id: i64, work_ids: &[i64]) -> Result<()> {
                if work_ids.is_empty() {
                    return Ok(());
                }
                let mut f = Filter::default();
                let list = placeholders(&mut f, work_ids);
                let sql = format!("SELECT id FROM work_entries WHERE id IN ({list})");
                let found: Vec<i64> =
                    bind_params!(sqlx::query_scalar(sqlx::AssertSqlSafe(sql)), f.params)
                        .fetch_all(&mut *self)
                        .await?;
                if !work_ids.iter().all(|id| found.contains(id)) {
                    return Err(invalid("work_entry_ids", "選択された作業記録が見つかりません。"));
                }
                for w in work_ids {
                    sqlx::query(
                        "INSERT INTO incident_work (entry_id, incident_id, work_id) VALUES ($1, $2, $3)",
                    )
                    .bind(entry_id)
                    .bind(incident_id)
                    .bind(*w)
                    .execute(&mut *self)
                    .await?;
                }
                Ok(())
            }

            async fn known_error_ref(&mut self, id: i64) -> Result<Option<(String, String)>> {
                Ok(sqlx::query_as("SELECT number, title FROM known_errors WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&mut *self)
                    .await?)
            }

            async fn link_known_error(&mut self, known_error_id: i64, incident_id: i64) -> Result<()> {
                sqlx::query(
                    "INSERT INTO known_error_incidents (known_error_id, incident_id) VALUES ($1, $2)
                     ON CONFLICT DO NOTHING",
                )
                .bind(known_error_id)
                .bind(incident_id)
                .execute(&mut *self)
                .await?;
                Ok(())
            }

            async fn touch(&mut self, id: i64, at: &str) -> Result<()> {
                sqlx::query("UPDATE incidents SET updated_at = $1 WHERE id = $2")
                    .bind(at)
                    .bind(id)
                    .execute(&mut *self)
                    .await?;
                Ok(())
            }

            async fn insert_incident(
                &mut self,
                d: &IncidentDraft,
                actor: &Actor,
                recorded_at: &str,
            ) -> Result<(i64, String)> {
                self.check_targets(&d.site_ids, &d.terminal_ids, &d.node_ids).await?;
                let known_error = match d.known_error_id {
                    Some(k) => Some(self.known_error_ref(k).await?.ok_or_else(|| {
                        invalid("known_error_id", "選択された既知の障害が見つかりません。")
                    })?),
                    None => None,
                };
                if let Some(key) = &d.probable_cause
                    && let Some((_, number, _)) = self.open_for_cause(key).await?
                {
                    return Err(conflict(open_cause_message(key, &number)));
                }
                let fy = jst_fiscal_year(d.noticed_at);
                let seq = self.next_seq(Series::Incidents, fy).await?;
                let number = incident_number(fy, seq);
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO incidents (number, fiscal_year, seq, title, severity, source, stage, description,
                     probable_cause, known_error_id, occurred_at, noticed_at, created_by_id, created_by, created_at,
                     updated_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15) RETURNING id",
                )
                .bind(&number)
                .bind(i64::from(fy.0))
                .bind(seq)
                .bind(d.title.as_str())
                .bind(d.severity.code())
                .bind(d.source.code())
                .bind(IncidentStage::Reported.code())
                .bind(d.description.as_str())
                .bind(&d.probable_cause)
                .bind(d.known_error_id)
                .bind(to_storage(d.occurred_at))
                .bind(to_storage(d.noticed_at))
                .bind(actor.user_id)
                .bind(&actor.username)
                .bind(recorded_at)
                .fetch_one(&mut *self)
                .await
                .map_err(|e| {
                    unique_to_conflict(e, || {
                        open_cause_message(d.probable_cause.as_deref().unwrap_or(""), "")
                    })
                })?;
                self.add_targets(id, &d.site_ids, &d.terminal_ids, &d.node_ids).await?;
                if let (Some(k), Some((ke_number, ke_title))) = (d.known_error_id, &known_error) {
                    self.link_known_error(k, id).await?;
                    let text = format!("既知の障害 {ke_number}「{ke_title}」に該当する可能性があります。");
                    self.insert_entry(&NewEntry::new(
                        id,
                        EntryKind::KnownError,
                        IncidentStage::Reported,
                        actor,
                        d.noticed_at,
                        recorded_at,
                        &text,
                    ))
                    .await?;
                }
                self.insert_entry(&NewEntry::new(
                    id,
                    EntryKind::Report,
                    IncidentStage::Reported,
                    actor,
                    d.noticed_at,
                    recorded_at,
                    &d.description,
                ))
                .await?;
                Ok((id, number))
            }
        }
    };
}

incident_conn!(sqlx::SqliteConnection);
incident_conn!(sqlx::PgConnection);

// ------------------------------------------------------------------------------------------------ SQL

const INCIDENT_SELECT: &str = "SELECT i.id, i.number, i.fiscal_year, i.title, i.severity, i.source, i.stage,
    i.description, i.probable_cause, i.known_error_id, k.number AS known_error_number, i.resolved_by_known_error,
    i.occurred_at, i.noticed_at, i.first_response_at, i.workaround_at, i.recovered_at, i.closed_at,
    i.witness_entry_id, i.reopen_count, i.created_by_id, i.created_by,
    COALESCE(u.display_name, i.created_by) AS created_by_name, i.created_at, i.updated_at
    FROM incidents i LEFT JOIN known_errors k ON k.id = i.known_error_id LEFT JOIN users u ON u.id = i.created_by_id";

const ENTRY_SELECT: &str = "SELECT e.id, e.incident_id, e.kind, e.stage, e.action, e.from_stage, e.to_stage,
    e.author_id, e.author, COALESCE(u.display_name, e.author) AS author_name, e.at, e.recorded_at, e.text,
    e.guidance_to, e.guidance, e.witness_name, e.witness_org, e.witnessed_at, e.remark
    FROM incident_entries e LEFT JOIN users u ON u.id = e.author_id";

const KNOWN_ERROR_SELECT: &str =
    "SELECT k.id, k.number, k.title, k.symptoms, k.cause, k.workaround,
    k.created_from_incident_id, i.number AS created_from_number, k.created_by_id, k.created_by,
    COALESCE(u.display_name, k.created_by) AS created_by_name, k.created_at, k.updated_at
    FROM known_errors k LEFT JOIN incidents i ON i.id = k.created_from_incident_id
    LEFT JOIN users u ON u.id = k.created_by_id";

const OPEN_FIRST: &str =
    "CASE WHEN i.stage = 'closed' THEN 1 ELSE 0 END, i.noticed_at DESC, i.id DESC";

impl Store {
    async fn finish_incidents(&self, rows: &mut [IncidentRow], now: DateTime<Utc>) -> Result<()> {
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        let names: Vec<(i64, String)> = self
            .rows_for_ids(
                "SELECT x.incident_id, s.name FROM incident_sites x JOIN sites s ON s.id = x.site_id WHERE x.incident_id IN",
                " ORDER BY s.code, s.id",
                &ids,
            )
            .await?;
        let mut by_incident: HashMap<i64, Vec<String>> = HashMap::new();
        for (iid, name) in names {
            by_incident.entry(iid).or_default().push(name);
        }
        for r in rows.iter_mut() {
            r.sites = by_incident
                .get(&r.id)
                .map(|v| v.join("、"))
                .unwrap_or_default();
            if let Some(t) = r.times() {
                let end = t.closed_at.unwrap_or(now);
                r.age_minutes = (end - t.noticed_at).num_minutes().max(0);
                r.mtta_minutes = t.mtta_minutes();
                r.mttr_minutes = t.mttr_minutes();
            }
        }
        Ok(())
    }

    /// One incident as listed; `now` decides its age.
    pub async fn incident_row(&self, id: i64, now: DateTime<Utc>) -> Result<IncidentRow> {
        let sql = format!("{INCIDENT_SELECT} WHERE i.id = $1");
        let row: Option<IncidentRow> =
            read_db!(self, |db| sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(id)
                .fetch_optional(db)
                .await?);
        let mut rows = vec![row.ok_or_else(|| not_found(format!("障害 {id}")))?];
        self.finish_incidents(&mut rows, now).await?;
        Ok(rows.remove(0))
    }

    // -------------------------------------------------------------------------------------------- writes

    /// Reports an incident (phone call, request, inspection…). Needs [`Action::ReportIncident`]. The number
    /// (`INC-R8-0001`) is counted within the fiscal year of 認知 in the same transaction; the timeline starts
    /// with a 受付 entry holding the description. A probable-cause key already used by an open incident is
    /// refused (`Conflict`, naming that incident). Audited as `incident.report`.
    pub async fn report_incident(
        &self,
        actor: &Actor,
        input: &IncidentInput,
    ) -> Result<IncidentRow> {
        actor.require(Action::ReportIncident)?;
        let now_at = Utc::now();
        let d = input.validate(now_at)?;
        let recorded = to_storage(now_at);
        let id = write_tx!(self, |tx| {
            tx.serialise(LOCK_INCIDENT).await?;
            let (id, number) = tx.insert_incident(&d, actor, &recorded).await?;
            tx.append_audit(
                &NewAuditEntry::new(actor, "incident.report", "incident", id)
                    .details(draft_json(&number, &d)),
            )
            .await?;
            id
        });
        self.incident_row(id, now_at).await
    }

    /// The seam for the connectivity engine: opens an automatic incident (source 疎通監視) for a failure, or,
    /// if an incident with the same probable cause is still open, adds the newly affected sites, terminals
    /// and nodes to it and appends a comment instead of opening another. After that incident is closed, the
    /// next failure opens a new one. Needs [`Action::ReportIncident`] (the engine acts as
    /// `Actor::system`). Audited as `incident.auto_open` or `incident.auto_repeat`.
    pub async fn open_automatic_incident(
        &self,
        actor: &Actor,
        input: &AutoIncidentInput,
    ) -> Result<AutoIncidentOutcome> {
        actor.require(Action::ReportIncident)?;
        let now_at = Utc::now();
        let d = input.validate(now_at)?;
        let key = d.probable_cause.clone().unwrap_or_default();
        let recorded = to_storage(now_at);
        let (id, created) = write_tx!(self, |tx| {
            tx.serialise(LOCK_INCIDENT).await?;
            match tx.open_for_cause(&key).await? {
                Some((id, number, stage)) => {
                    let stage =
                        IncidentStage::parse(&stage).ok_or_else(|| corrupt("incident", id))?;
                    tx.check_targets(&d.site_ids, &d.terminal_ids, &d.node_ids)
                        .await?;
                    tx.add_targets(id, &d.site_ids, &d.terminal_ids, &d.node_ids)
                        .await?;
                    // Written for people: the time in 和暦, the cause by what it is (the key is internal).
                    let text = format!(
                        "同じ原因の事象を再検知しました（{}）。{}",
                        jst_label(input.observed_at),
                        input.detail.trim()
                    );
                    tx.insert_entry(&NewEntry::new(
                        id,
                        EntryKind::Comment,
                        stage,
                        actor,
                        input.observed_at,
                        &recorded,
                        text.trim(),
                    ))
                    .await?;
                    tx.touch(id, &recorded).await?;
                    tx.append_audit(
                        &NewAuditEntry::new(actor, "incident.auto_repeat", "incident", id).details(
                            json!({
                                "number": number, "probable_cause": key,
                                "observed_at": to_storage(input.observed_at),
                                "site_ids": d.site_ids, "terminal_ids": d.terminal_ids, "node_ids": d.node_ids,
                                "detail": d.description,
                            }),
                        ),
                    )
                    .await?;
                    (id, false)
                }
                None => {
                    let (id, number) = tx.insert_incident(&d, actor, &recorded).await?;
                    tx.append_audit(
                        &NewAuditEntry::new(actor, "incident.auto_open", "incident", id)
                            .details(draft_json(&number, &d)),
                    )
                    .await?;
                    (id, true)
                }
            }
        });
        Ok(AutoIncidentOutcome {
            incident: self.incident_row(id, now_at).await?,
            created,
        })
    }

    /// Moves an incident on: checks the input ([`check_incident_transition`]), the role
    /// ([`IncidentAction::permissions`], else `Forbidden`), the move from the stored stage ([`next_stage`],
    /// else `Conflict`; 完了 without a witness gives the domain's `WITNESS_REQUIRED_MESSAGE`), and the times
    /// against the stored ones ([`IncidentTimes::check`], errors on the field `at`). 原因調査開始 sets 初動 (the
    /// first time), 回避策実施 sets 回避 (the first time), 復旧報告 sets 復旧, 完了 sets 完了; 復旧作業に戻す
    /// clears 復旧 and the witness; 再開 clears 復旧, 完了 and the witness. Writes one timeline entry (with the
    /// guidance and linked work, where given) and the audit entry (`incident.transition`, or
    /// `incident.reopen`). If another change won the race, `Conflict(STALE_MESSAGE)` and nothing changes.
    pub async fn advance_incident(
        &self,
        actor: &Actor,
        id: i64,
        input: &IncidentTransitionInput,
    ) -> Result<IncidentRow> {
        let now_at = Utc::now();
        // The role first (an auditor is refused whatever else they sent), then the input.
        if let Some(action) = IncidentAction::parse(&input.action) {
            require_any(actor, action.permissions())?;
        }
        let t = check_incident_transition(input, now_at)?;
        let recorded = to_storage(now_at);
        write_tx!(self, |tx| {
            let st = tx.state(id).await?;
            let to = next_stage(st.stage, t.action, st.witness_entry_id.is_some())?;
            let mut times = st.times;
            let mut witness = st.witness_entry_id;
            match t.action {
                IncidentAction::Investigate => {
                    times.first_response_at = times.first_response_at.or(Some(t.at));
                }
                IncidentAction::Workaround => {
                    times.workaround_at = times.workaround_at.or(Some(t.at));
                }
                IncidentAction::StartRecovery => {}
                IncidentAction::Recover => times.recovered_at = Some(t.at),
                IncidentAction::ResumeRecovery => {
                    times.recovered_at = None;
                    witness = None;
                }
                IncidentAction::Close => {
                    times.closed_at = Some(t.at);
                    if let Some(w) = tx.witnessed_at(st.witness_entry_id).await?
                        && t.at < w
                    {
                        return Err(invalid("at", "完了日時は立会日時以降にしてください。"));
                    }
                }
                IncidentAction::Reopen => {
                    if let Some(c) = st.times.closed_at
                        && t.at < c
                    {
                        return Err(invalid("at", "再開日時は完了日時以降にしてください。"));
                    }
                    times.recovered_at = None;
                    times.closed_at = None;
                    witness = None;
                }
            }
            times.check(now_at).map_err(|e| onto_field(e, "at"))?;
            check_entry_time(t.at, &st.times)?;
            let reopened = i64::from(t.action == IncidentAction::Reopen);
            let update = sqlx::query(
                "UPDATE incidents SET stage=$1, updated_at=$2, first_response_at=$3, workaround_at=$4,
                 recovered_at=$5, closed_at=$6, witness_entry_id=$7, reopen_count=reopen_count+$8
                 WHERE id=$9 AND stage=$10",
            )
            .bind(to.code())
            .bind(&recorded)
            .bind(times.first_response_at.map(to_storage))
            .bind(times.workaround_at.map(to_storage))
            .bind(times.recovered_at.map(to_storage))
            .bind(times.closed_at.map(to_storage))
            .bind(witness)
            .bind(reopened);
            tx.update_from_state(update, id, st.stage.code())
                .await
                .map_err(|e| {
                    unique_to_conflict(e, || {
                        format!(
                            "推定原因「{}」の別の障害が対応中のため再開できません。そちらで対応してください。",
                            st.probable_cause.as_deref().unwrap_or("")
                        )
                    })
                })?;
            let mut e = NewEntry::new(
                id,
                t.action.entry_kind(),
                to,
                actor,
                t.at,
                &recorded,
                &t.comment,
            );
            e.action = Some(t.action);
            e.from = Some(st.stage);
            e.guidance_to = &t.guidance_to;
            e.guidance = &t.guidance;
            let entry_id = tx.insert_entry(&e).await?;
            tx.link_work(entry_id, id, &t.work_entry_ids).await?;
            let audit_action = if t.action == IncidentAction::Reopen {
                "incident.reopen"
            } else {
                "incident.transition"
            };
            tx.append_audit(
                &NewAuditEntry::new(actor, audit_action, "incident", id).details(json!({
                    "number": st.number, "action": t.action.code(), "from": st.stage.code(), "to": to.code(),
                    "at": to_storage(t.at), "comment": t.comment, "guidance_to": t.guidance_to,
                    "guidance": t.guidance, "work_entry_ids": t.work_entry_ids, "entry_id": entry_id,
                })),
            )
            .await?;
        });
        self.incident_row(id, now_at).await
    }

    /// Closes a recovered incident now (完了). Refused with the domain's `WITNESS_REQUIRED_MESSAGE` while no
    /// witness is recorded. Needs [`Action::WorkIncident`] or [`Action::WitnessRecovery`].
    pub async fn close_incident(
        &self,
        actor: &Actor,
        id: i64,
        comment: &str,
    ) -> Result<IncidentRow> {
        let input = IncidentTransitionInput {
            action: IncidentAction::Close.code().into(),
            comment: comment.into(),
            ..Default::default()
        };
        self.advance_incident(actor, id, &input).await
    }

    /// Reopens a closed incident now (再開 → 原因調査), with the reason. Needs [`Action::ReportIncident`];
    /// audited as `incident.reopen`.
    pub async fn reopen_incident(
        &self,
        actor: &Actor,
        id: i64,
        reason: &str,
    ) -> Result<IncidentRow> {
        let input = IncidentTransitionInput {
            action: IncidentAction::Reopen.code().into(),
            comment: reason.into(),
            ..Default::default()
        };
        self.advance_incident(actor, id, &input).await
    }

    /// Adds a timeline entry (調査所見, 仮説, 原因, 回避策・指導, 復旧作業, コメント) with linked work entries
    /// where the kind takes them. Needs the kind's permission ([`EntryKind::permission`]); the stage rule is
    /// [`check_entry_stage`]. Audited as `incident.entry`.
    pub async fn add_incident_entry(
        &self,
        actor: &Actor,
        id: i64,
        input: &EntryInput,
    ) -> Result<IncidentEntry> {
        actor.require(Action::ReportIncident)?;
        let now_at = Utc::now();
        let d = input.validate(now_at)?;
        actor.require(d.kind.permission())?;
        let recorded = to_storage(now_at);
        let entry_id = write_tx!(self, |tx| {
            let st = tx.state(id).await?;
            check_entry_stage(d.kind, st.stage)?;
            check_entry_time(d.at, &st.times)?;
            let mut e = NewEntry::new(id, d.kind, st.stage, actor, d.at, &recorded, &d.text);
            e.guidance_to = &d.guidance_to;
            e.guidance = &d.guidance;
            let entry_id = tx.insert_entry(&e).await?;
            tx.link_work(entry_id, id, &d.work_entry_ids).await?;
            tx.touch(id, &recorded).await?;
            tx.append_audit(
                &NewAuditEntry::new(actor, "incident.entry", "incident", id).details(json!({
                    "number": st.number, "entry_id": entry_id, "kind": d.kind.code(),
                    "at": to_storage(d.at), "text": d.text, "guidance_to": d.guidance_to,
                    "guidance": d.guidance, "work_entry_ids": d.work_entry_ids,
                })),
            )
            .await?;
            entry_id
        });
        self.incident_entry(entry_id).await
    }

    /// Records the witness of the recovery (立会い: name, organisation, time, remark — all required) while the
    /// incident is at 復旧確認; the time may not lie before 復旧. This is what lets the incident close. Needs
    /// [`Action::WitnessRecovery`] (the prefecture side). Audited as `incident.witness`.
    pub async fn record_witness(
        &self,
        actor: &Actor,
        id: i64,
        input: &WitnessInput,
    ) -> Result<IncidentEntry> {
        actor.require(Action::WitnessRecovery)?;
        let now_at = Utc::now();
        let d = input.validate(now_at)?;
        let recorded = to_storage(now_at);
        let entry_id = write_tx!(self, |tx| {
            let st = tx.state(id).await?;
            check_entry_stage(EntryKind::Witness, st.stage)?;
            d.check_against(&st.times)?;
            let mut e = NewEntry::new(
                id,
                EntryKind::Witness,
                st.stage,
                actor,
                d.witnessed_at,
                &recorded,
                "",
            );
            e.witness = Some(&d);
            let entry_id = tx.insert_entry(&e).await?;
            let update = sqlx::query(
                "UPDATE incidents SET witness_entry_id = $1, updated_at = $2 WHERE id = $3 AND stage = $4",
            )
            .bind(entry_id)
            .bind(&recorded);
            tx.update_from_state(update, id, IncidentStage::Recovered.code())
                .await?;
            tx.append_audit(
                &NewAuditEntry::new(actor, "incident.witness", "incident", id).details(json!({
                    "number": st.number, "entry_id": entry_id, "witness_name": d.witness_name,
                    "witness_org": d.witness_org, "witnessed_at": to_storage(d.witnessed_at),
                    "remark": d.remark,
                })),
            )
            .await?;
            entry_id
        });
        self.incident_entry(entry_id).await
    }

    /// Records that an open incident is resolved by a known error's workaround: links it, sets
    /// `resolved_by_known_error`, and notes it on the timeline. The stages still run their course (the
    /// witness is still needed to close). Needs [`Action::WorkIncident`]. Audited as
    /// `incident.resolve_by_known_error`.
    pub async fn resolve_by_known_error(
        &self,
        actor: &Actor,
        id: i64,
        known_error_id: i64,
    ) -> Result<IncidentRow> {
        actor.require(Action::WorkIncident)?;
        let now_at = Utc::now();
        let recorded = to_storage(now_at);
        write_tx!(self, |tx| {
            let st = tx.state(id).await?;
            if !st.stage.is_open() {
                return Err(conflict(
                    "完了した障害は既知の障害による解決にできません。必要なら再開してください。",
                ));
            }
            let Some((ke_number, ke_title)) = tx.known_error_ref(known_error_id).await? else {
                return Err(invalid(
                    "known_error_id",
                    "選択された既知の障害が見つかりません。",
                ));
            };
            sqlx::query(
                "UPDATE incidents SET known_error_id = $1, resolved_by_known_error = $2, updated_at = $3
                 WHERE id = $4",
            )
            .bind(known_error_id)
            .bind(true)
            .bind(&recorded)
            .bind(id)
            .execute(&mut *tx)
            .await?;
            tx.link_known_error(known_error_id, id).await?;
            let text =
                format!("既知の障害 {ke_number}「{ke_title}」の回避策・対処により解決しました。");
            tx.insert_entry(&NewEntry::new(
                id,
                EntryKind::KnownError,
                st.stage,
                actor,
                now_at,
                &recorded,
                &text,
            ))
            .await?;
            tx.append_audit(
                &NewAuditEntry::new(actor, "incident.resolve_by_known_error", "incident", id)
                    .details(json!({
                        "number": st.number, "known_error_id": known_error_id,
                        "known_error_number": ke_number,
                    })),
            )
            .await?;
        });
        self.incident_row(id, now_at).await
    }

    // -------------------------------------------------------------------------------------------- reads

    /// A page of incidents: open ones first, then newest (by 認知) first. `now` decides the ages.
    pub async fn incidents(
        &self,
        q: &IncidentQuery,
        now: DateTime<Utc>,
    ) -> Result<Page<IncidentRow>> {
        let f = q.filter(true);
        let count_sql = format!("SELECT COUNT(*) FROM incidents i{}", f.where_clause());
        let list_sql = format!(
            "{INCIDENT_SELECT}{} ORDER BY {OPEN_FIRST}",
            f.where_clause()
        );
        let mut page: Page<IncidentRow> = self
            .page_of(count_sql, list_sql, &f.params, paging(q.page, q.per_page))
            .await?;
        self.finish_incidents(&mut page.items, now).await?;
        Ok(page)
    }

    /// Number of incidents per stage (every stage, in display order, zeros included) for the same filter
    /// minus its `stage` and `open_only` parts, for the tabs above the list.
    pub async fn incident_stage_counts(&self, q: &IncidentQuery) -> Result<Vec<(String, i64)>> {
        let f = q.filter(false);
        let sql = format!(
            "SELECT i.stage, COUNT(*) FROM incidents i{} GROUP BY i.stage",
            f.where_clause()
        );
        let rows: Vec<(String, i64)> = read_db!(self, |db| bind_params!(
            sqlx::query_as(sqlx::AssertSqlSafe(sql)),
            f.params
        )
        .fetch_all(db)
        .await?);
        Ok(IncidentStage::ALL
            .iter()
            .map(|s| {
                let n = rows
                    .iter()
                    .find(|(code, _)| code == s.code())
                    .map_or(0, |(_, n)| *n);
                (s.code().to_string(), n)
            })
            .collect())
    }

    /// One timeline entry with its linked work.
    pub async fn incident_entry(&self, entry_id: i64) -> Result<IncidentEntry> {
        let sql = format!("{ENTRY_SELECT} WHERE e.id = $1");
        let (row, work): (Option<IncidentEntry>, Vec<i64>) = read_db!(self, |db| {
            let row = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(entry_id)
                .fetch_optional(db)
                .await?;
            let work = sqlx::query_scalar(
                "SELECT work_id FROM incident_work WHERE entry_id = $1 ORDER BY work_id",
            )
            .bind(entry_id)
            .fetch_all(db)
            .await?;
            (row, work)
        });
        let mut row = row.ok_or_else(|| not_found(format!("障害の記録 {entry_id}")))?;
        row.work_ids = work;
        Ok(row)
    }

    /// One incident with its affected sites, terminals and nodes, timeline, linked work (with minutes),
    /// known errors and current witness. `now` decides its age.
    pub async fn incident(&self, id: i64, now: DateTime<Utc>) -> Result<IncidentDetail> {
        let incident = self.incident_row(id, now).await?;
        let entry_sql = format!("{ENTRY_SELECT} WHERE e.incident_id = $1 ORDER BY e.at, e.id");
        type Parts = (
            Vec<SiteRef>,
            Vec<TerminalRef>,
            Vec<NodeRef>,
            Vec<IncidentEntry>,
            Vec<(i64, i64)>,
            Vec<KnownErrorLink>,
        );
        let (sites, terminals, nodes, mut entries, links, known_errors): Parts = read_db!(
            self,
            |db| {
                let sites = sqlx::query_as(
                    "SELECT s.id, s.code, s.name FROM incident_sites x JOIN sites s ON s.id = x.site_id
                     WHERE x.incident_id = $1 ORDER BY s.code, s.id",
                )
                .bind(id)
                .fetch_all(db)
                .await?;
                let terminals = sqlx::query_as(
                    "SELECT t.id, t.hostname, t.kind, t.site_id, s.name AS site_name
                     FROM incident_terminals x JOIN terminals t ON t.id = x.terminal_id JOIN sites s ON s.id = t.site_id
                     WHERE x.incident_id = $1 ORDER BY t.hostname_key",
                )
                .bind(id)
                .fetch_all(db)
                .await?;
                let nodes = sqlx::query_as(
                    "SELECT n.id, n.name, n.kind FROM incident_nodes x JOIN network_nodes n ON n.id = x.node_id
                     WHERE x.incident_id = $1 ORDER BY n.name, n.id",
                )
                .bind(id)
                .fetch_all(db)
                .await?;
                let entries = sqlx::query_as(sqlx::AssertSqlSafe(entry_sql))
                    .bind(id)
                    .fetch_all(db)
                    .await?;
                let links = sqlx::query_as(
                    "SELECT entry_id, work_id FROM incident_work WHERE incident_id = $1 ORDER BY work_id",
                )
                .bind(id)
                .fetch_all(db)
                .await?;
                let known_errors = sqlx::query_as(
                    "SELECT k.id, k.number, k.title FROM known_error_incidents x
                     JOIN known_errors k ON k.id = x.known_error_id WHERE x.incident_id = $1 ORDER BY k.seq",
                )
                .bind(id)
                .fetch_all(db)
                .await?;
                (sites, terminals, nodes, entries, links, known_errors)
            }
        );
        for e in entries.iter_mut() {
            e.work_ids = links
                .iter()
                .filter(|(entry, _)| *entry == e.id)
                .map(|(_, w)| *w)
                .collect();
        }
        let work_ids: BTreeSet<i64> = links.iter().map(|(_, w)| *w).collect();
        let mut work = Vec::new();
        for w in work_ids {
            work.push(self.work_entry(w).await?);
        }
        work.sort_by(|a, b| {
            (&a.work_date, &a.start_time, a.id).cmp(&(&b.work_date, &b.start_time, b.id))
        });
        let work_minutes = work.iter().map(|w| w.minutes).sum();
        let known_error = match incident.known_error_id {
            Some(k) => Some(self.known_error(k).await?),
            None => None,
        };
        let witness = incident
            .witness_entry_id
            .and_then(|w| entries.iter().find(|e| e.id == w).cloned());
        Ok(IncidentDetail {
            incident,
            sites,
            terminals,
            nodes,
            entries,
            work,
            work_minutes,
            known_error,
            known_errors,
            witness,
        })
    }

    /// The incident figures of a fiscal year: counts, MTTA (認知→初動) and MTTR (発生→復旧) for the year, per
    /// month and per affected site (each also per month), and counts per severity. Incidents count in the
    /// month and year of 発生 (JST). Computed in Rust with the domain's functions from the stored times.
    pub async fn incident_stats(&self, fy: FiscalYear) -> Result<IncidentStats> {
        let from = to_storage(jst_midnight(fy.start()));
        let to = to_storage(jst_midnight(fy.end().succ_opt().unwrap_or(NaiveDate::MAX)));
        let sql = format!(
            "{INCIDENT_SELECT} WHERE i.occurred_at >= $1 AND i.occurred_at < $2 ORDER BY i.id"
        );
        let rows: Vec<IncidentRow> = read_db!(self, |db| sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(&from)
            .bind(&to)
            .fetch_all(db)
            .await?);
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        let links: Vec<(i64, i64)> = self
            .rows_for_ids(
                "SELECT incident_id, site_id FROM incident_sites WHERE incident_id IN",
                " ORDER BY incident_id, site_id",
                &ids,
            )
            .await?;
        let mut facts = Vec::with_capacity(rows.len());
        for r in &rows {
            let times = r.times().ok_or_else(|| corrupt("incident", r.id))?;
            facts.push(IncidentFacts {
                id: r.id,
                severity: r.severity().unwrap_or(Severity::Medium),
                site_ids: links
                    .iter()
                    .filter(|(i, _)| *i == r.id)
                    .map(|(_, s)| *s)
                    .collect(),
                times,
                open: r.stage != IncidentStage::Closed.code(),
            });
        }
        let site_ids: Vec<i64> = links
            .iter()
            .map(|(_, s)| *s)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let names: Vec<(i64, String, String)> = self
            .rows_for_ids(
                "SELECT id, code, name FROM sites WHERE id IN",
                "",
                &site_ids,
            )
            .await?;
        let mut sites: Vec<SiteStats> = figures_by_site(&facts, fy)
            .into_iter()
            .map(|s| {
                let (code, name) = s
                    .site_id
                    .and_then(|id| names.iter().find(|(n, ..)| *n == id))
                    .map_or_else(
                        || (String::new(), "拠点指定なし".to_string()),
                        |(_, c, n)| (c.clone(), n.clone()),
                    );
                let mine: Vec<IncidentFacts> = facts
                    .iter()
                    .filter(|f| match s.site_id {
                        Some(id) => f.site_ids.contains(&id),
                        None => f.site_ids.is_empty(),
                    })
                    .cloned()
                    .collect();
                SiteStats {
                    site_id: s.site_id,
                    site_code: code,
                    site_name: name,
                    year: s.figures,
                    months: figures_by_month(&mine, fy),
                }
            })
            .collect();
        sites.sort_by(|a, b| {
            (a.site_id.is_none(), &a.site_code, a.site_id).cmp(&(
                b.site_id.is_none(),
                &b.site_code,
                b.site_id,
            ))
        });
        let severities = Severity::ALL
            .iter()
            .map(|s| {
                let n = facts.iter().filter(|f| f.severity == *s).count();
                (s.code().to_string(), i64::try_from(n).unwrap_or(i64::MAX))
            })
            .collect();
        Ok(IncidentStats {
            fiscal_year: fy.0,
            label: fy.label(),
            year: figures_for_fiscal_year(&facts, fy),
            months: figures_by_month(&facts, fy),
            sites,
            severities,
        })
    }

    /// Every incident of a fiscal year (by 発生 in JST, the same set as [`Store::incident_stats`]) with what
    /// a report says of it: its sites and the timeline entries of kinds 原因, 回避策・指導, 復旧作業,
    /// 再発防止策 and 立会い, oldest first. Three queries for the whole year, whatever its size.
    pub async fn incident_accounts(
        &self,
        fy: FiscalYear,
        now: DateTime<Utc>,
    ) -> Result<Vec<IncidentAccount>> {
        let from = to_storage(jst_midnight(fy.start()));
        let to = to_storage(jst_midnight(fy.end().succ_opt().unwrap_or(NaiveDate::MAX)));
        let sql = format!(
            "{INCIDENT_SELECT} WHERE i.occurred_at >= $1 AND i.occurred_at < $2 ORDER BY i.occurred_at, i.id"
        );
        let mut rows: Vec<IncidentRow> =
            read_db!(self, |db| sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(&from)
                .bind(&to)
                .fetch_all(db)
                .await?);
        self.finish_incidents(&mut rows, now).await?;
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        let site_ids: Vec<(i64, i64)> = self
            .rows_for_ids(
                "SELECT incident_id, site_id FROM incident_sites WHERE incident_id IN",
                " ORDER BY incident_id, site_id",
                &ids,
            )
            .await?;
        let mut entries: Vec<IncidentEntry> = Vec::new();
        for chunk in ids.chunks(500) {
            let mut f = Filter::default();
            let list = placeholders(&mut f, chunk);
            let sql = format!(
                "{ENTRY_SELECT} WHERE e.incident_id IN ({list})
                 AND e.kind IN ('cause', 'workaround', 'recovery', 'prevention', 'witness')
                 ORDER BY e.incident_id, e.at, e.id"
            );
            let mut part: Vec<IncidentEntry> = read_db!(self, |db| bind_params!(
                sqlx::query_as(sqlx::AssertSqlSafe(sql)),
                f.params
            )
            .fetch_all(db)
            .await?);
            entries.append(&mut part);
        }
        Ok(rows
            .into_iter()
            .map(|incident| {
                let id = incident.id;
                IncidentAccount {
                    site_ids: site_ids
                        .iter()
                        .filter(|(i, _)| *i == id)
                        .map(|(_, s)| *s)
                        .collect(),
                    entries: entries
                        .iter()
                        .filter(|e| e.incident_id == id)
                        .cloned()
                        .collect(),
                    incident,
                }
            })
            .collect())
    }

    // -------------------------------------------------------------------------------------------- known errors

    async fn finish_known_errors(&self, rows: &mut [KnownError]) -> Result<()> {
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        let links: Vec<(i64, i64, String, String, String)> = self
            .rows_for_ids(
                "SELECT x.known_error_id, i.id, i.number, i.title, i.stage FROM known_error_incidents x
                 JOIN incidents i ON i.id = x.incident_id WHERE x.known_error_id IN",
                " ORDER BY i.noticed_at, i.id",
                &ids,
            )
            .await?;
        for r in rows.iter_mut() {
            r.incidents = links
                .iter()
                .filter(|(k, ..)| *k == r.id)
                .map(|(_, id, number, title, stage)| IncidentLink {
                    id: *id,
                    number: number.clone(),
                    title: title.clone(),
                    stage: stage.clone(),
                })
                .collect();
        }
        Ok(())
    }

    /// One known error with its incidents.
    pub async fn known_error(&self, id: i64) -> Result<KnownError> {
        let sql = format!("{KNOWN_ERROR_SELECT} WHERE k.id = $1");
        let row: Option<KnownError> = read_db!(self, |db| sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(db)
            .await?);
        let mut rows = vec![row.ok_or_else(|| not_found(format!("既知の障害 {id}")))?];
        self.finish_known_errors(&mut rows).await?;
        Ok(rows.remove(0))
    }

    /// A page of the known-error library, newest first, searchable across number, title, symptoms, cause
    /// and workaround.
    pub async fn known_errors(&self, q: &KnownErrorQuery) -> Result<Page<KnownError>> {
        let mut f = Filter::default();
        if let Some(text) = given(&q.q) {
            like_any(
                &mut f,
                &text,
                &[
                    "k.number",
                    "k.title",
                    "k.symptoms",
                    "k.cause",
                    "k.workaround",
                ],
            );
        }
        let count_sql = format!("SELECT COUNT(*) FROM known_errors k{}", f.where_clause());
        let list_sql = format!(
            "{KNOWN_ERROR_SELECT}{} ORDER BY k.seq DESC",
            f.where_clause()
        );
        let mut page: Page<KnownError> = self
            .page_of(count_sql, list_sql, &f.params, paging(q.page, q.per_page))
            .await?;
        self.finish_known_errors(&mut page.items).await?;
        Ok(page)
    }

    /// The form of a known error prefilled from a closed incident: its title, its description as the
    /// symptoms, its 原因 entries (else its 調査所見) as the cause, its 回避策 entries (else its 復旧作業
    /// entries) as the workaround. Refused unless the incident is closed.
    pub async fn known_error_draft_from_incident(
        &self,
        incident_id: i64,
    ) -> Result<KnownErrorInput> {
        let detail = self.incident(incident_id, Utc::now()).await?;
        if detail.incident.stage() != Some(IncidentStage::Closed) {
            return Err(conflict(KNOWN_ERROR_NEEDS_CLOSED_MESSAGE));
        }
        let mut cause = joined(&detail.entries, &[EntryKind::Cause], 4000);
        if cause.is_empty() {
            cause = joined(&detail.entries, &[EntryKind::Finding], 4000);
        }
        let mut workaround = joined(&detail.entries, &[EntryKind::Workaround], 4000);
        if workaround.is_empty() {
            workaround = joined(&detail.entries, &[EntryKind::Recovery], 4000);
        }
        Ok(KnownErrorInput {
            title: detail.incident.title,
            symptoms: detail.incident.description,
            cause,
            workaround,
            incident_ids: vec![incident_id],
        })
    }

    /// Creates a known error (`KE-0001`) linked to incidents (each gets a timeline note, and the known error
    /// as its own if it has none yet). Needs [`Action::ManageKnownErrors`]. Audited as `known_error.create`.
    pub async fn create_known_error(
        &self,
        actor: &Actor,
        input: &KnownErrorInput,
    ) -> Result<KnownError> {
        self.insert_known_error(actor, input, None).await
    }

    /// Creates a known error from a closed incident, prefilled as [`Store::known_error_draft_from_incident`]
    /// describes, remembering the incident it came from. Needs [`Action::ManageKnownErrors`].
    pub async fn create_known_error_from_incident(
        &self,
        actor: &Actor,
        incident_id: i64,
    ) -> Result<KnownError> {
        actor.require(Action::ManageKnownErrors)?;
        let input = self.known_error_draft_from_incident(incident_id).await?;
        self.insert_known_error(actor, &input, Some(incident_id))
            .await
    }

    async fn insert_known_error(
        &self,
        actor: &Actor,
        input: &KnownErrorInput,
        from_incident: Option<i64>,
    ) -> Result<KnownError> {
        actor.require(Action::ManageKnownErrors)?;
        let d = input.validate()?;
        let now_at = Utc::now();
        let recorded = to_storage(now_at);
        let id = write_tx!(self, |tx| {
            tx.serialise(LOCK_KNOWN_ERROR).await?;
            let mut states = Vec::with_capacity(d.incident_ids.len());
            for i in &d.incident_ids {
                let st = match tx.state(*i).await {
                    Ok(st) => st,
                    Err(StoreError::Domain(DomainError::NotFound(_))) => {
                        return Err(invalid("incident_ids", "選択された障害が見つかりません。"));
                    }
                    Err(e) => return Err(e),
                };
                states.push((*i, st));
            }
            if let Some(from) = from_incident
                && !states
                    .iter()
                    .any(|(i, st)| *i == from && st.stage == IncidentStage::Closed)
            {
                return Err(conflict(KNOWN_ERROR_NEEDS_CLOSED_MESSAGE));
            }
            let seq: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) + 1 FROM known_errors")
                .fetch_one(&mut *tx)
                .await?;
            let number = known_error_number(seq);
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO known_errors (number, seq, title, symptoms, cause, workaround, created_from_incident_id,
                 created_by_id, created_by, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) RETURNING id",
            )
            .bind(&number)
            .bind(seq)
            .bind(d.title.as_str())
            .bind(d.symptoms.as_str())
            .bind(d.cause.as_str())
            .bind(d.workaround.as_str())
            .bind(from_incident)
            .bind(actor.user_id)
            .bind(&actor.username)
            .bind(&recorded)
            .fetch_one(&mut *tx)
            .await?;
            for (incident_id, st) in &states {
                tx.link_known_error(id, *incident_id).await?;
                sqlx::query(
                    "UPDATE incidents SET known_error_id = $1, updated_at = $2 WHERE id = $3 AND known_error_id IS NULL",
                )
                .bind(id)
                .bind(&recorded)
                .bind(*incident_id)
                .execute(&mut *tx)
                .await?;
                let text = if from_incident == Some(*incident_id) {
                    format!(
                        "この障害から既知の障害 {number}「{}」を登録しました。",
                        d.title
                    )
                } else {
                    format!("既知の障害 {number}「{}」に関連付けました。", d.title)
                };
                tx.insert_entry(&NewEntry::new(
                    *incident_id,
                    EntryKind::KnownError,
                    st.stage,
                    actor,
                    now_at,
                    &recorded,
                    &text,
                ))
                .await?;
            }
            tx.append_audit(
                &NewAuditEntry::new(actor, "known_error.create", "known_error", id).details(json!({
                    "number": number, "title": d.title, "symptoms": d.symptoms, "cause": d.cause,
                    "workaround": d.workaround, "incident_ids": d.incident_ids,
                    "created_from_incident_id": from_incident,
                    "created_from_number": states.iter().find(|(i, _)| Some(*i) == from_incident).map(|(_, s)| s.number.clone()),
                })),
            )
            .await?;
            id
        });
        self.known_error(id).await
    }

    /// Changes a known error's text; incidents in the input are linked in addition (links are never removed,
    /// so an incident's attribution stays). Needs [`Action::ManageKnownErrors`]. Audited as
    /// `known_error.update` with the differences.
    pub async fn update_known_error(
        &self,
        actor: &Actor,
        id: i64,
        input: &KnownErrorInput,
    ) -> Result<KnownError> {
        actor.require(Action::ManageKnownErrors)?;
        let d = input.validate()?;
        let old = self.known_error(id).await?;
        let now_at = Utc::now();
        let recorded = to_storage(now_at);
        let linked: Vec<i64> = old.incidents.iter().map(|i| i.id).collect();
        write_tx!(self, |tx| {
            let mut added = Vec::new();
            for i in d.incident_ids.iter().filter(|i| !linked.contains(i)) {
                let st = match tx.state(*i).await {
                    Ok(st) => st,
                    Err(StoreError::Domain(DomainError::NotFound(_))) => {
                        return Err(invalid("incident_ids", "選択された障害が見つかりません。"));
                    }
                    Err(e) => return Err(e),
                };
                added.push((*i, st));
            }
            sqlx::query(
                "UPDATE known_errors SET title = $1, symptoms = $2, cause = $3, workaround = $4, updated_at = $5
                 WHERE id = $6",
            )
            .bind(d.title.as_str())
            .bind(d.symptoms.as_str())
            .bind(d.cause.as_str())
            .bind(d.workaround.as_str())
            .bind(&recorded)
            .bind(id)
            .execute(&mut *tx)
            .await?;
            for (incident_id, st) in &added {
                tx.link_known_error(id, *incident_id).await?;
                sqlx::query(
                    "UPDATE incidents SET known_error_id = $1, updated_at = $2 WHERE id = $3 AND known_error_id IS NULL",
                )
                .bind(id)
                .bind(&recorded)
                .bind(*incident_id)
                .execute(&mut *tx)
                .await?;
                let text = format!("既知の障害 {}「{}」に関連付けました。", old.number, d.title);
                tx.insert_entry(&NewEntry::new(
                    *incident_id,
                    EntryKind::KnownError,
                    st.stage,
                    actor,
                    now_at,
                    &recorded,
                    &text,
                ))
                .await?;
            }
            let mut changes = serde_json::Map::new();
            for (field, before, after) in [
                ("title", old.title.as_str(), d.title.as_str()),
                ("symptoms", old.symptoms.as_str(), d.symptoms.as_str()),
                ("cause", old.cause.as_str(), d.cause.as_str()),
                ("workaround", old.workaround.as_str(), d.workaround.as_str()),
            ] {
                if before != after {
                    changes.insert(field.into(), json!([before, after]));
                }
            }
            let added_ids: Vec<i64> = added.iter().map(|(i, _)| *i).collect();
            if !added_ids.is_empty() {
                changes.insert("incident_ids_added".into(), json!(added_ids));
            }
            tx.append_audit(
                &NewAuditEntry::new(actor, "known_error.update", "known_error", id)
                    .details(Value::Object(changes)),
            )
            .await?;
        });
        self.known_error(id).await
    }
}

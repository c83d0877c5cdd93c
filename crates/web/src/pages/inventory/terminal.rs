//! `GET /inventory/terminals/{id}`: one terminal's latest inventory (OS, software, antivirus) and the
//! history of its snapshots with what changed since the previous one.

use super::{
    enabled_text, format_label, matched_label, or_dash, os_text, parse_id, source_label,
    uptodate_text,
};
use crate::i18n::Tr;
use crate::page::{Ctx, PageMeta, render};
use crate::{AppState, WebError};
use axum::extract::{Path, Query, State};
use axum::response::Html;
use serde::Deserialize;
use unyo_domain::Action;
use unyo_domain::inventory::{InventoryDiff, Software, ValueChange};
use unyo_store::inventory::{DEFAULT_STALE_DAYS, HistoryEntry, is_stale};

/// How many snapshots the history shows.
const HISTORY_SHOWN: usize = 30;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct Params {
    /// Software name filter.
    q: String,
    ok: String,
}

/// A label and a value.
pub(super) struct Prop {
    label: String,
    value: String,
    mono: bool,
}

fn prop(label: &str, value: impl Into<String>) -> Prop {
    Prop {
        label: label.into(),
        value: value.into(),
        mono: false,
    }
}

fn mono(label: &str, value: impl Into<String>) -> Prop {
    Prop {
        mono: true,
        ..prop(label, value)
    }
}

pub(super) struct AvRow {
    name: String,
    company: String,
    engine: String,
    defs: String,
    defs_date: String,
    enabled: &'static str,
    uptodate: &'static str,
}

pub(super) struct SwRow {
    name: String,
    version: String,
    publisher: String,
    installed: String,
}

/// A list of changes of one kind, shown folded when long.
pub(super) struct ChangeGroup {
    title: String,
    lines: Vec<String>,
    open: bool,
}

pub(super) struct HistoryRow {
    received: String,
    collected: String,
    source: String,
    software: i64,
    os: String,
    first: bool,
    groups: Vec<ChangeGroup>,
}

#[derive(askama::Template)]
#[template(path = "inventory_terminal.html")]
struct TerminalPage {
    page: PageMeta,
    terminal_id: i64,
    site: String,
    matching: Vec<Prop>,
    has_inventory: bool,
    stale: bool,
    received: String,
    about: Vec<Prop>,
    os: Vec<Prop>,
    identity: Vec<Prop>,
    antivirus: Vec<AvRow>,
    software: Vec<SwRow>,
    software_total: usize,
    q: String,
    history: Vec<HistoryRow>,
}

fn sw_line(s: &Software) -> String {
    match &s.version {
        Some(v) => format!("{} {v}", s.name),
        None => s.name.clone(),
    }
}

fn change_text<T: std::fmt::Display>(tr: Tr, c: &ValueChange<T>) -> String {
    let side = |v: &Option<T>| match v {
        Some(v) => v.to_string(),
        None => tr.pick("（なし）", "(none)").to_string(),
    };
    format!("{} → {}", side(&c.old), side(&c.new))
}

fn flag_change(
    tr: Tr,
    c: &ValueChange<bool>,
    words: fn(Tr, Option<bool>) -> &'static str,
) -> String {
    format!("{} → {}", words(tr, c.old), words(tr, c.new))
}

/// The changes of one snapshot in words, grouped.
fn groups(tr: Tr, d: &InventoryDiff) -> Vec<ChangeGroup> {
    let mut out = Vec::new();
    let mut push = |title: String, lines: Vec<String>| {
        if !lines.is_empty() {
            let open = lines.len() <= 10;
            out.push(ChangeGroup { title, lines, open });
        }
    };
    push(
        tr.t("inventory.os").to_string(),
        d.os_changes
            .iter()
            .map(|c| {
                format!(
                    "{}: {}",
                    tr.pick(c.field.label_ja(), &format!("{:?}", c.field)),
                    change_text(tr, &c.change)
                )
            })
            .collect(),
    );
    let mut av = Vec::new();
    for c in &d.antivirus_changed {
        let mut parts = Vec::new();
        if let Some(x) = &c.engine_version {
            parts.push(format!(
                "{} {}",
                tr.t("inventory.av_engine"),
                change_text(tr, x)
            ));
        }
        if let Some(x) = &c.definition_version {
            parts.push(format!(
                "{} {}",
                tr.t("inventory.av_defs"),
                change_text(tr, x)
            ));
        }
        if let Some(x) = &c.definition_date {
            parts.push(format!(
                "{} {}",
                tr.t("inventory.av_defs_date"),
                change_text(tr, x)
            ));
        }
        if let Some(x) = &c.enabled {
            parts.push(format!(
                "{} {}",
                tr.t("inventory.av_enabled"),
                flag_change(tr, x, enabled_text)
            ));
        }
        if let Some(x) = &c.up_to_date {
            parts.push(format!(
                "{} {}",
                tr.t("inventory.av_uptodate"),
                flag_change(tr, x, uptodate_text)
            ));
        }
        if let Some(x) = &c.expiration {
            parts.push(format!(
                "{} {}",
                tr.pick("有効期限", "expiry"),
                change_text(tr, x)
            ));
        }
        av.push(format!("{}: {}", c.name, parts.join("、")));
    }
    for a in &d.antivirus_added {
        av.push(format!("{}: {}", tr.t("inventory.av_added"), a.name));
    }
    for a in &d.antivirus_removed {
        av.push(format!("{}: {}", tr.t("inventory.av_removed"), a.name));
    }
    push(tr.t("inventory.antivirus").to_string(), av);
    let version_change = |c: &unyo_domain::inventory::SoftwareVersionChange| {
        format!(
            "{} {} → {}",
            c.name,
            c.old_version.as_deref().unwrap_or("?"),
            c.new_version.as_deref().unwrap_or("?")
        )
    };
    let counted =
        |key: &str, n: usize| format!("{} {} ({n})", tr.t("inventory.software"), tr.t(key));
    push(
        counted("inventory.upgraded", d.software_upgraded.len()),
        d.software_upgraded.iter().map(version_change).collect(),
    );
    push(
        counted("inventory.downgraded", d.software_downgraded.len()),
        d.software_downgraded.iter().map(version_change).collect(),
    );
    push(
        counted("inventory.changed", d.software_changed.len()),
        d.software_changed.iter().map(version_change).collect(),
    );
    push(
        counted("inventory.added", d.software_added.len()),
        d.software_added.iter().map(sw_line).collect(),
    );
    push(
        counted("inventory.removed", d.software_removed.len()),
        d.software_removed.iter().map(sw_line).collect(),
    );
    out
}

fn history_row(tr: Tr, meta: &PageMeta, h: &HistoryEntry) -> HistoryRow {
    let s = &h.summary;
    HistoryRow {
        received: meta.datetime(&s.received_at),
        collected: or_dash(s.collected_at.as_deref()),
        source: format!("{}（{}）", source_label(tr, &s.source), s.received_by),
        software: s.software_count,
        os: format!(
            "{} / {}",
            os_text(
                s.os_full_name.as_deref(),
                s.os_name.as_deref(),
                s.os_version.as_deref()
            ),
            or_dash(s.os_build.as_deref())
        ),
        first: h.changes.is_none(),
        groups: h
            .changes
            .as_ref()
            .map(|d| groups(tr, d))
            .unwrap_or_default(),
    }
}

/// `GET /inventory/terminals/{id}`.
pub(super) async fn page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Query(p): Query<Params>,
) -> Result<Html<String>, WebError> {
    ctx.require(Action::ViewInventory)?;
    let tr = ctx.tr;
    let id = parse_id(&id)?;
    let t = state.store.terminal(id).await?;
    let (uuid, device_id) = state.store.terminal_identity(id).await?;
    let mut meta = ctx.page(
        format!("{} — {}", t.hostname, tr.t("inventory.title")),
        "inventory",
    );
    match p.ok.as_str() {
        "linked" => meta.flash = Some(tr.t("inventory.linked")),
        "registered" => meta.flash = Some(tr.t("inventory.registered")),
        _ => {}
    }
    let matching = vec![
        mono(tr.t("inventory.uuid"), or_dash(uuid.as_deref())),
        mono(tr.t("inventory.device_id"), or_dash(device_id.as_deref())),
        mono(tr.t("inventory.serial"), or_dash(Some(&t.serial_number))),
    ];
    let history = state.store.inventory_history(id, HISTORY_SHOWN).await?;
    let latest = match history.first() {
        Some(h) => {
            // Reading a terminal's inventory is audited (R12).
            state
                .store
                .audit_read(
                    &ctx.actor(),
                    "inventory",
                    h.summary.id,
                    serde_json::json!({"terminal_id": id, "hostname": t.hostname}),
                )
                .await?;
            Some(state.store.inventory_record(h.summary.id).await?)
        }
        None => None,
    };
    let q = p.q.trim().to_string();
    let mut v = TerminalPage {
        terminal_id: id,
        site: format!("{}（{}）", t.site_name, t.site_code),
        matching,
        has_inventory: latest.is_some(),
        stale: false,
        received: String::new(),
        about: Vec::new(),
        os: Vec::new(),
        identity: Vec::new(),
        antivirus: Vec::new(),
        software: Vec::new(),
        software_total: 0,
        q: q.clone(),
        history: history.iter().map(|h| history_row(tr, &meta, h)).collect(),
        page: meta.clone(),
    };
    if let Some(rec) = latest {
        let s = &rec.summary;
        let snap = &rec.snapshot;
        v.stale = is_stale(&s.received_at, DEFAULT_STALE_DAYS, chrono::Utc::now());
        v.received = meta.datetime(&s.received_at);
        v.about = vec![
            prop(
                tr.t("inventory.collected_at"),
                or_dash(s.collected_at.as_deref()),
            ),
            prop(
                tr.t("inventory.source"),
                format!("{}（{}）", source_label(tr, &s.source), s.received_by),
            ),
            prop(
                tr.t("inventory.matched_by"),
                matched_label(tr, &s.matched_by),
            ),
            prop(tr.t("inventory.format"), format_label(&s.format)),
        ];
        v.os = vec![
            prop(tr.t("inventory.os"), or_dash(snap.os.full_name.as_deref())),
            prop(tr.t("inventory.os_name"), or_dash(snap.os.name.as_deref())),
            prop(
                tr.t("inventory.os_version"),
                or_dash(snap.os.version.as_deref()),
            ),
            mono(
                tr.t("inventory.os_build"),
                or_dash(snap.os.build.as_deref()),
            ),
            prop(tr.t("inventory.os_arch"), or_dash(snap.os.arch.as_deref())),
            prop(
                tr.t("inventory.os_sp"),
                or_dash(snap.os.service_pack.as_deref()),
            ),
        ];
        v.identity = vec![
            mono(
                tr.t("inventory.hostname"),
                or_dash(snap.hostname.as_deref()),
            ),
            prop(tr.t("inventory.domain"), or_dash(snap.domain.as_deref())),
            mono(tr.t("inventory.uuid"), or_dash(snap.uuid.as_deref())),
            mono(tr.t("inventory.serial"), or_dash(snap.serial.as_deref())),
            mono(
                tr.t("inventory.device_id"),
                or_dash(snap.device_id.as_deref()),
            ),
            mono(tr.t("inventory.ip"), snap.ip_addresses.join(", ")),
            mono(tr.t("inventory.mac"), snap.mac_addresses.join(", ")),
        ];
        v.antivirus = snap
            .antivirus
            .iter()
            .map(|a| AvRow {
                name: a.name.clone(),
                company: or_dash(a.company.as_deref()),
                engine: or_dash(a.version.as_deref()),
                defs: or_dash(a.base_version.as_deref()),
                defs_date: or_dash(a.base_date.as_deref()),
                enabled: enabled_text(tr, a.enabled),
                uptodate: uptodate_text(tr, a.up_to_date),
            })
            .collect();
        v.software_total = snap.software.len();
        let needle = q.to_lowercase();
        let mut sw: Vec<&Software> = snap
            .software
            .iter()
            .filter(|s| needle.is_empty() || s.name.to_lowercase().contains(&needle))
            .collect();
        sw.sort_by(|a, b| {
            a.name
                .to_lowercase()
                .cmp(&b.name.to_lowercase())
                .then_with(|| a.version.cmp(&b.version))
        });
        v.software = sw
            .into_iter()
            .map(|s| SwRow {
                name: s.name.clone(),
                version: or_dash(s.version.as_deref()),
                publisher: or_dash(s.publisher.as_deref()),
                installed: or_dash(s.install_date.as_deref()),
            })
            .collect();
    }
    render(&v)
}

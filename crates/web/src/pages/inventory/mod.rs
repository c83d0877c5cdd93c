//! Inventories (インベントリ): what each terminal reported — OS and build, installed software, antivirus —
//! with the history of snapshots and what changed between them; the review queue of inventories that
//! matched no terminal (or several); uploading inventory files; and the credentials agents report with.
//!
//! Routes (all behind the session and CSRF guards; the agents themselves report to `/ocsinventory`, see
//! [`crate::agent`]):
//! * `GET /inventory` — every active terminal with its latest inventory, stale ones flagged (「古い」).
//! * `GET /inventory/terminals/{id}` — one terminal: OS, software, antivirus, history with changes.
//! * `GET /inventory/review`, `POST /inventory/review/{id}/link`, `POST /inventory/review/{id}/register`.
//! * `GET|POST /inventory/upload` — FusionInventory XML or GLPI-agent JSON files (plain, zlib or gzip).
//! * `GET|POST /inventory/agents`, `POST /inventory/agents/{id}/revoke` — agent credentials.

mod agents;
mod overview;
mod review;
mod terminal;
mod upload;

use crate::AppState;
use crate::i18n::Tr;
use crate::view::parse_id;
use axum::Router;
use axum::routing::{get, post};
use unyo_domain::inventory::Antivirus;
use unyo_store::inventory::{InventorySource, MatchedBy};

/// Routes of this area.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/inventory", get(overview::page))
        .route("/inventory/terminals/{id}", get(terminal::page))
        .route("/inventory/review", get(review::page))
        .route("/inventory/review/{id}/link", post(review::link))
        .route("/inventory/review/{id}/register", post(review::register))
        .route("/inventory/upload", get(upload::form).post(upload::submit))
        .route("/inventory/agents", get(agents::page).post(agents::create))
        .route("/inventory/agents/{id}/revoke", post(agents::revoke))
}

// ------------------------------------------------------------------ shared view pieces

/// `—` for an absent value.
fn or_dash(v: Option<&str>) -> String {
    match v.map(str::trim) {
        Some(s) if !s.is_empty() => s.to_string(),
        _ => "—".into(),
    }
}

/// Real-time protection in words.
fn enabled_text(tr: Tr, v: Option<bool>) -> &'static str {
    match v {
        Some(true) => tr.pick("有効", "on"),
        Some(false) => tr.pick("無効", "off"),
        None => tr.t("inventory.unknown"),
    }
}

/// The definitions' up-to-date flag in words.
fn uptodate_text(tr: Tr, v: Option<bool>) -> &'static str {
    match v {
        Some(true) => tr.pick("最新", "up to date"),
        Some(false) => tr.pick("最新ではない", "out of date"),
        None => tr.t("inventory.unknown"),
    }
}

/// One antivirus product on one line: name, engine and definitions when known, then both flags in
/// words ("Windows Defender・定義 1.367.1234.0（2026-05-01）・リアルタイム保護 有効・定義の状態 最新").
fn antivirus_line(tr: Tr, a: &Antivirus) -> String {
    let mut parts = vec![a.name.clone()];
    if let Some(v) = a.version.as_deref().filter(|v| !v.is_empty()) {
        parts.push(format!("{} {v}", tr.t("inventory.av_engine")));
    }
    let defs = match (a.base_version.as_deref(), a.base_date.as_deref()) {
        (Some(v), Some(d)) => Some(format!("{v}（{d}）")),
        (Some(v), None) => Some(v.to_string()),
        (None, Some(d)) => Some(d.to_string()),
        (None, None) => None,
    };
    if let Some(defs) = defs {
        parts.push(format!("{} {defs}", tr.pick("定義", "definitions")));
    }
    parts.push(format!(
        "{} {}",
        tr.t("inventory.av_enabled"),
        enabled_text(tr, a.enabled)
    ));
    parts.push(format!(
        "{} {}",
        tr.t("inventory.av_uptodate"),
        uptodate_text(tr, a.up_to_date)
    ));
    parts.join("・")
}

fn source_label(tr: Tr, code: &str) -> &'static str {
    tr.pick(
        InventorySource::label_ja(code),
        InventorySource::label_en(code),
    )
}

fn matched_label(tr: Tr, code: &str) -> &'static str {
    let m = MatchedBy::parse(code).unwrap_or(MatchedBy::None);
    tr.pick(m.label_ja(), m.label_en())
}

fn format_label(code: &str) -> &'static str {
    match code {
        "fusion" => "FusionInventory（XML）",
        "glpi" => "GLPI-agent（JSON）",
        _ => "—",
    }
}

/// "Windows / Microsoft Windows 8.1 Professionnel" etc.: the fullest OS name known.
fn os_text(full: Option<&str>, name: Option<&str>, version: Option<&str>) -> String {
    match (full, name) {
        (Some(f), _) if !f.trim().is_empty() => f.to_string(),
        (_, Some(n)) if !n.trim().is_empty() => match version {
            Some(v) if !v.trim().is_empty() => format!("{n} {v}"),
            _ => n.to_string(),
        },
        _ => "—".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Lang;

    #[test]
    fn antivirus_lines_say_everything_in_words() {
        let tr = Tr { lang: Lang::Ja };
        let a = Antivirus {
            name: "Windows Defender".into(),
            company: None,
            version: Some("4.18.2205.7".into()),
            base_version: Some("1.367.1234.0".into()),
            base_date: Some("2026-05-01".into()),
            enabled: Some(true),
            up_to_date: Some(false),
            expiration: None,
            guid: None,
        };
        assert_eq!(
            antivirus_line(tr, &a),
            "Windows Defender・エンジン 4.18.2205.7・定義 1.367.1234.0（2026-05-01）・リアルタイム保護 有効・定義の状態 最新ではない"
        );
    }
}

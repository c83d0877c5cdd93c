//! The column layout of each exchange file, shared by import and export so that an exported file
//! re-imports as is, and the per-column values an export writes.

use std::collections::HashMap;
use unyo_domain::registry::{NodeKind, SiteKind, TerminalKind};
use unyo_domain::time::{from_storage, to_jst};
use unyo_store::audit::AuditEntry;
use unyo_store::registry::{NetworkNode, Site, Terminal};
use unyo_store::vulns::Finding;

/// How the import treats a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// Must be in the header.
    Required,
    /// May be in the header.
    Optional,
    /// Written by our export for people to read; accepted and ignored on import.
    ExportOnly,
}

/// One column of an exchange file.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Column {
    /// Machine name; also the name used in import errors (the store reports fields by these names).
    pub code: &'static str,
    /// Japanese header label, as exported.
    pub label: &'static str,
    pub role: Role,
    /// Whether people type arbitrary text here. Only such cells get a leading `-` escaped in CSV (see
    /// `csv_export::escape_formula`).
    pub free_text: bool,
    /// Column width in the XLSX export, in Excel character units.
    pub width: f64,
}

const fn col(
    code: &'static str,
    label: &'static str,
    role: Role,
    free_text: bool,
    width: f64,
) -> Column {
    Column {
        code,
        label,
        role,
        free_text,
        width,
    }
}

impl Column {
    /// A column of an export only (the registers are not imported): its code is its label.
    pub(crate) const fn export(label: &'static str, free_text: bool, width: f64) -> Column {
        col(label, label, Role::ExportOnly, free_text, width)
    }
}

use Role::{ExportOnly, Optional, Required};

/// 端末台帳 columns, in export order.
pub(crate) const TERMINAL_COLUMNS: &[Column] = &[
    col("id", "ID", ExportOnly, false, 7.0),
    col("hostname", "ホスト名", Required, false, 22.0),
    col("site_code", "拠点コード", Required, false, 14.0),
    col("site_name", "拠点名", ExportOnly, true, 20.0),
    col("kind", "種別", Required, false, 11.0),
    col("ip_address", "IPアドレス", Optional, false, 16.0),
    col("os_name", "OS", Optional, true, 24.0),
    col("os_version", "OSバージョン", Optional, true, 18.0),
    col("serial_number", "製造番号", Optional, true, 16.0),
    col("asset_number", "備品番号", Optional, true, 16.0),
    col("note", "備考", Optional, true, 36.0),
    col("status", "状態", ExportOnly, false, 8.0),
    col("updated_at", "更新日時", ExportOnly, false, 17.0),
];

/// 拠点台帳 columns, in export order. Code, name and kind are required because the store needs them for
/// every row; a missing column is one clear header error instead of an error on every row.
pub(crate) const SITE_COLUMNS: &[Column] = &[
    col("id", "ID", ExportOnly, false, 7.0),
    col("code", "拠点コード", Required, false, 14.0),
    col("name", "拠点名", Required, true, 22.0),
    col("kind", "種別", Required, false, 16.0),
    col("address", "所在地", Optional, true, 36.0),
    col("phone", "電話番号", Optional, false, 15.0),
    col("uplink_node", "接続機器", Optional, true, 20.0),
    col("terminal_count", "端末数", ExportOnly, false, 8.0),
    col("note", "備考", Optional, true, 36.0),
    col("status", "状態", ExportOnly, false, 8.0),
    col("updated_at", "更新日時", ExportOnly, false, 17.0),
];

/// ネットワーク機器台帳 columns, in export order. Name and kind are required, as for sites.
pub(crate) const NODE_COLUMNS: &[Column] = &[
    col("id", "ID", ExportOnly, false, 7.0),
    col("name", "機器名", Required, true, 22.0),
    col("kind", "種別", Required, false, 16.0),
    col("site_code", "拠点コード", Optional, false, 14.0),
    col("site_name", "拠点名", ExportOnly, true, 20.0),
    col("ip_address", "IPアドレス", Optional, false, 16.0),
    col("upstream", "上位機器", Optional, true, 22.0),
    col("note", "備考", Optional, true, 36.0),
    col("status", "状態", ExportOnly, false, 8.0),
    col("updated_at", "更新日時", ExportOnly, false, 17.0),
];

/// 監査ログ columns (export only). Actor and source count as free text: a failed login records whatever
/// name was typed.
pub(crate) const AUDIT_COLUMNS: &[Column] = &[
    col("id", "番号", ExportOnly, false, 8.0),
    col("at", "日時", ExportOnly, false, 17.0),
    col("actor", "利用者", ExportOnly, true, 14.0),
    col("action", "操作", ExportOnly, false, 24.0),
    col("entity", "対象", ExportOnly, false, 10.0),
    col("entity_id", "対象ID", ExportOnly, true, 8.0),
    col("details", "詳細", ExportOnly, true, 60.0),
    col("source", "接続元", ExportOnly, true, 16.0),
    col("prev_hash", "前ハッシュ", ExportOnly, false, 20.0),
    col("hash", "ハッシュ", ExportOnly, false, 20.0),
];

/// One exported value. Numbers stay numbers in XLSX so that Excel sorts and sums them.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Cell {
    Text(String),
    Int(i64),
}

impl Cell {
    fn text(s: &str) -> Cell {
        Cell::Text(s.to_owned())
    }

    fn opt(s: Option<&str>) -> Cell {
        Cell::Text(s.unwrap_or_default().to_owned())
    }
}

/// A stored UTC timestamp as JST wall-clock time, e.g. `2026-05-01 09:05`. Text that does not parse is
/// shown as stored rather than dropped.
pub(crate) fn jst_text(stored: &str) -> String {
    match from_storage(stored) {
        Some(at) => to_jst(at).format("%Y-%m-%d %H:%M").to_string(),
        None => stored.to_owned(),
    }
}

fn status(retired_at: Option<&str>) -> Cell {
    Cell::text(if retired_at.is_some() {
        "廃止"
    } else {
        "稼働中"
    })
}

/// Japanese label for a stored kind code; an unknown code is written as stored.
fn kind_label(code: &str, label: impl FnOnce(&str) -> Option<&'static str>) -> Cell {
    Cell::text(label(code).unwrap_or(code))
}

/// The value of `column` for a terminal.
pub(crate) fn terminal_cell(t: &Terminal, column: &str) -> Cell {
    match column {
        "id" => Cell::Int(t.id),
        "hostname" => Cell::text(&t.hostname),
        "site_code" => Cell::text(&t.site_code),
        "site_name" => Cell::text(&t.site_name),
        "kind" => kind_label(&t.kind, |k| {
            TerminalKind::parse(k).map(TerminalKind::label_ja)
        }),
        "ip_address" => Cell::opt(t.ip_address.as_deref()),
        "os_name" => Cell::text(&t.os_name),
        "os_version" => Cell::text(&t.os_version),
        "serial_number" => Cell::text(&t.serial_number),
        "asset_number" => Cell::text(&t.asset_number),
        "note" => Cell::text(&t.note),
        "status" => status(t.retired_at.as_deref()),
        "updated_at" => Cell::Text(jst_text(&t.updated_at)),
        _ => Cell::Text(String::new()),
    }
}

/// The value of `column` for a site.
pub(crate) fn site_cell(s: &Site, column: &str) -> Cell {
    match column {
        "id" => Cell::Int(s.id),
        "code" => Cell::text(&s.code),
        "name" => Cell::text(&s.name),
        "kind" => kind_label(&s.kind, |k| SiteKind::parse(k).map(SiteKind::label_ja)),
        "address" => Cell::text(&s.address),
        "phone" => Cell::text(&s.phone),
        "uplink_node" => Cell::opt(s.uplink_node_name.as_deref()),
        "terminal_count" => Cell::Int(s.terminal_count),
        "note" => Cell::text(&s.note),
        "status" => status(s.retired_at.as_deref()),
        "updated_at" => Cell::Text(jst_text(&s.updated_at)),
        _ => Cell::Text(String::new()),
    }
}

/// Site codes by site id: a node row names its site by id, the file by code.
pub(crate) fn site_codes(sites: &[Site]) -> HashMap<i64, &str> {
    sites.iter().map(|s| (s.id, s.code.as_str())).collect()
}

/// The value of `column` for a node; `site_codes` resolves the node's site.
pub(crate) fn node_cell(n: &NetworkNode, column: &str, site_codes: &HashMap<i64, &str>) -> Cell {
    match column {
        "id" => Cell::Int(n.id),
        "name" => Cell::text(&n.name),
        "kind" => kind_label(&n.kind, |k| NodeKind::parse(k).map(NodeKind::label_ja)),
        "site_code" => Cell::opt(n.site_id.and_then(|id| site_codes.get(&id).copied())),
        "site_name" => Cell::opt(n.site_name.as_deref()),
        "ip_address" => Cell::opt(n.ip_address.as_deref()),
        "upstream" => Cell::opt(n.upstream_name.as_deref()),
        "note" => Cell::text(&n.note),
        "status" => status(n.retired_at.as_deref()),
        "updated_at" => Cell::Text(jst_text(&n.updated_at)),
        _ => Cell::Text(String::new()),
    }
}

/// The value of `column` for an audit entry.
pub(crate) fn audit_cell(e: &AuditEntry, column: &str) -> Cell {
    match column {
        "id" => Cell::Int(e.id),
        "at" => Cell::Text(jst_text(&e.at)),
        "actor" => Cell::text(&e.actor),
        "action" => Cell::text(&e.action),
        "entity" => Cell::text(&e.entity),
        "entity_id" => Cell::text(&e.entity_id),
        "details" => Cell::text(&e.details),
        "source" => Cell::text(&e.source),
        "prev_hash" => Cell::text(&e.prev_hash),
        "hash" => Cell::text(&e.hash),
        _ => Cell::Text(String::new()),
    }
}

/// Every row of a table as cells, in column order.
/// 脆弱性の検出結果 columns (export only).
pub(crate) const FINDING_COLUMNS: &[Column] = &[
    col("id", "ID", ExportOnly, false, 7.0),
    col("status", "状態", ExportOnly, false, 10.0),
    col("severity", "深刻度", ExportOnly, false, 8.0),
    col("cvss", "CVSS", ExportOnly, false, 7.0),
    col("vulnerability_id", "脆弱性ID", ExportOnly, false, 18.0),
    col("title", "表題", ExportOnly, true, 40.0),
    col("subject", "対象", ExportOnly, true, 20.0),
    col("site_name", "拠点名", ExportOnly, true, 18.0),
    col("software", "ソフトウェア", ExportOnly, true, 28.0),
    col("version", "検出した版", ExportOnly, false, 16.0),
    col("fixed_version", "更新先の版", ExportOnly, false, 16.0),
    col("due_date", "対応期限", ExportOnly, false, 11.0),
    col("first_seen_at", "初回検出", ExportOnly, false, 17.0),
    col("updated_at", "更新日時", ExportOnly, false, 17.0),
];

fn severity_ja(code: &str) -> &'static str {
    match code {
        "critical" => "緊急",
        "high" => "重要",
        "medium" => "警告",
        "low" => "注意",
        _ => "なし",
    }
}

pub(crate) fn finding_cell(f: &Finding, code: &str) -> Cell {
    match code {
        "id" => Cell::Int(f.id),
        "status" => Cell::text(f.status().label_ja()),
        "severity" => Cell::text(severity_ja(&f.severity)),
        "cvss" => Cell::Text(f.cvss_score.map(|s| format!("{s:.1}")).unwrap_or_default()),
        "vulnerability_id" => Cell::text(&f.vulnerability_id),
        "title" => Cell::text(&f.title),
        "subject" => Cell::Text(match f.subject.as_str() {
            "unyo" => "unyo（本システム）".to_owned(),
            _ => f.hostname.clone().unwrap_or_default(),
        }),
        "site_name" => Cell::opt(f.site_name.as_deref()),
        "software" => Cell::text(&f.software),
        "version" => Cell::text(&f.version),
        "fixed_version" => Cell::opt(f.fixed_version.as_deref()),
        "due_date" => Cell::opt(f.due_date.as_deref()),
        "first_seen_at" => Cell::Text(jst_text(&f.first_seen_at)),
        "updated_at" => Cell::Text(jst_text(&f.updated_at)),
        _ => Cell::Text(String::new()),
    }
}

pub(crate) fn rows<T>(
    items: &[T],
    columns: &[Column],
    cell: impl Fn(&T, &str) -> Cell,
) -> Vec<Vec<Cell>> {
    items
        .iter()
        .map(|item| columns.iter().map(|c| cell(item, c.code)).collect())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storage_time_is_shown_in_jst_without_seconds() {
        assert_eq!(jst_text("2026-05-01T00:05:59.000000Z"), "2026-05-01 09:05");
        assert_eq!(jst_text("2026-04-30T15:30:00Z"), "2026-05-01 00:30");
        assert_eq!(jst_text(""), "");
    }

    #[test]
    fn column_codes_and_labels_are_unique_per_table() {
        for table in [TERMINAL_COLUMNS, SITE_COLUMNS, NODE_COLUMNS, AUDIT_COLUMNS] {
            for (i, a) in table.iter().enumerate() {
                for b in &table[i + 1..] {
                    assert_ne!(a.code, b.code);
                    assert_ne!(a.label, b.label);
                    assert_ne!(a.code, b.label.to_lowercase());
                }
            }
        }
    }
}

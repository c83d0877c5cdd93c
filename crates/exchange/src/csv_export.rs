//! Writing registry and audit data as CSV for Excel.
//!
//! The files are UTF-8 with a BOM (without it, Japanese Excel assumes CP932 and shows mojibake) and CRLF
//! line ends, with Japanese header labels.
//!
//! Formula injection: Excel evaluates a cell that starts with `=`, `+`, `-` or `@` (and some versions
//! also after a leading TAB or CR), which a crafted value could use to run commands via DDE. Following
//! IPA's guidance, such a cell gets a leading apostrophe, which Excel shows as literal text. A leading
//! `-` is escaped in free-text columns only (names, notes, OS, audit actor/details, ...): the other
//! columns hold values that the domain validates (codes, hostnames, IP addresses, phone numbers) or that
//! we generate (ids, dates, hashes). The import removes the apostrophe again, so an exported file
//! re-imports with the original values.
//!
//! Note that Excel still turns digit-only text such as 備品番号 `0012` into the number 12 when it opens a
//! CSV; people who edit in Excel are better served by the XLSX export, where text stays text.

use crate::columns::{
    AUDIT_COLUMNS, Cell, Column, FINDING_COLUMNS, NODE_COLUMNS, SITE_COLUMNS, TERMINAL_COLUMNS,
    audit_cell, finding_cell, node_cell, rows, site_cell, site_codes, terminal_cell,
};
use std::borrow::Cow;
use unyo_store::audit::AuditEntry;
use unyo_store::registry::{NetworkNode, Site, Terminal};

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// The 端末台帳 as CSV: ID, ホスト名, 拠点コード, 拠点名, 種別, IPアドレス, OS, OSバージョン, 製造番号,
/// 備品番号, 備考, 状態, 更新日時. Re-imports with [`crate::parse_terminals`].
pub fn terminals_csv(terminals: &[Terminal]) -> Vec<u8> {
    to_csv(
        TERMINAL_COLUMNS,
        &rows(terminals, TERMINAL_COLUMNS, terminal_cell),
    )
}

/// The 拠点台帳 as CSV: ID, 拠点コード, 拠点名, 種別, 所在地, 電話番号, 接続機器, 端末数, 備考, 状態,
/// 更新日時. Re-imports with [`crate::parse_sites`].
pub fn sites_csv(sites: &[Site]) -> Vec<u8> {
    to_csv(SITE_COLUMNS, &rows(sites, SITE_COLUMNS, site_cell))
}

/// The ネットワーク機器台帳 as CSV: ID, 機器名, 種別, 拠点コード, 拠点名, IPアドレス, 上位機器, 備考, 状態,
/// 更新日時. Re-imports with [`crate::parse_nodes`].
///
/// `sites` supplies the 拠点コード (a node row only carries its site's id and name); pass every site the
/// nodes may reference, retired ones included, or the code is left empty.
pub fn nodes_csv(nodes: &[NetworkNode], sites: &[Site]) -> Vec<u8> {
    let codes = site_codes(sites);
    to_csv(
        NODE_COLUMNS,
        &rows(nodes, NODE_COLUMNS, |n, c| node_cell(n, c, &codes)),
    )
}

/// The 監査ログ as CSV: 番号, 日時 (JST), 利用者, 操作, 対象, 対象ID, 詳細 (JSON), 接続元, 前ハッシュ,
/// ハッシュ. The stored values are written unchanged (apart from the time zone of 日時 and the formula
/// guard), so the hash chain can be re-checked from the file.
pub fn audit_csv(entries: &[AuditEntry]) -> Vec<u8> {
    to_csv(AUDIT_COLUMNS, &rows(entries, AUDIT_COLUMNS, audit_cell))
}

/// 脆弱性の検出結果 as CSV: ID, 状態, 深刻度, CVSS, 脆弱性ID, 表題, 対象, 拠点名, ソフトウェア, 検出した版,
/// 更新先の版, 対応期限, 初回検出, 更新日時.
pub fn findings_csv(findings: &[unyo_store::vulns::Finding]) -> Vec<u8> {
    to_csv(
        FINDING_COLUMNS,
        &rows(findings, FINDING_COLUMNS, finding_cell),
    )
}

pub(crate) fn to_csv(columns: &[Column], rows: &[Vec<Cell>]) -> Vec<u8> {
    let mut out = String::new();
    push_record(&mut out, columns.iter().map(|c| Cow::Borrowed(c.label)));
    for row in rows {
        push_record(
            &mut out,
            row.iter().zip(columns).map(|(cell, column)| match cell {
                Cell::Int(n) => Cow::Owned(n.to_string()),
                Cell::Text(s) => escape_formula(s, column.free_text),
            }),
        );
    }
    let mut bytes = Vec::with_capacity(UTF8_BOM.len() + out.len());
    bytes.extend_from_slice(UTF8_BOM);
    bytes.extend_from_slice(out.as_bytes());
    bytes
}

/// Appends one CRLF-terminated record, quoting fields as RFC 4180 requires. Written by hand because
/// writing to memory cannot fail, which keeps the export functions infallible.
fn push_record<'a>(out: &mut String, fields: impl Iterator<Item = Cow<'a, str>>) {
    for (i, field) in fields.enumerate() {
        if i > 0 {
            out.push(',');
        }
        if field.contains([',', '"', '\r', '\n']) {
            out.push('"');
            out.push_str(&field.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(&field);
        }
    }
    out.push_str("\r\n");
}

/// Prefixes an apostrophe to a value Excel would evaluate as a formula (see the module notes).
fn escape_formula(value: &str, free_text: bool) -> Cow<'_, str> {
    match value.chars().next() {
        Some('=' | '+' | '@' | '\t' | '\r') => Cow::Owned(format!("'{value}")),
        Some('-') if free_text => Cow::Owned(format!("'{value}")),
        _ => Cow::Borrowed(value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_quoted_only_when_needed() {
        let mut out = String::new();
        push_record(
            &mut out,
            ["a", "b,c", "say \"hi\"", "two\nlines"]
                .into_iter()
                .map(Cow::Borrowed),
        );
        assert_eq!(out, "a,\"b,c\",\"say \"\"hi\"\"\",\"two\nlines\"\r\n");
    }

    #[test]
    fn formula_triggers_are_escaped() {
        assert_eq!(escape_formula("=1+1", false), "'=1+1");
        assert_eq!(escape_formula("+81", false), "'+81");
        assert_eq!(escape_formula("@SUM(A1)", false), "'@SUM(A1)");
        assert_eq!(escape_formula("\tx", false), "'\tx");
        assert_eq!(escape_formula("\rx", false), "'\rx");
        assert_eq!(escape_formula("-cmd", true), "'-cmd");
        assert_eq!(escape_formula("-cmd", false), "-cmd");
        assert_eq!(escape_formula("a=b", true), "a=b");
        assert_eq!(escape_formula("", true), "");
    }
}

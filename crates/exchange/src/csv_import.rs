//! Reading registry CSV files into store import rows.
//!
//! Only the file's shape is checked here (header, field counts). Values are passed on as typed, so that
//! the domain's validation reports them with the same Japanese messages as the web forms; the kind stays
//! a string (code or Japanese label) for the same reason.

use crate::columns::{Column, NODE_COLUMNS, Role, SITE_COLUMNS, TERMINAL_COLUMNS};
use csv::StringRecord;
use unyo_domain::registry::{NodeInput, SiteInput, TerminalInput};
use unyo_store::registry::{ImportRow, NodeImport, RowError, SiteImport, TerminalImport};

/// Reads a 端末台帳 CSV (text from [`crate::decode_text`]).
///
/// Columns, by code or Japanese label (case, spaces and full-width letters do not matter): `hostname`
/// ホスト名, `site_code` 拠点コード and `kind` 種別 (required; the kind may be a code or a label such as
/// 代表端末), `ip_address` IPアドレス, `os_name` OS, `os_version` OSバージョン, `serial_number` 製造番号,
/// `asset_number` 備品番号, `note` 備考. The read-only columns of our export (`id`, 拠点名, 状態, 更新日時)
/// are accepted and ignored. A column left out reads as empty, which on update clears that field.
///
/// Errors name the line (header = line 1) and the column by its code (e.g. `hostname`).
pub fn parse_terminals(text: &str) -> Result<Vec<ImportRow<TerminalImport>>, Vec<RowError>> {
    let rows = read_table(text, TERMINAL_COLUMNS)?;
    Ok(rows
        .into_iter()
        .map(|mut r| ImportRow {
            line: r.line,
            data: TerminalImport {
                site_code: r.take("site_code"),
                input: TerminalInput {
                    // The store resolves the site from `site_code`.
                    site_id: None,
                    hostname: r.take("hostname"),
                    kind: r.take("kind"),
                    ip_address: r.take("ip_address"),
                    os_name: r.take("os_name"),
                    os_version: r.take("os_version"),
                    serial_number: r.take("serial_number"),
                    asset_number: r.take("asset_number"),
                    note: r.take("note"),
                },
            },
        })
        .collect())
}

/// Reads a 拠点台帳 CSV.
///
/// Columns: `code` 拠点コード, `name` 拠点名, `kind` 種別 (required), `address` 所在地, `phone` 電話番号,
/// `uplink_node` 接続機器 (a node name), `note` 備考; ignored: `id`, 端末数, 状態, 更新日時.
pub fn parse_sites(text: &str) -> Result<Vec<ImportRow<SiteImport>>, Vec<RowError>> {
    let rows = read_table(text, SITE_COLUMNS)?;
    Ok(rows
        .into_iter()
        .map(|mut r| ImportRow {
            line: r.line,
            data: SiteImport {
                uplink_node: r.take("uplink_node"),
                input: SiteInput {
                    code: r.take("code"),
                    name: r.take("name"),
                    kind: r.take("kind"),
                    address: r.take("address"),
                    phone: r.take("phone"),
                    // The store resolves the node from `uplink_node`.
                    uplink_node_id: None,
                    note: r.take("note"),
                },
            },
        })
        .collect())
}

/// Reads a ネットワーク機器台帳 CSV.
///
/// Columns: `name` 機器名, `kind` 種別 (required), `site_code` 拠点コード, `ip_address` IPアドレス,
/// `upstream` 上位機器 (a node name), `note` 備考; ignored: `id`, 拠点名, 状態, 更新日時.
pub fn parse_nodes(text: &str) -> Result<Vec<ImportRow<NodeImport>>, Vec<RowError>> {
    let rows = read_table(text, NODE_COLUMNS)?;
    Ok(rows
        .into_iter()
        .map(|mut r| ImportRow {
            line: r.line,
            data: NodeImport {
                site_code: r.take("site_code"),
                upstream: r.take("upstream"),
                input: NodeInput {
                    name: r.take("name"),
                    kind: r.take("kind"),
                    site_id: None,
                    ip_address: r.take("ip_address"),
                    upstream_id: None,
                    note: r.take("note"),
                },
            },
        })
        .collect())
}

/// One data row: values in the order of the table's columns (empty when the file lacks the column).
struct Row {
    line: usize,
    columns: &'static [Column],
    values: Vec<String>,
}

impl Row {
    fn take(&mut self, code: &str) -> String {
        let i = self.columns.iter().position(|c| c.code == code);
        debug_assert!(i.is_some(), "unknown column code {code}");
        i.and_then(|i| self.values.get_mut(i))
            .map(std::mem::take)
            .unwrap_or_default()
    }
}

/// Parses the CSV against a column table. All shape errors are collected so that a person can fix the
/// file in one go.
fn read_table(text: &str, columns: &'static [Column]) -> Result<Vec<Row>, Vec<RowError>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        // Field counts are checked here, per line, instead of failing the whole read.
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut records = reader.records();
    let mut lines = LineCounter::new(text);

    let header = loop {
        match records.next() {
            None => {
                return Err(vec![error(
                    1,
                    "",
                    "見出し行がありません。1行目に列名を入れてください。",
                )]);
            }
            Some(Err(e)) => return Err(vec![csv_error(&e, &mut lines)]),
            Some(Ok(r)) if is_blank(&r) => continue,
            Some(Ok(r)) => break r,
        }
    };
    let header_line = lines.line_of(header.position());

    // For each field of the file, the table column it feeds (None for a column without a name).
    let mut slots: Vec<Option<usize>> = vec![None; header.len()];
    let mut found: Vec<bool> = vec![false; columns.len()];
    let mut errors = Vec::new();
    for (i, name) in header.iter().enumerate() {
        let key = normalize(name);
        if key.is_empty() {
            // Excel writes trailing empty columns after a cell was touched and cleared; such a column is
            // fine as long as it stays empty (checked per row below).
            continue;
        }
        let Some(c) = columns
            .iter()
            .position(|c| normalize(c.code) == key || normalize(c.label) == key)
        else {
            errors.push(error(
                header_line,
                name.trim(),
                format!(
                    "列「{}」は取り込めません。使用できる列: {}",
                    name.trim(),
                    allowed(columns)
                ),
            ));
            continue;
        };
        if found[c] {
            errors.push(error(
                header_line,
                columns[c].code,
                format!("列「{}」が重複しています。", columns[c].label),
            ));
        }
        found[c] = true;
        slots[i] = Some(c);
    }
    for (c, column) in columns.iter().enumerate() {
        if column.role == Role::Required && !found[c] {
            errors.push(error(
                header_line,
                column.code,
                format!(
                    "必須の列「{}」（{}）がありません。",
                    column.label, column.code
                ),
            ));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }

    let mut rows = Vec::new();
    for record in records {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                // The reader cannot resynchronise reliably after a broken record.
                errors.push(csv_error(&e, &mut lines));
                break;
            }
        };
        if is_blank(&record) {
            continue;
        }
        let line = lines.line_of(record.position());
        if record.len() != header.len() {
            errors.push(error(
                line,
                "",
                format!(
                    "列の数が見出し行と一致しません（見出し {} 列、この行 {} 列）。",
                    header.len(),
                    record.len()
                ),
            ));
            continue;
        }
        let mut values = vec![String::new(); columns.len()];
        for (i, value) in record.iter().enumerate() {
            match slots[i] {
                Some(c) if columns[c].role != Role::ExportOnly => {
                    values[c] = unescape_formula(value).to_owned();
                }
                Some(_) => {}
                None if value.trim().is_empty() => {}
                None => errors.push(error(
                    line,
                    "",
                    format!("列名のない{}列目に値が入っています。", i + 1),
                )),
            }
        }
        rows.push(Row {
            line,
            columns,
            values,
        });
    }
    if errors.is_empty() {
        Ok(rows)
    } else {
        Err(errors)
    }
}

fn error(line: usize, column: &str, message: impl Into<String>) -> RowError {
    RowError {
        line,
        column: column.to_owned(),
        message: message.into(),
    }
}

fn csv_error(e: &csv::Error, lines: &mut LineCounter) -> RowError {
    let line = lines.line_of(e.position());
    error(line, "", format!("CSVの形式が正しくありません: {e}"))
}

/// Finds the 1-based file line where a record starts, from the record's byte offset.
///
/// csv's own `Position::line` is not usable: with CRLF line ends it lags one line behind (the `\n` of
/// the previous CRLF is consumed as part of the next record), and it counts skipped blank lines as part
/// of the record that follows. The byte offset has the same quirk, so leading line breaks are skipped
/// before counting. Records arrive in order, so counting resumes where it stopped (linear overall).
struct LineCounter<'a> {
    text: &'a [u8],
    offset: usize,
    line: usize,
}

impl<'a> LineCounter<'a> {
    fn new(text: &'a str) -> Self {
        LineCounter {
            text: text.as_bytes(),
            offset: 0,
            line: 1,
        }
    }

    fn line_of(&mut self, position: Option<&csv::Position>) -> usize {
        let Some(byte) = position.and_then(|p| usize::try_from(p.byte()).ok()) else {
            return 0;
        };
        let byte = byte.min(self.text.len());
        let start = byte
            + self.text[byte..]
                .iter()
                .take_while(|b| matches!(b, b'\r' | b'\n'))
                .count();
        if start < self.offset {
            // Not expected (records come in order), but never count backwards.
            self.offset = 0;
            self.line = 1;
        }
        for i in self.offset..start {
            // CRLF, LF and a lone CR each end one line.
            match self.text[i] {
                b'\n' => self.line += 1,
                b'\r' if self.text.get(i + 1) != Some(&b'\n') => self.line += 1,
                _ => {}
            }
        }
        self.offset = start;
        self.line
    }
}

/// A record with only empty fields, as Excel writes for an empty row (`,,,,`).
fn is_blank(record: &StringRecord) -> bool {
    record.iter().all(|f| f.trim().is_empty())
}

fn allowed(columns: &[Column]) -> String {
    columns
        .iter()
        .map(|c| c.label)
        .collect::<Vec<_>>()
        .join("、")
}

/// Header comparison key: no BOM, no spaces (ASCII or 全角), full-width ASCII folded to half-width,
/// lowercase. So `IP アドレス`, `ＩＰアドレス` and `ip_address`/`IP_Address` all match.
fn normalize(name: &str) -> String {
    name.chars()
        .filter(|c| *c != '\u{FEFF}' && !c.is_whitespace())
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            _ => c,
        })
        .flat_map(char::to_lowercase)
        .collect()
}

/// Undoes the export's formula-injection guard: a leading apostrophe before a formula trigger is removed,
/// so that an exported file re-imports with the original values.
fn unescape_formula(value: &str) -> &str {
    match value.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@', '\t', '\r']) => rest,
        _ => value,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_keys_ignore_case_spaces_and_width() {
        assert_eq!(normalize(" IP アドレス "), normalize("IPアドレス"));
        assert_eq!(normalize("ＩＰアドレス"), normalize("IPアドレス"));
        assert_eq!(normalize("\u{FEFF}Host_Name"), "host_name");
        assert_eq!(normalize("ＯＳ"), "os");
    }

    #[test]
    fn only_escaped_triggers_lose_their_apostrophe() {
        assert_eq!(unescape_formula("'=1+1"), "=1+1");
        assert_eq!(unescape_formula("'-x"), "-x");
        assert_eq!(unescape_formula("'abc"), "'abc");
        assert_eq!(unescape_formula("abc"), "abc");
    }

    #[test]
    fn no_header_is_an_error_on_line_1() {
        let errors = parse_terminals("\n\n").err().unwrap_or_default();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].line, 1);
    }

    #[test]
    fn blank_lines_and_empty_rows_are_skipped_and_lines_counted() {
        let text = "hostname,site_code,kind\r\n\r\nh1,S1,business\r\n,,\r\nh2,S1,業務端末\r\n";
        let rows = parse_terminals(text).unwrap_or_default();
        let lines: Vec<usize> = rows.iter().map(|r| r.line).collect();
        assert_eq!(lines, vec![3, 5]);
    }

    #[test]
    fn line_numbers_for_lf_crlf_and_cr() {
        for eol in ["\n", "\r\n", "\r"] {
            let text = [
                "hostname,site_code,kind",
                "",
                "h1,S1,business",
                "",
                "",
                "h2,S1",
                "",
            ]
            .join(eol);
            let errors = parse_terminals(&text).err().unwrap_or_default();
            assert_eq!(errors.len(), 1, "{eol:?}");
            assert_eq!(errors[0].line, 6, "{eol:?}");
            let text = ["", "x,site_code,kind", "h1,S1,business"].join(eol);
            let errors = parse_terminals(&text).err().unwrap_or_default();
            assert_eq!(errors.len(), 2, "{eol:?}");
            assert_eq!(errors[0].line, 2, "{eol:?}");
        }
    }

    #[test]
    fn quoted_newlines_keep_line_numbers_honest() {
        let text =
            "hostname,site_code,kind,note\nh1,S1,business,\"two\nlines\"\nh2,S1,business,x,extra\n";
        let errors = parse_terminals(text).err().unwrap_or_default();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].line, 4);
        assert_eq!(errors[0].column, "");
    }

    #[test]
    fn empty_unnamed_columns_are_tolerated_but_not_values_in_them() {
        let ok = "hostname,site_code,kind,,\nh1,S1,business,,\n";
        assert_eq!(parse_terminals(ok).map(|r| r.len()).ok(), Some(1));
        let bad = "hostname,site_code,kind,\nh1,S1,business,oops\n";
        let errors = parse_terminals(bad).err().unwrap_or_default();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].line, 2);
    }

    #[test]
    fn duplicate_columns_are_refused() {
        let errors = parse_terminals("hostname,ホスト名,site_code,kind\n")
            .err()
            .unwrap_or_default();
        assert_eq!(errors.len(), 1);
        assert_eq!((errors[0].line, errors[0].column.as_str()), (1, "hostname"));
    }

    #[test]
    fn sites_and_nodes_read_by_label() {
        let sites = "拠点コード,拠点名,種別,所在地,電話番号,接続機器,備考\nKENCHO,県庁,本庁,佐賀市城内,0952-00-0000,FW-県庁,\n";
        let rows = parse_sites(sites).unwrap_or_default();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].data.input.code, "KENCHO");
        assert_eq!(rows[0].data.input.kind, "本庁");
        assert_eq!(rows[0].data.uplink_node, "FW-県庁");

        let nodes = "機器名,種別,拠点コード,IPアドレス,上位機器,備考\nFW-県庁,ファイアウォール,KENCHO,10.0.0.1,RT-中央,\n";
        let rows = parse_nodes(nodes).unwrap_or_default();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].data.input.name, "FW-県庁");
        assert_eq!(rows[0].data.site_code, "KENCHO");
        assert_eq!(rows[0].data.upstream, "RT-中央");
        assert_eq!(rows[0].data.input.ip_address, "10.0.0.1");

        let errors = parse_nodes("機器名,拠点コード\n").err().unwrap_or_default();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].column, "kind");
    }
}

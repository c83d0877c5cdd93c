//! End-to-end checks of the exchange formats: what Excel users produce and what they get.

use calamine::{Data, Reader, Xlsx, open_workbook_from_rs};
use std::io::Cursor;
use unyo_exchange::{
    ExchangeError, audit_csv, audit_xlsx, decode_text, nodes_csv, nodes_xlsx, parse_nodes,
    parse_sites, parse_terminals, sites_csv, sites_xlsx, terminals_csv, terminals_xlsx,
};
use unyo_store::audit::AuditEntry;
use unyo_store::registry::{ImportRow, NetworkNode, RowError, Site, Terminal, TerminalImport};

fn terminal(id: i64, hostname: &str) -> Terminal {
    Terminal {
        id,
        site_id: 1,
        site_code: "KENCHO".into(),
        site_name: "県庁".into(),
        hostname: hostname.into(),
        kind: "representative".into(),
        ip_address: Some("10.41.0.11".into()),
        os_name: "Windows 11 Enterprise".into(),
        os_version: "23H2 (22631.4317)".into(),
        serial_number: "SN-0001".into(),
        asset_number: "0012".into(),
        note: "本庁舎3階 情報政策課, \"予備\"\n2行目".into(),
        created_at: "2026-04-01T00:00:00.000000Z".into(),
        updated_at: "2026-05-01T00:05:00.000000Z".into(),
        retired_at: None,
    }
}

fn site() -> Site {
    Site {
        id: 1,
        code: "KENCHO".into(),
        name: "県庁".into(),
        kind: "honcho".into(),
        address: "佐賀市城内1-1-59".into(),
        phone: "0952-24-2111".into(),
        uplink_node_id: Some(2),
        uplink_node_name: Some("FW-県庁".into()),
        note: String::new(),
        terminal_count: 3,
        created_at: "2026-04-01T00:00:00.000000Z".into(),
        updated_at: "2026-04-30T15:30:00.000000Z".into(),
        retired_at: None,
    }
}

fn node() -> NetworkNode {
    NetworkNode {
        id: 2,
        name: "FW-県庁".into(),
        kind: "firewall".into(),
        site_id: Some(1),
        site_name: Some("県庁".into()),
        ip_address: Some("10.41.0.1".into()),
        upstream_id: Some(1),
        upstream_name: Some("RT-中央".into()),
        note: String::new(),
        created_at: "2026-04-01T00:00:00.000000Z".into(),
        updated_at: "2026-04-01T00:00:00.000000Z".into(),
        retired_at: Some("2026-04-02T00:00:00.000000Z".into()),
    }
}

fn audit_entry() -> AuditEntry {
    AuditEntry {
        id: 7,
        at: "2026-05-01T00:05:00.000000Z".into(),
        actor: "=HYPERLINK(\"http://x\")".into(),
        action: "login.failure".into(),
        entity: String::new(),
        entity_id: String::new(),
        details: "{\"reason\":\"password\"}".into(),
        source: "10.41.0.99".into(),
        prev_hash: "a".repeat(64),
        hash: "b".repeat(64),
    }
}

/// A comparable view of import rows (the store types do not implement `PartialEq`).
fn view(rows: &[ImportRow<TerminalImport>]) -> Vec<(usize, String, serde_json::Value)> {
    rows.iter()
        .map(|r| {
            (
                r.line,
                r.data.site_code.clone(),
                serde_json::to_value(&r.data.input).unwrap_or_default(),
            )
        })
        .collect()
}

fn errors_of<T>(result: Result<T, Vec<RowError>>) -> Vec<RowError> {
    result.err().expect("the file should be refused")
}

const JAPANESE_CSV: &str = "ホスト名,拠点コード,種別,IPアドレス,OS,OSバージョン,製造番号,備品番号,備考\r\n\
saga-kencho-01,KENCHO,代表端末,10.41.0.11,Windows 11 Enterprise,23H2,SN-1,0012,髙橋さん席①\r\n\
saga-kenzei-01,KENZEI,業務端末,,,,,,\r\n";

#[test]
fn cp932_and_utf8_bom_files_read_the_same() {
    let (sjis, _, had_errors) = encoding_rs::SHIFT_JIS.encode(JAPANESE_CSV);
    assert!(!had_errors, "the sample must be representable in CP932");
    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend_from_slice(JAPANESE_CSV.as_bytes());

    let from_sjis = parse_terminals(&decode_text(&sjis).expect("CP932 decodes")).expect("valid");
    let from_utf8 = parse_terminals(&decode_text(&bom).expect("UTF-8 decodes")).expect("valid");
    assert_eq!(view(&from_sjis), view(&from_utf8));
    assert_eq!(from_sjis.len(), 2);
    assert_eq!(from_sjis[0].line, 2);
    assert_eq!(from_sjis[0].data.site_code, "KENCHO");
    assert_eq!(from_sjis[0].data.input.kind, "代表端末");
    assert_eq!(from_sjis[0].data.input.note, "髙橋さん席①");
    assert_eq!(from_sjis[1].line, 3);
}

#[test]
fn code_headers_read_like_japanese_headers() {
    let codes = JAPANESE_CSV.replacen(
        "ホスト名,拠点コード,種別,IPアドレス,OS,OSバージョン,製造番号,備品番号,備考",
        " HostName ,SITE_CODE,kind,ip_address,os_name,os_version,serial_number,asset_number,Note",
        1,
    );
    let a = parse_terminals(JAPANESE_CSV).expect("labels");
    let b = parse_terminals(&codes).expect("codes");
    assert_eq!(view(&a), view(&b));
}

#[test]
fn unknown_and_missing_columns_are_reported_on_line_1() {
    let errors = errors_of(parse_terminals(
        "ホスト名,拠点コード,種別,色\r\nh1,S1,業務端末,赤\r\n",
    ));
    assert_eq!(errors.len(), 1);
    assert_eq!((errors[0].line, errors[0].column.as_str()), (1, "色"));
    assert!(errors[0].message.contains("色"), "{}", errors[0].message);

    let errors = errors_of(parse_terminals("ホスト名,種別\r\nh1,業務端末\r\n"));
    assert_eq!(errors.len(), 1);
    assert_eq!(
        (errors[0].line, errors[0].column.as_str()),
        (1, "site_code")
    );
}

#[test]
fn rows_with_the_wrong_field_count_are_reported_by_line() {
    let text = "hostname,site_code,kind\r\nh1,S1,business\r\n\r\nh2,S1\r\nh3,S1,business,extra\r\n";
    let errors = errors_of(parse_terminals(text));
    let lines: Vec<usize> = errors.iter().map(|e| e.line).collect();
    assert_eq!(lines, vec![4, 5]);
}

#[test]
fn terminals_round_trip_through_csv() {
    let mut second = terminal(2, "saga-kenzei-01");
    second.kind = "business".into();
    second.ip_address = None;
    second.note = "=cmd|' /C calc'!A0".into();
    second.os_name = "-2+3".into();
    second.retired_at = Some("2026-05-02T00:00:00.000000Z".into());
    let terminals = vec![terminal(1, "saga-kencho-01"), second];

    let bytes = terminals_csv(&terminals);
    let rows =
        parse_terminals(&decode_text(&bytes).expect("our own export decodes")).expect("re-imports");
    assert_eq!(rows.len(), terminals.len());
    for (row, t) in rows.iter().zip(&terminals) {
        assert_eq!(row.data.site_code, t.site_code);
        let expected = unyo_domain::registry::TerminalInput {
            site_id: Some(t.site_id),
            hostname: t.hostname.clone(),
            kind: t.kind.clone(),
            ip_address: t.ip_address.clone().unwrap_or_default(),
            os_name: t.os_name.clone(),
            os_version: t.os_version.clone(),
            serial_number: t.serial_number.clone(),
            asset_number: t.asset_number.clone(),
            note: t.note.clone(),
        };
        let mut imported = row.data.input.clone();
        imported.site_id = Some(t.site_id);
        // The file carries the Japanese kind label; validation maps both to the same draft.
        let draft = imported.validate().expect("the re-imported row is valid");
        assert_eq!(Ok(draft), expected.validate());
        assert_eq!(imported.note, t.note);
        assert_eq!(imported.os_name, t.os_name);
    }
    // Multi-line notes shift the second record's line.
    assert_eq!((rows[0].line, rows[1].line), (2, 4));
}

#[test]
fn sites_and_nodes_round_trip_through_csv() {
    let sites = vec![site()];
    let rows = parse_sites(&decode_text(&sites_csv(&sites)).expect("decodes")).expect("re-imports");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].data.uplink_node, "FW-県庁");
    assert_eq!(rows[0].data.input.kind, "本庁");
    assert_eq!(rows[0].data.input.phone, "0952-24-2111");
    assert!(rows[0].data.input.validate().is_ok());

    let nodes = vec![node()];
    let rows = parse_nodes(&decode_text(&nodes_csv(&nodes, &sites)).expect("decodes"))
        .expect("re-imports");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].data.site_code, "KENCHO");
    assert_eq!(rows[0].data.upstream, "RT-中央");
    assert_eq!(rows[0].data.input.kind, "ファイアウォール");
}

#[test]
fn csv_has_bom_crlf_japanese_headers_and_jst_times() {
    let bytes = terminals_csv(&[terminal(1, "saga-kencho-01")]);
    assert_eq!(&bytes[..3], b"\xEF\xBB\xBF");
    let text = String::from_utf8(bytes[3..].to_vec()).expect("UTF-8");
    assert!(text.starts_with(
        "ID,ホスト名,拠点コード,拠点名,種別,IPアドレス,OS,OSバージョン,製造番号,備品番号,備考,状態,更新日時\r\n"
    ));
    assert!(text.ends_with("\r\n"));
    // Every record ends in CRLF; the only bare LF is the one inside the quoted note.
    assert_eq!(text.matches('\n').count() - text.matches("\r\n").count(), 1);
    assert!(text.contains(",代表端末,"));
    assert!(text.contains(",稼働中,2026-05-01 09:05\r\n"));

    let sites = String::from_utf8_lossy(&sites_csv(&[site()])).into_owned();
    assert!(
        sites.contains(
            "拠点コード,拠点名,種別,所在地,電話番号,接続機器,端末数,備考,状態,更新日時\r\n"
        )
    );
    assert!(sites.contains(",本庁,"));
    assert!(sites.contains(",3,,稼働中,2026-05-01 00:30\r\n"));

    let nodes = String::from_utf8_lossy(&nodes_csv(&[node()], &[site()])).into_owned();
    assert!(nodes.contains(",ファイアウォール,KENCHO,県庁,10.41.0.1,RT-中央,,廃止,"));
}

#[test]
fn formula_injection_is_escaped_in_csv() {
    let mut t = terminal(1, "saga-kencho-01");
    t.note = "=1+1".into();
    t.os_name = "-cmd".into();
    t.os_version = "@SUM(A1)".into();
    t.serial_number = "+81".into();
    t.asset_number = "\tTAB".into();
    let text = String::from_utf8(terminals_csv(&[t])).expect("UTF-8");
    for escaped in ["'=1+1", "'-cmd", "'@SUM(A1)", "'+81", "'\tTAB"] {
        assert!(text.contains(escaped), "{escaped:?} missing in {text}");
    }

    let audit = String::from_utf8(audit_csv(&[audit_entry()])).expect("UTF-8");
    assert!(audit.starts_with(
        "\u{FEFF}番号,日時,利用者,操作,対象,対象ID,詳細,接続元,前ハッシュ,ハッシュ\r\n"
    ));
    assert!(
        audit.contains("7,2026-05-01 09:05,\"'=HYPERLINK(\"\"http://x\"\")\",login.failure,,,")
    );
    assert!(audit.contains("\"{\"\"reason\"\":\"\"password\"\"}\""));
}

/// What a test needs of a workbook: sheet names, the first sheet's cells as text, defined names.
struct Book {
    names: Vec<String>,
    cells: Vec<Vec<String>>,
    defined: Vec<(String, String)>,
}

/// Opens an XLSX from memory.
fn read_xlsx(bytes: Vec<u8>) -> Book {
    let mut workbook: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes)).expect("a valid XLSX");
    let names = workbook.sheet_names();
    let defined = workbook.defined_names().to_vec();
    let range = workbook.worksheet_range(&names[0]).expect("the sheet");
    let cells = range
        .rows()
        .map(|row| {
            row.iter()
                .map(|cell| match cell {
                    Data::String(s) => s.clone(),
                    Data::Float(f) => f.to_string(),
                    Data::Int(i) => i.to_string(),
                    Data::Empty => String::new(),
                    other => format!("{other:?}"),
                })
                .collect()
        })
        .collect();
    Book {
        names,
        cells,
        defined,
    }
}

#[test]
fn xlsx_exports_read_back() {
    let mut t = terminal(1, "saga-kencho-01");
    t.note = "=1+1".into();
    let Book {
        names,
        cells,
        defined,
    } = read_xlsx(terminals_xlsx(&[t]).expect("writes"));
    assert_eq!(names, vec!["端末台帳".to_string()]);
    assert_eq!(cells[0][..3], ["ID", "ホスト名", "拠点コード"]);
    assert_eq!(cells[0].last().map(String::as_str), Some("更新日時"));
    assert_eq!(
        cells[1][..5],
        ["1", "saga-kencho-01", "KENCHO", "県庁", "代表端末"]
    );
    // No formula guard in XLSX: values are strings, shown as stored.
    assert_eq!(cells[1][10], "=1+1");
    assert_eq!(cells[1][9], "0012");
    assert_eq!(cells[1][12], "2026-05-01 09:05");
    // Printed header rows and the autofilter are defined names.
    assert!(
        defined
            .iter()
            .any(|(n, v)| n == "_xlnm.Print_Titles" && v.contains("$1:$1")),
        "{defined:?}"
    );
    assert!(
        defined.iter().any(|(n, _)| n == "_xlnm._FilterDatabase"),
        "{defined:?}"
    );

    let Book { names, cells, .. } = read_xlsx(sites_xlsx(&[site()]).expect("writes"));
    assert_eq!(names, vec!["拠点台帳".to_string()]);
    assert_eq!(cells[0][1], "拠点コード");
    assert_eq!(cells[1][1..4], ["KENCHO", "県庁", "本庁"]);
    assert_eq!(cells[1][7], "3");

    let Book { names, cells, .. } = read_xlsx(nodes_xlsx(&[node()], &[site()]).expect("writes"));
    assert_eq!(names, vec!["ネットワーク機器台帳".to_string()]);
    assert_eq!(cells[0][1], "機器名");
    assert_eq!(
        cells[1][1..5],
        ["FW-県庁", "ファイアウォール", "KENCHO", "県庁"]
    );
    assert_eq!(cells[1][8], "廃止");

    let Book { names, cells, .. } = read_xlsx(audit_xlsx(&[audit_entry()]).expect("writes"));
    assert_eq!(names, vec!["監査ログ".to_string()]);
    assert_eq!(
        cells[0],
        [
            "番号",
            "日時",
            "利用者",
            "操作",
            "対象",
            "対象ID",
            "詳細",
            "接続元",
            "前ハッシュ",
            "ハッシュ"
        ]
    );
    assert_eq!(
        cells[1][..4],
        [
            "7",
            "2026-05-01 09:05",
            "=HYPERLINK(\"http://x\")",
            "login.failure"
        ]
    );
    assert_eq!(cells[1][9], "b".repeat(64));
}

#[test]
fn empty_exports_are_valid() {
    let Book { cells, .. } = read_xlsx(terminals_xlsx(&[]).expect("writes"));
    assert_eq!(cells.len(), 1);
    let csv = terminals_csv(&[]);
    let rows = parse_terminals(&decode_text(&csv).expect("decodes")).expect("header only is fine");
    assert!(rows.is_empty());
}

#[test]
fn undecodable_upload_gets_the_japanese_message() {
    let err = decode_text(&[0x82, 0xFF, 0x00]).expect_err("not text");
    assert!(matches!(err, ExchangeError::UnknownEncoding));
    assert_eq!(
        err.to_string(),
        "文字コードを判別できません。UTF-8 または Shift_JIS(CP932) で保存してください。"
    );
}

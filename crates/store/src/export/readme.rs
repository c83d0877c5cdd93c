//! The export's `README.txt` (Japanese), its JSON Schemas and the audit verification text.
//!
//! Tables and columns are described from a table of known ones; a table or column added later gets a
//! generic line naming its type, so the README always covers every file.

use super::{AuditChainResult, Kind, Manifest, TableInfo};
use serde_json::{Value, json};

/// Known tables: name and what they hold.
const TABLES: &[(&str, &str)] = &[
    (
        "users",
        "利用者（アカウント）。パスワードは Argon2id のハッシュのみ",
    ),
    ("sessions", "ログイン中のセッション（識別子はハッシュのみ）"),
    ("api_tokens", "API トークン（トークンはハッシュのみ）"),
    (
        "audit_log",
        "監査ログ（ハッシュ連鎖。audit_verification.txt に検証結果）",
    ),
    ("meta", "システムの設定値"),
    ("sites", "拠点台帳"),
    ("terminals", "端末台帳"),
    ("network_nodes", "ネットワーク機器台帳"),
    (
        "registry_version",
        "台帳の変更番号（一覧の索引の更新判定用）",
    ),
    ("contracts", "契約"),
    ("contract_staff", "契約の従事者"),
    (
        "contract_approval_steps",
        "契約ごとの業務実績簿の確認欄（承認経路）",
    ),
    ("requests", "支援要請"),
    ("request_sites", "支援要請の対象拠点"),
    ("request_terminals", "支援要請の対象端末"),
    ("request_events", "支援要請の経過"),
    ("work_entries", "作業記録"),
    ("work_workers", "作業記録の作業者"),
    ("work_terminals", "作業記録の対象端末"),
    ("consultations", "協議記録"),
    ("consultation_requests", "協議記録と支援要請の関連"),
    (
        "attachments",
        "証跡ファイル（内容は files/attachments/ に保存）",
    ),
    ("incidents", "障害"),
    ("incident_sites", "障害の影響拠点"),
    ("incident_terminals", "障害の影響端末"),
    ("incident_nodes", "障害の影響機器"),
    (
        "incident_entries",
        "障害の経過（調査・回避策・復旧・立会い）",
    ),
    ("incident_work", "障害と作業記録の関連"),
    ("known_errors", "既知の障害"),
    ("known_error_incidents", "既知の障害と障害の関連"),
    (
        "agent_credentials",
        "インベントリエージェントの認証情報（パスワードはハッシュのみ）",
    ),
    ("inventory_agents", "インベントリエージェント"),
    (
        "inventories",
        "端末インベントリ（OS・ソフトウェア・ウイルス対策）",
    ),
    ("inventory_review", "照合待ちのインベントリ"),
    ("campaigns", "展開（パッチ・定義ファイル等の適用）"),
    ("campaign_targets", "展開の対象端末と実施結果"),
    ("monthly_records", "業務実績簿（月次）"),
    (
        "monthly_record_versions",
        "業務実績簿の凍結版（PDF・XLSX は files/ に保存、SHA-256 付き）",
    ),
    ("monthly_record_approvals", "業務実績簿の確認欄の記録"),
    ("connectivity_checks", "疎通確認の監視対象"),
    ("check_results", "疎通確認の結果"),
    ("check_rollups", "疎通確認の集計"),
    ("check_events", "疎通確認の状態変化"),
    ("check_result_log", "疎通確認の結果（まとめて保存した形式）"),
    (
        "check_segments",
        "疎通確認の結果（1時間ごとにまとめた形式）",
    ),
    ("check_hourly", "疎通確認の1時間集計"),
    ("check_daily", "疎通確認の日次集計"),
    ("check_last", "疎通確認の最新結果"),
    (
        "check_sheets",
        "疎通確認結果表（XLSX は files/check_sheets/ に保存）",
    ),
    ("maintenance_windows", "保守時間帯"),
    ("notification_channels", "通知先"),
    ("notification_attempts", "通知の送信記録"),
    (
        "notification_deliveries",
        "通知の送信権（事象と通知先ごとに一度だけ送る）",
    ),
    (
        "cluster_instances",
        "稼働中・停止済みの unyo インスタンスと死活確認の時刻",
    ),
    (
        "cluster_leases",
        "インスタンス間の担当（疎通確認の区分と単独実行の処理）とフェンシング番号",
    ),
    ("erasures", "消去記録（消去証明書の元になる記録）"),
];

/// Known columns, by name in any table.
const COLUMNS: &[(&str, &str)] = &[
    ("id", "識別番号（表の中で一意）"),
    ("created_at", "登録日時（UTC、ISO 8601）"),
    ("updated_at", "更新日時（UTC、ISO 8601）"),
    ("created_by", "登録者のログイン名"),
    ("created_by_id", "登録者の利用者ID（users.id）"),
    ("name", "名称"),
    ("kind", "種別"),
    ("status", "状態"),
    ("title", "件名"),
    ("note", "備考"),
    ("description", "説明"),
    ("reason", "理由"),
    ("number", "番号"),
    ("version", "版"),
    ("seq", "順序"),
    ("site_id", "拠点ID（sites.id）"),
    ("terminal_id", "端末ID（terminals.id）"),
    ("node_id", "機器ID（network_nodes.id）"),
    ("user_id", "利用者ID（users.id）"),
    ("request_id", "支援要請ID（requests.id）"),
    ("work_id", "作業記録ID（work_entries.id）"),
    ("incident_id", "障害ID（incidents.id）"),
    ("contract_id", "契約ID（contracts.id）"),
    ("check_id", "疎通確認ID（connectivity_checks.id）"),
    ("record_id", "業務実績簿ID（monthly_records.id）"),
    ("campaign_id", "展開ID（campaigns.id）"),
    ("retired_at", "廃止日時（空欄は現役）"),
    ("retire_reason", "廃止の理由"),
    ("closed_at", "終了日時"),
    ("fiscal_year", "年度（西暦の開始年）"),
    ("at", "日時（UTC、ISO 8601）"),
    ("ts", "時刻（UNIX 時刻）"),
    ("bucket", "集計の区切り（UNIX 時刻）"),
    ("actor", "操作した人のログイン名"),
    ("action", "操作の種類"),
    ("entity", "対象の種類"),
    ("entity_id", "対象のID"),
    ("details", "詳細（JSON）"),
    ("source", "操作元（アドレスまたは cli）"),
    ("prev_hash", "直前の監査記録のハッシュ"),
    ("hash", "この監査記録のハッシュ（SHA-256）"),
    ("sha256", "内容の SHA-256"),
    ("size", "大きさ（バイト）"),
    ("filename", "ファイル名"),
    ("content_type", "ファイルの種類"),
    ("data", "内容（files/ のファイル）"),
    ("pdf", "凍結した PDF（files/ のファイル）"),
    ("xlsx", "凍結した XLSX（files/ のファイル）"),
    ("password_hash", "パスワードの Argon2id ハッシュ"),
    ("username", "ログイン名"),
    ("display_name", "表示名"),
    ("role", "役割（admin・staff・se・auditor）"),
    ("code", "コード"),
    ("hostname", "ホスト名"),
    ("ip_address", "IP アドレス"),
    ("address", "所在地"),
    ("stage", "段階"),
    ("up", "正常の件数"),
    ("down", "異常の件数"),
    ("degraded", "低下の件数"),
    ("unknown", "不明の件数"),
    ("maintenance", "保守中の件数"),
    ("impacted", "影響ありの件数"),
    ("latency_sum", "応答時間の合計（ミリ秒）"),
    ("latency_n", "応答時間の件数"),
    ("latency_max", "応答時間の最大（ミリ秒）"),
];

fn table_description(name: &str) -> String {
    TABLES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, d)| d.to_string())
        .unwrap_or_else(|| {
            "（この版の説明表にない表です。列の型と NULL の可否は下記のとおり）".into()
        })
}

fn kind_label(kind: &Kind) -> String {
    match kind {
        Kind::Integer => "整数".into(),
        Kind::Real => "実数".into(),
        Kind::Boolean => "真偽値（true/false）".into(),
        Kind::Text => "文字列".into(),
        Kind::Blob => "バイナリ（files/ のファイル）".into(),
        Kind::Other(t) => format!("{t}（文字列で表記）"),
    }
}

fn column_description(name: &str) -> String {
    COLUMNS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, d)| d.to_string())
        .unwrap_or_else(|| "（説明表にない列です。型と NULL の可否を参照）".into())
}

/// The JSON Schema (2020-12) of one JSONL row of `t`.
pub(super) fn json_schema(t: &TableInfo) -> Value {
    let mut props = serde_json::Map::new();
    for c in &t.columns {
        let base = match &c.kind {
            Kind::Integer => json!({"type": "integer"}),
            Kind::Real => json!({"type": "number"}),
            Kind::Boolean => json!({"type": "boolean"}),
            Kind::Text | Kind::Other(_) => json!({"type": "string"}),
            Kind::Blob => json!({
                "type": "object",
                "required": ["file", "size", "sha256"],
                "additionalProperties": false,
                "properties": {
                    "file": {"type": "string", "description": "エクスポートのフォルダからの相対パス"},
                    "size": {"type": "integer", "minimum": 0},
                    "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"}
                }
            }),
        };
        let mut schema = if c.nullable {
            json!({"anyOf": [base, {"type": "null"}]})
        } else {
            base
        };
        if let Value::Object(m) = &mut schema {
            m.insert("description".into(), column_description(&c.name).into());
            m.insert("x-database-type".into(), c.declared.clone().into());
        }
        props.insert(c.name.clone(), schema);
    }
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": t.name,
        "description": table_description(&t.name),
        "type": "object",
        "additionalProperties": false,
        "required": t.columns.iter().map(|c| c.name.clone()).collect::<Vec<_>>(),
        "properties": props,
        "x-primary-key": t.primary_key,
    })
}

/// `audit_verification.txt`.
pub(super) fn audit_verification_text(r: &AuditChainResult) -> String {
    if r.intact {
        format!(
            "監査ログのハッシュ連鎖の検証結果: 正常\r\n検証した記録: {} 件\r\n最後の記録のハッシュ: {}\r\n",
            r.entries,
            r.head.as_deref().unwrap_or("")
        )
    } else {
        format!(
            "監査ログのハッシュ連鎖の検証結果: 異常\r\n正常だった記録: {} 件\r\n最初の異常: {}\r\n",
            r.entries,
            r.broken.as_deref().unwrap_or("")
        )
    }
}

/// `README.txt`: what each file holds and what each column means (CRLF, for Windows Notepad).
pub(super) fn readme(m: &Manifest) -> String {
    let mut s = String::new();
    let mut line = |l: &str| {
        s.push_str(l);
        s.push_str("\r\n");
    };
    line("unyo 全データのエクスポート");
    line("==============================");
    line("");
    line(&format!("作成日時（UTC）: {}", m.created_at));
    line(&format!(
        "元のデータベース: {}（スキーマ版 {}）",
        m.backend, m.schema_version
    ));
    line(&format!(
        "表の数: {}　ファイルとして保存したバイナリ: {} 件",
        m.tables.len(),
        m.files
    ));
    line("");
    line("このフォルダは、ある一時点の全データ（一つのスナップショット）です。");
    line("業務の引継ぎ・移行のための汎用形式で、次のファイルからなります。");
    line("");
    line("■ ファイル");
    line("- SHA256SUMS: このフォルダのほかの全ファイルの SHA-256（sha256sum -c で検証できます）。");
    line("  このファイル自身の SHA-256 が、引渡し時に記録するエクスポートの識別値です。");
    line("- manifest.json: 表・列・行数・各表の内容の SHA-256・監査ログの検証結果（機械可読）。");
    line("- README.txt: この説明。");
    line("- audit_verification.txt: 監査ログのハッシュ連鎖をエクスポートした記録で検証した結果。");
    line("- tables/<表>.csv: 表の内容。UTF-8（BOM 付き）、改行 CRLF、1行目は列名。");
    line(
        "- tables/<表>.jsonl: 同じ内容を1行1レコードの JSON で。取込（unyo import-export）はこちらを読みます。",
    );
    line("- schema/<表>.schema.json: JSONL の1行の JSON Schema（2020-12）。");
    line("- files/<表>/<キー>.<列>.<拡張子>: 証跡ファイル・凍結した帳票などのバイナリ。");
    line(
        "  JSONL では {\"file\": パス, \"size\": バイト数, \"sha256\": ハッシュ}、CSV ではパスで参照します。",
    );
    line("");
    line("■ 値の扱い（大切）");
    line("- 値は保存されているとおりに書き出しています。引継ぎのためのファイルなので、");
    line("  Excel の数式の実行を防ぐための先頭のアポストロフィ等の加工は一切していません。");
    line(
        "  CSV を Excel で開くときは「データ」→「テキストまたは CSV から」で、全列を文字列として読み込んでください",
    );
    line("  （「=」で始まる値を数式として実行させないため、また先頭の 0 を失わないため）。");
    line(
        "- CSV では NULL（値なし）と空の文字列がどちらも空欄になります。区別が必要なときは JSONL を使ってください。",
    );
    line("- 日時は UTC の ISO 8601 形式です（画面では日本時間・和暦で表示しています）。");
    line(
        "- パスワード・セッション・API トークン等の秘密は、元からハッシュでのみ保存しており、平文は含みません。",
    );
    line(
        "  それでも利用者名・作業記録等を含むため、このフォルダは機密情報として扱い、不要になったら消去してください。",
    );
    line("");
    line("■ 監査ログ");
    line(&format!(
        "- 検証結果: {}（{} 件）",
        if m.audit_chain.intact {
            "正常"
        } else {
            "異常"
        },
        m.audit_chain.entries
    ));
    line("");
    line("■ 表と列");
    for t in &m.tables {
        line("");
        line(&format!(
            "● {}（{} 行）: {}",
            t.name,
            t.rows,
            table_description(&t.name)
        ));
        line(&format!(
            "  ファイル: tables/{0}.csv, tables/{0}.jsonl, schema/{0}.schema.json",
            t.name
        ));
        if !t.primary_key.is_empty() {
            line(&format!(
                "  主キー: {}（この順に並べています）",
                t.primary_key.join(", ")
            ));
        }
        for c in &t.columns {
            line(&format!(
                "  - {}: {}。型: {}{}",
                c.name,
                column_description(&c.name),
                kind_label(&c.kind),
                if c.nullable { "、NULL 可" } else { "" }
            ));
        }
    }
    s
}

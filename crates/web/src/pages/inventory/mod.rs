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

/// UI words of this area: (key, 日本語, English).
pub const TEXT: &[(&str, &str, &str)] = &[
    ("nav.inventory", "インベントリ", "Inventory"),
    ("inventory.title", "端末インベントリ", "Terminal inventory"),
    ("inventory.review", "照合待ち", "Review queue"),
    ("inventory.upload", "ファイル取込", "Upload"),
    (
        "inventory.agents",
        "エージェント認証情報",
        "Agent credentials",
    ),
    ("inventory.hostname", "ホスト名", "Host name"),
    ("inventory.site", "拠点", "Site"),
    ("inventory.os", "OS", "OS"),
    ("inventory.os_build", "ビルド", "Build"),
    ("inventory.os_name", "OS名", "OS name"),
    ("inventory.os_version", "OSバージョン", "OS version"),
    ("inventory.os_arch", "アーキテクチャ", "Architecture"),
    ("inventory.os_sp", "サービスパック", "Service pack"),
    ("inventory.antivirus", "ウイルス対策", "Antivirus"),
    ("inventory.software", "ソフトウェア", "Software"),
    ("inventory.software_count", "ソフトウェア数", "Software"),
    ("inventory.last_received", "最終受信", "Last received"),
    (
        "inventory.collected_at",
        "収集日時（端末の時計）",
        "Collected (terminal clock)",
    ),
    ("inventory.received_at", "受信日時", "Received"),
    ("inventory.source", "受信方法", "Source"),
    ("inventory.received_by", "送信者", "Sent by"),
    ("inventory.matched_by", "照合方法", "Matched by"),
    ("inventory.format", "形式", "Format"),
    ("inventory.stale", "古い", "Stale"),
    ("inventory.never", "未受信", "Never received"),
    ("inventory.name", "名称", "Name"),
    ("inventory.version", "バージョン", "Version"),
    ("inventory.publisher", "発行元", "Publisher"),
    ("inventory.install_date", "インストール日", "Installed"),
    ("inventory.av_product", "製品", "Product"),
    ("inventory.av_company", "提供元", "Vendor"),
    ("inventory.av_engine", "エンジン", "Engine"),
    ("inventory.av_defs", "定義バージョン", "Definitions"),
    ("inventory.av_defs_date", "定義日付", "Definitions date"),
    (
        "inventory.av_enabled",
        "リアルタイム保護",
        "Real-time protection",
    ),
    ("inventory.av_uptodate", "定義の状態", "Definitions state"),
    ("inventory.identity", "機器の識別情報", "Machine identity"),
    ("inventory.uuid", "UUID", "UUID"),
    ("inventory.serial", "製造番号", "Serial number"),
    (
        "inventory.device_id",
        "エージェントのデバイスID",
        "Agent device id",
    ),
    (
        "inventory.domain",
        "ドメイン／ワークグループ",
        "Domain / workgroup",
    ),
    ("inventory.ip", "IPアドレス", "IP addresses"),
    ("inventory.mac", "MACアドレス", "MAC addresses"),
    (
        "inventory.history",
        "受信履歴と変更点",
        "History and changes",
    ),
    (
        "inventory.changes",
        "前回からの変更",
        "Changes since the previous one",
    ),
    ("inventory.no_changes", "変更なし", "No change"),
    (
        "inventory.first",
        "最初の受信（比較対象なし）",
        "First received (nothing to compare)",
    ),
    ("inventory.added", "追加", "Added"),
    ("inventory.removed", "削除", "Removed"),
    ("inventory.upgraded", "更新", "Upgraded"),
    ("inventory.downgraded", "旧版へ変更", "Downgraded"),
    ("inventory.changed", "変更（新旧不明）", "Changed"),
    (
        "inventory.av_added",
        "ウイルス対策の追加",
        "Antivirus added",
    ),
    (
        "inventory.av_removed",
        "ウイルス対策の削除",
        "Antivirus removed",
    ),
    (
        "inventory.none_yet",
        "この端末のインベントリはまだ受信していません。",
        "No inventory has been received for this terminal yet.",
    ),
    (
        "inventory.none_terminals",
        "稼働中の端末が登録されていません。",
        "No terminals in service are registered.",
    ),
    (
        "inventory.filter_q",
        "ソフトウェア名で絞り込み",
        "Filter software by name",
    ),
    ("inventory.show_all", "すべて表示", "Show all"),
    (
        "inventory.stale_days",
        "古いとみなす日数",
        "Days until stale",
    ),
    ("inventory.show", "表示", "Show"),
    ("inventory.show_every", "すべての端末", "All terminals"),
    (
        "inventory.show_stale",
        "古い・未受信の端末のみ",
        "Stale or never received only",
    ),
    (
        "inventory.registry_link",
        "台帳の端末情報",
        "Terminal in the registry",
    ),
    (
        "inventory.matching_ids",
        "照合に使う識別情報（紐付け時に記録）",
        "Identity used for matching (recorded when linked)",
    ),
    ("inventory.candidates", "候補の端末", "Candidate terminals"),
    ("inventory.reason", "理由", "Reason"),
    (
        "inventory.reason_unknown",
        "該当する端末がありません",
        "No terminal matches",
    ),
    (
        "inventory.reason_ambiguous",
        "複数の端末が該当します",
        "Several terminals match",
    ),
    (
        "inventory.link",
        "この端末に紐付け",
        "Link to this terminal",
    ),
    (
        "inventory.link_other",
        "端末を選んで紐付け",
        "Link to a terminal",
    ),
    ("inventory.link_submit", "紐付ける", "Link"),
    (
        "inventory.register",
        "この内容で端末を登録",
        "Register a terminal from it",
    ),
    (
        "inventory.queue_empty",
        "照合待ちのインベントリはありません。",
        "Nothing waits for review.",
    ),
    (
        "inventory.linked",
        "インベントリを端末に紐付けました。",
        "The inventory was linked.",
    ),
    (
        "inventory.registered",
        "インベントリから端末を登録しました。",
        "The terminal was registered from the inventory.",
    ),
    (
        "inventory.refused",
        "操作できませんでした。",
        "The request was refused.",
    ),
    ("inventory.kind", "種別", "Kind"),
    ("inventory.choose", "選択してください", "Choose"),
    (
        "inventory.rule_title",
        "端末との照合のしかた",
        "How inventories are matched to terminals",
    ),
    (
        "inventory.rule_1",
        "UUID：インベントリのUUID（全桁0などの既定値は除く）が端末に記録されたUUIDと一致する。UUIDで一致しなければ、エージェントのデバイスIDが端末に記録されたものと一致する。UUIDとデバイスIDは、照合待ちから人が紐付けた（または登録した）ときに端末に記録されます。",
        "UUID: the inventory's UUID (placeholders such as all zeros ignored) equals the UUID recorded on the terminal; else the agent's device id equals the one recorded. Both are recorded on the terminal when a person links (or registers) it here.",
    ),
    (
        "inventory.rule_2",
        "製造番号：インベントリの製造番号（「To be filled by O.E.M.」などの既定値は除く）が台帳の製造番号と一致する（大文字小文字・前後の空白は区別しない）。",
        "Serial: the inventory's serial number (placeholders ignored) equals the terminal's serial number in the registry (case and surrounding spaces ignored).",
    ),
    (
        "inventory.rule_3",
        "ホスト名：最初の「.」より前の部分が、大文字小文字を区別せず台帳のホスト名と一致する。",
        "Host name: the part before the first dot equals the terminal's host name, case-insensitively.",
    ),
    (
        "inventory.rule_note",
        "上から順に調べ、最初に候補が見つかった規則で1台に決まれば紐付けます。2台以上なら候補付きで、どれにも該当しなければ候補なしで、ここで照合待ちになります。稼働中の端末だけが対象で、別の機器のUUIDが記録された端末は製造番号・ホスト名では紐付けません。同じ機器の新しいインベントリが届くと古い照合待ちは置き換わり、紐付けると同じ機器の未照合のインベントリもまとめて紐付きます。",
        "The rules are tried in order; the first one that finds any terminal decides: one terminal is a match, several wait here with them as candidates, none waits here without candidates. Only terminals in service are considered, and a terminal bound to another machine's UUID is never matched by serial or host name. A newer inventory of a waiting machine replaces the older one here; linking attaches every unmatched inventory of the same machine.",
    ),
    (
        "inventory.upload_files",
        "インベントリファイル",
        "Inventory files",
    ),
    (
        "inventory.upload_help",
        "FusionInventory／OCS の XML、または GLPI-agent の JSON（圧縮なし・zlib・gzip）を取り込みます。複数のファイルを選べます（1ファイル16 MiBまで）。取り込んだインベントリは端末と照合され、照合できないものは照合待ちになります。",
        "FusionInventory/OCS XML or GLPI-agent JSON (plain, zlib or gzip). Several files may be chosen (16 MiB each). Each is matched to a terminal; the ones that cannot be wait in the review queue.",
    ),
    ("inventory.upload_submit", "取り込む", "Import"),
    ("inventory.file", "ファイル", "File"),
    ("inventory.result", "結果", "Result"),
    (
        "inventory.no_file",
        "ファイルを選択してください。",
        "Choose a file.",
    ),
    (
        "inventory.agent_name",
        "名前（用途・拠点など）",
        "Name (purpose, site…)",
    ),
    ("inventory.agent_user", "ユーザー名", "User name"),
    ("inventory.agent_password", "パスワード", "Password"),
    (
        "inventory.agent_create",
        "認証情報を発行",
        "Create a credential",
    ),
    ("inventory.agent_revoke", "失効させる", "Revoke"),
    ("inventory.agent_revoked", "失効", "Revoked"),
    ("inventory.agent_valid", "有効", "Valid"),
    ("inventory.agent_last_used", "最終利用", "Last used"),
    ("inventory.agent_created", "発行", "Created"),
    (
        "inventory.agent_once",
        "パスワードはこの画面で一度だけ表示します。エージェントの設定に入力してから画面を閉じてください。",
        "The password is shown only this once. Put it into the agent's configuration before leaving this page.",
    ),
    (
        "inventory.agent_command",
        "エージェントの起動例",
        "Agent command line",
    ),
    (
        "inventory.agent_help",
        "FusionInventory エージェントは HTTP Basic 認証で送信します。エージェントごと（または拠点ごと）に認証情報を発行し、不要になったら失効させてください。誤った認証情報での送信は監査ログ（agent.auth_failure）に記録されます。",
        "FusionInventory agents authenticate with HTTP Basic. Create a credential per agent (or per site) and revoke it when no longer needed. Refused attempts are written to the audit log (agent.auth_failure).",
    ),
    (
        "inventory.agent_none",
        "認証情報はまだありません。",
        "No credentials yet.",
    ),
    (
        "inventory.agent_revoked_done",
        "認証情報を失効させました。",
        "The credential was revoked.",
    ),
    ("inventory.unknown", "不明", "Unknown"),
    (
        "inventory.summary_terminals",
        "稼働中の端末",
        "Terminals in service",
    ),
    ("inventory.summary_received", "受信済み", "Reported"),
    ("inventory.summary_stale", "古い", "Stale"),
    ("inventory.summary_never", "未受信", "Never received"),
    ("inventory.summary_review", "照合待ち", "Waiting for review"),
];

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

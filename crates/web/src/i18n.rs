//! The UI's words in Japanese (default) and English. Templates call `tr.t("key")`; a test checks that every
//! key used in a template exists here.

use std::collections::HashMap;
use std::sync::OnceLock;

/// The interface language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    /// 日本語 (default).
    #[default]
    Ja,
    /// English.
    En,
}

impl Lang {
    /// From the `unyo_lang` cookie value.
    pub fn from_code(s: &str) -> Lang {
        if s == "en" { Lang::En } else { Lang::Ja }
    }

    /// The code used in the cookie and `<html lang>`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Ja => "ja",
            Lang::En => "en",
        }
    }
}

/// A translator for one request.
#[derive(Debug, Clone, Copy, Default)]
pub struct Tr {
    /// The language in use.
    pub lang: Lang,
}

impl Tr {
    /// The text for `key` in this language (the key itself if missing, which a test prevents).
    pub fn t(&self, key: &str) -> &'static str {
        let table = TABLE.get_or_init(|| {
            CATALOGS
                .iter()
                .flat_map(|c| c.iter())
                .map(|(k, ja, en)| (*k, (*ja, *en)))
                .collect()
        });
        match table.get(key) {
            Some((ja, en)) => match self.lang {
                Lang::Ja => ja,
                Lang::En => en,
            },
            None => "??",
        }
    }

    /// The language code.
    pub fn code(&self) -> &'static str {
        self.lang.code()
    }

    /// Whether the language is Japanese.
    pub fn is_ja(&self) -> bool {
        self.lang == Lang::Ja
    }

    /// A label pair chosen by language.
    pub fn pick<'a>(&self, ja: &'a str, en: &'a str) -> &'a str {
        match self.lang {
            Lang::Ja => ja,
            Lang::En => en,
        }
    }
}

static TABLE: OnceLock<HashMap<&'static str, (&'static str, &'static str)>> = OnceLock::new();

mod account;
mod audit;
mod campaigns;
mod channels;
mod connectivity;
mod incidents;
mod inventory;
mod maintenance;
mod records;
mod registry;
mod requests;
mod users;
mod vulns;
mod work;

/// Every catalogue: the shared one here, and each page area's own words (in `i18n/`, one file an area;
/// pages read their words through [`Tr`], never the catalogue through a page).
pub const CATALOGS: &[&[(&str, &str, &str)]] = &[
    CATALOG,
    registry::TEXT,
    audit::TEXT,
    account::TEXT,
    users::TEXT,
    requests::TEXT,
    work::TEXT,
    campaigns::TEXT,
    incidents::TEXT,
    inventory::TEXT,
    connectivity::TEXT,
    maintenance::TEXT,
    channels::TEXT,
    records::TEXT,
    vulns::TEXT,
];

/// (key, 日本語, English)
pub const CATALOG: &[(&str, &str, &str)] = &[
    (
        "app.name",
        "unyo 住基ネット運用支援",
        "unyo Juki-Net operations",
    ),
    ("app.skip", "本文へ移動", "Skip to content"),
    ("nav.home", "ホーム", "Home"),
    ("nav.requests", "支援要請", "Requests"),
    ("nav.work", "作業記録", "Work log"),
    ("nav.calendar", "予定・実績", "Calendar"),
    ("nav.workload", "作業集計", "Workload"),
    ("nav.consultations", "協議記録", "Consultations"),
    ("nav.incidents", "障害対応", "Incidents"),
    ("nav.known_errors", "既知の障害", "Known errors"),
    ("nav.contracts", "契約", "Contracts"),
    ("nav.sites", "拠点", "Sites"),
    ("nav.terminals", "端末", "Terminals"),
    ("nav.nodes", "ネットワーク機器", "Network nodes"),
    ("nav.network", "集約ネットワーク", "Network map"),
    ("nav.import", "台帳取込", "Import"),
    ("nav.audit", "監査ログ", "Audit log"),
    ("nav.users", "利用者管理", "Users"),
    ("nav.account", "アカウント", "Account"),
    ("nav.logout", "ログアウト", "Log out"),
    ("nav.main", "メインメニュー", "Main menu"),
    ("nav.sub", "この分野のページ", "Pages of this area"),
    ("nav.menu", "メニュー", "Menu"),
    ("nav.g.work", "依頼と作業", "Requests and work"),
    ("nav.g.incidents", "障害", "Incidents"),
    ("nav.g.terminals", "端末と展開", "Terminals and rollouts"),
    ("nav.g.connectivity", "疎通確認", "Connectivity"),
    ("nav.g.documents", "帳票", "Documents"),
    ("nav.g.registers", "台帳", "Registers"),
    ("nav.g.admin", "管理", "Administration"),
    ("nav.erasures", "消去記録", "Erasures"),
    ("lang.switch", "English", "日本語"),
    ("login.title", "ログイン", "Log in"),
    ("login.username", "利用者ID", "User ID"),
    ("login.password", "パスワード", "Password"),
    ("login.submit", "ログイン", "Log in"),
    (
        "login.failed",
        "利用者IDまたはパスワードが正しくありません。失敗が続くとアカウントは一時的にロックされます。ログインできない場合は管理者に連絡してください。",
        "The user ID or password is not correct. Repeated failures lock the account for a while; if you cannot log in, contact an administrator.",
    ),
    (
        "login.expired",
        "セッションの有効期限が切れました。もう一度ログインしてください。",
        "Your session has expired. Please log in again.",
    ),
    (
        "login.logged_out",
        "ログアウトしました。",
        "You have logged out.",
    ),
    ("totp.title", "二要素認証", "Two-factor authentication"),
    (
        "totp.code",
        "確認コード（6桁）または回復コード",
        "Code (6 digits) or recovery code",
    ),
    ("totp.submit", "確認", "Verify"),
    (
        "totp.failed",
        "確認コードが正しくありません。",
        "The code is not correct.",
    ),
    (
        "totp.help",
        "認証アプリに表示されている6桁のコードを入力してください。端末を紛失した場合は回復コードを使えます。",
        "Enter the 6-digit code from your authenticator app, or a recovery code.",
    ),
    ("common.save", "保存", "Save"),
    ("common.cancel", "キャンセル", "Cancel"),
    ("common.edit", "編集", "Edit"),
    ("common.new", "新規登録", "New"),
    ("common.search", "検索", "Search"),
    ("common.filter", "絞り込み", "Filter"),
    ("common.all", "すべて", "All"),
    ("common.status", "状態", "Status"),
    ("common.active", "稼働中", "In service"),
    ("common.retired", "廃止", "Retired"),
    ("common.retire", "廃止する", "Retire"),
    ("common.retire_reason", "廃止の理由", "Reason for retiring"),
    ("common.note", "備考", "Remarks"),
    ("common.kind", "種別", "Kind"),
    ("common.updated", "更新日時", "Updated"),
    ("common.created", "登録日時", "Created"),
    ("common.history", "変更履歴", "Change history"),
    ("common.when", "日時", "When"),
    ("common.who", "利用者", "Who"),
    ("common.what", "内容", "What"),
    ("common.action", "操作", "Action"),
    (
        "common.none",
        "該当するデータはありません。",
        "Nothing found.",
    ),
    ("common.count", "件", "items"),
    ("common.page", "ページ", "Page"),
    ("common.prev", "前へ", "Previous"),
    ("common.next", "次へ", "Next"),
    ("common.pagination", "ページ送り", "Pagination"),
    ("common.export_csv", "CSV出力", "Export CSV"),
    ("common.export_xlsx", "Excel出力", "Export Excel"),
    (
        "common.errors",
        "入力内容に誤りがあります。以下を確認してください。",
        "Please correct the following.",
    ),
    ("common.saved", "保存しました。", "Saved."),
    ("common.retired_done", "廃止しました。", "Retired."),
    ("common.back", "一覧へ戻る", "Back to list"),
    ("common.details", "詳細", "Details"),
    ("common.required", "必須", "required"),
    ("common.ip", "IPアドレス", "IP address"),
    ("common.site", "拠点", "Site"),
    ("common.sort_by", "並べ替え", "Sort by"),
    ("common.apply", "適用", "Apply"),
    ("common.from", "開始日", "From"),
    ("common.to", "終了日", "To"),
    ("home.title", "ホーム", "Home"),
    ("home.welcome", "ようこそ", "Welcome"),
    ("home.summary", "台帳の概要", "Registry at a glance"),
    ("home.recent", "最近の操作", "Recent activity"),
    ("home.waiting", "対応が必要なこと", "What needs attention"),
    ("home.waiting_none", "なし", "none"),
    ("home.upkeep", "システムの状態", "System upkeep"),
    (
        "home.upkeep.chain",
        "監査ログの最終検証",
        "Audit chain last verified",
    ),
    ("home.upkeep.intact", "改ざんなし", "intact"),
    ("home.upkeep.broken", "改ざんを検知", "BROKEN"),
    (
        "home.upkeep.never",
        "未検証（監査ログの画面で検証できます）",
        "never (verify it on the audit log page)",
    ),
    ("home.upkeep.backup", "最終バックアップ", "Last backup"),
    (
        "home.upkeep.no_backup",
        "記録なし（unyo backup で作成します）",
        "none recorded (made with unyo backup)",
    ),
    ("home.upkeep.size", "データベースの大きさ", "Database size"),
    (
        "home.w.requests_to_confirm",
        "確認待ちの支援要請（完了報告済み）",
        "Requests reported done, to confirm",
    ),
    (
        "home.w.records_to_confirm",
        "確認待ちの業務実績簿（担当の確認欄）",
        "Monthly records awaiting your step",
    ),
    (
        "home.w.incidents_to_witness",
        "立会い待ちの障害（復旧確認）",
        "Incidents awaiting a witness",
    ),
    (
        "home.w.requests_to_accept",
        "受付待ちの支援要請",
        "Requests to accept",
    ),
    (
        "home.w.requests_returned",
        "差戻しの支援要請",
        "Requests sent back",
    ),
    (
        "home.w.requests_in_progress",
        "担当中の支援要請（受付・対応中）",
        "Requests assigned (accepted or in progress)",
    ),
    (
        "home.w.planned_today",
        "本日予定の作業（支援要請）",
        "Requests planned for today",
    ),
    (
        "home.w.checks_not_up",
        "正常でない疎通確認",
        "Connectivity checks not up",
    ),
    (
        "home.w.campaign_targets_pending",
        "実施中の展開の未完了端末",
        "Open campaign targets not done",
    ),
    (
        "home.w.records_to_submit",
        "未提出の業務実績簿（{month}分、提出期限 {due}）",
        "Monthly records not submitted ({month}, due {due})",
    ),
    (
        "home.w.inventories_to_review",
        "確認待ちのインベントリ（端末未特定）",
        "Inventories to review",
    ),
    (
        "home.w.accounts_locked",
        "ロック中のアカウント",
        "Locked accounts",
    ),
    (
        "home.w.agents_silent",
        "7日以上報告のないエージェント",
        "Agents silent for over 7 days",
    ),
    (
        "home.w.recent_exports",
        "最近30日のデータ出力・証跡取得",
        "Exports and downloads in the last 30 days",
    ),
    (
        "home.w.recent_login_failures",
        "最近30日のログイン失敗",
        "Failed logins in the last 30 days",
    ),
    ("site.title", "拠点", "Sites"),
    ("site.code", "拠点コード", "Site code"),
    ("site.name", "拠点名", "Site name"),
    ("site.address", "所在地", "Address"),
    ("site.phone", "電話番号", "Phone"),
    ("site.uplink", "接続機器", "Uplink node"),
    ("site.terminals", "端末数", "Terminals"),
    ("site.new", "拠点の新規登録", "New site"),
    ("site.edit", "拠点の編集", "Edit site"),
    ("terminal.title", "端末", "Terminals"),
    ("terminal.hostname", "ホスト名", "Hostname"),
    ("terminal.os", "OS", "OS"),
    ("terminal.os_version", "OSバージョン", "OS version"),
    ("terminal.serial", "製造番号", "Serial number"),
    ("terminal.asset", "備品番号", "Asset number"),
    ("terminal.new", "端末の新規登録", "New terminal"),
    ("terminal.edit", "端末の編集", "Edit terminal"),
    ("node.title", "ネットワーク機器", "Network nodes"),
    ("node.name", "機器名", "Name"),
    ("node.upstream", "上位機器", "Upstream node"),
    ("node.new", "機器の新規登録", "New node"),
    ("node.edit", "機器の編集", "Edit node"),
    (
        "node.path",
        "集約ネットワークへの経路",
        "Path into the network",
    ),
    (
        "network.title",
        "集約ネットワーク構成",
        "Aggregated network",
    ),
    (
        "network.help",
        "各拠点が県サーバへ到達するまでに経由する機器を示します。",
        "Which nodes each site goes through to reach the prefecture server.",
    ),
    (
        "network.unconnected",
        "接続機器が未設定の拠点",
        "Sites without an uplink",
    ),
    ("import.title", "台帳の取込", "Import registry"),
    (
        "import.help",
        "CSVファイル（UTF-8 または Shift_JIS）を取り込みます。1行でも誤りがあれば何も登録されません。",
        "Import a CSV file (UTF-8 or Shift_JIS). If any row is wrong, nothing is written.",
    ),
    ("import.kind", "取込対象", "What to import"),
    ("import.file", "CSVファイル", "CSV file"),
    ("import.submit", "取込", "Import"),
    (
        "import.failed",
        "取込できませんでした。ファイルを修正して再度取り込んでください（何も登録されていません）。",
        "Import refused; nothing was written. Fix the file and try again.",
    ),
    ("import.done", "取込が完了しました。", "Import complete."),
    ("import.line", "行", "Line"),
    ("import.column", "列", "Column"),
    ("import.reason", "理由", "Reason"),
    ("import.created", "新規", "Created"),
    ("import.updated", "更新", "Updated"),
    ("import.unchanged", "変更なし", "Unchanged"),
    ("audit.title", "監査ログ", "Audit log"),
    ("audit.actor", "利用者", "User"),
    ("audit.action", "操作", "Action"),
    ("audit.target", "対象", "Target"),
    ("audit.details", "詳細", "Details"),
    ("audit.source", "接続元", "Source"),
    ("audit.chain", "改ざん検知", "Tamper check"),
    (
        "audit.intact",
        "ハッシュチェーンは正常です",
        "The hash chain is intact",
    ),
    (
        "audit.broken",
        "ハッシュチェーンに不整合があります",
        "The hash chain is broken",
    ),
    ("account.title", "アカウント", "Account"),
    (
        "account.totp",
        "二要素認証（TOTP）",
        "Two-factor authentication (TOTP)",
    ),
    ("account.totp_on", "有効", "On"),
    ("account.totp_off", "無効", "Off"),
    (
        "account.totp_start",
        "二要素認証を設定する",
        "Set up two-factor authentication",
    ),
    (
        "account.totp_scan",
        "認証アプリで下のQRコードを読み取るか、秘密鍵を入力してください。",
        "Scan the QR code with your authenticator app or type the secret.",
    ),
    (
        "account.totp_confirm",
        "表示された6桁のコードを入力して有効にする",
        "Enter the 6-digit code to turn it on",
    ),
    (
        "account.totp_disable",
        "二要素認証を無効にする",
        "Turn off two-factor authentication",
    ),
    (
        "account.recovery",
        "回復コード（一度だけ表示されます。安全な場所に保管してください）",
        "Recovery codes (shown once; keep them safe)",
    ),
    ("account.password", "パスワードの変更", "Change password"),
    (
        "account.new_password",
        "新しいパスワード（10文字以上）",
        "New password (10+ characters)",
    ),
    ("account.tokens", "APIトークン", "API tokens"),
    ("account.token_name", "用途", "Purpose"),
    ("account.token_create", "トークンを発行", "Create token"),
    (
        "account.token_shown",
        "APIトークン（一度だけ表示されます）",
        "API token (shown once)",
    ),
    ("user.title", "利用者管理", "Users"),
    ("user.display_name", "氏名", "Name"),
    ("user.role", "役割", "Role"),
    ("user.locked", "ロック中", "Locked"),
    ("user.disabled", "無効", "Disabled"),
    ("user.unlock", "ロック解除", "Unlock"),
    ("user.disable", "無効にする", "Disable"),
    ("user.add", "利用者の追加", "Add user"),
    (
        "user.initial_password",
        "初期パスワード（10文字以上）",
        "Initial password (10+ characters)",
    ),
    ("error.title", "エラー", "Error"),
    (
        "error.forbidden",
        "この操作を行う権限がありません。",
        "You are not allowed to do this.",
    ),
    (
        "error.not_found",
        "ページまたはデータが見つかりません。",
        "Not found.",
    ),
    (
        "error.internal",
        "システムエラーが発生しました。時間をおいて再度お試しください。",
        "Something went wrong. Please try again later.",
    ),
    (
        "error.csrf",
        "フォームの有効期限が切れたか、不正な送信です。画面を再読み込みしてからやり直してください。",
        "The form has expired or was not sent from this site. Reload the page and try again.",
    ),
    (
        "error.bad_request",
        "リクエストの内容が正しくありません。",
        "The request is not valid.",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for (k, _, _) in CATALOGS.iter().flat_map(|c| c.iter()) {
            assert!(seen.insert(*k), "duplicate key {k}");
        }
    }

    /// Every `t("...")` in a template names a key of the catalog.
    #[test]
    fn every_template_key_exists() {
        let keys: std::collections::HashSet<&str> = CATALOGS
            .iter()
            .flat_map(|c| c.iter())
            .map(|(k, _, _)| *k)
            .collect();
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
        let mut missing = Vec::new();
        for entry in std::fs::read_dir(&dir).expect("templates dir").flatten() {
            let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
            for part in text.split(".t(\"").skip(1) {
                if let Some(key) = part.split('"').next()
                    && !keys.contains(key)
                {
                    missing.push(format!("{}: {key}", entry.path().display()));
                }
            }
        }
        assert!(missing.is_empty(), "missing keys: {missing:#?}");
    }
}

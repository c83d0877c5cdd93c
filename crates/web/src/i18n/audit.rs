//! The words of the audit log: (key, 日本語, English).

/// Extra UI words of this area: (key, 日本語, English).
pub const TEXT: &[(&str, &str, &str)] = &[
    ("audit.no", "番号", "No."),
    ("audit.chain_ok", "正常", "Intact"),
    ("audit.chain_ng", "不整合", "Broken"),
    ("audit.entries", "検査件数", "Entries checked"),
    ("audit.head", "先頭ハッシュ", "Head hash"),
    ("audit.first_broken", "最初の不整合", "First broken entry"),
    (
        "audit.chain_help",
        "各記録は直前の記録のハッシュを含むため、途中の記録を変更・削除するとここで検知されます。",
        "Each entry includes the previous entry's hash, so any change or removal is detected here.",
    ),
    ("audit.action_prefix", "操作の種類", "Kind of action"),
    (
        "audit.action_text",
        "操作名（前方一致・直接入力）",
        "Action name (prefix, free text)",
    ),
    (
        "audit.action_text_help",
        "入力した場合は「操作の種類」より優先されます。例: login.failure",
        "Overrides the kind when filled in. e.g. login.failure",
    ),
    ("audit.actor_help", "利用者IDと完全一致", "Exact user ID"),
    ("audit.q", "詳細の語句", "Text in details"),
    ("audit.showing", "表示中", "Showing"),
    ("audit.of_total", "全", "of"),
    ("audit.full_details", "すべて表示", "Show all"),
    (
        "audit.bad_date",
        "日付は YYYY-MM-DD の形式で入力してください。この条件は無視しました。",
        "Enter dates as YYYY-MM-DD. This condition was ignored.",
    ),
    (
        "audit.export_note",
        "出力した操作も監査ログに記録されます。",
        "Exports are recorded in the audit log too.",
    ),
];

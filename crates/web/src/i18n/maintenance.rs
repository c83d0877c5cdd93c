//! The words of maintenance windows: (key, 日本語, English).

/// UI words of the maintenance-window pages beyond the area's own: (key, 日本語, English).
pub const TEXT: &[(&str, &str, &str)] = &[
    (
        "mw.edit_title",
        "保守時間帯の編集",
        "Edit maintenance window",
    ),
    ("mw.edit_or_retire", "編集・廃止", "Edit or retire"),
    (
        "mw.back",
        "保守時間帯の一覧へ戻る",
        "Back to the maintenance windows",
    ),
    (
        "mw.retire_help",
        "廃止した保守時間帯は適用されなくなり（対象の疎通確認は通知されます）、一覧と変更履歴には残ります。廃止の理由を入力してください（個人番号・住民票コードは記録できません）。",
        "A retired window no longer applies (its checks alert again); it stays listed with its history. Give the reason (never personal identifiers).",
    ),
    (
        "mw.retire_failed",
        "保守時間帯を廃止できませんでした。",
        "The maintenance window was not retired.",
    ),
    ("mw.retired_mark", "（廃止）", "(retired)"),
];

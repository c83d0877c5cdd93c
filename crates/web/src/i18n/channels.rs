//! The words of notification channels: (key, 日本語, English).

/// UI words of the channel pages beyond the area's own: (key, 日本語, English).
pub const TEXT: &[(&str, &str, &str)] = &[
    ("ch.edit_title", "通知先の編集", "Edit notification channel"),
    ("ch.edit_or_retire", "編集・廃止", "Edit or retire"),
    ("ch.in_service", "有効", "In service"),
    ("ch.back", "通知先の一覧へ戻る", "Back to the channels"),
    (
        "ch.retire_help",
        "廃止した通知先には通知しなくなります。一覧・送信履歴・変更履歴には残ります。廃止の理由を入力してください（個人番号・住民票コードは記録できません）。",
        "A retired channel is no longer notified; it stays listed with its delivery attempts and history. Give the reason (never personal identifiers).",
    ),
    (
        "ch.retire_failed",
        "通知先を廃止できませんでした。",
        "The channel was not retired.",
    ),
];

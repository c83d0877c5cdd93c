//! The words of the account pages (password, second factor, API tokens): (key, 日本語, English).

/// Extra UI words of this area: (key, 日本語, English).
pub const TEXT: &[(&str, &str, &str)] = &[
    ("account.profile", "登録情報", "Profile"),
    (
        "account.totp_pending",
        "設定途中（まだ有効ではありません）",
        "Set-up not finished (not on yet)",
    ),
    (
        "account.totp_intro",
        "有効にすると、ログイン時にパスワードに加えて認証アプリの確認コードを求めます。",
        "When on, logging in asks for a code from your authenticator app after the password.",
    ),
    (
        "account.totp_restart",
        "設定をやり直す",
        "Start set-up again",
    ),
    ("account.totp_secret", "秘密鍵", "Secret"),
    ("account.totp_uri", "登録用URI", "Set-up URI"),
    (
        "account.totp_qr_label",
        "二要素認証を登録するためのQRコード",
        "QR code for setting up two-factor authentication",
    ),
    ("account.totp_code", "確認コード（6桁）", "Code (6 digits)"),
    (
        "account.totp_wrong",
        "確認コードが正しくありません。認証アプリと端末の時刻を確認し、新しいコードを入力してください。",
        "The code is not correct. Check the time on your device and enter a new code.",
    ),
    (
        "account.totp_enabled_done",
        "二要素認証を有効にしました。",
        "Two-factor authentication is on.",
    ),
    (
        "account.totp_disable_help",
        "無効にするには、認証アプリに表示されている現在の確認コードを入力してください。",
        "To turn it off, enter the current code from your authenticator app.",
    ),
    (
        "account.totp_disabled_done",
        "二要素認証を無効にしました。",
        "Two-factor authentication is off.",
    ),
    (
        "account.recovery_help",
        "認証アプリを使えなくなったときに、確認コードの代わりに各コードを1回ずつ使えます。この画面を離れると二度と表示されません。印刷するか、安全な場所に書き写してください。",
        "Each code can be used once instead of the app's code. They are not shown again once you leave this page.",
    ),
    (
        "account.current_password",
        "現在のパスワード",
        "Current password",
    ),
    (
        "account.new_password2",
        "新しいパスワード（確認のため再入力）",
        "New password again",
    ),
    (
        "account.password_submit",
        "パスワードを変更",
        "Change password",
    ),
    (
        "account.password_mismatch",
        "新しいパスワードが一致しません。",
        "The new passwords do not match.",
    ),
    (
        "account.password_wrong",
        "現在のパスワードが正しくありません。",
        "The current password is not correct.",
    ),
    (
        "account.password_done",
        "パスワードを変更しました。",
        "Password changed.",
    ),
    (
        "account.token_help",
        "API（/api/v1）を利用するプログラム用のトークンを発行します。用途には個人番号などの個人情報を書かないでください。",
        "Creates a token for programs using the API (/api/v1). Do not put personal data in the purpose.",
    ),
    (
        "account.token_once",
        "このトークンは一度だけ表示されます。今すぐ安全な場所に保管してください。紛失した場合は新しいトークンを発行してください。",
        "This token is shown only once. Store it safely now; if lost, create a new one.",
    ),
    (
        "account.token_usage",
        "使い方: HTTP ヘッダー Authorization: Bearer （トークン）",
        "Usage: HTTP header Authorization: Bearer (token)",
    ),
    (
        "account.token_name_required",
        "用途を入力してください。",
        "Enter a purpose.",
    ),
    (
        "account.token_name_long",
        "用途は100文字以内で入力してください。",
        "Use at most 100 characters for the purpose.",
    ),
    ("account.back", "アカウントへ戻る", "Back to account"),
    (
        "account.password_done_sessions",
        "パスワードを変更しました。他の端末やブラウザーでのログインはすべて終了しました。APIトークンは引き続き使えます。下の一覧で確認し、不要なものは失効させてください。",
        "Password changed. Every other login of yours has ended. API tokens still work: check them below and revoke those you no longer need.",
    ),
    ("account.token_expires", "有効期限", "Expires"),
    (
        "account.token_expires_help",
        "指定した日の終わり（日本時間24時）まで使えます。空欄の場合は失効させるまで使えます。",
        "Valid to the end of that day (JST). Leave empty for a token that works until revoked.",
    ),
    (
        "account.token_expires_bad",
        "有効期限は日付（例: 2026-12-31）で入力してください。",
        "Enter the expiry as a date (e.g. 2026-12-31).",
    ),
    (
        "account.token_expires_past",
        "有効期限は今日以降の日付にしてください。",
        "The expiry must be today or later.",
    ),
    ("account.token_list", "発行済みのトークン", "Your tokens"),
    (
        "account.token_none",
        "発行済みのトークンはありません。",
        "You have no tokens.",
    ),
    ("account.token_created", "発行日時", "Created"),
    ("account.token_last_used", "最終利用", "Last used"),
    ("account.token_never_used", "未使用", "Never"),
    (
        "account.token_no_expiry",
        "なし（失効させるまで）",
        "None (until revoked)",
    ),
    ("account.token_state", "状態", "State"),
    ("account.token_active", "有効", "Active"),
    ("account.token_expired", "期限切れ", "Expired"),
    ("account.token_revoked", "失効", "Revoked"),
    ("account.token_revoke", "失効させる", "Revoke"),
    (
        "account.token_revoked_done",
        "APIトークンを失効させました。",
        "Token revoked.",
    ),
];

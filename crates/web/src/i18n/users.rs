//! The words of user administration: (key, 日本語, English).

/// Extra UI words of this area: (key, 日本語, English).
pub const TEXT: &[(&str, &str, &str)] = &[
    ("user.state_active", "有効", "Active"),
    ("user.list", "利用者一覧", "Accounts"),
    (
        "user.disable_confirm",
        "無効にすることを確認しました",
        "I confirm disabling this account",
    ),
    (
        "user.disable_help",
        "無効にすると、その利用者のログイン中のセッションとAPIトークンは直ちに使えなくなります（異動・退職時）。",
        "Disabling ends the person's sessions and API tokens at once (on transfer or leaving).",
    ),
    (
        "user.confirm_missing",
        "「無効にすることを確認しました」にチェックを入れてから実行してください。",
        "Tick the confirmation box first.",
    ),
    (
        "user.reset_totp",
        "二要素認証をリセット",
        "Reset two-factor",
    ),
    (
        "user.reset_totp_help",
        "端末を紛失した利用者の二要素認証を解除します。本人は次回ログイン後に再設定してください。",
        "Turns off two-factor for someone who lost the device; they set it up again after logging in.",
    ),
    (
        "user.created_done",
        "利用者を登録しました。",
        "Account created.",
    ),
    (
        "user.unlocked_done",
        "ロックを解除しました。",
        "Account unlocked.",
    ),
    (
        "user.disabled_done",
        "アカウントを無効にしました。",
        "Account disabled.",
    ),
    (
        "user.totp_reset_done",
        "二要素認証をリセットしました。",
        "Two-factor reset.",
    ),
    (
        "user.username_help",
        "半角英数字と . _ - （64文字以内）",
        "Letters, digits, . _ - (up to 64)",
    ),
    (
        "user.display_name_required",
        "氏名を入力してください。",
        "Enter a name.",
    ),
    (
        "user.display_name_long",
        "氏名は100文字以内で入力してください。",
        "Use at most 100 characters for the name.",
    ),
    (
        "user.role_required",
        "役割を選択してください。",
        "Choose a role.",
    ),
    ("user.choose", "選択してください", "Choose"),
    ("user.self", "（自分）", "(you)"),
    (
        "user.reset_password",
        "パスワードを再設定",
        "Reset password",
    ),
    (
        "user.reset_password_help",
        "新しいパスワードを設定すると、その利用者のログイン中のセッションはすべて終了します。",
        "Setting a new password ends every session of the account.",
    ),
    (
        "user.password_reset_done",
        "パスワードを再設定しました。その利用者のセッションはすべて終了しました。",
        "Password reset; every session of the account has ended.",
    ),
    ("user.tokens", "APIトークン", "API tokens"),
    (
        "user.tokens_help",
        "各利用者が発行したAPIトークンです。不要なものや漏えいのおそれがあるものは失効させてください。",
        "Tokens issued by each account. Revoke those no longer needed or possibly exposed.",
    ),
    ("user.token_owner", "利用者", "Account"),
];

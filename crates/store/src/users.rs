//! Accounts: Argon2id password hashes, lockout after repeated failures, TOTP second factor with recovery
//! codes, and API tokens. Secrets never appear in logs or audit details.

use crate::audit::{AuditSink, NewAuditEntry};
use crate::{Actor, Result, Store, StoreError, now};
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use unyo_domain::{Action, DomainError, Role};

/// Failed logins in a row before an account is locked.
pub const MAX_FAILED_LOGINS: i64 = 5;
/// How long a lock lasts.
pub const LOCK_MINUTES: i64 = 15;
/// Minimum password length.
pub const MIN_PASSWORD_CHARS: usize = 10;

/// An account as the application sees it (no secrets).
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub totp_enabled: bool,
    pub failed_logins: i64,
    pub locked_until: Option<String>,
    pub created_at: String,
    pub disabled_at: Option<String>,
}

impl User {
    /// The role, falling back to the least-privileged reading role if the column holds garbage.
    pub fn role(&self) -> Role {
        Role::parse(&self.role).unwrap_or(Role::Auditor)
    }

    /// The actor for this user acting from `source`.
    pub fn actor(&self, source: &str) -> Actor {
        Actor {
            user_id: Some(self.id),
            username: self.username.clone(),
            role: self.role(),
            source: source.into(),
        }
    }
}

/// What a password check concluded.
#[derive(Debug)]
pub enum LoginOutcome {
    /// Password right and no second factor set up.
    Success(User),
    /// Password right; the TOTP code (or a recovery code) must follow.
    NeedsSecondFactor(User),
    /// Unknown user or wrong password (deliberately indistinguishable).
    Failed,
    /// Locked until the given instant (storage form), by too many failures.
    Locked(String),
    /// The account has been disabled.
    Disabled,
}

/// What a password check reads.
#[derive(sqlx::FromRow)]
struct Credentials {
    id: i64,
    password_hash: String,
    failed_logins: i64,
    locked_until: Option<String>,
    disabled_at: Option<String>,
    totp_enabled: bool,
}

const USER_COLUMNS: &str = "id, username, display_name, role, totp_enabled, failed_logins, locked_until, created_at, disabled_at";

/// Hashes a password with Argon2id and a random salt.
pub fn hash_password(password: &str) -> Result<String> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| StoreError::Internal(format!("random: {e}")))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| StoreError::Internal(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| StoreError::Internal(format!("argon2: {e}")))
}

fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A password that is never checked against, so that a login for an unknown user costs the same time.
fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| hash_password("timing-equaliser").unwrap_or_default())
}

/// Lower-case hex SHA-256 of a secret (tokens, recovery codes, session ids are stored only hashed).
pub fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

/// `n` random bytes as lower-case hex.
pub fn random_hex(n: usize) -> Result<String> {
    let mut b = vec![0u8; n];
    getrandom::fill(&mut b).map_err(|e| StoreError::Internal(format!("random: {e}")))?;
    Ok(hex::encode(b))
}

/// Checks a new password against the policy; the message is Japanese.
pub fn check_password_policy(password: &str) -> Result<(), DomainError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(DomainError::invalid(
            "password",
            format!("パスワードは{MIN_PASSWORD_CHARS}文字以上にしてください。"),
        ));
    }
    Ok(())
}

fn check_username(name: &str) -> Result<(), DomainError> {
    if name.is_empty()
        || name.len() > 64
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
    {
        return Err(DomainError::invalid(
            "username",
            "利用者IDは半角英数字と . _ - の64文字以内で入力してください。",
        ));
    }
    Ok(())
}

impl Store {
    /// Creates an account. Needs [`Action::ManageUsers`].
    pub async fn create_user(
        &self,
        actor: &Actor,
        username: &str,
        display_name: &str,
        role: Role,
        password: &str,
    ) -> Result<User> {
        actor.require(Action::ManageUsers)?;
        check_username(username)?;
        check_password_policy(password)?;
        unyo_domain::pii::guard_free_text("display_name", display_name)
            .map_err(|e| DomainError::invalid("display_name", e.message()))?;
        let hash = hash_password(password)?;
        let at = now();
        let id = write_tx!(self, |tx| {
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO users (username, display_name, role, password_hash, created_at)
                 VALUES ($1, $2, $3, $4, $5) RETURNING id",
            )
            .bind(username)
            .bind(display_name)
            .bind(role.as_str())
            .bind(&hash)
            .bind(&at)
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| {
                let e = StoreError::from(e);
                if e.is_unique_violation() {
                    StoreError::Domain(DomainError::Conflict(format!(
                        "利用者ID「{username}」は既に使われています。"
                    )))
                } else {
                    e
                }
            })?;
            tx.append_audit(
                &NewAuditEntry::new(actor, "user.create", "user", id)
                    .details(json!({"username": username, "role": role.as_str()})),
            )
            .await?;
            id
        });
        self.user(id)
            .await?
            .ok_or_else(|| StoreError::Internal("user vanished".into()))
    }

    /// An account by id.
    pub async fn user(&self, id: i64) -> Result<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
        read_db!(self, |db| Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(db)
            .await?))
    }

    /// An account by login name.
    pub async fn user_by_name(&self, username: &str) -> Result<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE username = $1");
        read_db!(self, |db| Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(username)
            .fetch_optional(db)
            .await?))
    }

    /// All accounts.
    pub async fn users(&self) -> Result<Vec<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users ORDER BY username");
        read_db!(self, |db| Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .fetch_all(db)
            .await?))
    }

    /// How many accounts exist (zero means the first administrator must be created).
    pub async fn user_count(&self) -> Result<i64> {
        read_db!(self, |db| Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM users"
        )
        .fetch_one(db)
        .await?))
    }

    /// Checks a password, applying and auditing lockout. `source` is the remote address.
    pub async fn check_password(
        &self,
        username: &str,
        password: &str,
        source: &str,
    ) -> Result<LoginOutcome> {
        let row: Option<Credentials> = read_db!(self, |db| {
            sqlx::query_as(
            "SELECT id, password_hash, failed_logins, locked_until, disabled_at, totp_enabled FROM users WHERE username = $1"
        )
        .bind(username)
        .fetch_optional(db)
        .await?
        });
        let anon = Actor {
            user_id: None,
            username: username.chars().take(64).collect(),
            role: Role::Auditor,
            source: source.into(),
        };
        let Some(Credentials {
            id,
            password_hash: hash,
            failed_logins: failed,
            locked_until,
            disabled_at,
            totp_enabled: totp,
        }) = row
        else {
            // Spend the same effort as a real check so timing does not reveal which names exist.
            let _ = verify_password(password, dummy_hash());
            self.audit(
                NewAuditEntry::new(&anon, "login.failure", "", "")
                    .details(json!({"reason": "unknown_user"})),
            )
            .await?;
            return Ok(LoginOutcome::Failed);
        };
        let now_s = now();
        if disabled_at.is_some() {
            self.audit(
                NewAuditEntry::new(&anon, "login.failure", "user", id)
                    .details(json!({"reason": "disabled"})),
            )
            .await?;
            return Ok(LoginOutcome::Disabled);
        }
        if let Some(until) = locked_until.filter(|u| *u > now_s) {
            self.audit(
                NewAuditEntry::new(&anon, "login.failure", "user", id)
                    .details(json!({"reason": "locked"})),
            )
            .await?;
            return Ok(LoginOutcome::Locked(until));
        }
        if !verify_password(password, &hash) {
            let failed = failed + 1;
            let lock = (failed >= MAX_FAILED_LOGINS).then(|| {
                unyo_domain::time::to_storage(
                    chrono::Utc::now() + chrono::Duration::minutes(LOCK_MINUTES),
                )
            });
            write_tx!(self, |tx| {
                sqlx::query("UPDATE users SET failed_logins = $1, locked_until = $2 WHERE id = $3")
                    .bind(if lock.is_some() { 0 } else { failed })
                    .bind(&lock)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                tx.append_audit(
                    &NewAuditEntry::new(&anon, "login.failure", "user", id)
                        .details(json!({"reason": "bad_password", "failed_logins": failed})),
                )
                .await?;
                if let Some(until) = &lock {
                    tx.append_audit(
                        &NewAuditEntry::new(&anon, "login.lockout", "user", id)
                            .details(json!({"locked_until": until})),
                    )
                    .await?;
                }
            });
            return Ok(match lock {
                Some(until) => LoginOutcome::Locked(until),
                None => LoginOutcome::Failed,
            });
        }
        let user = self
            .user(id)
            .await?
            .ok_or_else(|| StoreError::Internal("user vanished".into()))?;
        if totp {
            return Ok(LoginOutcome::NeedsSecondFactor(user));
        }
        self.record_login(&user, source, "password").await?;
        Ok(LoginOutcome::Success(user))
    }

    /// Resets the failure counter and audits a completed login.
    pub async fn record_login(&self, user: &User, source: &str, method: &str) -> Result<()> {
        write_tx!(self, |tx| {
            sqlx::query("UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = $1")
                .bind(user.id)
                .execute(&mut *tx)
                .await?;
            tx.append_audit(
                &NewAuditEntry::new(&user.actor(source), "login.success", "user", user.id)
                    .details(json!({"method": method})),
            )
            .await?;
        });
        Ok(())
    }

    /// Records a failed second-factor attempt (counts toward the lock like a bad password).
    pub async fn record_second_factor_failure(&self, user: &User, source: &str) -> Result<bool> {
        let failed = user.failed_logins + 1;
        let lock = (failed >= MAX_FAILED_LOGINS).then(|| {
            unyo_domain::time::to_storage(
                chrono::Utc::now() + chrono::Duration::minutes(LOCK_MINUTES),
            )
        });
        write_tx!(self, |tx| {
            sqlx::query("UPDATE users SET failed_logins = $1, locked_until = $2 WHERE id = $3")
                .bind(if lock.is_some() { 0 } else { failed })
                .bind(&lock)
                .bind(user.id)
                .execute(&mut *tx)
                .await?;
            tx.append_audit(
                &NewAuditEntry::new(&user.actor(source), "login.failure", "user", user.id)
                    .details(json!({"reason": "bad_second_factor"})),
            )
            .await?;
            if let Some(until) = &lock {
                tx.append_audit(
                    &NewAuditEntry::new(&user.actor(source), "login.lockout", "user", user.id)
                        .details(json!({"locked_until": until})),
                )
                .await?;
            }
        });
        Ok(lock.is_some())
    }

    /// The TOTP secret (base32) of a user, if one is enrolled or pending.
    pub async fn totp_secret(&self, user_id: i64) -> Result<Option<String>> {
        read_db!(self, |db| Ok(sqlx::query_scalar(
            "SELECT totp_secret FROM users WHERE id = $1"
        )
        .bind(user_id)
        .fetch_optional(db)
        .await?
        .flatten()))
    }

    /// Stores a new (not yet enabled) TOTP secret during enrolment.
    pub async fn set_pending_totp(
        &self,
        actor: &Actor,
        user_id: i64,
        secret_b32: &str,
    ) -> Result<()> {
        self.require_self_or_admin(actor, user_id)?;
        write_tx!(self, |tx| {
            sqlx::query("UPDATE users SET totp_secret = $1, totp_enabled = FALSE WHERE id = $2")
                .bind(secret_b32)
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
            tx.append_audit(&NewAuditEntry::new(
                actor,
                "totp.enrol_start",
                "user",
                user_id,
            ))
            .await?;
        });
        Ok(())
    }

    /// Turns TOTP on after the first code verified, storing hashes of the recovery codes.
    pub async fn enable_totp(
        &self,
        actor: &Actor,
        user_id: i64,
        recovery_codes: &[String],
    ) -> Result<()> {
        self.require_self_or_admin(actor, user_id)?;
        let hashes: Vec<String> = recovery_codes
            .iter()
            .map(|c| sha256_hex(&normalise_code(c)))
            .collect();
        write_tx!(self, |tx| {
            sqlx::query("UPDATE users SET totp_enabled = TRUE, recovery_codes = $1 WHERE id = $2")
                .bind(serde_json::to_string(&hashes).unwrap_or_else(|_| "[]".into()))
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
            tx.append_audit(&NewAuditEntry::new(actor, "totp.enable", "user", user_id))
                .await?;
        });
        Ok(())
    }

    /// Turns TOTP off (oneself, or an administrator for someone who lost the device).
    pub async fn disable_totp(&self, actor: &Actor, user_id: i64) -> Result<()> {
        self.require_self_or_admin(actor, user_id)?;
        write_tx!(self, |tx| {
            sqlx::query("UPDATE users SET totp_enabled = FALSE, totp_secret = NULL, recovery_codes = '[]' WHERE id = $1")
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
            tx.append_audit(&NewAuditEntry::new(actor, "totp.disable", "user", user_id))
                .await?;
        });
        Ok(())
    }

    /// Uses up a recovery code; true when it was valid.
    pub async fn use_recovery_code(&self, user: &User, code: &str, source: &str) -> Result<bool> {
        let wanted = sha256_hex(&normalise_code(code));
        let used = write_tx!(self, |tx| {
            let stored: String =
                sqlx::query_scalar("SELECT recovery_codes FROM users WHERE id = $1")
                    .bind(user.id)
                    .fetch_one(&mut *tx)
                    .await?;
            let mut codes: Vec<String> = serde_json::from_str(&stored).unwrap_or_default();
            let before = codes.len();
            codes.retain(|c| c != &wanted);
            if codes.len() == before {
                false
            } else {
                sqlx::query("UPDATE users SET recovery_codes = $1 WHERE id = $2")
                    .bind(serde_json::to_string(&codes).unwrap_or_else(|_| "[]".into()))
                    .bind(user.id)
                    .execute(&mut *tx)
                    .await?;
                tx.append_audit(
                    &NewAuditEntry::new(
                        &user.actor(source),
                        "totp.recovery_code_used",
                        "user",
                        user.id,
                    )
                    .details(json!({"remaining": codes.len()})),
                )
                .await?;
                true
            }
        });
        Ok(used)
    }

    /// Sets a new password (oneself or an administrator).
    pub async fn set_password(&self, actor: &Actor, user_id: i64, password: &str) -> Result<()> {
        self.require_self_or_admin(actor, user_id)?;
        check_password_policy(password)?;
        let hash = hash_password(password)?;
        write_tx!(self, |tx| {
            sqlx::query("UPDATE users SET password_hash = $1, failed_logins = 0, locked_until = NULL WHERE id = $2")
                .bind(&hash)
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
            tx.append_audit(&NewAuditEntry::new(actor, "user.password", "user", user_id))
                .await?;
        });
        Ok(())
    }

    /// Lifts a lock (administrator).
    pub async fn unlock_user(&self, actor: &Actor, user_id: i64) -> Result<()> {
        actor.require(Action::ManageUsers)?;
        write_tx!(self, |tx| {
            sqlx::query("UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = $1")
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
            tx.append_audit(&NewAuditEntry::new(actor, "user.unlock", "user", user_id))
                .await?;
        });
        Ok(())
    }

    /// Disables an account and ends its sessions and tokens at once (R12: access ends when a person leaves).
    pub async fn disable_user(&self, actor: &Actor, user_id: i64) -> Result<()> {
        actor.require(Action::ManageUsers)?;
        if actor.user_id == Some(user_id) {
            return Err(
                DomainError::Conflict("自分自身のアカウントは無効にできません。".into()).into(),
            );
        }
        let at = now();
        write_tx!(self, |tx| {
            sqlx::query("UPDATE users SET disabled_at = $1 WHERE id = $2 AND disabled_at IS NULL")
                .bind(&at)
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "UPDATE api_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL",
            )
            .bind(&at)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
            tx.append_audit(&NewAuditEntry::new(actor, "user.disable", "user", user_id))
                .await?;
        });
        Ok(())
    }

    fn require_self_or_admin(&self, actor: &Actor, user_id: i64) -> Result<()> {
        if actor.user_id == Some(user_id) || actor.role.allows(Action::ManageUsers) {
            Ok(())
        } else {
            Err(DomainError::Forbidden.into())
        }
    }

    /// Creates an API token for `user_id` and returns it in clear text, once. Only its hash is stored.
    pub async fn create_api_token(
        &self,
        actor: &Actor,
        user_id: i64,
        name: &str,
    ) -> Result<String> {
        actor.require(Action::UseApi)?;
        self.require_self_or_admin(actor, user_id)?;
        let token = format!("unyo_{}", random_hex(24)?);
        let hash = sha256_hex(&token);
        let at = now();
        write_tx!(self, |tx| {
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO api_tokens (user_id, name, token_hash, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
            )
            .bind(user_id)
            .bind(name)
            .bind(&hash)
            .bind(&at)
            .fetch_one(&mut *tx)
            .await?;
            tx.append_audit(
                &NewAuditEntry::new(actor, "token.create", "api_token", id)
                    .details(json!({"user_id": user_id, "name": name})),
            )
            .await?;
        });
        Ok(token)
    }

    /// The active user behind an API token, if the token is valid and not revoked.
    pub async fn user_for_token(&self, token: &str) -> Result<Option<User>> {
        let hash = sha256_hex(token);
        let sql = format!(
            "SELECT {} FROM users u JOIN api_tokens t ON t.user_id = u.id
             WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND u.disabled_at IS NULL",
            USER_COLUMNS
                .split(", ")
                .map(|c| format!("u.{c}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        read_db!(self, |db| Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(hash)
            .fetch_optional(db)
            .await?))
    }
}

/// Recovery codes are compared without spaces/hyphens and case.
fn normalise_code(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

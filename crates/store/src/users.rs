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

/// An API token as listed (never its secret or hash).
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ApiToken {
    pub id: i64,
    /// The owner.
    pub user_id: i64,
    /// The owner's login name.
    pub username: String,
    /// What it is for, as its owner named it.
    pub name: String,
    pub created_at: String,
    /// When it last authenticated a request (to the minute); `None`: never.
    pub last_used_at: Option<String>,
    /// When it stops working; `None`: until revoked.
    pub expires_at: Option<String>,
    pub revoked_at: Option<String>,
}

impl ApiToken {
    /// `revoked`, `expired` or `active` at `now` (storage form).
    pub fn state(&self, now: &str) -> &'static str {
        if self.revoked_at.is_some() {
            "revoked"
        } else if self.expires_at.as_deref().is_some_and(|e| e <= now) {
            "expired"
        } else {
            "active"
        }
    }
}

const TOKEN_SELECT: &str = "SELECT t.id, t.user_id, u.username, t.name, t.created_at, t.last_used_at, t.expires_at, t.revoked_at
     FROM api_tokens t JOIN users u ON u.id = t.user_id";

/// A token's owner with the token's id and last use (for noting the use).
#[derive(sqlx::FromRow)]
struct TokenUser {
    token_id: i64,
    token_last_used_at: Option<String>,
    /// Roster entries of the owner, and those active today.
    roster_entries: i64,
    roster_active: i64,
    #[sqlx(flatten)]
    user: User,
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

thread_local! {
    static VERIFICATIONS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// How many password verifications (Argon2) this thread has run. Lets tests prove that every login,
/// for an unknown name too, costs one verification (a `#[tokio::test]` runs on one thread).
#[doc(hidden)]
pub fn password_verifications_on_this_thread() -> u64 {
    VERIFICATIONS.with(std::cell::Cell::get)
}

fn verify_password(password: &str, hash: &str) -> bool {
    VERIFICATIONS.with(|n| n.set(n.get() + 1));
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// An Argon2id hash with the same parameters as [`hash_password`] (checked by a test) of a password nobody
/// knows: a login for an unknown name is verified against it, so that it costs the same time as one for
/// a real account and the answer's timing does not tell which names exist.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$dW55by1kdW1teS1zYWx0$Jb0b3F0mT+u2kYwx+qk3tqvY8m2DWkd5m7yfe2qB4Y8";

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
        let display_name = unyo_domain::account::validate_display_name(display_name)?;
        let display_name = display_name.as_str();
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
        self.check_login(username, password, source, true).await
    }

    /// Checks a password, applying lockout. Every outcome costs one Argon2 verification: against the
    /// account's hash whatever its state (disabled, locked), against [`DUMMY_HASH`] for an unknown name.
    /// A failure is audited as `login.failure` when `audit_failure` (the caller counts the failures of a
    /// burst instead, see the web crate's `throttle`); a lockout is always audited.
    pub async fn check_login(
        &self,
        username: &str,
        password: &str,
        source: &str,
        audit_failure: bool,
    ) -> Result<LoginOutcome> {
        let row: Option<Credentials> = read_db!(self, |db| {
            sqlx::query_as(
            "SELECT id, password_hash, failed_logins, locked_until, disabled_at, totp_enabled FROM users WHERE username = $1"
        )
        .bind(username)
        .fetch_optional(db)
        .await?
        });
        // One verification on every path, before looking at the account's state.
        let password_ok = verify_password(
            password,
            row.as_ref()
                .map_or(DUMMY_HASH, |r| r.password_hash.as_str()),
        );
        let anon = Actor {
            user_id: None,
            username: username.chars().take(64).collect(),
            role: Role::Auditor,
            source: source.into(),
        };
        let failure = |entity_id: Option<i64>, details: serde_json::Value| {
            let (entity, id) = match entity_id {
                Some(id) => ("user", id.to_string()),
                None => ("", String::new()),
            };
            NewAuditEntry::new(&anon, "login.failure", entity, id).details(details)
        };
        let Some(Credentials {
            id,
            password_hash: _,
            failed_logins: failed,
            locked_until,
            disabled_at,
            totp_enabled: totp,
        }) = row
        else {
            if audit_failure {
                self.audit(failure(None, json!({"reason": "unknown_user"})))
                    .await?;
            }
            return Ok(LoginOutcome::Failed);
        };
        let now_s = now();
        if disabled_at.is_some() {
            if audit_failure {
                self.audit(failure(Some(id), json!({"reason": "disabled"})))
                    .await?;
            }
            return Ok(LoginOutcome::Disabled);
        }
        if let Some(until) = locked_until.filter(|u| *u > now_s) {
            if audit_failure {
                self.audit(failure(Some(id), json!({"reason": "locked"})))
                    .await?;
            }
            return Ok(LoginOutcome::Locked(until));
        }
        if !password_ok {
            let failed = failed + 1;
            let lock = (failed >= MAX_FAILED_LOGINS).then(|| {
                unyo_domain::time::to_storage(
                    chrono::Utc::now() + chrono::Duration::minutes(LOCK_MINUTES),
                )
            });
            let entry = failure(
                Some(id),
                json!({"reason": "bad_password", "failed_logins": failed}),
            );
            write_tx!(self, |tx| {
                sqlx::query("UPDATE users SET failed_logins = $1, locked_until = $2 WHERE id = $3")
                    .bind(if lock.is_some() { 0 } else { failed })
                    .bind(&lock)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                if audit_failure {
                    tx.append_audit(&entry).await?;
                }
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
        // An account tied to the staff roster logs in only inside an assignment with its pledge on file
        // (R12); refused like a disabled account, after the same one verification.
        if !self.roster_allows(id, crate::support::jst_today()).await? {
            if audit_failure {
                self.audit(failure(Some(id), json!({"reason": "not_assigned"})))
                    .await?;
            }
            return Ok(LoginOutcome::Disabled);
        }
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

    /// Turns TOTP on with the code the person typed to confirm it, of time step `step`: the step is used
    /// up as a login code's is ([`accept_totp_step`](Self::accept_totp_step)), in the same transaction
    /// as the change, so the confirming code cannot complete a login or confirm anything again. `false`
    /// (nothing written) when the step was used already.
    pub async fn confirm_totp(
        &self,
        actor: &Actor,
        user_id: i64,
        step: i64,
        recovery_codes: &[String],
    ) -> Result<bool> {
        self.require_self_or_admin(actor, user_id)?;
        let hashes: Vec<String> = recovery_codes
            .iter()
            .map(|c| sha256_hex(&normalise_code(c)))
            .collect();
        let accepted = write_tx!(self, |tx| {
            let accepted = sqlx::query(ACCEPT_STEP_SQL)
                .bind(step)
                .bind(user_id)
                .execute(&mut *tx)
                .await?
                .rows_affected()
                == 1;
            if accepted {
                sqlx::query(
                    "UPDATE users SET totp_enabled = TRUE, recovery_codes = $1 WHERE id = $2",
                )
                .bind(serde_json::to_string(&hashes).unwrap_or_else(|_| "[]".into()))
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
                tx.append_audit(&NewAuditEntry::new(actor, "totp.enable", "user", user_id))
                    .await?;
            }
            accepted
        });
        Ok(accepted)
    }

    /// Turns one's TOTP off with a current code of time step `step`, used up as a login code's is, in
    /// the same transaction. `false` (nothing written) when the step was used already. (An
    /// administrator resets someone's TOTP without a code through [`disable_totp`](Self::disable_totp).)
    pub async fn disable_totp_with_code(
        &self,
        actor: &Actor,
        user_id: i64,
        step: i64,
    ) -> Result<bool> {
        self.require_self_or_admin(actor, user_id)?;
        let accepted = write_tx!(self, |tx| {
            let accepted = sqlx::query(ACCEPT_STEP_SQL)
                .bind(step)
                .bind(user_id)
                .execute(&mut *tx)
                .await?
                .rows_affected()
                == 1;
            if accepted {
                sqlx::query("UPDATE users SET totp_enabled = FALSE, totp_secret = NULL, recovery_codes = '[]' WHERE id = $1")
                    .bind(user_id)
                    .execute(&mut *tx)
                    .await?;
                tx.append_audit(&NewAuditEntry::new(actor, "totp.disable", "user", user_id))
                    .await?;
            }
            accepted
        });
        Ok(accepted)
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

    /// Accepts the TOTP time step `step` (Unix time / 30) of a verified code for `user_id` unless that
    /// step or a later one was accepted before (a replay): one conditional update, so two requests with
    /// the same code cannot both pass. `false` when refused.
    pub async fn accept_totp_step(&self, user_id: i64, step: i64) -> Result<bool> {
        let accepted = write_tx!(self, |tx| {
            sqlx::query(ACCEPT_STEP_SQL)
                .bind(step)
                .bind(user_id)
                .execute(&mut *tx)
                .await?
                .rows_affected()
                == 1
        });
        Ok(accepted)
    }

    /// Completes a login with a TOTP code of time step `step`: accepts the step as
    /// [`accept_totp_step`](Self::accept_totp_step) does and, in the same transaction, resets the failure
    /// counter and audits `login.success`. `false` (nothing written) when the step was used already.
    pub async fn complete_totp_login(&self, user: &User, step: i64, source: &str) -> Result<bool> {
        let accepted = write_tx!(self, |tx| {
            let accepted = sqlx::query(ACCEPT_STEP_SQL)
                .bind(step)
                .bind(user.id)
                .execute(&mut *tx)
                .await?
                .rows_affected()
                == 1;
            if accepted {
                sqlx::query(
                    "UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = $1",
                )
                .bind(user.id)
                .execute(&mut *tx)
                .await?;
                tx.append_audit(
                    &NewAuditEntry::new(&user.actor(source), "login.success", "user", user.id)
                        .details(json!({"method": "totp"})),
                )
                .await?;
                true
            } else {
                false
            }
        });
        Ok(accepted)
    }

    /// Sets a new password (oneself or an administrator) and ends every session of the account in the
    /// same transaction: whoever else was logged in with the old password is out. The caller gives the
    /// person who changed their own password a fresh session. API tokens stay; they are listed on the
    /// account page to be kept or revoked. Returns how many sessions ended.
    pub async fn set_password(&self, actor: &Actor, user_id: i64, password: &str) -> Result<u64> {
        self.require_self_or_admin(actor, user_id)?;
        check_password_policy(password)?;
        let hash = hash_password(password)?;
        let by_self = actor.user_id == Some(user_id);
        let ended = write_tx!(self, |tx| {
            let changed = sqlx::query("UPDATE users SET password_hash = $1, failed_logins = 0, locked_until = NULL WHERE id = $2")
                .bind(&hash)
                .bind(user_id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if changed == 0 {
                return Err(DomainError::NotFound("利用者".into()).into());
            }
            let ended = sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                .bind(user_id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            tx.append_audit(
                &NewAuditEntry::new(actor, "user.password", "user", user_id).details(
                    json!({"by": if by_self { "self" } else { "admin" }, "sessions_ended": ended}),
                ),
            )
            .await?;
            ended
        });
        Ok(ended)
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

    /// Creates an API token for `user_id` without an expiry and returns it in clear text, once.
    pub async fn create_api_token(
        &self,
        actor: &Actor,
        user_id: i64,
        name: &str,
    ) -> Result<String> {
        Ok(self.issue_api_token(actor, user_id, name, None).await?.1)
    }

    /// Creates an API token for `user_id`, valid until `expires_at` (storage form, UTC; `None`: until
    /// revoked), and returns it with its secret in clear text, once. Only the secret's hash is stored.
    pub async fn issue_api_token(
        &self,
        actor: &Actor,
        user_id: i64,
        name: &str,
        expires_at: Option<&str>,
    ) -> Result<(ApiToken, String)> {
        actor.require(Action::UseApi)?;
        self.require_self_or_admin(actor, user_id)?;
        let name = unyo_domain::account::validate_token_name(name)?;
        let name = name.as_str();
        let at = now();
        if expires_at.is_some_and(|e| unyo_domain::time::from_storage(e).is_none() || *e <= *at) {
            return Err(DomainError::invalid(
                "expires_at",
                "有効期限は現在より後の日時にしてください。",
            )
            .into());
        }
        let token = format!("unyo_{}", random_hex(24)?);
        let hash = sha256_hex(&token);
        let id = write_tx!(self, |tx| {
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO api_tokens (user_id, name, token_hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
            )
            .bind(user_id)
            .bind(name)
            .bind(&hash)
            .bind(&at)
            .bind(expires_at)
            .fetch_one(&mut *tx)
            .await?;
            tx.append_audit(
                &NewAuditEntry::new(actor, "token.create", "api_token", id)
                    .details(json!({"user_id": user_id, "name": name, "expires_at": expires_at})),
            )
            .await?;
            id
        });
        let row = self
            .api_token(id)
            .await?
            .ok_or_else(|| StoreError::Internal("token vanished".into()))?;
        Ok((row, token))
    }

    async fn api_token(&self, id: i64) -> Result<Option<ApiToken>> {
        let sql = format!("{TOKEN_SELECT} WHERE t.id = $1");
        read_db!(self, |db| Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(db)
            .await?))
    }

    /// The API tokens of `user_id` (oneself, or an administrator for anyone), newest first, revoked and
    /// expired ones included. Never their secrets.
    pub async fn api_tokens_of(&self, actor: &Actor, user_id: i64) -> Result<Vec<ApiToken>> {
        self.require_self_or_admin(actor, user_id)?;
        let sql = format!("{TOKEN_SELECT} WHERE t.user_id = $1 ORDER BY t.id DESC");
        read_db!(self, |db| Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(user_id)
            .fetch_all(db)
            .await?))
    }

    /// Every account's API tokens (administrator), by owner then newest first.
    pub async fn all_api_tokens(&self, actor: &Actor) -> Result<Vec<ApiToken>> {
        actor.require(Action::ManageUsers)?;
        let sql = format!("{TOKEN_SELECT} ORDER BY u.username, t.id DESC");
        read_db!(self, |db| Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .fetch_all(db)
            .await?))
    }

    /// Revokes token `id`: its owner may, an administrator may revoke anyone's. A token the actor may not
    /// see is "not found", like one that does not exist. Revoking a revoked token changes nothing and
    /// writes nothing; otherwise `token.revoke` is audited. Returns the token as it is now.
    pub async fn revoke_api_token(&self, actor: &Actor, id: i64) -> Result<ApiToken> {
        let not_found = || StoreError::from(DomainError::NotFound("APIトークン".into()));
        let token = self.api_token(id).await?.ok_or_else(not_found)?;
        if self.require_self_or_admin(actor, token.user_id).is_err() {
            return Err(not_found());
        }
        let at = now();
        write_tx!(self, |tx| {
            let changed = sqlx::query(
                "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
            )
            .bind(&at)
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if changed == 1 {
                tx.append_audit(
                    &NewAuditEntry::new(actor, "token.revoke", "api_token", id)
                        .details(json!({"user_id": token.user_id, "name": token.name})),
                )
                .await?;
            }
        });
        self.api_token(id).await?.ok_or_else(not_found)
    }

    /// The active user behind an API token, if the token is valid: not revoked, not expired, its owner
    /// not disabled. Notes the token's last use (at most once a minute, to keep API reads cheap).
    pub async fn user_for_token(&self, token: &str) -> Result<Option<User>> {
        let hash = sha256_hex(token);
        let at = chrono::Utc::now();
        let now_s = unyo_domain::time::to_storage(at);
        let today = unyo_domain::time::to_jst(at).date();
        let sql = format!(
            "SELECT t.id AS token_id, t.last_used_at AS token_last_used_at,
             (SELECT COUNT(*) FROM staff_roster r WHERE r.user_id = u.id) AS roster_entries,
             (SELECT COUNT(*) FROM staff_roster r WHERE r.user_id = u.id AND r.start_on <= $3
              AND (r.end_on IS NULL OR r.end_on >= $3) AND r.pledge_on IS NOT NULL AND r.pledge_on <= $3
              AND r.pledge_attachment_id IS NOT NULL) AS roster_active,
             {} FROM users u JOIN api_tokens t ON t.user_id = u.id
             WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > $2)
             AND u.disabled_at IS NULL",
            USER_COLUMNS
                .split(", ")
                .map(|c| format!("u.{c}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let row: Option<TokenUser> = read_db!(self, |db| sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(hash)
            .bind(&now_s)
            .bind(today.format("%Y-%m-%d").to_string())
            .fetch_optional(db)
            .await?);
        let Some(row) = row else {
            return Ok(None);
        };
        // An account tied to the staff roster stops with its assignment (R12): the token is revoked with
        // the others and the call refused.
        if row.roster_entries > 0 && row.roster_active == 0 {
            self.end_roster_access(row.user.id, today, "assignment_ended")
                .await?;
            return Ok(None);
        }
        let stale = unyo_domain::time::to_storage(at - chrono::Duration::minutes(1));
        if row
            .token_last_used_at
            .as_deref()
            .is_none_or(|t| t < stale.as_str())
        {
            write_tx!(self, |tx| {
                sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
                    .bind(&now_s)
                    .bind(row.token_id)
                    .execute(&mut *tx)
                    .await?;
            });
        }
        Ok(Some(row.user))
    }
}

/// Accepts a TOTP step unless that step or a later one was accepted before (binds: step, user id).
const ACCEPT_STEP_SQL: &str = "UPDATE users SET totp_last_step = $1 WHERE id = $2 AND (totp_last_step IS NULL OR totp_last_step < $1)";

/// Recovery codes are compared without spaces/hyphens and case.
fn normalise_code(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The dummy hash parses and has exactly the parameters (and output length) of a real one, so
    /// verifying against it costs what verifying a real account costs.
    #[test]
    fn dummy_hash_has_the_parameters_of_a_real_hash() {
        let real = hash_password("some password").expect("hash");
        let real = PasswordHash::new(&real).expect("parse");
        let dummy = PasswordHash::new(DUMMY_HASH).expect("the dummy hash parses");
        assert_eq!(dummy.algorithm, real.algorithm);
        assert_eq!(dummy.version, real.version);
        assert_eq!(dummy.params, real.params);
        assert_eq!(
            dummy.hash.map(|h| h.len()),
            real.hash.map(|h| h.len()),
            "same output length"
        );
        let before = password_verifications_on_this_thread();
        assert!(!verify_password("timing-equaliser", DUMMY_HASH));
        assert_eq!(password_verifications_on_this_thread(), before + 1);
    }
}

//! Server-side sessions, stored in the database so that several instances can share them.
//!
//! The browser holds a random 256-bit id; the database holds only its SHA-256. Each session carries its
//! own CSRF token. A login creates a fresh session (rotation), and completing the second factor replaces
//! it again.

use crate::users::{User, random_hex, sha256_hex};
use crate::{Result, Store, now};
use chrono::{DateTime, Duration, Utc};
use unyo_domain::time::{from_storage, to_storage};

/// Idle timeout: a session unused this long is over.
pub const IDLE_TIMEOUT_MINUTES: i64 = 30;
/// Absolute timeout: no session lives longer than this, however active.
pub const ABSOLUTE_TIMEOUT_HOURS: i64 = 12;
/// A pending second-factor step must be finished within this.
pub const SECOND_FACTOR_MINUTES: i64 = 5;

/// A session row joined with its user.
#[derive(sqlx::FromRow)]
struct SessionRow {
    csrf_token: String,
    second_factor_pending: bool,
    session_created_at: String,
    last_seen_at: String,
    /// Roster entries of the user, and those active today ([`crate::contract_registers::ROSTER_GATE_SQL`]).
    roster_entries: i64,
    roster_active: i64,
    #[sqlx(flatten)]
    user: User,
}

/// A live session.
#[derive(Debug, Clone)]
pub struct Session {
    /// The session's own id hash (for logout).
    pub id_hash: String,
    /// Whose session.
    pub user: User,
    /// The token every state-changing form must echo.
    pub csrf_token: String,
    /// True between password and TOTP: the session may only finish the second factor.
    pub second_factor_pending: bool,
}

/// A new session's secrets, to hand to the browser.
#[derive(Debug)]
pub struct NewSession {
    /// The cookie value.
    pub token: String,
    /// The CSRF token.
    pub csrf_token: String,
}

impl Store {
    /// Starts a session for `user_id`.
    pub async fn create_session(
        &self,
        user_id: i64,
        second_factor_pending: bool,
    ) -> Result<NewSession> {
        let token = random_hex(32)?;
        let csrf_token = random_hex(32)?;
        let at = now();
        write_tx!(self, |tx| {
            sqlx::query(
                "INSERT INTO sessions (id_hash, user_id, csrf_token, second_factor_pending, created_at, last_seen_at)
                 VALUES ($1, $2, $3, $4, $5, $5)",
            )
            .bind(sha256_hex(&token))
            .bind(user_id)
            .bind(&csrf_token)
            .bind(second_factor_pending)
            .bind(&at)
            .execute(&mut *tx)
            .await?;
        });
        Ok(NewSession { token, csrf_token })
    }

    /// The session for a cookie value, if it exists, has not timed out and its user is active. Refreshes
    /// the idle timer (at most once a minute, to keep reads cheap).
    pub async fn session(&self, token: &str, now_utc: DateTime<Utc>) -> Result<Option<Session>> {
        let id_hash = sha256_hex(token);
        let today = unyo_domain::time::to_jst(now_utc).date();
        // One query for the session, its user and the user's standing on the staff roster (two counts
        // over an index): this runs before every page.
        let row: Option<SessionRow> = read_db!(self, |db| {
            sqlx::query_as(
                "SELECT s.csrf_token, s.second_factor_pending, s.created_at AS session_created_at, s.last_seen_at,
                 (SELECT COUNT(*) FROM staff_roster r WHERE r.user_id = u.id) AS roster_entries,
                 (SELECT COUNT(*) FROM staff_roster r WHERE r.user_id = u.id AND r.start_on <= $2
                  AND (r.end_on IS NULL OR r.end_on >= $2) AND r.pledge_on IS NOT NULL AND r.pledge_on <= $2
                  AND r.pledge_attachment_id IS NOT NULL) AS roster_active,
                 u.id, u.username, u.display_name, u.role, u.totp_enabled, u.failed_logins, u.locked_until,
                 u.created_at, u.disabled_at
                 FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = $1",
            )
            .bind(&id_hash)
            .bind(today.format("%Y-%m-%d").to_string())
            .fetch_optional(db)
            .await?
        });
        let Some(SessionRow {
            csrf_token,
            second_factor_pending: pending,
            session_created_at: created,
            last_seen_at: seen,
            roster_entries,
            roster_active,
            user,
        }) = row
        else {
            return Ok(None);
        };
        let (Some(created), Some(seen)) = (from_storage(&created), from_storage(&seen)) else {
            return Ok(None);
        };
        let idle_limit = if pending {
            Duration::minutes(SECOND_FACTOR_MINUTES)
        } else {
            Duration::minutes(IDLE_TIMEOUT_MINUTES)
        };
        if now_utc - seen > idle_limit
            || now_utc - created > Duration::hours(ABSOLUTE_TIMEOUT_HOURS)
        {
            self.delete_session(&id_hash).await?;
            return Ok(None);
        }
        if user.disabled_at.is_some() {
            self.delete_session(&id_hash).await?;
            return Ok(None);
        }
        if roster_entries > 0 && roster_active == 0 {
            // The assignment ended (or the pledge is missing): this and every other session of the
            // account end, its tokens too, audited (R12).
            self.end_roster_access(user.id, today, "assignment_ended")
                .await?;
            self.delete_session(&id_hash).await?;
            return Ok(None);
        }
        if now_utc - seen > Duration::minutes(1) {
            write_tx!(self, |tx| {
                sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id_hash = $2")
                    .bind(to_storage(now_utc))
                    .bind(&id_hash)
                    .execute(&mut *tx)
                    .await?;
            });
        }
        Ok(Some(Session {
            id_hash,
            user,
            csrf_token,
            second_factor_pending: pending,
        }))
    }

    /// Ends a session (logout, rotation, timeout).
    pub async fn delete_session(&self, id_hash: &str) -> Result<()> {
        write_tx!(self, |tx| {
            sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
                .bind(id_hash)
                .execute(&mut *tx)
                .await?;
        });
        Ok(())
    }

    /// Removes sessions past their absolute timeout (housekeeping).
    pub async fn purge_sessions(&self, now_utc: DateTime<Utc>) -> Result<u64> {
        let cutoff = to_storage(now_utc - Duration::hours(ABSOLUTE_TIMEOUT_HOURS));
        let n = write_tx!(self, |tx| {
            sqlx::query("DELETE FROM sessions WHERE created_at < $1")
                .bind(&cutoff)
                .execute(&mut *tx)
                .await?
                .rows_affected()
        });
        Ok(n)
    }
}

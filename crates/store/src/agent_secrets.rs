//! Agent credentials verified a moment ago, so that an agent posting every run costs one Argon2 check
//! per [`REMEMBER_FOR`], not one per request: a crowd of agents (or of requests naming one) was enough
//! to keep every core on password hashing.
//!
//! Entries are keyed by a SHA-256 of a per-process random key, the user name and the password, so the
//! memo holds no secret and its keys mean nothing outside this process. Each remembers the stored hash
//! it was verified against: a hit still reads the credential's row, and a revoked credential or a
//! replaced hash is refused or checked again at once.

use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How long a verified credential is remembered.
pub const REMEMBER_FOR: Duration = Duration::from_secs(10 * 60);

/// Most credentials remembered at once (past it, expired entries go, then everything).
pub const MAX_REMEMBERED: usize = 4096;

/// The memo of one store (shared by its clones).
#[derive(Debug)]
pub(crate) struct RememberedAgents {
    key: [u8; 32],
    entries: Mutex<HashMap<[u8; 32], Remembered>>,
    /// Argon2 verifications run, for operators and tests.
    checks: AtomicU64,
}

#[derive(Debug)]
struct Remembered {
    stored_hash: String,
    until: Instant,
}

impl Default for RememberedAgents {
    fn default() -> Self {
        let mut key = [0u8; 32];
        // Without randomness the memo still works; its keys are then only as strong as SHA-256 of
        // the secret itself, which is held in memory alone.
        let _ = getrandom::fill(&mut key);
        RememberedAgents {
            key,
            entries: Mutex::new(HashMap::new()),
            checks: AtomicU64::new(0),
        }
    }
}

impl RememberedAgents {
    fn digest(&self, username: &str, password: &str) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(self.key);
        h.update((username.len() as u64).to_le_bytes());
        h.update(username.as_bytes());
        h.update(password.as_bytes());
        h.finalize().into()
    }

    /// Whether this name and password were verified against `stored_hash` within [`REMEMBER_FOR`].
    pub(crate) fn knows(&self, username: &str, password: &str, stored_hash: &str) -> bool {
        let digest = self.digest(username, password);
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .get(&digest)
            .is_some_and(|r| r.stored_hash == stored_hash && r.until > Instant::now())
    }

    /// Remembers a successful verification.
    pub(crate) fn remember(&self, username: &str, password: &str, stored_hash: &str) {
        let digest = self.digest(username, password);
        let now = Instant::now();
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= MAX_REMEMBERED {
            entries.retain(|_, r| r.until > now);
            if entries.len() >= MAX_REMEMBERED {
                entries.clear();
            }
        }
        entries.insert(
            digest,
            Remembered {
                stored_hash: stored_hash.to_string(),
                until: now + REMEMBER_FOR,
            },
        );
    }

    /// Counts one Argon2 verification.
    pub(crate) fn counted(&self) {
        self.checks.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn checks(&self) -> u64 {
        self.checks.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_a_secret_for_its_stored_hash_only() {
        let m = RememberedAgents::default();
        assert!(!m.knows("agent-1", "pw", "$argon2id$a"));
        m.remember("agent-1", "pw", "$argon2id$a");
        assert!(m.knows("agent-1", "pw", "$argon2id$a"));
        assert!(!m.knows("agent-1", "pw2", "$argon2id$a"));
        assert!(!m.knows("agent-2", "pw", "$argon2id$a"));
        // The boundary between name and password is part of the key.
        assert!(!m.knows("agent-1p", "w", "$argon2id$a"));
        // A replaced hash is checked again.
        assert!(!m.knows("agent-1", "pw", "$argon2id$b"));
    }

    #[test]
    fn stays_bounded() {
        let m = RememberedAgents::default();
        for i in 0..(MAX_REMEMBERED + 10) {
            m.remember(&format!("agent-{i}"), "pw", "h");
        }
        assert!(m.entries.lock().unwrap().len() <= MAX_REMEMBERED);
    }
}

//! In-memory limits on failed authentication, and the coalescing of a burst of failures into one audit
//! entry. Generic over the key (a source address, an account name, an agent's user name), so every
//! endpoint that checks a secret can use the same pieces.
//!
//! * [`FailureLimiter`]: at most `max_failures` failures per key in a fixed window that starts with the
//!   key's first failure; once reached, [`FailureLimiter::check`] refuses the key with a
//!   [`RetryAfter`] until the window ends. [`FailureLimiter::record_success`] forgets the key.
//! * [`BurstLog`]: the first failure of a key in a window is written to the audit log as usual; later
//!   ones in the same window are only counted ([`BurstLog::count`]), and when the window has closed
//!   [`BurstLog::take_closed`] hands back each burst once, to be written as one entry with its count.
//!   A flood of a thousand failures from one address thus makes two audit rows, not a thousand.
//!
//! Both are per instance (several instances each keep their own counts) and bounded in memory: past
//! [`MAX_KEYS`] keys, expired windows are dropped and then the oldest one. Time comes from a [`Clock`],
//! the system's own except in tests, which move it forward instead of sleeping.

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Most keys a limiter or burst log remembers at once.
pub const MAX_KEYS: usize = 100_000;

/// Most distinct labels (e.g. tried account names) a burst remembers for its audit entry.
pub const MAX_LABELS: usize = 10;

/// A monotonic clock: the system's, plus an offset that only tests move.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    offset_ms: Arc<AtomicU64>,
}

impl Clock {
    /// The system clock.
    pub fn system() -> Clock {
        Clock::default()
    }

    /// Now, as this clock sees it.
    pub fn now(&self) -> Instant {
        Instant::now() + Duration::from_millis(self.offset_ms.load(Ordering::Relaxed))
    }

    /// Moves this clock (and every clone of it) forward by `by` (tests).
    pub fn advance(&self, by: Duration) {
        let ms = u64::try_from(by.as_millis()).unwrap_or(u64::MAX);
        self.offset_ms.fetch_add(ms, Ordering::Relaxed);
    }
}

/// How many failures a key may have in how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    /// Failures allowed in one window; the next attempt is refused.
    pub max_failures: u32,
    /// Length of the window, from the key's first failure.
    pub window: Duration,
}

/// A refusal: try again after this long.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct RetryAfter(pub Duration);

impl RetryAfter {
    /// Whole seconds, rounded up (for a `Retry-After` header), at least 1.
    pub fn secs(&self) -> u64 {
        let s = self.0.as_secs() + u64::from(self.0.subsec_nanos() > 0);
        s.max(1)
    }

    /// Whole minutes, rounded up (for a message), at least 1.
    pub fn minutes(&self) -> u64 {
        self.secs().div_ceil(60)
    }
}

#[derive(Debug, Clone, Copy)]
struct Window {
    started: Instant,
    failures: u32,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock leaves plain counters behind, still usable.
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Counts failures per key in fixed windows and refuses a key that reached its limit.
#[derive(Debug)]
pub struct FailureLimiter<K> {
    limit: Limit,
    clock: Clock,
    windows: Mutex<HashMap<K, Window>>,
}

impl<K: Eq + Hash + Clone> FailureLimiter<K> {
    /// A limiter allowing `limit` per key, timed by `clock`.
    pub fn new(limit: Limit, clock: Clock) -> Self {
        FailureLimiter {
            limit,
            clock,
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// The limit this limiter applies.
    pub fn limit(&self) -> Limit {
        self.limit
    }

    /// `Ok` when `key` may try again, `Err` with how long to wait when it reached its limit.
    pub fn check(&self, key: &K) -> Result<(), RetryAfter> {
        let now = self.clock.now();
        let mut windows = lock(&self.windows);
        match windows.get(key).copied() {
            Some(w) if now.duration_since(w.started) >= self.limit.window => {
                windows.remove(key);
                Ok(())
            }
            Some(w) if w.failures >= self.limit.max_failures => Err(RetryAfter(
                self.limit.window - now.duration_since(w.started),
            )),
            _ => Ok(()),
        }
    }

    /// Counts a failure of `key`; `Err` when this one reached the limit (the next attempt is refused).
    pub fn record_failure(&self, key: &K) -> Result<(), RetryAfter> {
        let now = self.clock.now();
        let mut windows = lock(&self.windows);
        let window = self.limit.window;
        let fresh = Window {
            started: now,
            failures: 0,
        };
        let w = match windows.get_mut(key) {
            Some(w) if now.duration_since(w.started) < window => w,
            Some(w) => {
                *w = fresh;
                w
            }
            None => {
                if windows.len() >= MAX_KEYS {
                    make_room(&mut windows, now, window, |w| w.started);
                }
                windows.entry(key.clone()).or_insert(fresh)
            }
        };
        w.failures = w.failures.saturating_add(1);
        if w.failures >= self.limit.max_failures {
            Err(RetryAfter(window - now.duration_since(w.started)))
        } else {
            Ok(())
        }
    }

    /// Forgets the failures of `key` (after it proved itself).
    pub fn record_success(&self, key: &K) {
        lock(&self.windows).remove(key);
    }

    /// How many keys are remembered (tests, metrics).
    pub fn len(&self) -> usize {
        lock(&self.windows).len()
    }

    /// Whether no key is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Drops windows older than `window`; if none was, the oldest one.
fn make_room<K: Eq + Hash + Clone, V>(
    map: &mut HashMap<K, V>,
    now: Instant,
    window: Duration,
    started: impl Fn(&V) -> Instant,
) {
    map.retain(|_, v| now.duration_since(started(v)) < window);
    if map.len() >= MAX_KEYS
        && let Some(oldest) = map
            .iter()
            .min_by_key(|(_, v)| started(v))
            .map(|(k, _)| k.clone())
    {
        map.remove(&oldest);
    }
}

/// One closed burst: the failures after the first, counted instead of written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Burst<K> {
    /// Whose burst (e.g. the source address).
    pub key: K,
    /// Failures counted after the first (which was written on its own).
    pub failures: u64,
    /// Of those, attempts refused by a limiter without checking the secret.
    pub refused: u64,
    /// Up to [`MAX_LABELS`] distinct labels (e.g. the account names tried).
    pub labels: Vec<String>,
    /// Wall-clock time of the first counted failure and of the last.
    pub first_at: chrono::DateTime<chrono::Utc>,
    /// See `first_at`.
    pub last_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Debug)]
struct Open<K> {
    started: Instant,
    counted: Option<Burst<K>>,
}

#[derive(Debug)]
struct Bursts<K> {
    open: HashMap<K, Open<K>>,
    /// Keys in the order their windows opened, which (all windows being equally long) is the order
    /// they close in.
    order: VecDeque<(Instant, K)>,
    /// Closed bursts with a count, not taken yet.
    closed: Vec<Burst<K>>,
}

impl<K: Eq + Hash + Clone> Bursts<K> {
    /// Closes the oldest window (keeping its count).
    fn close_front(&mut self) {
        if let Some((started, key)) = self.order.pop_front()
            && self.open.get(&key).is_some_and(|o| o.started == started)
            && let Some(Open {
                counted: Some(b), ..
            }) = self.open.remove(&key)
        {
            self.closed.push(b);
        }
    }

    /// Closes every window older than `window`.
    fn sweep(&mut self, now: Instant, window: Duration) {
        while let Some((started, key)) = self.order.front() {
            if now.duration_since(*started) < window {
                break;
            }
            if self.open.get(key).is_some_and(|o| o.started == *started) {
                let key = key.clone();
                if let Some(Open {
                    counted: Some(b), ..
                }) = self.open.remove(&key)
                {
                    self.closed.push(b);
                }
            }
            self.order.pop_front();
        }
    }

    fn open_now(&mut self, key: &K, now: Instant) {
        while self.open.len() >= MAX_KEYS && !self.order.is_empty() {
            // Under a flood of fresh keys the oldest window closes early; its count is kept.
            self.close_front();
        }
        self.open.insert(
            key.clone(),
            Open {
                started: now,
                counted: None,
            },
        );
        self.order.push_back((now, key.clone()));
    }
}

/// Coalesces a burst of failures per key into the first failure's own entry plus one counted entry.
#[derive(Debug)]
pub struct BurstLog<K> {
    window: Duration,
    clock: Clock,
    state: Mutex<Bursts<K>>,
}

impl<K: Eq + Hash + Clone> BurstLog<K> {
    /// A burst log whose windows last `window` from a key's first failure, timed by `clock`.
    pub fn new(window: Duration, clock: Clock) -> Self {
        BurstLog {
            window,
            clock,
            state: Mutex::new(Bursts {
                open: HashMap::new(),
                order: VecDeque::new(),
                closed: Vec::new(),
            }),
        }
    }

    /// Whether a failure of `key` now falls into an open window, i.e. should be [`count`](Self::count)ed
    /// rather than written on its own.
    pub fn is_open(&self, key: &K) -> bool {
        let now = self.clock.now();
        let mut st = lock(&self.state);
        st.sweep(now, self.window);
        st.open.contains_key(key)
    }

    /// Opens a window for `key`, whose failure was just written on its own. `false` when one was open
    /// already (nothing changes then).
    pub fn open(&self, key: &K) -> bool {
        let now = self.clock.now();
        let mut st = lock(&self.state);
        st.sweep(now, self.window);
        if st.open.contains_key(key) {
            return false;
        }
        st.open_now(key, now);
        true
    }

    /// Counts a failure of `key` that was not written on its own; `refused` when a limiter turned it
    /// away without checking the secret; `label` e.g. the account name tried. Opens a window if none is.
    pub fn count(&self, key: &K, label: &str, refused: bool) {
        let now = self.clock.now();
        let at = chrono::Utc::now();
        let mut st = lock(&self.state);
        st.sweep(now, self.window);
        if !st.open.contains_key(key) {
            st.open_now(key, now);
        }
        let Some(open) = st.open.get_mut(key) else {
            return;
        };
        let b = open.counted.get_or_insert_with(|| Burst {
            key: key.clone(),
            failures: 0,
            refused: 0,
            labels: Vec::new(),
            first_at: at,
            last_at: at,
        });
        b.failures += 1;
        b.refused += u64::from(refused);
        b.last_at = at;
        if b.labels.len() < MAX_LABELS && !label.is_empty() && !b.labels.iter().any(|l| l == label)
        {
            b.labels.push(label.chars().take(64).collect());
        }
    }

    /// The bursts whose windows have closed since the last call, each once.
    pub fn take_closed(&self) -> Vec<Burst<K>> {
        let now = self.clock.now();
        let mut st = lock(&self.state);
        st.sweep(now, self.window);
        std::mem::take(&mut st.closed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: Duration = Duration::from_secs(60);

    fn limiter(max: u32, clock: &Clock) -> FailureLimiter<String> {
        FailureLimiter::new(
            Limit {
                max_failures: max,
                window: 15 * MIN,
            },
            clock.clone(),
        )
    }

    #[test]
    fn refuses_after_the_limit_until_the_window_ends() {
        let clock = Clock::system();
        let l = limiter(3, &clock);
        let k = "192.0.2.1".to_string();
        assert_eq!(l.check(&k), Ok(()));
        assert!(l.record_failure(&k).is_ok());
        assert!(l.record_failure(&k).is_ok());
        let reached = l
            .record_failure(&k)
            .expect_err("third failure reaches the limit");
        assert!(reached.0 <= 15 * MIN && reached.0 > 14 * MIN);
        let refused = l.check(&k).expect_err("refused");
        assert_eq!(refused.minutes(), 15);
        // Another key is not affected.
        assert_eq!(l.check(&"192.0.2.2".to_string()), Ok(()));
        clock.advance(10 * MIN);
        let refused = l.check(&k).expect_err("still refused");
        assert_eq!(refused.minutes(), 5);
        assert!(refused.secs() <= 300 && refused.secs() > 290);
        clock.advance(5 * MIN);
        assert_eq!(l.check(&k), Ok(()), "the window is over");
        assert!(l.record_failure(&k).is_ok(), "a fresh window");
    }

    #[test]
    fn success_forgets_the_key() {
        let clock = Clock::system();
        let l = limiter(2, &clock);
        let k = "se".to_string();
        assert!(l.record_failure(&k).is_ok());
        l.record_success(&k);
        assert!(l.is_empty());
        assert!(l.record_failure(&k).is_ok());
        assert!(l.record_failure(&k).is_err());
        assert!(l.check(&k).is_err());
    }

    #[test]
    fn memory_is_bounded() {
        let clock = Clock::system();
        let l = limiter(5, &clock);
        for i in 0..MAX_KEYS + 10 {
            let _ = l.record_failure(&i.to_string());
        }
        assert!(l.len() <= MAX_KEYS);
        // The newest keys are remembered.
        let _ = l.record_failure(&(MAX_KEYS + 9).to_string());
        assert_eq!(l.len(), MAX_KEYS);
    }

    #[test]
    fn retry_after_rounds_up() {
        assert_eq!(RetryAfter(Duration::from_millis(1)).secs(), 1);
        assert_eq!(RetryAfter(Duration::from_millis(1001)).secs(), 2);
        assert_eq!(RetryAfter(Duration::from_secs(61)).minutes(), 2);
        assert_eq!(RetryAfter(Duration::ZERO).minutes(), 1);
    }

    /// A thousand failures from one key: the first is written on its own, the other 999 come back as
    /// one burst once the window has closed.
    #[test]
    fn a_flood_is_one_burst() {
        let clock = Clock::system();
        let log = BurstLog::new(15 * MIN, clock.clone());
        let k = "198.51.100.7".to_string();
        let mut written = 0;
        for i in 0..1000 {
            if log.is_open(&k) {
                log.count(&k, &format!("user{}", i % 20), i >= 30);
            } else {
                written += 1;
                assert!(log.open(&k));
            }
        }
        assert_eq!(written, 1);
        assert!(log.take_closed().is_empty(), "the window is still open");
        clock.advance(15 * MIN);
        let bursts = log.take_closed();
        assert_eq!(bursts.len(), 1);
        let b = &bursts[0];
        assert_eq!(
            (b.key.as_str(), b.failures, b.refused),
            (k.as_str(), 999, 970)
        );
        assert_eq!(b.labels.len(), MAX_LABELS);
        assert!(b.first_at <= b.last_at);
        assert!(log.take_closed().is_empty(), "handed back once");
        assert!(!log.is_open(&k), "the next failure is written again");
    }

    #[test]
    fn a_single_failure_makes_no_burst() {
        let clock = Clock::system();
        let log = BurstLog::new(MIN, clock.clone());
        assert!(log.open(&"a"));
        assert!(!log.open(&"a"), "already open");
        clock.advance(MIN);
        assert!(log.take_closed().is_empty());
        assert!(log.open(&"a"), "a new window");
        log.count(&"a", "", false);
        log.count(&"b", "x", true);
        clock.advance(MIN);
        let mut bursts = log.take_closed();
        bursts.sort_by_key(|b| b.key);
        assert_eq!(
            bursts
                .iter()
                .map(|b| (b.key, b.failures, b.refused))
                .collect::<Vec<_>>(),
            [("a", 1, 0), ("b", 1, 1)]
        );
    }

    #[test]
    fn burst_memory_is_bounded_and_keeps_counts() {
        let clock = Clock::system();
        let log = BurstLog::new(MIN, clock.clone());
        log.open(&0usize);
        log.count(&0usize, "", false);
        for i in 1..MAX_KEYS + 5 {
            log.open(&i);
        }
        let early = log.take_closed();
        assert_eq!(
            early.len(),
            1,
            "the oldest window closed early, its count kept"
        );
        assert_eq!(early[0].key, 0);
    }
}

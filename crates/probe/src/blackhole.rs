//! How a check run reaches its target: [`Network`] (the real one, the only one `unyo serve` uses) and
//! [`Blackhole`], the demo's stand-in for a cut line.
//!
//! The demo stages an outage (the 鳥栖 line down) on a machine whose own network it must never use: every
//! demo target is on the loopback range, where every address answers. A [`Blackhole`] is a set of loopback
//! addresses that the demo's probes treat as silent: a run against one of them sends nothing and ends as a
//! real unanswered run would, with each attempt timing out. The addresses must be loopback, so even a
//! mistaken set cannot turn the demo into a scanner of real hosts, nor hide a real host's answer.
//!
//! The engine is generic over [`Prober`], so the real deployment's schedule is compiled for [`Network`]
//! alone: its hot path does not look at any set.

use crate::{ResultRecord, Scheduled, run_check};
use std::collections::HashSet;
use std::future::Future;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use unyo_domain::connectivity::ProbeStatus;

/// Runs one check (all its attempts) and returns its result.
pub trait Prober: Clone + Send + Sync + 'static {
    /// One run of `check`, as [`run_check`] does it over the network.
    fn run(&self, check: &Scheduled) -> impl Future<Output = ResultRecord> + Send;
}

/// The network itself: every run is [`run_check`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Network;

impl Prober for Network {
    fn run(&self, check: &Scheduled) -> impl Future<Output = ResultRecord> + Send {
        run_check(check.id, &check.spec, &check.settings)
    }
}

/// Loopback addresses that never answer (the demo's cut lines); every other target is probed over the
/// network as usual.
#[derive(Debug, Clone, Default)]
pub struct Blackhole {
    silent: Arc<HashSet<IpAddr>>,
}

/// A [`Blackhole`] was asked to swallow an address that is not loopback.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotLoopback(pub IpAddr);

impl std::fmt::Display for NotLoopback {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} is not a loopback address: only loopback targets can be made silent",
            self.0
        )
    }
}

impl std::error::Error for NotLoopback {}

impl Blackhole {
    /// A blackhole over `addrs`, each of which must be a loopback address (127.0.0.0/8 or ::1).
    pub fn loopback(addrs: impl IntoIterator<Item = IpAddr>) -> Result<Blackhole, NotLoopback> {
        let silent = addrs
            .into_iter()
            .map(|a| {
                if a.is_loopback() {
                    Ok(a)
                } else {
                    Err(NotLoopback(a))
                }
            })
            .collect::<Result<HashSet<_>, _>>()?;
        Ok(Blackhole {
            silent: Arc::new(silent),
        })
    }

    /// No address is silent: behaves as [`Network`].
    pub fn is_empty(&self) -> bool {
        self.silent.is_empty()
    }

    /// Whether runs against `addr` are swallowed.
    pub fn swallows(&self, addr: IpAddr) -> bool {
        self.silent.contains(&addr)
    }
}

impl Prober for Blackhole {
    fn run(&self, check: &Scheduled) -> impl Future<Output = ResultRecord> + Send {
        let silent = self.swallows(check.spec.addr());
        let check = check.clone();
        async move {
            if !silent {
                return run_check(check.id, &check.spec, &check.settings).await;
            }
            // What an unanswered run looks like: every attempt waits its whole timeout.
            let started = Instant::now();
            let ts = chrono::Utc::now().timestamp();
            let timeout = Duration::from_millis(u64::from(check.settings.timeout_ms));
            for _ in 0..=check.settings.retries {
                tokio::time::sleep(timeout).await;
            }
            ResultRecord {
                check_id: check.id,
                ts,
                status: ProbeStatus::Down,
                latency_ms: None,
                message: format!("タイムアウト（{} ms）", timeout.as_millis()),
                cert_days_left: None,
                lateness: Duration::ZERO,
                started,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use unyo_domain::connectivity::{CheckSettings, ProbeSpec};

    #[test]
    fn only_loopback_addresses_can_be_silent() {
        let private: IpAddr = "10.41.50.1".parse().expect("ip");
        assert_eq!(
            Blackhole::loopback([private]).err(),
            Some(NotLoopback(private))
        );
        let public: IpAddr = "192.0.2.1".parse().expect("ip");
        assert!(Blackhole::loopback([public]).is_err());
        let b = Blackhole::loopback([
            "127.41.50.1".parse().expect("ip"),
            "::1".parse().expect("ip"),
        ])
        .expect("loopback");
        assert!(b.swallows("127.41.50.1".parse().expect("ip")));
        assert!(!b.swallows("127.41.50.2".parse().expect("ip")));
    }

    #[tokio::test]
    async fn a_silent_target_times_out_like_an_unanswered_one() {
        let addr: IpAddr = "127.41.50.1".parse().expect("ip");
        let b = Blackhole::loopback([addr]).expect("loopback");
        let check = Scheduled {
            id: 7,
            spec: ProbeSpec::Tcp { addr, port: 9 },
            settings: CheckSettings {
                timeout_ms: 60,
                retries: 1,
                ..CheckSettings::default()
            },
        };
        let started = Instant::now();
        let r = b.run(&check).await;
        assert_eq!(r.status, ProbeStatus::Down);
        assert_eq!(r.message, "タイムアウト（60 ms）");
        assert!(
            started.elapsed() >= Duration::from_millis(120),
            "both attempts waited"
        );
        // Another loopback target is probed for real: nothing listens on port 9, so it is refused at once.
        let open = Scheduled {
            spec: ProbeSpec::Tcp {
                addr: "127.41.50.2".parse().expect("ip"),
                port: 9,
            },
            ..check
        };
        let r = b.run(&open).await;
        assert_eq!(r.status, ProbeStatus::Down);
        assert_eq!(r.message, "接続拒否");
    }
}

//! Qlik's rate-limit tiers, per tenant, as the twin enforces them: reads (GET) in tier 1, writes in tier 2, each counted over a
//! sliding one-minute window. A full tier blocks only its own kind of call.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

/// The window requests are counted over.
const WINDOW: Duration = Duration::from_secs(60);

/// Requests per minute per tenant in each tier (`0` lifts a tier's limit): the client's own type, so the
/// twin and the connector count the same tiers.
pub use keyflow_blocks::qlik_cloud::client::Tiers;

/// The tier of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tier {
    /// Tier 1.
    Read,
    /// Tier 2.
    Write,
}

/// The requests admitted in the last window, per tenant and tier.
#[derive(Debug)]
pub struct Limiter {
    tiers: Tiers,
    windows: HashMap<(String, Tier), VecDeque<Instant>>,
}

impl Limiter {
    /// A limiter with no requests seen.
    pub fn new(tiers: Tiers) -> Limiter {
        Limiter {
            tiers,
            windows: HashMap::new(),
        }
    }

    /// Admits a request of `tenant` in `tier` at `now`, or says how long until the tier has room.
    pub fn admit(&mut self, tenant: &str, tier: Tier, now: Instant) -> Result<(), Duration> {
        let limit = match tier {
            Tier::Read => self.tiers.reads_per_minute,
            Tier::Write => self.tiers.writes_per_minute,
        };
        if limit == 0 {
            return Ok(());
        }
        let window = self.windows.entry((tenant.to_string(), tier)).or_default();
        while window
            .front()
            .is_some_and(|at| now.saturating_duration_since(*at) >= WINDOW)
        {
            window.pop_front();
        }
        // `limit` fits: the window never holds more than it.
        if window.len() < limit as usize {
            window.push_back(now);
            return Ok(());
        }
        let oldest = window.front().copied().unwrap_or(now);
        Err((oldest + WINDOW).saturating_duration_since(now))
    }
}

/// Whole seconds to wait, rounded up, at least 1 (what `Retry-After` says).
pub fn retry_after_secs(wait: Duration) -> u64 {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    secs.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_tier_blocks_only_itself_and_frees_up_as_the_window_slides() {
        let mut limiter = Limiter::new(Tiers {
            reads_per_minute: 2,
            writes_per_minute: 1,
        });
        let t0 = Instant::now();
        assert_eq!(limiter.admit("a", Tier::Write, t0), Ok(()));
        let wait = limiter
            .admit("a", Tier::Write, t0 + Duration::from_secs(20))
            .unwrap_err();
        assert_eq!(retry_after_secs(wait), 40);
        assert_eq!(limiter.admit("a", Tier::Read, t0), Ok(()));
        assert_eq!(limiter.admit("b", Tier::Write, t0), Ok(()));
        assert_eq!(
            limiter.admit("a", Tier::Write, t0 + Duration::from_secs(60)),
            Ok(())
        );
    }

    #[test]
    fn zero_lifts_the_limit() {
        let mut limiter = Limiter::new(Tiers {
            reads_per_minute: 0,
            writes_per_minute: 0,
        });
        let now = Instant::now();
        for _ in 0..5000 {
            assert_eq!(limiter.admit("a", Tier::Read, now), Ok(()));
        }
    }

    #[test]
    fn retry_after_rounds_up() {
        assert_eq!(retry_after_secs(Duration::from_millis(1)), 1);
        assert_eq!(retry_after_secs(Duration::from_millis(1500)), 2);
        assert_eq!(retry_after_secs(Duration::ZERO), 1);
    }
}

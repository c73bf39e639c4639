//! Client-side rate limits at the published AWS KMS quotas, per connection and operation, so that a
//! fan-out over hundreds of keys waits its turn here instead of being throttled by AWS.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, RateLimiter};
use indexmap::IndexMap;

use super::operation::Quota;

/// Requests per second per account and region, as AWS publishes them.
pub const PUBLISHED: &[(Quota, f64)] = &[
    (Quota::CreateKey, 5.0),
    (Quota::CreateAlias, 5.0),
    (Quota::UpdateAlias, 5.0),
    (Quota::UntagResource, 5.0),
    (Quota::EnableKey, 5.0),
    (Quota::DisableKey, 5.0),
    (Quota::CancelKeyDeletion, 5.0),
    (Quota::UpdateKeyDescription, 5.0),
    (Quota::TagResource, 10.0),
    (Quota::PutKeyPolicy, 15.0),
    (Quota::ScheduleKeyDeletion, 15.0),
    (Quota::DeleteAlias, 15.0),
    (Quota::EnableKeyRotation, 15.0),
    (Quota::DisableKeyRotation, 15.0),
    (Quota::ListKeys, 500.0),
    (Quota::ListAliases, 500.0),
    (Quota::GetKeyPolicy, 1000.0),
    (Quota::GetKeyRotationStatus, 1000.0),
    (Quota::DescribeKey, 2000.0),
    (Quota::ListResourceTags, 2000.0),
    (Quota::Cryptographic, 10_000.0),
    (Quota::ReplicateKey, 5.0),
    // Each replica also counts against CreateKey in the replica's region.
    (Quota::ReplicaCreateKey, 2.0),
];

/// The published quotas with `overrides` by quota name (`CreateKey`); names that are not quotas are left
/// out (a flow's are refused when it is checked, by [`overrides_schema`]).
pub fn rates<'a>(overrides: impl IntoIterator<Item = (&'a str, f64)>) -> HashMap<Quota, f64> {
    let mut rates: HashMap<Quota, f64> = PUBLISHED.iter().copied().collect();
    rates.extend(
        overrides
            .into_iter()
            .filter_map(|(name, rate)| Some((Quota::from_name(name)?, rate))),
    );
    rates
}

/// The schema of a connection's `quotas:`: the names of [`PUBLISHED`], each a rate of at least 0, so a
/// misspelt operation is caught when the flow is checked.
pub fn overrides_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    let properties: serde_json::Map<String, serde_json::Value> = PUBLISHED
        .iter()
        .map(|(name, rate)| {
            let description = format!("Requests per second (published quota: {rate}).");
            (
                name.name().to_string(),
                serde_json::json!({"type": "number", "minimum": 0, "description": description}),
            )
        })
        .collect();
    schemars::json_schema!({
        "type": "object",
        "properties": properties,
        "additionalProperties": false
    })
}

/// The rate limiters of one connection, created on first use of each (operation, region).
pub struct Limits {
    rates: HashMap<Quota, f64>,
    limiters: Mutex<HashMap<(Quota, String), Arc<DefaultDirectRateLimiter>>>,
}

impl Limits {
    /// The published quotas with the connection's overrides (`quotas: { CreateKey: 10 }`; 0 lifts a limit).
    pub fn new(overrides: &IndexMap<String, f64>) -> Limits {
        Limits {
            rates: rates(overrides.iter().map(|(name, rate)| (name.as_str(), *rate))),
            limiters: Mutex::default(),
        }
    }

    /// Waits until a call of `quota` in `region` fits in its quota.
    pub async fn acquire(&self, quota: Quota, region: &str) {
        let Some(limiter) = self.limiter(quota, region) else {
            return;
        };
        limiter.until_ready().await;
    }

    fn limiter(&self, quota: Quota, region: &str) -> Option<Arc<DefaultDirectRateLimiter>> {
        let rate = *self.rates.get(&quota)?;
        if rate <= 0.0 || !rate.is_finite() {
            return None;
        }
        let mut limiters = self.limiters.lock().ok()?;
        let limiter = limiters
            .entry((quota, region.to_string()))
            .or_insert_with(|| Arc::new(RateLimiter::direct(bucket(rate))));
        Some(limiter.clone())
    }
}

/// A token bucket refilled at `rate` per second holding at most one second of calls.
fn bucket(rate: f64) -> governor::Quota {
    let period = Duration::from_secs_f64(1.0 / rate);
    let burst = NonZeroU32::new(rate.floor().max(1.0) as u32).unwrap_or(NonZeroU32::MIN);
    governor::Quota::with_period(period).map_or_else(
        || governor::Quota::per_second(burst),
        |q| q.allow_burst(burst),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[tokio::test]
    async fn calls_beyond_the_quota_wait_and_overrides_apply() {
        let limits = Limits::new(&IndexMap::from([
            ("CreateKey".to_string(), 20.0),
            ("ListKeys".to_string(), 0.0),
        ]));
        let started = Instant::now();
        // 20/s with a burst of 20: the first 20 pass at once, 10 more need about half a second.
        for _ in 0..30 {
            limits.acquire(Quota::CreateKey, "eu-west-1").await;
        }
        let waited = started.elapsed();
        assert!(
            waited >= Duration::from_millis(400),
            "30 calls at 20/s took only {waited:?}"
        );
    }

    #[test]
    fn each_region_has_its_own_bucket_and_a_lifted_limit_has_none() {
        // One CreateKey per 5 s: after one call, the next in that region would wait; in another, not.
        let limits = Limits::new(&IndexMap::from([
            ("CreateKey".to_string(), 0.2),
            ("ListKeys".to_string(), 0.0),
        ]));
        let ireland = limits.limiter(Quota::CreateKey, "eu-west-1").unwrap();
        assert!(ireland.check().is_ok());
        assert!(ireland.check().is_err(), "a second call within 5 s passed");
        let paris = limits.limiter(Quota::CreateKey, "eu-west-3").unwrap();
        assert!(paris.check().is_ok(), "another region shared the bucket");
        assert!(limits.limiter(Quota::ListKeys, "eu-west-1").is_none());
        assert!(limits.limiter(Quota::DescribeKey, "eu-west-1").is_some());
    }
}

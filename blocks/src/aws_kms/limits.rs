//! Client-side rate limits at the published AWS KMS quotas, per connection and operation, so that a
//! fan-out over hundreds of keys waits its turn here instead of being throttled by AWS.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use indexmap::IndexMap;

/// Requests per second per account and region, as AWS publishes them. Operations sharing one quota use
/// the same name (`Cryptographic` for Encrypt, Decrypt and GenerateDataKey).
pub const PUBLISHED: &[(&str, f64)] = &[
    ("CreateKey", 5.0),
    ("CreateAlias", 5.0),
    ("UpdateAlias", 5.0),
    ("UntagResource", 5.0),
    ("EnableKey", 5.0),
    ("DisableKey", 5.0),
    ("CancelKeyDeletion", 5.0),
    ("UpdateKeyDescription", 5.0),
    ("TagResource", 10.0),
    ("PutKeyPolicy", 15.0),
    ("ScheduleKeyDeletion", 15.0),
    ("DeleteAlias", 15.0),
    ("EnableKeyRotation", 15.0),
    ("DisableKeyRotation", 15.0),
    ("ListKeys", 500.0),
    ("ListAliases", 500.0),
    ("GetKeyPolicy", 1000.0),
    ("GetKeyRotationStatus", 1000.0),
    ("DescribeKey", 2000.0),
    ("ListResourceTags", 2000.0),
    ("Cryptographic", 10_000.0),
    ("ReplicateKey", 5.0),
    // Each replica also counts against CreateKey in the replica's region.
    ("ReplicaCreateKey", 2.0),
];

/// The schema of a connection's `quotas:`: the names of [`PUBLISHED`], each a rate of at least 0, so a
/// misspelt operation is caught when the flow is checked.
pub fn overrides_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    let properties: serde_json::Map<String, serde_json::Value> = PUBLISHED
        .iter()
        .map(|(name, rate)| {
            let description = format!("Requests per second (published quota: {rate}).");
            (
                name.to_string(),
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
    rates: HashMap<String, f64>,
    limiters: Mutex<HashMap<(String, String), Arc<DefaultDirectRateLimiter>>>,
}

impl Limits {
    /// The published quotas with the connection's overrides (`quotas: { CreateKey: 10 }`; 0 lifts a limit).
    pub fn new(overrides: &IndexMap<String, f64>) -> Limits {
        let mut rates: HashMap<String, f64> = PUBLISHED
            .iter()
            .map(|(op, rate)| (op.to_string(), *rate))
            .collect();
        rates.extend(overrides.iter().map(|(op, rate)| (op.clone(), *rate)));
        Limits {
            rates,
            limiters: Mutex::default(),
        }
    }

    /// Waits until a call of `quota` in `region` fits in its quota.
    pub async fn acquire(&self, quota: &str, region: &str) {
        let Some(limiter) = self.limiter(quota, region) else {
            return;
        };
        limiter.until_ready().await;
    }

    fn limiter(&self, quota: &str, region: &str) -> Option<Arc<DefaultDirectRateLimiter>> {
        let rate = *self.rates.get(quota)?;
        if rate <= 0.0 || !rate.is_finite() {
            return None;
        }
        let mut limiters = self.limiters.lock().ok()?;
        let limiter = limiters
            .entry((quota.to_string(), region.to_string()))
            .or_insert_with(|| Arc::new(RateLimiter::direct(quota_of(rate))));
        Some(limiter.clone())
    }
}

/// A token bucket refilled at `rate` per second holding at most one second of calls.
fn quota_of(rate: f64) -> Quota {
    let period = Duration::from_secs_f64(1.0 / rate);
    let burst = NonZeroU32::new(rate.floor().max(1.0) as u32).unwrap_or(NonZeroU32::MIN);
    Quota::with_period(period).map_or_else(|| Quota::per_second(burst), |q| q.allow_burst(burst))
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
            limits.acquire("CreateKey", "eu-west-1").await;
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
        let ireland = limits.limiter("CreateKey", "eu-west-1").unwrap();
        assert!(ireland.check().is_ok());
        assert!(ireland.check().is_err(), "a second call within 5 s passed");
        let paris = limits.limiter("CreateKey", "eu-west-3").unwrap();
        assert!(paris.check().is_ok(), "another region shared the bucket");
        assert!(limits.limiter("ListKeys", "eu-west-1").is_none());
        assert!(limits.limiter("DescribeKey", "eu-west-1").is_some());
    }
}

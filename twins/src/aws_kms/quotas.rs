//! The request quotas, per (quota, region): token buckets refilled at the quota's rate and holding one
//! second of requests, at the rates of [`keyflow_blocks::aws_kms::limits::PUBLISHED`] (the same table the
//! client limits itself with) unless the config says otherwise.

use std::collections::HashMap;
use std::time::Instant;

use keyflow_blocks::aws_kms::limits;
use keyflow_blocks::aws_kms::operation::Quota;

use super::Quotas;

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Every bucket of one twin.
#[derive(Debug)]
pub struct Buckets {
    /// Requests per second by quota; a quota not listed is not limited.
    rates: HashMap<Quota, f64>,
    buckets: HashMap<(Quota, String), Bucket>,
}

impl Buckets {
    /// The buckets of `quotas`, all full.
    pub fn new(quotas: &Quotas) -> Buckets {
        let rates = match quotas {
            Quotas::Published => limits::rates([]),
            Quotas::Off => HashMap::new(),
            Quotas::Overrides(overrides) => {
                let mut rates = limits::rates([]);
                rates.extend(overrides);
                rates
            }
        };
        Buckets {
            rates: rates
                .into_iter()
                .filter(|(_, rate)| *rate > 0.0 && rate.is_finite())
                .collect(),
            buckets: HashMap::new(),
        }
    }

    /// Admits one request against each `(quota, region)` of `wanted`, all or none: when any of them is
    /// exhausted nothing is taken and the answer is `false`.
    pub fn admit(&mut self, wanted: &[(Quota, &str)], now: Instant) -> bool {
        let mut admitted = true;
        for (quota, region) in wanted {
            let Some(rate) = self.rates.get(quota).copied() else {
                continue;
            };
            let capacity = rate.max(1.0);
            let bucket = self
                .buckets
                .entry((*quota, region.to_string()))
                .or_insert(Bucket {
                    tokens: capacity,
                    at: now,
                });
            let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
            bucket.tokens = (bucket.tokens + elapsed * rate).min(capacity);
            bucket.at = now;
            admitted &= bucket.tokens >= 1.0;
        }
        if admitted {
            for (quota, region) in wanted {
                if let Some(bucket) = self.buckets.get_mut(&(*quota, region.to_string())) {
                    bucket.tokens -= 1.0;
                }
            }
        }
        admitted
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_bucket_holds_one_second_and_refills_at_its_rate() {
        let mut buckets =
            Buckets::new(&Quotas::Overrides(HashMap::from([(Quota::CreateKey, 2.0)])));
        let t0 = Instant::now();
        assert!(buckets.admit(&[(Quota::CreateKey, "eu-west-1")], t0));
        assert!(buckets.admit(&[(Quota::CreateKey, "eu-west-1")], t0));
        assert!(!buckets.admit(&[(Quota::CreateKey, "eu-west-1")], t0));
        assert!(buckets.admit(&[(Quota::CreateKey, "eu-west-3")], t0));
        assert!(buckets.admit(
            &[(Quota::CreateKey, "eu-west-1")],
            t0 + Duration::from_millis(500)
        ));
    }

    #[test]
    fn an_exhausted_quota_takes_nothing_from_the_others() {
        let mut buckets = Buckets::new(&Quotas::Overrides(HashMap::from([
            (Quota::ReplicateKey, 5.0),
            (Quota::ReplicaCreateKey, 1.0),
        ])));
        let t0 = Instant::now();
        let both = [
            (Quota::ReplicateKey, "eu-west-1"),
            (Quota::ReplicaCreateKey, "eu-west-3"),
        ];
        assert!(buckets.admit(&both, t0));
        assert!(!buckets.admit(&both, t0));
        for _ in 0..4 {
            assert!(buckets.admit(&[(Quota::ReplicateKey, "eu-west-1")], t0));
        }
        assert!(!buckets.admit(&[(Quota::ReplicateKey, "eu-west-1")], t0));
    }

    #[test]
    fn off_and_zero_lift_limits() {
        let t0 = Instant::now();
        let mut off = Buckets::new(&Quotas::Off);
        let mut zero = Buckets::new(&Quotas::Overrides(HashMap::from([(Quota::CreateKey, 0.0)])));
        for _ in 0..100 {
            assert!(off.admit(&[(Quota::CreateKey, "eu-west-1")], t0));
            assert!(zero.admit(&[(Quota::CreateKey, "eu-west-1")], t0));
        }
    }
}

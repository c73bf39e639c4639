//! The sandbox started in-process, checked over HTTP as a client sees it.

use reqwest::StatusCode;

use super::*;

/// How many of `calls` reads of the seeded tenant's key providers the Qlik twin refused with 429.
async fn refused_reads(quotas: Quotas, calls: usize) -> usize {
    let twins = Twins::start(Options {
        quotas,
        ..Options::default()
    })
    .await
    .unwrap();
    let http = reqwest::Client::new();
    let url = format!("{}/api/v1/encryption/keyproviders", twins.qlik.url);
    let mut refused = 0;
    for _ in 0..calls {
        let status = http
            .get(&url)
            .bearer_auth(API_KEY)
            .send()
            .await
            .unwrap()
            .status();
        assert!(
            status == StatusCode::OK || status == StatusCode::TOO_MANY_REQUESTS,
            "{status}"
        );
        refused += usize::from(status == StatusCode::TOO_MANY_REQUESTS);
    }
    twins.shutdown().await;
    refused
}

#[tokio::test]
async fn no_quotas_lifts_the_qlik_rate_tiers_too() {
    // Qlik's tier 1 allows 1,000 reads a minute per tenant.
    let calls = qlik::Tiers::default().reads_per_minute as usize + 20;
    assert_eq!(refused_reads(Quotas::Published, calls).await, 20);
    assert_eq!(refused_reads(Quotas::Off, calls).await, 0);
}

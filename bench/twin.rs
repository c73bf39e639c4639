//! The KMS twin as keys accumulate (`cargo bench --bench twin`).
//!
//! 4,000 CreateKey calls, one after another, through aws-sdk-kms against the KMS twin in-process (quotas
//! off), each followed by a DescribeKey of the key just made. The figure is the time of each block of
//! 1,000 calls: creating the 4,000th key should cost what the first did, so the last block's time over the
//! first's stays near 1. Measured in a dev build on a shared 2-core machine: 1.06 (15.0 s and 15.9 s);
//! 2.61 and growing (16.8 s, 22.5 s, 30.9 s, 43.9 s) when every request copied the twin's whole state.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::time::{Duration, Instant};

use aws_sdk_kms::config::{BehaviorVersion, Credentials, Region};
use keyflow_twins::aws_kms::{self, KmsTwinConfig, Quotas};

const KEYS: usize = 4_000;
const BLOCK: usize = 1_000;

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let blocks = runtime.block_on(measure());
    println!("keyflow: {KEYS} CreateKey + DescribeKey against the in-process KMS twin, quotas off");
    for (i, took) in blocks.iter().enumerate() {
        println!(
            "  keys {:>5}-{:>5}: {:>8.1} ms ({:.2} ms a key)",
            i * BLOCK + 1,
            (i + 1) * BLOCK,
            took.as_secs_f64() * 1e3,
            took.as_secs_f64() * 1e3 / BLOCK as f64
        );
    }
    let (first, last) = (blocks[0], blocks[blocks.len() - 1]);
    println!(
        "  last block / first block: {:.2}",
        last.as_secs_f64() / first.as_secs_f64()
    );
}

/// The time of each block of [`BLOCK`] keys.
async fn measure() -> Vec<Duration> {
    let twin = aws_kms::start(KmsTwinConfig {
        quotas: Quotas::Off,
        ..KmsTwinConfig::default()
    })
    .await
    .expect("start the twin");
    let config = aws_sdk_kms::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("eu-west-1"))
        .endpoint_url(&twin.url)
        .credentials_provider(Credentials::new(
            aws_kms::DEFAULT_ACCESS_KEY_ID,
            aws_kms::DEFAULT_SECRET_ACCESS_KEY,
            None,
            None,
            "bench",
        ))
        .build();
    let sdk = aws_sdk_kms::Client::from_conf(config);
    let mut blocks = Vec::new();
    let mut started = Instant::now();
    for n in 1..=KEYS {
        let made = sdk
            .create_key()
            .description(format!("bench key {n}"))
            .send()
            .await
            .expect("CreateKey");
        let key_id = made.key_metadata().map(|m| m.key_id()).expect("a key id");
        sdk.describe_key()
            .key_id(key_id)
            .send()
            .await
            .expect("DescribeKey");
        if n % BLOCK == 0 {
            blocks.push(started.elapsed());
            started = Instant::now();
        }
    }
    let _ = twin.shutdown().await;
    blocks
}

//! The engine's added time over plain SDK calls (`cargo bench --bench kms`).
//!
//! 1,000 `aws-kms.describe-key` steps run through the engine, one at a time (`parallelism: 1`), and 1,000
//! DescribeKey calls run in a plain loop over an SDK client built the same way, both against moto's KMS
//! server. Rounds alternate which goes first, so that drift in moto's speed hits both; the figure is the
//! median round's ratio. Target: the engine adds under 5 %.
//!
//! moto comes from `KEYFLOW_MOTO_URL`, or is started (and stopped) with `scripts/moto`.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::fmt::Write as _;
use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

use indexmap::IndexMap;
use keyflow_engine::exec::report::Status;
use keyflow_engine::exec::{ExecOptions, Executor};
use keyflow_engine::source::SourceFile;
use keyflow_engine::validate::check;
use tokio_util::sync::CancellationToken;

const CALLS: usize = 1_000;
const ROUNDS: usize = 6;

/// moto's URL, and whether this bench started it.
fn moto() -> (String, bool) {
    if let Ok(url) = std::env::var("KEYFLOW_MOTO_URL") {
        return (url, false);
    }
    let root = env!("CARGO_MANIFEST_DIR");
    let output = Command::new(format!("{root}/scripts/moto"))
        .arg("start")
        .output()
        .expect("scripts/moto start");
    assert!(
        output.status.success(),
        "moto did not start: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    (
        String::from_utf8_lossy(&output.stdout).trim().to_string(),
        true,
    )
}

fn flow(url: &str, key_id: &str) -> String {
    let mut yaml = format!(
        "name: describe-many\nconnections:\n  aws: {{ connector: aws-kms, region: eu-west-1, endpoint_url: \"{url}\" }}\nsteps:\n"
    );
    for i in 0..CALLS {
        let _ = write!(
            yaml,
            "  - id: d{i}\n    block: aws-kms.describe-key\n    with: {{ key_id: {key_id} }}\n"
        );
    }
    yaml
}

fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

fn main() {
    if std::env::var("KEYFLOW_BENCH_CHILD").is_err() {
        std::process::exit(parent());
    }
    measure();
}

/// Starts moto if needed and runs the measurement in a child with throwaway AWS credentials in its
/// environment (set before any thread starts), nothing from the machine's own AWS setup.
fn parent() -> i32 {
    let (url, started) = moto();
    let empty = std::env::temp_dir().join("keyflow-bench-empty-aws-config");
    std::fs::write(&empty, "").expect("empty config");
    let status = Command::new(std::env::current_exe().expect("bench binary"))
        .env("KEYFLOW_BENCH_CHILD", "1")
        .env("KEYFLOW_MOTO_URL", &url)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", &empty)
        .env("AWS_SHARED_CREDENTIALS_FILE", &empty)
        .env_remove("AWS_PROFILE")
        .status()
        .expect("run the measuring child");
    if started {
        let _ = Command::new(format!("{}/scripts/moto", env!("CARGO_MANIFEST_DIR")))
            .arg("stop")
            .status();
    }
    status.code().unwrap_or(1)
}

/// The measurement itself.
fn measure() {
    let url = std::env::var("KEYFLOW_MOTO_URL").expect("the parent gives moto's URL");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let config = runtime.block_on(
        aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(aws_sdk_kms::config::Region::new("eu-west-1"))
            .endpoint_url(&url)
            .load(),
    );
    let sdk = aws_sdk_kms::Client::new(&config);
    let key_id = runtime
        .block_on(sdk.create_key().description("bench").send())
        .expect("create a key")
        .key_metadata()
        .map(|m| m.key_id().to_string())
        .expect("key id");

    let source = SourceFile::new("describe-many.yaml", flow(&url, &key_id));
    let plan = Arc::new(check(source, &keyflow_blocks::registry()).expect("valid bench flow"));
    let params = plan.bind_params(&IndexMap::new()).expect("params");
    let options = ExecOptions {
        parallelism: 1,
        ..ExecOptions::default()
    };

    println!(
        "keyflow: {CALLS} DescribeKey calls against moto ({url}), engine vs plain SDK loop, {ROUNDS} rounds"
    );
    // Warm-up: connections, moto's caches.
    runtime.block_on(async {
        for _ in 0..50 {
            sdk.describe_key()
                .key_id(&key_id)
                .send()
                .await
                .expect("describe");
        }
    });
    let mut ratios = Vec::new();
    let mut engine_times = Vec::new();
    let mut sdk_times = Vec::new();
    for round in 0..ROUNDS {
        // Which goes first alternates, so a server warming up or a noisy neighbour favours neither.
        let plain_loop = || {
            let started = Instant::now();
            runtime.block_on(async {
                for _ in 0..CALLS {
                    sdk.describe_key()
                        .key_id(&key_id)
                        .send()
                        .await
                        .expect("describe");
                }
            });
            started.elapsed()
        };
        let through_engine = || {
            let executor = Executor::new(options.clone());
            let started = Instant::now();
            let report = runtime.block_on(executor.run(
                plan.clone(),
                params.clone(),
                CancellationToken::new(),
            ));
            (started.elapsed(), report)
        };
        let (plain, (engine, report)) = if round % 2 == 0 {
            let plain = plain_loop();
            (plain, through_engine())
        } else {
            let engine = through_engine();
            (plain_loop(), engine)
        };
        assert_eq!(report.status, Status::Succeeded, "{:?}", report.reason);
        assert_eq!(
            report
                .steps
                .iter()
                .filter(|s| s.status == Status::Succeeded)
                .count(),
            CALLS
        );
        let ratio = engine.as_secs_f64() / plain.as_secs_f64();
        println!(
            "  round {}: SDK loop {:>7.1?} ({:>5.2?}/call)   engine {:>7.1?} ({:>5.2?}/call)   engine/SDK {:.3}",
            round + 1,
            plain,
            plain / CALLS as u32,
            engine,
            engine / CALLS as u32,
            ratio
        );
        ratios.push(ratio);
        engine_times.push(engine.as_secs_f64());
        sdk_times.push(plain.as_secs_f64());
    }
    let ratio = median(ratios);
    // Signed: moto's own jitter (a single-threaded Python server) is larger than the engine's cost.
    let added_us = (median(engine_times) - median(sdk_times)) / CALLS as f64 * 1e6;
    println!(
        "\nengine added time: {:+.1} % (median round ratio); median engine − median SDK: {added_us:+.0} µs per step; \
         target < 5 %: {}",
        (ratio - 1.0) * 100.0,
        if ratio < 1.05 {
            "PASS"
        } else {
            "MISS <<<<<<<<<<"
        }
    );
}

//! Onboarding N tenants in the sandbox against the quota bound (`cargo bench --bench onboard`).
//!
//! For N = 25, 100 and 400, `keyflow run flows/onboard-tenants.yaml --sandbox` onboards N tenants (each:
//! tenant info, create key, key policy, alias, key provider, validate, migrate, wait) with the KMS twin
//! enforcing AWS's published quotas. CreateKey and CreateAlias are each allowed 5 per second per account and
//! region, so no client can do it faster than N / 5 s: the figure is the run's wall time over that bound.
//! Target: at most 1.05 × the bound, with zero failed tenants.
//!
//! The tenants live in eu-north-1, which has no disaster-recovery region, so no key is replicated (the
//! issue's chain has no replica; ReplicateKey has quotas of its own). Migrations complete at once
//! (`--migration-seconds 0`): a real migration's length says nothing about keyflow. The release binary is
//! run as a user runs it; the wall time is the process's, start and sandbox included.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::process::Command;
use std::time::Instant;

use serde_json::{Value, json};

const SIZES: [usize; 3] = [25, 100, 400];
/// CreateKey and CreateAlias: requests per second per account and region.
const QUOTA: f64 = 5.0;
const TARGET: f64 = 1.05;

fn main() {
    let wanted: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let sizes: Vec<usize> = if wanted.is_empty() {
        SIZES.to_vec()
    } else {
        wanted
    };
    let root = env!("CARGO_MANIFEST_DIR");
    let dir = std::env::temp_dir().join(format!("keyflow-bench-onboard-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    println!(
        "onboard N tenants in the sandbox, published quotas; bound = N / {QUOTA} s (CreateKey, CreateAlias)"
    );
    println!(
        "{:>5}  {:>9}  {:>9}  {:>6}  {:>7}  {:>9}  {:>9}",
        "N", "bound", "wall", "ratio", "failed", "requests", "throttled"
    );
    for n in sizes {
        let tenants: Vec<Value> = (1..=n)
            .map(|i| json!({ "context": format!("bench{i:04}"), "region": "eu-north-1" }))
            .collect();
        let params = dir.join(format!("tenants-{n}.json"));
        std::fs::write(&params, json!({ "tenants": tenants }).to_string()).expect("params file");
        let started = Instant::now();
        let output = Command::new(env!("CARGO_BIN_EXE_keyflow"))
            .current_dir(root)
            .args(["run", "flows/onboard-tenants.yaml", "--sandbox"])
            .args(["--tenant-region", "eu-north-1", "--migration-seconds", "0"])
            .arg("--params-file")
            .arg(&params)
            .args(["--output", "json"])
            .env_remove("AWS_PROFILE")
            .env("QLIK_CLI_USER_HOME_DIR", &dir)
            .output()
            .expect("run keyflow");
        let wall = started.elapsed().as_secs_f64();
        let stderr = String::from_utf8_lossy(&output.stderr);
        let report: Value = serde_json::from_slice(&output.stdout).unwrap_or(Value::Null);
        let runs = report["steps"][0]["runs"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let failed = runs.iter().filter(|r| r["status"] != "succeeded").count()
            + n.saturating_sub(runs.len());
        let bound = n as f64 / QUOTA;
        let ratio = wall / bound;
        let traffic = stderr
            .lines()
            .find(|l| l.starts_with("sandbox: the AWS KMS twin answered"))
            .unwrap_or("");
        let number_after = |word: &str| {
            traffic
                .split(word)
                .nth(1)
                .and_then(|rest| rest.split_whitespace().next())
                .map(|n| n.trim_end_matches(',').to_string())
                .unwrap_or_else(|| "?".into())
        };
        let verdict = if ratio <= TARGET && failed == 0 {
            "ok"
        } else {
            "MISS"
        };
        println!(
            "{n:>5}  {bound:>8.1}s  {wall:>8.2}s  {ratio:>5.3}×  {failed:>7}  {:>9}  {:>9}  {verdict}",
            number_after("answered "),
            number_after("throttled "),
        );
        if report["status"] != "succeeded" {
            eprintln!(
                "run did not succeed ({}): {}",
                report["status"],
                stderr.lines().rev().take(8).collect::<Vec<_>>().join("\n")
            );
        }
    }
    std::fs::remove_dir_all(&dir).ok();
    println!("target: wall ≤ {TARGET} × bound, zero failed tenants");
}

//! The monthly rotation as operators schedule it, rehearsed in the sandbox: a tenant onboarded with the
//! BYOK flow, then the rotation flow served by `keyflow serve --sandbox` on the same twins' state, its
//! trigger (moved to a moment from now, and authorising the flow's confirmed destructive steps) firing
//! once and the run ending with a new key in place of the old one.

use chrono::Utc;

use super::{Daemon, once_at, runs, show};
use crate::harness::{path_str, root};
use crate::sandbox::sandboxed;

#[test]
fn the_rotation_flow_fires_on_its_schedule_in_the_sandbox() {
    let dir = tempfile::tempdir().expect("tempdir");
    let state = dir.path().join("rehearsal.json");
    let state = path_str(&state);
    let (ran, onboarded) = sandboxed(
        "flows/byok-tenant-encryption.yaml",
        &["--state", state, "--allow-destructive", "-q"],
    );
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    let first_key = onboarded["outputs"]["key_arn"]
        .as_str()
        .expect("key")
        .to_string();

    // The rotation flow as committed, beside the policies it reads, with its trigger moved to now.
    let flows = dir.path().join("flows");
    std::fs::create_dir_all(flows.join("policies")).expect("mkdir");
    for policy in ["qlik-aws.json", "qlik-aws-us-gov.json"] {
        std::fs::copy(
            root().join("flows/policies").join(policy),
            flows.join("policies").join(policy),
        )
        .expect("copy a policy");
    }
    let committed =
        std::fs::read_to_string(root().join("flows/rotate-tenant-key.yaml")).expect("the flow");
    let at = Utc::now() + chrono::TimeDelta::seconds(4);
    let scheduled = committed.replace(
        "    cron: \"0 3 1 * *\"\n    timezone: Europe/Berlin\n",
        &format!(
            "    cron: \"{}\"\n    timezone: UTC\n    allow_destructive: true\n",
            once_at(at)
        ),
    );
    assert_ne!(scheduled, committed, "the trigger was found and moved");
    std::fs::write(flows.join("rotate-tenant-key.yaml"), scheduled).expect("write");

    let store = dir.path().join("runs.db");
    let store = path_str(&store);
    let mut daemon = Daemon::start(
        &flows,
        store,
        &["--sandbox", "--state", state, "--migration-seconds", "0.3"],
    );
    daemon.wait_for("the rotation to fire", |l| {
        l.contains("`rotate-tenant-key` trigger `monthly`") && l.contains("fired")
    });
    daemon.wait_for("the rotation to end", |l| {
        l.contains("of `rotate-tenant-key` succeeded")
            || l.contains("of `rotate-tenant-key` failed")
    });
    assert_eq!(daemon.terminate(), Some(0), "{}", daemon.log());
    let recorded = runs(store);
    assert_eq!(recorded.len(), 1, "{recorded:?}");
    assert_eq!(recorded[0]["status"], "succeeded", "{}", daemon.log());
    let report = show(store, recorded[0]["run_id"].as_str().expect("id"));
    let outputs = &report["outputs"];
    assert_eq!(outputs["old_key_arn"], first_key.as_str(), "{outputs}");
    assert_ne!(outputs["new_key_arn"], first_key.as_str(), "{outputs}");
    assert!(
        outputs["new_key_arn"]
            .as_str()
            .is_some_and(|k| k.starts_with("arn:aws:kms:"))
    );
}

//! The operator flows of `flows/` (rotation, revert, emergency disable, audit), end to end: keys in moto's
//! KMS, the tenant in the Qlik twin, whose KMS peer is the same moto. Each test onboards the tenant with
//! `flows/byok-tenant-encryption.yaml` first, as an operator would, then runs the flow under test and
//! checks what it did in KMS and in the tenant with separate read-only runs.

use keyflow_twins::qlik_cloud::KmsPeer;
use serde_json::Value;

use crate::aws_kms::{Moto, moto, point_at_moto};
use crate::harness::{Ran, run_file, run_flow, step};
use crate::qlik_cloud::{TENANT, Twin, config, twin};

/// moto and a Qlik twin that checks keys in it.
struct Env {
    twin: Twin,
    moto: Moto,
}

/// The environment, or `None` when moto is not running (see `aws_kms::moto`).
fn env() -> Option<Env> {
    let moto = moto()?;
    let mut config = config();
    config.kms = Some(KmsPeer::at(moto.url.clone()));
    Some(Env {
        twin: twin(config),
        moto,
    })
}

/// The head of the read-only flows the tests inspect state with: KMS in the tenant's region and its
/// DR region, and the tenant.
const INSPECT: &str = "name: inspect
connections:
  aws: { connector: aws-kms, region: eu-west-1 }
  aws_dr: { connector: aws-kms, region: eu-west-3 }
  qlik: { connector: qlik-cloud, tenant_url: { env: QLIK_TENANT_URL }, api_key: { env: QLIK_API_KEY } }
";

impl Env {
    /// `keyflow` with the tenant's URL and API key, and AWS pointed at moto.
    fn command(&self) -> assert_cmd::Command {
        let mut command = self.twin.command(&[]);
        point_at_moto(&mut command, &self.moto.url);
        command
    }

    /// Runs `flows/<name>.yaml` with `--output json -q` and `extra`.
    fn run(&self, name: &str, extra: &[&str]) -> (i32, Value, Ran) {
        run_file(self.command(), &format!("flows/{name}.yaml"), extra)
    }

    /// Runs `flows/<name>.yaml`, which must succeed, and gives its report.
    fn succeed(&self, name: &str, extra: &[&str]) -> Value {
        let (code, report, ran) = self.run(name, extra);
        assert_eq!(code, 0, "{name} failed: {report:#}\n{}", ran.stderr);
        assert_eq!(report["status"], "succeeded", "{report:#}");
        report
    }

    /// Onboards the tenant with the BYOK flow and gives its outputs (`key_arn`, `fingerprint`…).
    fn onboard(&self) -> Value {
        self.succeed("byok-tenant-encryption", &[])["outputs"].clone()
    }

    /// Runs read-only `steps` (YAML from `steps:` on) over [`INSPECT`]'s connections and gives the report.
    fn inspect(&self, steps: &str) -> Value {
        let (code, report, ran) = run_flow(self.command(), &format!("{INSPECT}{steps}"), &[]);
        assert_eq!(code, 0, "inspection failed: {report:#}\n{}", ran.stderr);
        report
    }

    /// The `KeyMetadata` of a key (id, ARN or alias) in `connection`'s region.
    fn key(&self, connection: &str, key_id: &str) -> Value {
        let report = self.inspect(&format!(
            "steps:\n  - {{ id: key, block: aws-kms.describe-key, connection: {connection}, with: {{ key_id: \"{key_id}\" }} }}\n"
        ));
        step(&report, "key")["output"]["KeyMetadata"].clone()
    }

    /// The key provider the tenant uses now.
    fn current_provider(&self) -> Value {
        let report =
            self.inspect("steps:\n  - { id: providers, block: qlik-cloud.list-key-providers }\n");
        let providers = step(&report, "providers")["output"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let current: Vec<&Value> = providers.iter().filter(|p| p["current"] == true).collect();
        assert_eq!(current.len(), 1, "one current provider: {providers:#?}");
        current[0].clone()
    }
}

/// The key id at the end of a key ARN.
fn key_id(arn: &Value) -> &str {
    arn.as_str()
        .and_then(|arn| arn.rsplit_once('/'))
        .map(|(_, id)| id)
        .unwrap_or_else(|| panic!("not a key ARN: {arn}"))
}

/// The error code and message of step `id`.
fn error_of(report: &Value, id: &str) -> (String, String) {
    let error = &step(report, id)["error"];
    (
        error["code"].as_str().unwrap_or_default().to_string(),
        error["message"].as_str().unwrap_or_default().to_string(),
    )
}

#[test]
fn rotation_moves_the_tenant_and_the_alias_to_a_new_key_and_disables_the_old_one() {
    let Some(env) = env() else { return };
    let onboarded = env.onboard();

    let report = env.succeed("rotate-tenant-key", &["--allow-destructive"]);
    let outputs = &report["outputs"];
    assert_eq!(outputs["old_key_arn"], onboarded["key_arn"], "{outputs}");
    let new_arn = outputs["new_key_arn"].as_str().unwrap_or_default();
    assert!(
        new_arn.starts_with("arn:aws:kms:eu-west-1:") && new_arn.contains(":key/mrk-"),
        "{outputs}"
    );
    assert_ne!(outputs["new_key_arn"], onboarded["key_arn"]);
    assert_ne!(outputs["fingerprint"], onboarded["fingerprint"]);
    assert_eq!(outputs["migration_state"], "Completed");
    assert_eq!(outputs["deletion_scheduled"], false);
    assert_eq!(step(&report, "on_qlik_key")["status"], "skipped");
    assert_eq!(step(&report, "not_compliant")["status"], "skipped");
    assert_eq!(step(&report, "schedule_deletion")["status"], "skipped");
    assert_eq!(
        step(&report, "schedule_replica_deletion")["status"],
        "skipped"
    );

    // The tenant encrypts with the new key; the alias names it.
    let current = env.current_provider();
    assert_eq!(current["arn"], outputs["new_key_arn"], "{current}");
    assert_eq!(current["arnFingerPrint"], outputs["fingerprint"]);
    let aliased = env.key("aws", &format!("alias/qlik/{TENANT}"));
    assert_eq!(
        aliased["KeyId"],
        key_id(&outputs["new_key_arn"]),
        "{aliased}"
    );

    // The old key and its DR replica are disabled, not deleted; the new key and its replica are enabled.
    let old = key_id(&outputs["old_key_arn"]);
    assert_eq!(env.key("aws", old)["KeyState"], "Disabled");
    assert_eq!(env.key("aws_dr", old)["KeyState"], "Disabled");
    let new = key_id(&outputs["new_key_arn"]);
    assert_eq!(env.key("aws", new)["KeyState"], "Enabled");
    assert_eq!(env.key("aws_dr", new)["KeyState"], "Enabled");
}

#[test]
fn rotation_schedules_the_old_key_deletion_only_when_asked() {
    let Some(env) = env() else { return };
    env.onboard();

    let report = env.succeed(
        "rotate-tenant-key",
        &[
            "--allow-destructive",
            "--param",
            "schedule_deletion=true",
            "--param",
            "pending_window_in_days=7",
        ],
    );
    assert_eq!(report["outputs"]["deletion_scheduled"], true);
    let old = key_id(&report["outputs"]["old_key_arn"]).to_string();
    assert_eq!(step(&report, "schedule_deletion")["status"], "succeeded");
    assert_eq!(
        step(&report, "schedule_replica_deletion")["status"],
        "succeeded"
    );
    assert_eq!(env.key("aws", &old)["KeyState"], "PendingDeletion");
    assert_eq!(env.key("aws_dr", &old)["KeyState"], "PendingDeletion");
}

#[test]
fn rotation_without_allow_destructive_migrates_then_stops_before_disabling_the_old_key() {
    let Some(env) = env() else { return };
    let onboarded = env.onboard();

    let (code, report, _) = env.run("rotate-tenant-key", &[]);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(report["status"], "failed");
    assert_eq!(step(&report, "wait_for_migration")["status"], "succeeded");
    assert_eq!(step(&report, "disable_old_key")["status"], "failed");
    let (code, message) = error_of(&report, "disable_old_key");
    assert_eq!(code, "DestructiveNotAllowed", "{message}");
    assert!(message.contains("--allow-destructive"), "{message}");
    assert_eq!(step(&report, "schedule_deletion")["status"], "cancelled");

    // The tenant is on the new key; the old one still works, so the rotation can be finished by hand.
    assert_ne!(env.current_provider()["arn"], onboarded["key_arn"]);
    assert_eq!(
        env.key("aws", key_id(&onboarded["key_arn"]))["KeyState"],
        "Enabled"
    );
}

#[test]
fn rotation_refuses_a_tenant_on_qliks_own_key() {
    let Some(env) = env() else { return };

    let (code, report, _) = env.run("rotate-tenant-key", &["--allow-destructive"]);
    assert_eq!(code, 1, "{report:#}");
    let (code, message) = error_of(&report, "on_qlik_key");
    assert_eq!(code, "NoCustomerManagedKey");
    assert!(message.contains("byok-tenant-encryption"), "{message}");
    assert_eq!(step(&report, "create_key")["status"], "cancelled");
}

#[test]
fn revert_moves_the_tenant_back_to_qliks_key_and_leaves_the_customer_key_alone() {
    let Some(env) = env() else { return };
    let onboarded = env.onboard();

    // Destructive: refused without --allow-destructive, before the reset.
    let (code, report, _) = env.run("revert-to-qlik-key", &[]);
    assert_eq!(code, 1, "{report:#}");
    let (code, message) = error_of(&report, "reset");
    assert_eq!(code, "DestructiveNotAllowed", "{message}");
    assert!(message.contains("--allow-destructive"), "{message}");
    assert_eq!(env.current_provider()["arn"], onboarded["key_arn"]);

    let report = env.succeed("revert-to-qlik-key", &["--allow-destructive"]);
    let outputs = &report["outputs"];
    assert_eq!(outputs["tenant_id"], TENANT);
    assert_eq!(outputs["former_key_arn"], onboarded["key_arn"], "{outputs}");
    assert_eq!(outputs["former_fingerprint"], onboarded["fingerprint"]);
    assert_eq!(outputs["migration_state"], "Completed");
    assert!(outputs["migration_id"].is_string(), "{outputs}");
    assert_eq!(step(&report, "on_qlik_key")["status"], "succeeded");

    let current = env.current_provider();
    assert_eq!(current["keyprovider"], "Qlik", "{current}");
    assert_eq!(current["arnFingerPrint"], TENANT);
    // The customer key is neither disabled nor deleted.
    let key = env.key("aws", key_id(&onboarded["key_arn"]));
    assert_eq!(key["KeyState"], "Enabled", "{key}");

    // Again, on Qlik's key already: nothing to do, so nothing destructive is needed.
    let report = env.succeed("revert-to-qlik-key", &[]);
    assert_eq!(step(&report, "already_on_qlik")["status"], "succeeded");
    assert_eq!(step(&report, "reset")["status"], "skipped");
    assert_eq!(report["outputs"]["former_key_arn"], Value::Null);
}

#[test]
fn emergency_disable_disables_the_key_and_its_replica_and_qlik_loses_access() {
    let Some(env) = env() else { return };
    let onboarded = env.onboard();
    let id = key_id(&onboarded["key_arn"]).to_string();

    // Destructive: refused without --allow-destructive, before the first DisableKey.
    let (code, report, _) = env.run("emergency-disable-key", &[]);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(step(&report, "key")["status"], "succeeded");
    let failed: Vec<&str> = ["disable_key", "disable_replica"]
        .into_iter()
        .filter(|id| step(&report, id)["status"] == "failed")
        .collect();
    assert!(!failed.is_empty(), "{report:#}");
    for id in failed {
        assert_eq!(error_of(&report, id).0, "DestructiveNotAllowed");
    }
    assert_eq!(env.key("aws", &id)["KeyState"], "Enabled");
    assert_eq!(env.key("aws_dr", &id)["KeyState"], "Enabled");

    let report = env.succeed("emergency-disable-key", &["--allow-destructive"]);
    let outputs = &report["outputs"];
    assert_eq!(
        outputs["disabled_key_arn"], onboarded["key_arn"],
        "{outputs}"
    );
    assert_eq!(outputs["key_state"], "Disabled");
    let replica = outputs["disabled_replica_arn"].as_str().unwrap_or_default();
    assert!(
        replica.starts_with("arn:aws:kms:eu-west-3:") && replica.ends_with(&id),
        "{outputs}"
    );
    assert_eq!(outputs["replica_state"], "Disabled");
    let undo = outputs["undo"].as_str().unwrap_or_default();
    assert!(
        undo.contains("aws-kms.enable-key") && undo.contains(&id) && undo.contains("eu-west-3"),
        "{undo}"
    );
    assert_eq!(step(&report, "replicas_elsewhere")["status"], "skipped");

    // KMS agrees, independently of the flow's own read-back.
    assert_eq!(env.key("aws", &id)["KeyState"], "Disabled");
    assert_eq!(env.key("aws_dr", &id)["KeyState"], "Disabled");
    // Qlik's check of the provider now reports the key unusable.
    let check = &step(&report, "qlik_check")["output"];
    assert_eq!(check["drCompliant"], false, "{check}");
    let error = check["complianceError"]["message"]
        .as_str()
        .unwrap_or_default();
    assert!(error.contains("Disabled"), "{check}");
    assert_eq!(outputs["qlik_compliance_error"], check["complianceError"]);
}

#[test]
fn audit_reports_the_onboarded_key_with_its_alias_tags_and_no_policy_findings() {
    let Some(env) = env() else { return };
    let onboarded = env.onboard();
    let id = key_id(&onboarded["key_arn"]).to_string();
    // Another key, with the default policy, that Qlik could not use.
    let other = env.inspect(
        "steps:\n  - { id: key, block: aws-kms.create-key, connection: aws, with: { description: other, tags: { team: data } } }\n",
    );
    let other = step(&other, "key")["output"]["KeyMetadata"]["KeyId"]
        .as_str()
        .unwrap_or_default()
        .to_string();

    let report = env.succeed("audit-keys", &["--param", &format!("tenant_id={TENANT}")]);
    let audit = &report["outputs"]["report"];
    let keys: Vec<&str> = audit["keys"]
        .as_array()
        .map(|keys| keys.iter().filter_map(|k| k["KeyId"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(keys.len(), 2, "{audit:#}");
    for name in [
        "metadata",
        "aliases",
        "tags",
        "policies",
        "qlik_compliant",
        "qlik_findings",
    ] {
        assert_eq!(
            audit[name].as_array().map(Vec::len),
            Some(keys.len()),
            "`{name}` has one entry per key: {audit:#}"
        );
    }
    let at = |key: &str| {
        keys.iter()
            .position(|k| *k == key)
            .unwrap_or_else(|| panic!("{key} not in {keys:?}"))
    };

    let i = at(&id);
    assert_eq!(audit["metadata"][i]["KeyId"], id.as_str());
    assert_eq!(audit["metadata"][i]["MultiRegion"], true);
    let aliases = &audit["aliases"][i];
    assert!(
        aliases.as_array().is_some_and(|a| a
            .iter()
            .any(|a| a["AliasName"] == format!("alias/qlik/{TENANT}"))),
        "{aliases}"
    );
    let tags = &audit["tags"][i];
    for (key, value) in [("qlik-tenant", TENANT), ("managed-by", "keyflow")] {
        assert!(
            tags.as_array().is_some_and(|t| t
                .iter()
                .any(|t| t["TagKey"] == key && t["TagValue"] == value)),
            "{key}={value} in {tags}"
        );
    }
    assert_eq!(
        audit["qlik_findings"][i],
        serde_json::json!([]),
        "{audit:#}"
    );
    assert_eq!(audit["qlik_compliant"][i], true);

    let j = at(&other);
    assert_eq!(audit["qlik_compliant"][j], false);
    assert!(
        audit["qlik_findings"][j]
            .as_array()
            .is_some_and(|f| !f.is_empty()),
        "{audit:#}"
    );
    assert_eq!(audit["aliases"][j], serde_json::json!([]));

    // Both keys are symmetric AWS_KMS keys: both have a rotation status, in `rotation_key_ids` order.
    let rotated = audit["rotation_key_ids"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(rotated.len(), 2, "{audit:#}");
    assert_eq!(audit["rotation"].as_array().map(Vec::len), Some(2));
}

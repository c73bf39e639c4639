//! In the sandbox the Qlik twin uses a key as Qlik's proxy role and the KMS twin's policy evaluation
//! decides, as AWS does for Qlik: variants of `flows/byok-tenant-encryption.yaml` whose key policy passes
//! `keyflow validate` (the static rules look at what is granted) but keeps Qlik out fail where real Qlik
//! would refuse them.

use std::path::Path;

use serde_json::{Value, json};

use crate::harness::{Ran, path_str, step};
use crate::sandbox::{bare, sandboxed};

const FLOW: &str = "flows/byok-tenant-encryption.yaml";
const ROLE: &str = "arn:aws:iam::338144066592:role/byok-encryption-proxy-role";

/// `text` with `from` replaced by `to`; `from` must be there, or the variant would test nothing.
fn edit(text: &str, from: &str, to: &str) -> String {
    assert!(text.contains(from), "`{from}` is not in the flow any more");
    text.replacen(from, to, 1)
}

/// Writes the BYOK flow, changed by `change`, into `dir` with the policy templates beside it (the
/// commercial one changed by `policy`); gives the flow's path.
fn variant(
    dir: &Path,
    change: impl Fn(&str) -> String,
    policy: impl Fn(&mut Value),
) -> std::path::PathBuf {
    let policies = dir.join("policies");
    std::fs::create_dir_all(&policies).expect("policies dir");
    for name in ["qlik-aws.json", "qlik-aws-us-gov.json"] {
        let text =
            std::fs::read_to_string(Path::new("flows/policies").join(name)).expect("template");
        let mut document: Value = serde_json::from_str(&text).expect("template JSON");
        if name == "qlik-aws.json" {
            policy(&mut document);
        }
        let text = serde_json::to_string_pretty(&document).expect("JSON");
        std::fs::write(policies.join(name), text).expect("write template");
    }
    let flow = dir.join("byok.yaml");
    let text = std::fs::read_to_string(FLOW).expect("flow");
    std::fs::write(&flow, change(&text)).expect("write flow");
    flow
}

fn validate(flow: &Path) -> Ran {
    bare()
        .args(["validate", path_str(flow)])
        .output()
        .expect("run keyflow validate")
        .into()
}

#[test]
fn a_policy_denying_qlik_passes_validate_but_create_key_provider_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let flow = variant(dir.path(), str::to_string, |policy| {
        policy["Statement"]
            .as_array_mut()
            .expect("statements")
            .push(json!({
                "Sid": "No new data keys for Qlik",
                "Effect": "Deny",
                "Principal": {"AWS": ROLE},
                "Action": "kms:GenerateDataKey",
                "Resource": "*"
            }));
    });
    let checked = validate(&flow);
    assert_eq!(checked.code, 0, "{}\n{}", checked.stdout, checked.stderr);

    let (ran, report) = sandboxed(path_str(&flow), &[]);
    assert_eq!(ran.code, 1, "{}\n{}", ran.stdout, ran.stderr);
    let create = step(&report, "create_key_provider");
    assert_eq!(create["status"], "failed", "{create}");
    let message = create["error"]["message"].as_str().unwrap_or_default();
    for part in [
        "HTTP 403",
        "[eu-west-1] [GenerateDataKey]",
        ROLE,
        "TenantId=KeyflowSandboxTenant000000000001",
        "explicit deny",
    ] {
        assert!(message.contains(part), "{part} in {message}");
    }
    assert_eq!(step(&report, "migrate")["status"], "cancelled");
    assert!(ran.stderr.contains("denied 1"), "{}", ran.stderr);
}

#[test]
fn a_dr_replica_policy_for_another_tenant_fails_the_flow_at_validate_key_provider() {
    let dir = tempfile::tempdir().expect("temp dir");
    let flow = variant(
        dir.path(),
        |text| {
            let text = edit(
                text,
                "  - id: replicate\n",
                "  - id: replica_policy\n    block: core.render\n    with:\n      file: \"policies/qlik-{{params.partition}}.json\"\n      data:\n        account_id: $.steps.create_key.output.KeyMetadata.AWSAccountId\n        tenant_id: AnotherTenant00000000000000000001\n  - id: replicate\n",
            );
            edit(
                &text,
                "(disaster recovery)\"\n      policy: $.steps.policy.output",
                "(disaster recovery)\"\n      policy: $.steps.replica_policy.output",
            )
        },
        |_| {},
    );
    let checked = validate(&flow);
    assert_eq!(checked.code, 0, "{}\n{}", checked.stdout, checked.stderr);

    let (ran, report) = sandboxed(path_str(&flow), &[]);
    assert_eq!(ran.code, 1, "{}\n{}", ran.stdout, ran.stderr);
    assert_eq!(step(&report, "create_key_provider")["status"], "succeeded");
    let validated = &step(&report, "validate")["output"];
    assert_eq!(validated["drCompliant"], false, "{validated}");
    let error = &validated["complianceError"];
    assert_eq!(error["code"], "Encryption-88", "{validated}");
    assert_eq!(error["region"], "eu-west-3", "{validated}");
    let said = error["message"].as_str().unwrap_or_default();
    assert!(
        said.contains("[eu-west-3] [Encrypt]") && said.contains(ROLE),
        "{said}"
    );
    let stopped = step(&report, "not_compliant");
    assert_eq!(stopped["status"], "failed", "{stopped}");
    assert_eq!(stopped["error"]["code"], "KeyNotCompliant", "{stopped}");
    assert_eq!(step(&report, "migrate")["status"], "cancelled");
}

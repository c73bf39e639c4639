//! `flows/byok-tenant-encryption.yaml`, the seed's automation, end to end: keys in moto's KMS, the tenant
//! in the Qlik twin, which checks the key in moto for real (type, region, replica, policy) as Qlik does.

use keyflow_twins::qlik_cloud::KmsPeer;

use super::{TENANT, config, twin};
use crate::aws_kms::{moto, point_at_moto};
use crate::harness::step;

#[test]
fn the_byok_flow_creates_registers_validates_and_migrates_to_a_key() {
    let Some(moto) = moto() else { return };
    let mut config = config();
    config.kms = Some(KmsPeer::at(moto.url.clone()));
    let twin = twin(config);
    let byok = |extra: &[&str]| -> crate::harness::Ran {
        let mut command = twin.command(&[]);
        point_at_moto(&mut command, &moto.url);
        command
            .args([
                "run",
                "flows/byok-tenant-encryption.yaml",
                "--output",
                "json",
                "-q",
            ])
            .args(extra)
            .output()
            .expect("run keyflow")
            .into()
    };

    let ran = byok(&[]);
    assert_eq!(ran.code, 0, "{}\n{}", ran.stdout, ran.stderr);
    let report: serde_json::Value = serde_json::from_str(&ran.stdout).expect("JSON report");
    let outputs = &report["outputs"];
    let arn = outputs["key_arn"].as_str().unwrap_or_default();
    assert!(
        arn.starts_with("arn:aws:kms:eu-west-1:") && arn.contains(":key/mrk-"),
        "{outputs}"
    );
    assert_eq!(outputs["alias"], format!("alias/qlik/{TENANT}"));
    assert_eq!(outputs["migration_state"], "Completed");

    let replica = &step(&report, "replicate")["output"]["ReplicaKeyMetadata"];
    assert!(
        replica["Arn"]
            .as_str()
            .is_some_and(|a| a.starts_with("arn:aws:kms:eu-west-3:")),
        "{replica}"
    );
    let validated = &step(&report, "validate")["output"];
    assert_eq!(
        validated["drCompliant"], true,
        "the twin found the replica and the policy: {validated}"
    );
    assert!(validated.get("complianceError").is_none(), "{validated}");
    assert_eq!(validated["replicaKeys"][0]["region"], "eu-west-3");
    assert_eq!(step(&report, "not_compliant")["status"], "skipped");
    assert!(
        twin.running.state().kms_calls > 0,
        "the twin checked the key in moto"
    );

    // Run again in another region the tenant does not run in: stopped before any key is made.
    let ran = byok(&["--param", "region=us-east-1"]);
    assert_eq!(ran.code, 1);
    let report: serde_json::Value = serde_json::from_str(&ran.stdout).expect("JSON report");
    assert_eq!(step(&report, "right_region")["status"], "failed");
    assert_eq!(step(&report, "create_key")["status"], "cancelled");

    // The GovCloud policy in a commercial region: stopped before any key is made, not at PutKeyPolicy.
    let ran = byok(&["--param", "partition=aws-us-gov"]);
    assert_eq!(ran.code, 1);
    let report: serde_json::Value = serde_json::from_str(&ran.stdout).expect("JSON report");
    let check = step(&report, "right_partition");
    assert_eq!(check["status"], "failed");
    assert!(
        check["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("aws-us-gov goes with a us-gov-* region")),
        "{check}"
    );
    assert_eq!(step(&report, "create_key")["status"], "cancelled");
}

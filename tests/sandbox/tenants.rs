//! `--sandbox` with several Qlik tenants: every distinct `tenant_url` a flow connects to is a tenant of its
//! own in the twin (own id, datacenter, providers), listed by name after the run and kept by `--state`.

use crate::harness::{Ran, path_str, root, step};

use super::sandboxed;

/// Two connections to two tenants, reading each.
const TWO_TENANTS: &str = r#"name: two-tenants
connections:
  a: { connector: qlik-cloud, tenant_url: "https://a.eu.qlikcloud.com" }
  b: { connector: qlik-cloud, tenant_url: "https://B.us.qlikcloud.com/hub" }
  seed: { connector: qlik-cloud }
steps:
  - id: a
    block: qlik-cloud.get-tenant-info
    connection: a
  - id: b
    block: qlik-cloud.get-tenant-info
    connection: b
  - id: seed
    block: qlik-cloud.get-tenant-info
    connection: seed
"#;

/// Lists the providers of tenant `a.eu` and of the seeded tenant.
const LIST_PROVIDERS: &str = r#"name: list
connections:
  a: { connector: qlik-cloud, tenant_url: "https://a.eu.qlikcloud.com" }
  seed: { connector: qlik-cloud }
steps:
  - id: a
    block: qlik-cloud.list-key-providers
    connection: a
  - id: seed
    block: qlik-cloud.list-key-providers
    connection: seed
"#;

#[test]
fn each_tenant_url_is_a_tenant_of_its_own_in_the_sandbox() {
    let dir = tempfile::tempdir().expect("temp dir");
    let flow = dir.path().join("two-tenants.yaml");
    std::fs::write(&flow, TWO_TENANTS).expect("flow");
    let (ran, report) = sandboxed(path_str(&flow), &[]);
    assert_eq!(ran.code, 0, "{}\n{}", ran.stdout, ran.stderr);
    let tenant = |id: &str| step(&report, id)["output"].clone();
    let (a, b, seed) = (tenant("a"), tenant("b"), tenant("seed"));
    assert_eq!(a["datacenter"], "eu-west-1", "{a}");
    assert_eq!(b["datacenter"], "us-east-1", "{b}");
    assert_eq!(b["hostnames"][0], "b.us.qlikcloud.com", "{b}");
    assert_eq!(seed["id"], "KeyflowSandboxTenant000000000001");
    let ids = [&a["id"], &b["id"], &seed["id"]];
    assert!(
        ids[0] != ids[1] && ids[1] != ids[2] && ids[0] != ids[2],
        "{ids:?}"
    );
    // The run lists the tenants it made, by name; no API key is printed.
    assert!(
        ran.stderr.contains("new tenant a.eu.qlikcloud.com")
            && ran.stderr.contains("new tenant b.us.qlikcloud.com"),
        "{}",
        ran.stderr
    );
    assert!(
        !ran.stderr.contains("keyflow-sandbox-tenant:")
            && !ran.stdout.contains("keyflow-sandbox-tenant:"),
        "{}",
        ran.stderr
    );
}

#[test]
fn state_keeps_a_provisioned_tenants_key_provider() {
    let dir = tempfile::tempdir().expect("temp dir");
    let state = dir.path().join("sandbox.json");
    // The BYOK flow, aimed at tenant `a.eu` instead of the seeded one (its policy template beside it).
    let byok = std::fs::read_to_string(root().join("flows/byok-tenant-encryption.yaml"))
        .expect("byok flow")
        .replace(
            "qlik: { connector: qlik-cloud, tenant_url: { env: QLIK_TENANT_URL }, api_key: { env: QLIK_API_KEY } }",
            r#"qlik: { connector: qlik-cloud, tenant_url: "https://a.eu.qlikcloud.com" }"#,
        );
    assert!(
        byok.contains("a.eu.qlikcloud.com"),
        "the flow's connection moved"
    );
    std::fs::create_dir(dir.path().join("policies")).expect("policies");
    std::fs::copy(
        root().join("flows/policies/qlik-aws.json"),
        dir.path().join("policies/qlik-aws.json"),
    )
    .expect("policy template");
    let flow = dir.path().join("byok-a.yaml");
    std::fs::write(&flow, byok).expect("flow");
    let (ran, report) = sandboxed(path_str(&flow), &["--state", path_str(&state)]);
    assert_eq!(ran.code, 0, "{}\n{}", ran.stdout, ran.stderr);
    let tenant_id = step(&report, "tenant")["output"]["id"]
        .as_str()
        .expect("tenant id")
        .to_string();
    assert_ne!(tenant_id, "KeyflowSandboxTenant000000000001");
    let stderr = &ran.stderr;
    assert!(
        stderr.contains("a.eu.qlikcloud.com: registered key provider"),
        "{stderr}"
    );
    assert!(
        stderr.contains("tenant a.eu.qlikcloud.com now encrypts with arn:aws:kms:eu-west-1:"),
        "{stderr}"
    );

    // The next run finds tenant `a.eu` as it was left, and the seeded tenant untouched.
    let list = dir.path().join("list.yaml");
    std::fs::write(&list, LIST_PROVIDERS).expect("flow");
    let (ran, report): (Ran, _) = sandboxed(path_str(&list), &["--state", path_str(&state)]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    let a = step(&report, "a")["output"]
        .as_array()
        .cloned()
        .expect("a's providers");
    assert_eq!(a.len(), 2, "Qlik's and the BYOK one: {a:?}");
    assert!(
        a.iter().any(|p| p["current"] == true
            && p["keyprovider"] == "AWS-KMS"
            && p["tenantId"] == tenant_id.as_str()),
        "{a:?}"
    );
    let seed = step(&report, "seed")["output"]
        .as_array()
        .cloned()
        .expect("seed's providers");
    assert_eq!(seed.len(), 1, "{seed:?}");
    assert!(
        ran.stderr.contains("the run changed nothing"),
        "{}",
        ran.stderr
    );
}

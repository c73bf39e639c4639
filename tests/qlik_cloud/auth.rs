//! How a connection authenticates: an API key, OAuth client credentials, a qlik-cli context, the
//! `QLIK_SERVER` / `QLIK_API_KEY` defaults; and what it says when none is there.

use keyflow_twins::qlik_cloud::OAuthClient;

use super::{API_KEY, TENANT, config, twin};
use crate::harness::step;

const TENANT_INFO: &str = "steps:\n  - id: tenant\n    block: qlik-cloud.get-tenant-info\n  - id: providers\n    block: qlik-cloud.list-key-providers\n    after: tenant\n  - id: again\n    block: qlik-cloud.get-tenant-info\n    after: providers\n";

#[test]
fn oauth_client_credentials_get_one_token_for_the_whole_run() {
    let mut config = config();
    config.oauth_clients.push(OAuthClient {
        client_id: "keyflow-m2m".into(),
        client_secret: "s3cret-never-printed".into(),
        tenant_id: TENANT.into(),
    });
    let twin = twin(config);
    let yaml = format!(
        "name: oauth\nconnections:\n  qlik: {{ connector: qlik-cloud, tenant_url: {{ env: QLIK_TENANT_URL }}, client_id: keyflow-m2m, client_secret: {{ env: QLIK_CLIENT_SECRET }} }}\n{TENANT_INFO}"
    );
    let (code, report, ran) = twin.run(
        &yaml,
        &[],
        &[("QLIK_CLIENT_SECRET", "s3cret-never-printed")],
    );
    assert_eq!(code, 0, "{report:#}\n{}", ran.stderr);
    assert_eq!(step(&report, "again")["output"]["id"], TENANT);
    assert_eq!(
        twin.running.state().tokens_issued,
        1,
        "one token for three calls"
    );
    assert!(!ran.stdout.contains("s3cret") && !ran.stderr.contains("s3cret"));

    let (code, report, ran) = twin.run(
        &yaml,
        &[],
        &[("QLIK_CLIENT_SECRET", "wrong-secret-never-printed")],
    );
    assert_eq!(code, 1);
    let error = &step(&report, "tenant")["error"];
    assert_eq!(error["code"], "InvalidClientCredentials", "{error}");
    assert!(
        error["message"]
            .as_str()
            .is_some_and(|m| m.contains("client_secret")),
        "{error}"
    );
    assert!(!ran.stdout.contains("wrong-secret") && !ran.stderr.contains("wrong-secret"));
}

#[test]
fn a_revoked_token_is_renewed_once_on_401() {
    let mut config = config();
    config.oauth_clients.push(OAuthClient {
        client_id: "m2m".into(),
        client_secret: "m2m-secret".into(),
        tenant_id: TENANT.into(),
    });
    let twin = twin(config);
    let yaml = "name: renew\nconnections:\n  qlik: { connector: qlik-cloud, tenant_url: { env: QLIK_TENANT_URL }, client_id: m2m, client_secret: { env: QLIK_CLIENT_SECRET } }\nsteps:\n  - id: first\n    block: qlik-cloud.get-tenant-info\n  - id: pause\n    block: core.sleep\n    after: first\n    with: { duration: 1500ms }\n  - id: second\n    block: qlik-cloud.get-tenant-info\n    after: pause\n";
    std::thread::scope(|scope| {
        let run = scope.spawn(|| twin.run(yaml, &[], &[("QLIK_CLIENT_SECRET", "m2m-secret")]));
        // Revoke while the flow sleeps: after the first call's token (1 issued), before the second call.
        let waited = std::time::Instant::now();
        while twin.running.state().tokens_issued == 0
            && waited.elapsed() < std::time::Duration::from_secs(30)
        {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        std::thread::sleep(std::time::Duration::from_millis(300));
        twin.running.revoke_tokens();
        let (code, report, ran) = run.join().expect("the run");
        assert_eq!(code, 0, "{report:#}\n{}", ran.stderr);
        assert_eq!(step(&report, "second")["output"]["id"], TENANT);
        assert_eq!(
            step(&report, "second")["attempts"],
            1,
            "renewed inside the call, not by a retry"
        );
    });
    let state = twin.running.state();
    assert_eq!(
        state.tokens_issued, 2,
        "one token, then one more after the 401"
    );
    assert_eq!(
        state.unauthorized, 1,
        "exactly one call met the revoked token"
    );
}

#[test]
fn a_qlik_cli_context_or_the_environment_supply_tenant_and_key() {
    let twin = twin(config());
    std::fs::write(
        twin.home().join("contexts.yml"),
        format!(
            "current-context: other\ncontexts:\n  other:\n    server: http://127.0.0.1:9\n  acme:\n    server: {}\n    server-type: cloud\n    headers:\n      Authorization: Bearer {API_KEY}\n",
            twin.url
        ),
    )
    .expect("write contexts.yml");
    let by_context = format!(
        "name: ctx\nconnections:\n  qlik: {{ connector: qlik-cloud, context: acme }}\n{TENANT_INFO}"
    );
    let (code, report, ran) = twin.run(&by_context, &[], &[("QLIK_API_KEY", "")]);
    assert_eq!(code, 0, "{report:#}\n{}", ran.stderr);
    assert_eq!(step(&report, "tenant")["output"]["id"], TENANT);

    let missing = "name: ctx\nconnections:\n  qlik: { connector: qlik-cloud, context: nope }\nsteps:\n  - id: tenant\n    block: qlik-cloud.get-tenant-info\n";
    let (code, report, _) = twin.run(missing, &[], &[]);
    assert_eq!(code, 1);
    let error = &step(&report, "tenant")["error"];
    assert!(
        error["message"]
            .as_str()
            .is_some_and(|m| m.contains("no qlik-cli context `nope`") && m.contains("acme")),
        "{error}"
    );

    std::fs::remove_file(twin.home().join("contexts.yml")).expect("remove contexts.yml");
    let by_env =
        format!("name: env\nconnections:\n  qlik: {{ connector: qlik-cloud }}\n{TENANT_INFO}");
    let (code, report, ran) = twin.run(&by_env, &[], &[("QLIK_SERVER", &twin.url)]);
    assert_eq!(code, 0, "{report:#}\n{}", ran.stderr);
    assert_eq!(step(&report, "tenant")["output"]["id"], TENANT);
}

#[test]
fn no_credentials_at_all_say_what_to_give() {
    let twin = twin(config());
    let yaml = "name: none\nconnections:\n  qlik: { connector: qlik-cloud, tenant_url: { env: QLIK_TENANT_URL } }\nsteps:\n  - id: tenant\n    block: qlik-cloud.get-tenant-info\n";
    let (code, report, _) = twin.run(yaml, &[], &[("QLIK_API_KEY", "")]);
    // Missing credentials are the environment's failure (exit 74), not the flow's (issue 16 item 6).
    assert_eq!(code, 74);
    let error = &step(&report, "tenant")["error"];
    assert_eq!(error["code"], "NoCredentials", "{error}");
    assert!(
        error["message"]
            .as_str()
            .is_some_and(|m| m.contains("api_key: { env: QLIK_API_KEY }")),
        "{error}"
    );
}

//! The sandbox page over real HTTP: what the fixture's twins hold after its flows ran (the `data-key`
//! flow creates a key and an alias), never their key material; and the 404 of a daemon without twins.
#![allow(clippy::unwrap_used)]

use keyflow_engine::exec::report::Status;

use super::tests::{fixture, fixture_with, get, serve};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sandbox_page_shows_what_the_twins_hold_and_no_key_material() {
    let fixture = fixture().await;
    let addr = serve(fixture.daemon.clone()).await;
    let made = &fixture.runs["data-key"];
    assert_eq!(made.status, Status::Succeeded, "{made:?}");
    let key = made.steps[0].output.as_ref().unwrap()["KeyMetadata"].clone();
    let (arn, key_id) = (key["Arn"].as_str().unwrap(), key["KeyId"].as_str().unwrap());

    let (code, page) = get(addr, "/ui/sandbox").await;
    assert_eq!(code, 200, "{page}");
    assert!(
        page.contains("<a href=\"/ui/sandbox\">Sandbox</a>"),
        "{page}"
    );
    let table = |id: &str| {
        let at = page.find(&format!("<table id=\"{id}\">")).unwrap();
        page[at..at + page[at..].find("</table>").unwrap()].to_string()
    };
    let keys = table("keys");
    assert!(
        keys.contains(&format!("<tr data-key=\"{key_id}\">")),
        "{keys}"
    );
    assert!(keys.contains(arn) && keys.contains("ui test"), "{keys}");
    assert!(keys.contains("<td>Enabled</td>"), "{keys}");
    assert!(keys.contains("SYMMETRIC_DEFAULT") && keys.contains("ENCRYPT_DECRYPT"));
    let aliases = table("aliases");
    assert!(
        aliases.contains(&format!(
            "<td><code>alias/ui-test</code></td><td><code>{arn}</code></td>"
        )),
        "{aliases}"
    );
    // The seeded tenant, on Qlik's own key: its provider is the current one.
    let providers = table("providers");
    assert!(
        providers.contains(keyflow_twins::sandbox::TENANT_ID),
        "{providers}"
    );
    assert!(providers.contains("</span> current</td>"), "{providers}");
    assert!(table("migrations").contains("<tbody>\n</tbody>"));
    assert!(page.contains("No migrations yet."));

    // The twins' state holds each key's material and policy: neither is on the page.
    let saved = (fixture.daemon.twins.as_ref().unwrap())();
    let record = saved
        .kms
        .regions
        .values()
        .find_map(|r| r.keys.get(key_id))
        .unwrap();
    assert!(!record.material.is_empty());
    assert!(!page.contains(&record.material), "key material on the page");
    assert!(
        !page.contains("kms:*") && !page.contains("Statement"),
        "a key policy on the page"
    );

    // Every page's navigation links it on a sandbox daemon.
    let (_, runs) = get(addr, "/ui/runs").await;
    assert!(runs.contains("<a href=\"/ui/sandbox\">Sandbox</a>"));
    let (_, missing) = get(addr, "/ui/no/such/page").await;
    assert!(missing.contains("<a href=\"/ui/sandbox\">Sandbox</a>"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_daemon_without_twins_has_no_sandbox_page() {
    let fixture = fixture_with(false).await;
    let addr = serve(fixture.daemon.clone()).await;
    let (code, page) = get(addr, "/ui/sandbox").await;
    assert_eq!(code, 404, "{page}");
    assert!(
        page.contains("does not run with <code>--sandbox</code>"),
        "{page}"
    );
    assert!(!page.contains("href=\"/ui/sandbox\""), "{page}");
    let (_, runs) = get(addr, "/ui/runs").await;
    assert!(!runs.contains("/ui/sandbox"), "{runs}");
}

//! The sandbox page in the browser: after the shipped `kms-tenant-key` flow ran against the twins, the
//! page reached from the navigation lists the key it made and the alias it gave it.

use serde_json::json;

use super::driver::{Ui, WINDOW};

const KMS_TENANT_KEY: &str = include_str!("../../flows/kms-tenant-key.yaml");
/// The flow's default tenant id, which names the alias.
const ALIAS: &str = "alias/qlik/BL4tTJ4S7xrHTcq0zQxQrJ5qB1_Q6cSo";

#[test]
fn the_sandbox_page_lists_the_key_and_alias_a_run_made() {
    let Some(ui) = Ui::start(
        "sandbox_page",
        &[("kms-tenant-key.yaml", KMS_TENANT_KEY)],
        None,
    ) else {
        return;
    };
    let id = ui.api.start_run("kms-tenant-key", json!({}));
    let run = ui.api.run_ends(&id, "succeeded");
    let arn = run["outputs"]["key_arn"].as_str().expect("the key's ARN");
    let key_id = arn.rsplit('/').next().expect("a key id");

    ui.open(&format!("/ui/runs/{id}"));
    ui.wait_for("#run-status[data-status=\"succeeded\"]");
    assert_eq!(ui.count("g.node[data-status=\"succeeded\"]"), 8);
    assert_eq!(ui.count("details.step[data-status=\"succeeded\"]"), 8);
    // The README's picture (docs/img/run-page.png): the run's header and whole graph in one window.
    ui.resize(1280, 1180);
    ui.screenshot("run-page");
    ui.resize(WINDOW.0, WINDOW.1);

    ui.click("a[href=\"/ui/sandbox\"]");
    ui.wait_for_path("the sandbox page", |path| path == "/ui/sandbox");
    for table in ["keys", "aliases", "providers", "migrations"] {
        ui.wait_for(&format!("main table#{table}"));
    }
    let keys = ui.text("table#keys tbody");
    assert!(keys.contains(key_id), "{key_id} not in the keys: {keys}");
    let aliases = ui.text("table#aliases tbody");
    assert!(
        aliases.contains(ALIAS),
        "{ALIAS} not in the aliases: {aliases}"
    );
    // One row per item: the run made one key and one alias.
    assert_eq!(ui.count("table#keys tbody tr"), 1, "{keys}");
    assert_eq!(ui.count("table#aliases tbody tr"), 1, "{aliases}");
    ui.screenshot("sandbox");
}

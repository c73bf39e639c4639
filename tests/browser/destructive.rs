//! Destructive steps in the browser: starting a flow that disables a key, and re-running that step, each
//! ask for the flow's name typed into the form; a wrong name is refused with the form again and nothing
//! done, the right one goes ahead.

use super::driver::Ui;
use super::{details, reused, run_id};

const RETIRE: &str = "name: retire-key\nconnections:\n  aws: { connector: aws-kms, region: eu-west-1 }\nsteps:\n  - id: key\n    block: aws-kms.create-key\n    with: { description: to be disabled }\n  - id: disable\n    block: aws-kms.disable-key\n    confirm: true\n    with: { key_id: $.steps.key.output.KeyMetadata.KeyId }\n";

/// Set on `window`; gone once another page has loaded.
const MARK: &str = "window.keyflowTestMarker = 'this page'; return true;";
const NEW_PAGE: &str = "window.keyflowTestMarker !== 'this page'";

#[test]
fn a_destructive_step_runs_and_reruns_only_once_the_flow_name_is_typed() {
    let Some(ui) = Ui::start("typed_confirmation", &[("retire-key.yaml", RETIRE)], None) else {
        return;
    };
    ui.open("/ui/flows/retire-key");
    ui.wait_for("form#start-run input[name=\"confirm\"]");
    ui.fill("form#start-run input[name=\"confirm\"]", "retire-key");
    ui.click("form#start-run button#start");
    let path = ui.wait_for_path("the run's page", |path| path.starts_with("/ui/runs/"));
    let first = run_id(&path);
    ui.wait_for("#run-status[data-status=\"succeeded\"]");

    ui.click(&format!("{} > summary", details("disable")));
    let form = format!("{} form.rerun", details("disable"));
    ui.wait_for(&format!("{form} input[name=\"confirm\"]"));
    ui.fill(&format!("{form} input[name=\"confirm\"]"), "retire");
    ui.js(MARK, &[]);
    ui.click(&format!("{form} button[type=\"submit\"]"));
    ui.wait_until("the refusal", NEW_PAGE);
    ui.wait_for("form.rerun input[name=\"confirm\"]");
    let said = ui.text("main");
    assert!(
        said.contains("not the flow's name") && said.contains("Nothing was done"),
        "{said}"
    );
    ui.screenshot("rerun-confirm");
    let runs = ui.api.get("/api/v1/runs?flow=retire-key").body;
    assert_eq!(runs["runs"].as_array().map(Vec::len), Some(1), "{runs}");

    ui.fill("form.rerun input[name=\"confirm\"]", "retire-key");
    ui.click("form.rerun button[type=\"submit\"]");
    // Not the refusal's page either (`/ui/runs/FIRST/rerun`), which is still shown until the answer comes.
    let path = ui.wait_for_path("the re-run's page", |path| {
        path.starts_with("/ui/runs/") && !path.ends_with(&first) && !path.ends_with("/rerun")
    });
    let second = run_id(&path);
    ui.wait_for("#run-status[data-status=\"succeeded\"]");
    let run = ui.api.run_ends(&second, "succeeded");
    assert!(reused(&run, "key"), "{run:#}");
    assert!(!reused(&run, "disable"), "disable ran again: {run:#}");
}

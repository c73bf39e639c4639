//! The read views in the browser: the runs list links each run, a run page shows its status, graph and
//! steps, and the keyboard alone gets from the navigation to a run.

use serde_json::json;

use super::driver::Ui;
use super::webdriver::{ENTER, TAB};
use super::{GREET, details};

#[test]
fn the_runs_list_and_a_run_page_render_and_tab_reaches_their_links() {
    let Some(ui) = Ui::start("read_views", &[("greet.yaml", GREET)], None) else {
        return;
    };
    let id = ui.api.start_run("greet", json!({"params": {"who": "ada"}}));
    ui.api.run_ends(&id, "succeeded");

    ui.open("/ui/runs");
    let link = format!("/ui/runs/{id}");
    ui.wait_for(&format!("main a[href=\"{link}\"]"));
    for nav in ["/ui/runs", "/ui/flows", "/ui/sandbox"] {
        assert!(
            ui.count(&format!("a[href=\"{nav}\"]")) > 0,
            "no link to {nav} on the runs list"
        );
    }
    ui.screenshot("runs");

    // From the top of the page, Tab goes through the navigation to the run's link; Enter follows it.
    let mut reached = Vec::new();
    while reached.last() != Some(&link) {
        assert!(
            reached.len() < 50,
            "50 presses of Tab did not reach {link}: {reached:?}"
        );
        ui.press(TAB);
        let href = ui.js(
            "const e = document.activeElement; return e && e.getAttribute('href');",
            &[],
        );
        reached.push(href.as_str().unwrap_or("(not a link)").to_string());
    }
    for nav in ["/ui/runs", "/ui/flows"] {
        assert!(
            reached.iter().any(|href| href == nav),
            "Tab never reached {nav}: {reached:?}"
        );
    }
    ui.press(ENTER);
    ui.wait_for_path("the run page", |path| path == link);
    ui.wait_for("#run-status[data-status=\"succeeded\"]");
    for step in ["hello", "pause", "done"] {
        assert_eq!(
            ui.attr(&format!("g.node[data-step=\"{step}\"]"), "data-status")
                .as_deref(),
            Some("succeeded"),
            "the graph's node of {step}"
        );
        assert_eq!(
            ui.attr(&details(step), "data-status").as_deref(),
            Some("succeeded"),
            "the details of {step}"
        );
    }
    assert_eq!(ui.count("g.node"), 3);
    assert_eq!(ui.count("details.step"), 3);
    // Each node links to its step's details (the link inside the node or around it).
    let linked = ui.js(
        "const g = document.querySelector('g.node[data-step=\"pause\"]'); \
         return !!(g.closest('a[href=\"#step-pause\"]') || g.querySelector('a[href=\"#step-pause\"]'));",
        &[],
    );
    assert_eq!(
        linked,
        json!(true),
        "the node of pause links to #step-pause"
    );
    ui.screenshot("run");
}

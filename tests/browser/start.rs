//! Actions in the browser: a flow started from its form, its run page following the run live (no
//! reload) until every step is green, a step's output opened and compared with the API's, and a re-run
//! from a step that reuses the steps before it.

use serde_json::{Value, json};

use super::driver::Ui;
use super::{GREET, details, reused, run_id};
use crate::harness::step;

/// Set on `window` once a run page is shown: still there later means the page was never reloaded.
const MARKER: &str = "window.keyflowTestMarker = 'not reloaded'; return true;";
const STILL_THERE: &str = "return window.keyflowTestMarker === 'not reloaded';";

/// What the run page says of the run and of each step, read at once.
const STATUSES: &str = "const of = s => Array.from(document.querySelectorAll(s), e => \
    [e.getAttribute('data-step'), e.getAttribute('data-status')]); \
    const run = document.querySelector('#run-status'); \
    return { run: run && run.getAttribute('data-status'), steps: of('details.step'), nodes: of('g.node') };";

/// Waits, on a run page that is not reloaded, until the run and every step and node are `succeeded`;
/// every distinct view of the page seen on the way (`run status | step=status …`).
fn watch_until_green(ui: &Ui) -> Vec<String> {
    // The run's own page (not the one that waits, reloading, for a daemon to start the run).
    ui.wait_for("#run-status");
    assert_eq!(ui.js(MARKER, &[]), json!(true));
    let mut seen: Vec<String> = Vec::new();
    ui.poll("the run and all its steps to be succeeded", |session| {
        let now = session.execute(STATUSES, &[])?;
        let pairs = |key: &str| -> Vec<(String, String)> {
            now[key]
                .as_array()
                .into_iter()
                .flatten()
                .map(|p| {
                    (
                        p[0].as_str().unwrap_or("?").to_string(),
                        p[1].as_str().unwrap_or("?").to_string(),
                    )
                })
                .collect()
        };
        let (steps, nodes) = (pairs("steps"), pairs("nodes"));
        let run = now["run"].as_str().unwrap_or("?");
        let view = format!(
            "{run} |{}",
            steps
                .iter()
                .map(|(id, status)| format!(" {id}={status}"))
                .collect::<String>()
        );
        if seen.last() != Some(&view) {
            seen.push(view);
        }
        let green = |all: &[(String, String)]| {
            !all.is_empty() && all.iter().all(|(_, status)| status == "succeeded")
        };
        Ok((run == "succeeded" && green(&steps) && green(&nodes)).then_some(()))
    });
    assert_eq!(
        ui.js(STILL_THERE, &[]),
        json!(true),
        "the run page was reloaded; it saw {seen:?}"
    );
    seen
}

/// Opens step `id`'s details by its summary and gives its output as the page shows it, parsed.
fn open_output(ui: &Ui, id: &str) -> Value {
    ui.click(&format!("{} > summary", details(id)));
    let output = format!("{}[open] pre.output", details(id));
    ui.wait_until(
        &format!("the output of {id} shown"),
        &format!("document.querySelector('{output}')?.offsetParent !== null"),
    );
    let text = ui.text(&output);
    serde_json::from_str(&text)
        .unwrap_or_else(|e| ui.fail(&format!("the output of {id} is not JSON ({e}): {text}")))
}

#[test]
fn a_flow_started_from_its_form_turns_green_live_and_shows_its_outputs() {
    let Some(ui) = Ui::start("start_from_form", &[("greet.yaml", GREET)], None) else {
        return;
    };
    ui.open("/ui/flows");
    ui.wait_for("main a[href=\"/ui/flows/greet\"]");
    ui.screenshot("flows");
    ui.click("main a[href=\"/ui/flows/greet\"]");
    ui.wait_for_path("the flow's page", |path| path == "/ui/flows/greet");
    ui.wait_for("form#start-run[method=\"post\"][action=\"/ui/flows/greet/runs\"]");
    ui.fill("form#start-run [name=\"param.who\"]", "Ada Lovelace");
    ui.fill("form#start-run [name=\"param.times\"]", "2");
    ui.screenshot("flow");
    ui.click("form#start-run button#start");
    let path = ui.wait_for_path("the new run's page", |path| path.starts_with("/ui/runs/"));
    let id = run_id(&path);

    let seen = watch_until_green(&ui);
    // A step turned green while the run went on: the page followed the run, it was not drawn finished.
    // (A step shows `running` only once a call of it is on record: `pause`, in its only call, shows
    // `pending` until it has succeeded.)
    assert!(
        seen.iter()
            .any(|view| view.starts_with("running |") && view.contains("hello=succeeded")),
        "the page never showed the run under way with a step done: {seen:?}"
    );
    println!("the run page showed, in turn: {seen:#?}");
    ui.screenshot("run-live");

    let run = ui.api.get(&format!("/api/v1/runs/{id}")).body;
    assert_eq!(run["status"], "succeeded", "{run}");
    assert_eq!(run["outputs"]["text"], "hello Ada Lovelace");
    let hello = open_output(&ui, "hello");
    assert_eq!(hello, json!({"text": "hello Ada Lovelace", "times": 2}));
    assert_eq!(hello, step(&run, "hello")["output"]);
    assert_eq!(open_output(&ui, "done"), step(&run, "done")["output"]);
    ui.screenshot("run-output");
}

#[test]
fn a_rerun_from_a_step_reuses_the_steps_before_it() {
    let Some(ui) = Ui::start("rerun_from_step", &[("greet.yaml", GREET)], None) else {
        return;
    };
    let first = ui
        .api
        .start_run("greet", json!({"params": {"who": "Grace"}}));
    ui.api.run_ends(&first, "succeeded");
    ui.open(&format!("/ui/runs/{first}"));
    ui.wait_for("#run-status[data-status=\"succeeded\"]");
    ui.click(&format!("{} > summary", details("pause")));
    let form = format!(
        "{} form.rerun[method=\"post\"][action=\"/ui/runs/{first}/rerun\"]",
        details("pause")
    );
    ui.wait_for(&format!(
        "{form} input[type=\"hidden\"][name=\"step\"][value=\"pause\"]"
    ));
    // core.sleep destroys nothing: no typed confirmation is asked.
    assert_eq!(ui.count(&format!("{form} input[name=\"confirm\"]")), 0);
    ui.screenshot("run-rerun");
    ui.click(&format!("{form} button[type=\"submit\"]"));
    let path = ui.wait_for_path("the re-run's page", |path| {
        path.starts_with("/ui/runs/") && !path.ends_with(&first) && !path.ends_with("/rerun")
    });
    let second = run_id(&path);
    watch_until_green(&ui);

    let run = ui.api.get(&format!("/api/v1/runs/{second}")).body;
    assert_eq!(run["status"], "succeeded", "{run}");
    assert!(reused(&run, "hello"), "{run:#}");
    for id in ["pause", "done"] {
        assert!(!reused(&run, id), "{id} ran again: {run:#}");
    }
    assert_eq!(run["outputs"]["text"], "hello Grace");
    assert_eq!(
        ui.api.get(&format!("/api/v1/runs/{first}")).body["status"],
        "succeeded",
        "the first run is left as it was"
    );
}

//! The web UI in a real browser: headless Chromium, driven over WebDriver by chromedriver, on a
//! `keyflow serve --sandbox` over a fresh SQLite store. [`read`]: the runs list and a run page, by
//! keyboard; [`start`]: a flow started from its form, its run page turning green live without a reload,
//! a step's output opened, a re-run from a step; [`destructive`]: the typed confirmation of a destructive
//! step; [`secrets`]: a data key's plaintext masked on the page;
//! [`sandbox`]: what the twins hold after a run; [`login`]: the login form and CSRF refusal.
//!
//! `scripts/test` starts chromedriver (`scripts/chromium start`, which installs Debian's `chromium` and
//! `chromium-driver` when missing) and exports its URL as `KEYFLOW_CHROMEDRIVER_URL`. Without it these
//! tests say they were skipped, except under `CI`, where a missing driver is a failure. Each page seen is
//! saved as `target/ui-screenshots/NAME.png`.

mod destructive;
mod driver;
mod login;
mod read;
mod sandbox;
mod secrets;
mod start;
mod webdriver;

/// A flow with a required and an enumerated param, whose middle step takes a moment so that a browser
/// sees the run under way.
const GREET: &str = "name: greet\ndescription: Greets someone after a pause.\nparams:\n  who: { type: string, description: whom to greet }\n  times: { type: integer, default: 1, enum: [1, 2, 3] }\nsteps:\n  - id: hello\n    block: core.set\n    with: { text: \"hello {{params.who}}\", times: $.params.times }\n  - id: pause\n    block: core.sleep\n    after: hello\n    with: { duration: 2s }\n  - id: done\n    block: core.set\n    after: pause\n    with: { text: $.steps.hello.output.text }\noutputs:\n  text: $.steps.done.output.text\n";

/// The run id in a run page's path, `/ui/runs/ID`.
fn run_id(path: &str) -> String {
    path.strip_prefix("/ui/runs/")
        .unwrap_or_else(|| panic!("not a run page: {path}"))
        .to_string()
}

/// Whether step `id` of an API run document was reused from an earlier run rather than run (`reused` is
/// left out when false).
fn reused(run: &serde_json::Value, id: &str) -> bool {
    crate::harness::step(run, id)["reused"] == true
}

/// The CSS selector of step `id`'s details on a run page.
fn details(id: &str) -> String {
    format!("details.step[data-step=\"{id}\"]")
}

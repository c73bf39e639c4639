//! The misbehaving test plugin (`tests/fixtures/plugins/misbehaving.py`): every way a plugin can fail ends
//! in a clear error of its step only, the run goes on, and no process is left.

use super::{in_dir, left_over, misbehaving_project, run_in, step};

const MISBEHAVING: &str = r#"
name: misbehaving
connections:
  bad: { connector: misbehaving, token: { env: BAD_TOKEN } }
steps:
  - { id: crash, block: misbehaving.crash, on_error: continue }
  - { id: hang, block: misbehaving.hang, timeout: 500ms, on_error: continue, after: crash }
  - { id: garbage, block: misbehaving.garbage, on_error: continue, after: hang }
  - { id: wrong, block: misbehaving.wrong-output, on_error: continue, after: garbage }
  - { id: flood, block: misbehaving.flood, on_error: continue, after: wrong }
  - { id: leak, block: misbehaving.leak, on_error: continue, after: flood }
  - { id: environment, block: misbehaving.environment, after: leak }
  - { id: after, block: misbehaving.ok, with: { value: fine }, after: environment }
"#;

#[test]
fn a_misbehaving_plugin_fails_only_its_step_and_leaves_no_process() {
    let project = misbehaving_project();
    let (code, report, stderr) = run_in(
        project.path(),
        MISBEHAVING,
        &[],
        &[("BAD_TOKEN", "tok-3f9a8c2e")],
    );
    assert_eq!(
        code, 0,
        "the run goes on under on_error: continue: {stderr}"
    );
    let error = |id: &str| step(&report, id)["error"].clone();
    assert_eq!(error("crash")["code"], "PluginCrashed");
    let crash = error("crash")["message"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        crash.contains("plugin `misbehaving` exited") && crash.contains("about to crash"),
        "names the plugin and quotes its last words: {crash}"
    );
    assert_eq!(error("hang")["code"], "Timeout");
    assert_eq!(error("garbage")["code"], "PluginProtocolError");
    assert!(
        error("garbage")["message"]
            .as_str()
            .is_some_and(|m| m.contains("plugin `misbehaving` wrote what is not a keyflow-plugin/1 message: `this is not JSON`")),
        "{}",
        error("garbage")
    );
    assert_eq!(error("wrong")["code"], "PluginInvalidOutput");
    assert!(
        error("wrong")["message"]
            .as_str()
            .is_some_and(|m| m.contains("`value`: expected a string, found an integer")),
        "{}",
        error("wrong")
    );
    assert_eq!(step(&report, "flood")["output"]["value"], "survived");
    assert_eq!(error("leak")["message"], "denied for token <redacted>");
    assert!(!report.to_string().contains("tok-3f9a8c2e"));
    let started_with = step(&report, "environment")["output"]["value"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        started_with.contains("KEYFLOW_PLUGIN_PROTOCOL=keyflow-plugin/1")
            && !started_with.contains("BAD_TOKEN")
            && !started_with.contains("<redacted>"),
        "secrets travel in messages only, never in the environment or argv: {started_with}"
    );
    assert_eq!(step(&report, "after")["status"], "succeeded");
    assert_eq!(step(&report, "after")["output"]["value"], "fine");
    assert_eq!(left_over(project.path()), Vec::<String>::new());
    let started = std::fs::read_dir(project.path().join("pids"))
        .map(|d| d.count())
        .unwrap_or(0);
    assert!(
        started >= 4,
        "a process was started again after each crash, garbage and hang ({started})"
    );
}

#[test]
fn a_plugin_that_exits_at_start_fails_its_step_clearly() {
    let project = misbehaving_project();
    std::fs::write(project.path().join("exit-at-start"), "").expect("marker");
    let (code, report, stderr) = run_in(
        project.path(),
        r#"
name: starts-badly
connections:
  bad: { connector: misbehaving }
steps:
  - { id: one, block: misbehaving.ok, on_error: continue }
  - { id: two, block: core.log, with: { message: still here }, after: one }
"#,
        &[],
        &[],
    );
    assert_eq!(code, 0, "{stderr}");
    let error = &step(&report, "one")["error"];
    assert_eq!(error["code"], "PluginCrashed", "{error}");
    assert!(
        error["message"].as_str().is_some_and(|m| m
            .contains("while starting: plugin `misbehaving` exited (exit status: 5)")
            && m.contains("refusing to start")),
        "{error}"
    );
    assert_eq!(step(&report, "two")["status"], "succeeded");
    assert_eq!(left_over(project.path()), Vec::<String>::new());
}

#[test]
fn the_sandbox_keeps_a_plugin_without_a_twin_away_from_its_service_unless_allowed() {
    let project = misbehaving_project();
    let flow = "name: ok\nconnections: { bad: { connector: misbehaving } }\nsteps:\n  - { id: one, block: misbehaving.ok, with: { value: a }, on_error: continue }\n";
    let (code, report, stderr) = run_in(project.path(), flow, &["--sandbox"], &[]);
    assert_eq!(code, 0, "{stderr}");
    let error = &step(&report, "one")["error"];
    assert_eq!(error["code"], "NoSandbox");
    assert!(
        error["message"]
            .as_str()
            .is_some_and(|m| m.contains("--allow-plugins-outside-sandbox")),
        "{error}"
    );
    let (code, report, stderr) = run_in(
        project.path(),
        flow,
        &["--sandbox", "--allow-plugins-outside-sandbox"],
        &[],
    );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(step(&report, "one")["status"], "succeeded");
    let misused = in_dir(
        project.path(),
        &["run", "flow.yaml", "--allow-plugins-outside-sandbox"],
    );
    assert_eq!(misused.code, 2, "the flag means nothing without --sandbox");
}

#[test]
fn a_plugin_choosing_another_protocol_is_refused_when_added_and_when_run() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::copy(
        crate::harness::root().join("tests/fixtures/plugins/misbehaving.py"),
        dir.path().join("misbehaving.py"),
    )
    .expect("copy the plugin");
    let marker = dir.path().join("protocol-2");
    std::fs::write(&marker, "").expect("marker");
    let added = in_dir(dir.path(), &["plugin", "add", "misbehaving.py"]);
    assert_eq!(added.code, 2, "{}", added.stderr);
    assert!(
        added.stderr.contains(
            "chose protocol `keyflow-plugin/2`, but keyflow offered only `keyflow-plugin/1`"
        ),
        "{}",
        added.stderr
    );
    assert!(
        !dir.path()
            .join(".keyflow/plugins/misbehaving.json")
            .exists()
    );
    std::fs::remove_file(&marker).expect("unmark");
    let added = in_dir(dir.path(), &["plugin", "add", "misbehaving.py"]);
    assert_eq!(added.code, 0, "{}", added.stderr);
    std::fs::write(&marker, "").expect("mark again");
    let (code, report, stderr) = run_in(
        dir.path(),
        "name: p\nconnections: { bad: { connector: misbehaving } }\nsteps:\n  - { id: one, block: misbehaving.ok, on_error: continue }\n",
        &[],
        &[],
    );
    assert_eq!(code, 0, "{stderr}");
    let error = &step(&report, "one")["error"];
    assert_eq!(error["code"], "PluginProtocolError", "{error}");
    assert!(
        error["message"]
            .as_str()
            .is_some_and(|m| m.contains("plugin `misbehaving`") && m.contains("keyflow-plugin/2")),
        "{error}"
    );
    assert_eq!(left_over(dir.path()), Vec::<String>::new());
}

#[test]
fn calls_in_flight_share_one_process_and_each_gets_its_own_answer() {
    let project = misbehaving_project();
    let steps: String = (0..8)
        .map(|i| format!("  - {{ id: s{i}, block: misbehaving.ok, with: {{ value: v{i} }} }}\n"))
        .collect();
    let flow = format!(
        "name: many\nconnections: {{ bad: {{ connector: misbehaving }} }}\nsteps:\n{steps}"
    );
    let (code, report, stderr) = run_in(project.path(), &flow, &[], &[]);
    assert_eq!(code, 0, "{stderr}");
    for i in 0..8 {
        assert_eq!(
            step(&report, &format!("s{i}"))["output"]["value"],
            format!("v{i}")
        );
    }
    let started = std::fs::read_dir(project.path().join("pids"))
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(
        started, 2,
        "one process described the plugin for `plugin add`, one served the whole run"
    );
    assert_eq!(left_over(project.path()), Vec::<String>::new());
}

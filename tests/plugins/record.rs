//! The committed record of a plugin: what `validate`, `blocks` and `schema` read without the plugin
//! installed, what `run` checks the executable against, and what `plugin update|remove` change.

use serde_json::Value;

use super::{in_dir, misbehaving_project, run_in, step};

#[test]
fn run_refuses_a_changed_executable_until_it_is_updated() {
    let project = misbehaving_project();
    let dir = project.path();
    let flow = "name: ok\nconnections: { bad: { connector: misbehaving } }\nsteps:\n  - { id: one, block: misbehaving.ok, with: { value: a } }\n";
    let mut script = std::fs::read_to_string(dir.join("misbehaving.py")).expect("read");
    script.push_str("# changed\n");
    std::fs::write(dir.join("misbehaving.py"), script).expect("change the plugin");
    let (code, _, stderr) = run_in(dir, flow, &[], &[]);
    assert_eq!(code, 74, "{stderr}");
    assert!(
        stderr.contains("plugin `misbehaving`: its executable")
            && stderr.contains("changed since it was added")
            && stderr.contains("keyflow plugin update misbehaving"),
        "{stderr}"
    );
    assert!(
        in_dir(dir, &["validate", "flow.yaml"]).code == 0,
        "validate reads only the record"
    );
    let listed = in_dir(dir, &["plugin", "list", "--output", "json"]);
    let listed: Value = serde_json::from_str(&listed.stdout).expect("json");
    assert_eq!(listed["format_version"], 1);
    assert_eq!(listed["plugins"][0]["installed"], "changed");
    let stale = in_dir(dir, &["plugin", "update", "misbehaving", "--check"]);
    assert_eq!(stale.code, 1, "{}", stale.stderr);
    assert!(stale.stdout.contains("~ sha256"), "{}", stale.stdout);
    let updated = in_dir(dir, &["plugin", "update", "misbehaving"]);
    assert_eq!(updated.code, 0, "{}", updated.stderr);
    let (code, report, stderr) = run_in(dir, flow, &[], &[]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(step(&report, "one")["output"]["value"], "a");
}

#[test]
fn plugin_blocks_are_checked_like_built_ins_and_listed_with_their_origin() {
    let project = misbehaving_project();
    let dir = project.path();
    std::fs::create_dir(dir.join("flows")).expect("mkdir");
    std::fs::write(
        dir.join("flows/wipe.yaml"),
        "name: wipe\nconnections: { bad: { connector: misbehaving } }\nsteps:\n  - id: wipe\n    block: misbehaving.wipe\n  - id: show\n    block: core.log\n    with: { message: $.steps.wipe.output.vallue }\n",
    )
    .expect("write");
    // The plugin need not be there: validate reads the record (found from the flow's folder upwards).
    std::fs::remove_file(dir.join("misbehaving.py")).expect("uninstall");
    let checked = in_dir(dir, &["validate", "flows/wipe.yaml"]);
    assert_eq!(checked.code, 2, "{}", checked.stderr);
    assert!(
        checked.stderr.contains("error[missing-confirm]"),
        "{}",
        checked.stderr
    );
    assert!(
        checked.stderr.contains("error[unknown-output-field]")
            && checked.stderr.contains("flows/wipe.yaml:8:42")
            && checked.stderr.contains("did you mean `value`?"),
        "{}",
        checked.stderr
    );
    let listed = in_dir(dir, &["blocks", "list"]);
    assert!(
        listed
            .stdout
            .lines()
            .any(|l| l.starts_with("misbehaving.wipe")
                && l.contains("destructive (plugin `misbehaving`)")),
        "{}",
        listed.stdout
    );
    let json: Value =
        serde_json::from_str(&in_dir(dir, &["blocks", "list", "--output", "json"]).stdout)
            .expect("json");
    let blocks = json["blocks"].as_array().expect("blocks");
    assert!(
        blocks
            .iter()
            .any(|b| b["id"] == "misbehaving.ok" && b["plugin"] == "misbehaving")
    );
    assert!(
        blocks
            .iter()
            .any(|b| b["id"] == "core.log" && b["plugin"].is_null())
    );
    let described = in_dir(dir, &["blocks", "describe", "misbehaving.ok"]);
    assert!(
        described.stdout.contains("plugin:    `misbehaving`"),
        "{}",
        described.stdout
    );
    let removed = in_dir(dir, &["plugin", "remove", "misbehaving"]);
    assert_eq!(removed.code, 0, "{}", removed.stderr);
    let gone = in_dir(dir, &["validate", "flows/wipe.yaml"]);
    assert!(
        gone.stderr.contains("error[unknown-block]"),
        "{}",
        gone.stderr
    );
    assert_eq!(in_dir(dir, &["plugin", "remove", "misbehaving"]).code, 2);
}

#[test]
fn a_record_that_is_not_one_is_refused_at_its_line_and_column() {
    let project = misbehaving_project();
    let record = project.path().join(".keyflow/plugins/misbehaving.json");
    let text = std::fs::read_to_string(&record).expect("read");
    std::fs::write(&record, text.replacen("\"read\"", "\"reads\"", 1)).expect("write");
    std::fs::write(project.path().join("f.yaml"), "name: f\nsteps: []\n").expect("flow");
    let checked = in_dir(project.path(), &["validate", "f.yaml"]);
    assert_eq!(checked.code, 2, "{}", checked.stderr);
    assert!(
        checked.stderr.contains("misbehaving.json:")
            && checked.stderr.contains("unknown variant `reads`"),
        "{}",
        checked.stderr
    );
}

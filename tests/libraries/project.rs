//! The project's files — a malformed `keyflow.yaml` or lock at file:line:column — directory libraries,
//! `keyflow template list|show`, and the example flows' own library.

use serde_json::Value;

use super::{Project, Repo, caller, git_library, greet};
use crate::harness::root;
use crate::schemas::assert_matches;

#[test]
fn a_malformed_project_file_or_lock_is_reported_at_its_line_and_column() {
    let project = Project::new("  lib: { git: x, path: y }\n");
    project.write("caller.yaml", &caller("lib:greet@^1"));
    let ran = project.keyflow(&["lock"]);
    assert_eq!(ran.code, 2, "{}", ran.stderr);
    assert!(ran.stderr.contains("keyflow.yaml:3:8"), "{}", ran.stderr);
    assert!(
        ran.stderr.contains("`git:` or `path:`, not both"),
        "{}",
        ran.stderr
    );
    // validate names the project file's problem at the `uses:` that needed it.
    let ran = project.keyflow(&["validate", "caller.yaml"]);
    assert_eq!(ran.code, 2);
    assert!(ran.stderr.contains("caller.yaml:4:11"), "{}", ran.stderr);
    assert!(ran.stderr.contains("keyflow.yaml:3:8"), "{}", ran.stderr);
    // A flow that names no library does not need the project file.
    project.write(
        "plain.yaml",
        "name: plain\nsteps:\n  - id: a\n    block: core.log\n    with: { message: hi }\n",
    );
    assert_eq!(project.keyflow(&["validate", "plain.yaml"]).code, 0);

    let repo = Repo::new();
    repo.write("greet.yaml", &greet("1.0.0"));
    repo.publish("greet/v1.0.0");
    project.write(
        "keyflow.yaml",
        &format!(
            "format_version: 1\nlibraries:\n{}",
            git_library("lib", &repo)
        ),
    );
    assert_eq!(project.keyflow(&["lock"]).code, 0);
    let lock = project
        .read("keyflow.lock")
        .replace("version: 1.0.0", "version: [1]");
    project.write("keyflow.lock", &lock);
    let line = lock
        .lines()
        .position(|l| l.contains("version: [1]"))
        .expect("line")
        + 1;
    let ran = project.keyflow(&["validate", "caller.yaml"]);
    assert_eq!(ran.code, 2);
    assert!(
        ran.stderr.contains(&format!("keyflow.lock:{line}:")),
        "{}",
        ran.stderr
    );
    let ran = project.keyflow(&["lock"]);
    assert_eq!(ran.code, 2);
    assert!(
        ran.stderr.contains(&format!("keyflow.lock:{line}:")),
        "{}",
        ran.stderr
    );
}

#[test]
fn a_directory_library_serves_the_version_it_holds_and_its_changes_are_caught() {
    let project = Project::new("  shared: { path: platform }\n");
    project.write("platform/greet.yaml", &greet("1.0.0"));
    project.write("flows/caller.yaml", &caller("shared:greet@^1"));
    let ran = project.keyflow(&["lock"]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert_eq!(project.keyflow(&["validate", "flows/caller.yaml"]).code, 0);

    // Edited without a new version: refused where it is used, and by `keyflow lock`.
    project.write(
        "platform/greet.yaml",
        &greet("1.0.0").replace("hello", "hi"),
    );
    let ran = project.keyflow(&["run", "flows/caller.yaml"]);
    assert_eq!(ran.code, 2);
    assert!(
        ran.stderr.contains("`greet.yaml` has sha256:"),
        "{}",
        ran.stderr
    );
    let ran = project.keyflow(&["update"]);
    assert_eq!(ran.code, 2);
    assert!(
        ran.stderr.contains("changed under the same version"),
        "{}",
        ran.stderr
    );
    // Published as a new version, `update` takes it.
    project.write(
        "platform/greet.yaml",
        &greet("1.0.1").replace("hello", "hi"),
    );
    let ran = project.keyflow(&["lock"]);
    assert_eq!(ran.code, 2);
    assert!(
        ran.stderr.contains("run `keyflow update shared`"),
        "{}",
        ran.stderr
    );
    let ran = project.keyflow(&["update", "shared"]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    let (code, report, _) = project.run("flows/caller.yaml");
    assert_eq!(code, 0);
    assert_eq!(report["outputs"]["greeting"], "hi, team");

    // A library template reads only inside its library.
    project.write(
        "platform/escape.yaml",
        "name: escape\nversion: 1.0.0\nsteps:\n  - id: up\n    uses: ../outside.yaml\n",
    );
    project.write("outside.yaml", &greet("1.0.0"));
    project.write(
        "flows/escape.yaml",
        "name: e\nsteps:\n  - id: x\n    uses: shared:escape@^1\n",
    );
    let ran = project.keyflow(&["update"]);
    assert_eq!(ran.code, 2);
    assert!(
        ran.stderr
            .contains("`../outside.yaml` leads out of the library `shared`"),
        "{}",
        ran.stderr
    );
}

#[test]
fn a_problem_at_a_call_site_names_the_template_file_and_line() {
    let project = Project::new("  shared: { path: platform }\n");
    project.write(
        "platform/tenant.yaml",
        "name: tenant\nversion: 1.0.0\nparams:\n  who: { type: string, default: world }\n  tenant: { type: string }\nsteps:\n  - id: say\n    block: core.set\n    with: { greeting: \"hello, {{params.who}}\" }\noutputs:\n  greeting: $.steps.say.output.greeting\n",
    );
    // An unknown param, a missing required one, and an output the template does not give.
    project.write(
        "caller.yaml",
        "name: caller\nsteps:\n  - id: hi\n    uses: shared:tenant@^1\n    with: { whom: team }\noutputs:\n  greeting: $.steps.hi.output.greting\n",
    );
    let ran = project.keyflow(&["lock"]);
    assert_eq!(ran.code, 2, "{}", ran.stderr);
    let err = &ran.stderr;
    assert!(err.contains("caller.yaml:5:13"), "the unknown param: {err}");
    assert!(
        err.contains(
            "note: the template `shared:tenant@^1` declares its params at platform/tenant.yaml:3"
        ),
        "{err}"
    );
    assert!(
        err.contains("note: the template `shared:tenant@^1` declares its param `tenant` at platform/tenant.yaml:5"),
        "{err}"
    );
    assert!(err.contains("caller.yaml:7:"), "the output read: {err}");
    assert!(
        err.contains(
            "note: the template `shared:tenant@^1` declares its outputs at platform/tenant.yaml:10"
        ),
        "{err}"
    );
    // A template's own problem is reported against the template's file.
    project.write(
        "platform/tenant.yaml",
        "name: tenant\nversion: 1.0.0\nsteps:\n  - id: say\n    block: core.set\n    with: { greeting: $.steps.nope.output }\n",
    );
    project.write(
        "caller.yaml",
        "name: caller\nsteps:\n  - id: hi\n    uses: shared:tenant@^1\n",
    );
    let ran = project.keyflow(&["lock"]);
    assert_eq!(ran.code, 2, "{}", ran.stderr);
    assert!(ran.stderr.contains("caller.yaml:4:11"), "{}", ran.stderr);
    assert!(
        ran.stderr.contains("platform/tenant.yaml:6:"),
        "{}",
        ran.stderr
    );
    assert!(ran.stderr.contains("unknown step `nope`"), "{}", ran.stderr);
}

#[test]
fn template_list_and_show_describe_what_the_project_can_call() {
    let repo = Repo::new();
    for version in ["1.0.0", "1.1.0"] {
        repo.write("greet.yaml", &greet(version));
        repo.publish(&format!("greet/v{version}"));
    }
    let project = Project::new(&git_library("lib", &repo));
    project.write("caller.yaml", &caller("lib:greet@~1.0"));
    assert_eq!(project.keyflow(&["lock"]).code, 0);

    let ran = project.keyflow(&["template", "list", "--output", "json"]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    let listed: Value = serde_json::from_str(&ran.stdout).expect("json");
    assert_matches("templates.schema.json", &listed);
    assert_eq!(listed["format_version"], 1);
    assert_eq!(listed["templates"][0]["name"], "lib:greet");
    assert_eq!(
        listed["templates"][0]["versions"],
        serde_json::json!(["1.0.0", "1.1.0"])
    );
    assert_eq!(listed["templates"][0]["locked"]["lib:greet@~1.0"], "1.0.0");

    let ran = project.keyflow(&["template", "show", "lib:greet", "--output", "json"]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    let shown: Value = serde_json::from_str(&ran.stdout).expect("json");
    assert_matches("template.schema.json", &shown);
    assert_eq!(shown["version"], "1.0.0", "the locked version by default");
    assert_eq!(shown["interface"]["params"]["who"]["type"], "string");
    assert_eq!(shown["interface"]["params"]["who"]["required"], false);
    assert_eq!(shown["interface"]["outputs"]["greeting"], "string");
    assert_eq!(shown["interface"]["effect"], "read");
    let ran = project.keyflow(&["template", "show", "lib:greet@1.1.0"]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert!(ran.stdout.contains("lib:greet 1.1.0"), "{}", ran.stdout);
    assert!(ran.stdout.contains("who (string)"), "{}", ran.stdout);
}

#[test]
fn the_one_tenant_flows_and_their_templates_stay_in_step() {
    // flows/templates/ holds the versioned templates the many-tenant flows call; the one-tenant flows
    // beside them stay runnable on their own with the same steps. Only the version (semver in the
    // library), the schema comment's path, the description and a flow's own triggers differ.
    for (flow, template) in [
        (
            "flows/byok-tenant-encryption.yaml",
            "flows/templates/byok-tenant.yaml",
        ),
        (
            "flows/rotate-tenant-key.yaml",
            "flows/templates/rotate-tenant.yaml",
        ),
    ] {
        let read = |path: &str| -> serde_yaml::Value {
            let mut value: serde_yaml::Value =
                serde_yaml::from_str(&std::fs::read_to_string(root().join(path)).expect("read"))
                    .expect("yaml");
            let mapping = value.as_mapping_mut().expect("mapping");
            // What only a flow run on its own has: its version, its schedule and the words about it.
            for key in ["version", "triggers", "description"] {
                mapping.remove(key);
            }
            value
        };
        assert_eq!(
            read(flow),
            read(template),
            "{template} is {flow} as a template: copy the change"
        );
    }
}

#[test]
fn the_example_project_file_and_lock_match_their_schemas() {
    for (file, schema) in [
        ("flows/keyflow.yaml", "project.schema.json"),
        ("flows/keyflow.lock", "lock.schema.json"),
    ] {
        let text = std::fs::read_to_string(root().join(file)).expect("read");
        let value: Value = serde_yaml::from_str(&text).expect("YAML");
        assert_matches(schema, &value);
    }
    // The schemas are strict where keyflow is: an unknown field is refused by both.
    let wrong = serde_json::json!({ "format_version": 1, "libraries": { "x": { "gti": "u" } } });
    assert!(!crate::schemas::validator("project.schema.json").is_valid(&wrong));
}

#[test]
fn the_example_library_is_locked_as_it_is() {
    // `keyflow lock` keeps a current lock as it is (and writes nothing).
    let flows = root().join("flows");
    let before = std::fs::read_to_string(flows.join("keyflow.lock")).expect("lock");
    let ran = crate::harness::run(&["lock", "--project", "flows"]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert!(
        ran.stdout.contains("up to date (2 templates)"),
        "{}",
        ran.stdout
    );
    assert_eq!(
        std::fs::read_to_string(flows.join("keyflow.lock")).expect("lock"),
        before
    );
}

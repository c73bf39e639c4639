//! `keyflow lock` and `keyflow update` against git libraries over `file://`, and what `validate` and
//! `run` then accept from the lock alone.

use super::{Project, Repo, caller, git_library, greet};

/// A library with `greet` at 1.0.0, 1.2.0 and 2.0.0.
fn three_versions() -> Repo {
    let repo = Repo::new();
    for version in ["1.0.0", "1.2.0", "2.0.0"] {
        repo.write("greet.yaml", &greet(version));
        repo.publish(&format!("greet/v{version}"));
    }
    repo
}

#[test]
fn ranges_resolve_to_the_highest_version_they_allow_and_the_run_uses_it() {
    let repo = three_versions();
    let project = Project::new(&git_library("lib", &repo));
    for (range, version) in [
        ("^1.0", "1.2.0"),
        ("~1.0", "1.0.0"),
        (">=2", "2.0.0"),
        ("*", "2.0.0"),
    ] {
        project.write("caller.yaml", &caller(&format!("lib:greet@{range}")));
        let ran = project.keyflow(&["update"]);
        assert_eq!(ran.code, 0, "{range}: {}", ran.stderr);
        let lock = project.read("keyflow.lock");
        assert!(
            lock.contains(&format!("version: {version}\n")),
            "{range}: {lock}"
        );
        assert!(lock.contains(&format!("tag: greet/v{version}\n")), "{lock}");
    }
    // Only the lock and the cache: a run reads no library.
    let (code, report, ran) = project.run("caller.yaml");
    assert_eq!(code, 0, "{}", ran.stderr);
    assert_eq!(report["outputs"]["greeting"], "hello, team");
    let child = &report["steps"][0]["runs"][0];
    assert_eq!(
        child["flow"], "greet",
        "the template's run is the step's child: {report}"
    );

    project.write("caller.yaml", &caller("lib:greet@^3"));
    let ran = project.keyflow(&["lock"]);
    assert_eq!(ran.code, 2, "{}", ran.stderr);
    assert!(
        ran.stderr
            .contains("no version of `greet` in library `lib` matches `^3`"),
        "{}",
        ran.stderr
    );
    assert!(
        ran.stderr.contains("it has 1.0.0, 1.2.0, 2.0.0"),
        "{}",
        ran.stderr
    );
}

#[test]
fn lock_keeps_what_it_pinned_and_update_moves_it() {
    let repo = Repo::new();
    repo.write("greet.yaml", &greet("1.0.0"));
    repo.publish("greet/v1.0.0");
    let project = Project::new(&git_library("lib", &repo));
    project.write("caller.yaml", &caller("lib:greet@^1"));
    assert_eq!(project.keyflow(&["lock"]).code, 0);
    repo.write("greet.yaml", &greet("1.1.0"));
    repo.publish("greet/v1.1.0");
    let ran = project.keyflow(&["lock"]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert!(ran.stdout.contains("up to date"), "{}", ran.stdout);
    assert!(project.read("keyflow.lock").contains("version: 1.0.0"));
    let ran = project.keyflow(&["update", "lib"]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert!(
        ran.stdout.contains("~ lib:greet@^1: 1.0.0 -> 1.1.0"),
        "{}",
        ran.stdout
    );
    assert!(project.read("keyflow.lock").contains("version: 1.1.0"));
}

#[test]
fn a_moved_tag_is_refused() {
    let repo = Repo::new();
    repo.write("greet.yaml", &greet("1.0.0"));
    let first = repo.publish("greet/v1.0.0");
    let project = Project::new(&git_library("lib", &repo));
    project.write("caller.yaml", &caller("lib:greet@^1"));
    assert_eq!(project.keyflow(&["lock"]).code, 0);
    let locked = project.read("keyflow.lock");
    assert!(locked.contains(&format!("commit: {first}")), "{locked}");

    // The owners (or an attacker) move the tag to other content.
    repo.write("greet.yaml", &greet("1.0.0").replace("hello", "pwned"));
    repo.git(&["commit", "--quiet", "-am", "moved"]);
    repo.git(&["tag", "-f", "-a", "-m", "moved", "greet/v1.0.0"]);
    let ran = project.keyflow(&["lock"]);
    assert_eq!(ran.code, 2, "{}", ran.stderr);
    assert!(
        ran.stderr
            .contains("tag `greet/v1.0.0` of library `lib` moved: keyflow.lock pinned commit"),
        "{}",
        ran.stderr
    );
    assert_eq!(
        project.read("keyflow.lock"),
        locked,
        "the lock is left as it was"
    );
    // The pinned commit still runs, offline, as reviewed.
    let (code, report, _) = project.run("caller.yaml");
    assert_eq!(code, 0);
    assert_eq!(report["outputs"]["greeting"], "hello, team");
    // `update` resolves the tag again but will not take other content under the same version.
    let ran = project.keyflow(&["update"]);
    assert_eq!(ran.code, 2, "{}", ran.stderr);
    assert!(
        ran.stderr
            .contains("`lib:greet` 1.0.0 changed under the same version: `greet.yaml`"),
        "{}",
        ran.stderr
    );
    assert_eq!(project.read("keyflow.lock"), locked);
}

#[test]
fn changed_content_under_the_locked_version_is_refused_by_validate_and_run() {
    let repo = Repo::new();
    repo.write("greet.yaml", &greet("1.0.0"));
    let commit = repo.publish("greet/v1.0.0");
    let project = Project::new(&git_library("lib", &repo));
    project.write("caller.yaml", &caller("lib:greet@^1"));
    assert_eq!(project.keyflow(&["lock"]).code, 0);
    assert_eq!(project.keyflow(&["validate", "caller.yaml"]).code, 0);

    let copy = project.cached(&commit).join("greet.yaml");
    std::fs::write(&copy, greet("1.0.0").replace("hello", "pwned")).expect("tamper");
    for command in ["validate", "plan", "run"] {
        let ran = project.keyflow(&[command, "caller.yaml"]);
        assert_eq!(ran.code, 2, "{command}: {}", ran.stderr);
        assert!(
            ran.stderr.contains("template `lib:greet` 1.0.0 no longer matches keyflow.lock: `greet.yaml` has sha256:"),
            "{command}: {}",
            ran.stderr
        );
        assert!(ran.stderr.contains("caller.yaml:4:11"), "{}", ran.stderr);
    }
    // A copy missing from this machine is fetched by `keyflow lock`, which changes nothing in the lock.
    std::fs::remove_dir_all(project.cached(&commit)).expect("remove");
    let ran = project.keyflow(&["validate", "caller.yaml"]);
    assert_eq!(ran.code, 2);
    assert!(
        ran.stderr.contains("is not on this machine"),
        "{}",
        ran.stderr
    );
    assert!(ran.stderr.contains("run `keyflow lock`"), "{}", ran.stderr);
    let before = project.read("keyflow.lock");
    assert_eq!(project.keyflow(&["lock"]).code, 0);
    assert_eq!(project.read("keyflow.lock"), before);
    assert_eq!(project.keyflow(&["validate", "caller.yaml"]).code, 0);
}

#[test]
fn a_file_the_template_reads_counts_in_its_hash() {
    let repo = Repo::new();
    repo.write(
        "doc.yaml",
        "name: doc\nversion: 1.0.0\nparams:\n  who: { type: string }\nsteps:\n  - id: policy\n    block: core.render\n    with: { file: policies/p.json, data: { who: \"{{params.who}}\" } }\noutputs:\n  policy: $.steps.policy.output\n",
    );
    repo.write("policies/p.json", "{ \"Principal\": \"{{who}}\" }\n");
    repo.write("policies/unrelated.json", "{}\n");
    let commit = repo.publish("doc/v1.0.0");
    let project = Project::new(&git_library("lib", &repo));
    project.write(
        "caller.yaml",
        "name: caller\nsteps:\n  - id: d\n    uses: lib:doc@^1\n    with: { who: alice }\noutputs:\n  policy: $.steps.d.output.policy\n",
    );
    let ran = project.keyflow(&["lock"]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    let lock = project.read("keyflow.lock");
    assert!(lock.contains("policies/p.json: sha256:"), "{lock}");
    assert!(
        !lock.contains("unrelated.json"),
        "a literal file is that file only: {lock}"
    );
    let (code, report, ran) = project.run("caller.yaml");
    assert_eq!(code, 0, "{}", ran.stderr);
    assert_eq!(report["outputs"]["policy"]["Principal"], "alice");

    std::fs::write(
        project.cached(&commit).join("policies/p.json"),
        "{ \"Principal\": \"*\" }\n",
    )
    .expect("tamper");
    let ran = project.keyflow(&["run", "caller.yaml"]);
    assert_eq!(ran.code, 2, "{}", ran.stderr);
    assert!(
        ran.stderr
            .contains("no longer matches keyflow.lock: `policies/p.json` has"),
        "{}",
        ran.stderr
    );
}

#[test]
fn a_subdirectory_library_hashes_the_templates_it_uses_of_its_own() {
    // The library is the repository's `templates/` folder; `welcome` uses `./common/greet.yaml` of it.
    let repo = Repo::new();
    repo.write("README.md", "not the library\n");
    repo.write(
        "templates/welcome.yaml",
        "name: welcome\nversion: 1.0.0\nsteps:\n  - id: g\n    uses: ./common/greet.yaml\n    with: { who: team }\noutputs:\n  greeting: $.steps.g.output.greeting\n",
    );
    repo.write("templates/common/greet.yaml", &greet("0.1.0"));
    let commit = repo.publish("welcome/v1.0.0");
    let project = Project::new(&format!(
        "  lib: {{ git: \"{}\", subdirectory: templates }}\n",
        repo.url()
    ));
    project.write(
        "caller.yaml",
        "name: caller\nsteps:\n  - id: w\n    uses: lib:welcome@^1\noutputs:\n  greeting: $.steps.w.output.greeting\n",
    );
    let ran = project.keyflow(&["lock"]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    let lock = project.read("keyflow.lock");
    assert!(lock.contains("    welcome.yaml: sha256:"), "{lock}");
    assert!(lock.contains("    common/greet.yaml: sha256:"), "{lock}");
    assert!(!lock.contains("README.md"), "{lock}");
    let (code, report, ran) = project.run("caller.yaml");
    assert_eq!(code, 0, "{}", ran.stderr);
    assert_eq!(report["outputs"]["greeting"], "hello, team");

    std::fs::write(
        project.cached(&commit).join("templates/common/greet.yaml"),
        greet("0.1.0").replace("hello", "pwned"),
    )
    .expect("tamper");
    let ran = project.keyflow(&["run", "caller.yaml"]);
    assert_eq!(ran.code, 2, "{}", ran.stderr);
    assert!(
        ran.stderr.contains(
            "template `lib:welcome` 1.0.0 no longer matches keyflow.lock: `common/greet.yaml` has"
        ),
        "{}",
        ran.stderr
    );
}

#[test]
fn update_prints_interface_changes_and_stops_on_a_broken_call_site() {
    let repo = Repo::new();
    repo.write("greet.yaml", &greet("1.0.0"));
    repo.publish("greet/v1.0.0");
    let project = Project::new(&git_library("lib", &repo));
    project.write("caller.yaml", &caller("lib:greet@^1"));
    assert_eq!(project.keyflow(&["lock"]).code, 0);

    // 1.1.0: an optional param and an output more, and the effect raised to a create.
    let v11 = greet("1.1.0")
        .replace("  who:", "  punctuation: { type: string, default: \"!\" }\n  who:")
        .replace(
            "outputs:\n",
            "  - id: key\n    block: aws-kms.create-key\n    connection: aws\noutputs:\n  key: $.steps.key.output.KeyMetadata.KeyId\n",
        )
        .replace("steps:\n", "connections:\n  aws: { connector: aws-kms, region: eu-west-1 }\nsteps:\n");
    repo.write("greet.yaml", &v11);
    repo.publish("greet/v1.1.0");
    let ran = project.keyflow(&["update"]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    let out = &ran.stdout;
    assert!(out.contains("~ lib:greet@^1: 1.0.0 -> 1.1.0"), "{out}");
    assert!(
        out.contains("compatible: param `punctuation` added (optional)"),
        "{out}"
    );
    assert!(out.contains("compatible: output `key` added"), "{out}");
    assert!(
        out.contains("breaking: effect raised: read -> create"),
        "{out}"
    );

    // 1.2.0 drops the param the caller gives: the lock is not written.
    let before = project.read("keyflow.lock");
    repo.write(
        "greet.yaml",
        &greet("1.2.0")
            .replace(
                "  who: { type: string, default: world }\n",
                "  name: { type: string, default: world }\n",
            )
            .replace("params.who", "params.name"),
    );
    repo.publish("greet/v1.2.0");
    let ran = project.keyflow(&["update"]);
    assert_eq!(ran.code, 2, "{}", ran.stderr);
    assert!(
        ran.stderr.contains("caller.yaml:5:"),
        "the call site: {}",
        ran.stderr
    );
    assert!(ran.stderr.contains("`who`"), "{}", ran.stderr);
    assert!(
        ran.stderr
            .contains("note: the template `lib:greet@^1` declares its params at "),
        "the template's file and line: {}",
        ran.stderr
    );
    assert!(ran.stderr.contains("greet.yaml:3"), "{}", ran.stderr);
    assert!(
        ran.stderr.contains("keyflow.lock was not written"),
        "{}",
        ran.stderr
    );
    assert_eq!(project.read("keyflow.lock"), before);
}

#[test]
fn templates_use_templates_of_other_libraries_and_cycles_are_named() {
    let inner = Repo::new();
    inner.write("greet.yaml", &greet("1.0.0"));
    inner.publish("greet/v1.0.0");
    let outer = Repo::new();
    outer.write(
        "tenant/welcome.yaml",
        "name: welcome\nversion: 2.1.0\nparams:\n  who: { type: string }\nsteps:\n  - id: g\n    uses: inner:greet@^1\n    with: { who: $.params.who }\noutputs:\n  greeting: $.steps.g.output.greeting\n",
    );
    outer.publish("tenant/welcome/v2.1.0");
    let project = Project::new(&format!(
        "{}{}",
        git_library("outer", &outer),
        git_library("inner", &inner)
    ));
    project.write("caller.yaml", &caller("outer:tenant/welcome@^2"));
    let ran = project.keyflow(&["lock"]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert!(
        ran.stdout.contains("+ inner:greet@^1 -> 1.0.0"),
        "{}",
        ran.stdout
    );
    assert!(
        ran.stdout.contains("+ outer:tenant/welcome@^2 -> 2.1.0"),
        "{}",
        ran.stdout
    );
    let (code, report, ran) = project.run("caller.yaml");
    assert_eq!(code, 0, "{}", ran.stderr);
    assert_eq!(report["outputs"]["greeting"], "hello, team");

    // inner 1.1.0 calls outer back: a cycle across the two libraries.
    inner.write(
        "greet.yaml",
        &greet("1.1.0").replace(
            "outputs:\n",
            "  - id: back\n    uses: outer:tenant/welcome@^2\n    with: { who: x }\noutputs:\n",
        ),
    );
    inner.publish("greet/v1.1.0");
    let ran = project.keyflow(&["update"]);
    assert_eq!(ran.code, 2, "{}", ran.stderr);
    assert!(
        ran.stderr.contains("templates use each other"),
        "{}",
        ran.stderr
    );
}

#[test]
fn an_unreachable_library_is_reported_with_what_to_do() {
    let project = Project::new("  gone: { git: \"file:///nonexistent/keyflow-library.git\" }\n");
    project.write("caller.yaml", &caller("gone:greet@^1"));
    let ran = project.keyflow(&["lock"]);
    assert_eq!(ran.code, 74, "{}", ran.stderr);
    assert!(
        ran.stderr
            .contains("cannot reach library `gone` at `file:///nonexistent/keyflow-library.git`"),
        "{}",
        ran.stderr
    );
    assert!(ran.stderr.contains("git ls-remote"), "{}", ran.stderr);
    assert!(!project.path().join("keyflow.lock").exists());
}

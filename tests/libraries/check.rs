//! `keyflow template check --against REF`: a library's CI refusing an incompatible interface change
//! without a new major version.

use super::{Repo, greet, s};
use crate::harness::keyflow;

fn check(repo: &Repo, against: &str) -> crate::harness::Ran {
    keyflow()
        .args(["template", "check", "--against", against, s(repo.path())])
        .output()
        .expect("run keyflow")
        .into()
}

#[test]
fn each_kind_of_breaking_change_needs_a_major_version() {
    let repo = Repo::new();
    repo.write(
        "greet.yaml",
        &greet("1.0.0").replace(
            "outputs:\n  greeting: $.steps.say.output.greeting\n",
            "outputs:\n  greeting: $.steps.say.output.greeting\n  who: $.params.who\n",
        ),
    );
    repo.publish("greet/v1.0.0");
    let base = std::fs::read_to_string(repo.path().join("greet.yaml")).expect("read");
    let cases = [
        ("param removed", base.replace("  who: { type: string, default: world }\n", "").replace("{{params.who}}", "x").replace("  who: $.params.who\n", ""), "param `who` removed"),
        ("param retyped", base.replace("who: { type: string, default: world }", "who: { type: array, default: [] }").replace("{{params.who}}", "x"), "param `who` retyped: string -> array"),
        ("new required param", base.replace("params:\n", "params:\n  tenant: { type: string }\n"), "param `tenant` added (required)"),
        ("output removed", base.replace("  who: $.params.who\n", ""), "output `who` removed"),
        ("output retyped", base.replace("  who: $.params.who\n", "  who: [1]\n"), "output `who` retyped: string -> array"),
        (
            "effect raised",
            base.replace(
                "outputs:\n",
                "  - id: off\n    block: aws-kms.disable-key\n    connection: aws\n    confirm: true\n    with: { key_id: alias/x }\noutputs:\n",
            )
            .replace("steps:\n", "connections:\n  aws: { connector: aws-kms, region: eu-west-1 }\nsteps:\n"),
            "effect raised: read -> destructive",
        ),
    ];
    for (what, text, change) in cases {
        repo.write(
            "greet.yaml",
            &text.replace("version: 1.0.0", "version: 1.1.0"),
        );
        let ran = check(&repo, "greet/v1.0.0");
        assert_eq!(ran.code, 1, "{what}: {}{}", ran.stdout, ran.stderr);
        assert!(
            ran.stderr.contains("`greet` 1.0.0 -> 1.1.0 changes its interface incompatibly without a new major version"),
            "{what}: {}",
            ran.stderr
        );
        assert!(ran.stderr.contains(change), "{what}: {}", ran.stderr);
        repo.write(
            "greet.yaml",
            &text.replace("version: 1.0.0", "version: 2.0.0"),
        );
        let ran = check(&repo, "greet/v1.0.0");
        assert_eq!(
            ran.code, 0,
            "{what} with a major version: {}{}",
            ran.stdout, ran.stderr
        );
    }
    // A compatible change needs no major version.
    repo.write(
        "greet.yaml",
        &base.replace("version: 1.0.0", "version: 1.1.0").replace(
            "params:\n",
            "params:\n  extra: { type: string, default: x }\n",
        ),
    );
    let ran = check(&repo, "greet/v1.0.0");
    assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);
    assert!(
        ran.stdout.contains("param `extra` added (optional)"),
        "{}",
        ran.stdout
    );
    let ran = check(&repo, "no-such-ref");
    assert_eq!(ran.code, 2, "{}", ran.stderr);
    assert!(
        ran.stderr
            .contains("`no-such-ref` is not a commit, tag or branch"),
        "{}",
        ran.stderr
    );
}

//! Templates (`uses:`): a flow run as a step, once or per item, checked where it is used and where it is
//! written, with its connections replaceable per item and its runs on record.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use indexmap::IndexMap;
use keyflow_engine::diagnostic::render_all;
use keyflow_engine::exec::report::{RunReport, Status};
use keyflow_engine::exec::store::MemoryStore;
use keyflow_engine::exec::{ExecOptions, Executor};
use keyflow_engine::source::SourceFile;
use keyflow_engine::validate::check;
use tokio_util::sync::CancellationToken;

mod common;
use common::service::registry;

/// A folder of flow files for one test.
struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Dir {
        let dir =
            std::env::temp_dir().join(format!("keyflow-templates-{name}-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("templates")).expect("temp dir");
        Dir(dir)
    }

    fn write(&self, name: &str, text: &str) -> &Dir {
        std::fs::write(self.0.join(name), text).expect("write flow");
        self
    }

    fn source(&self, name: &str) -> Arc<SourceFile> {
        let path = self.0.join(name);
        let text = std::fs::read_to_string(&path).expect("read flow");
        SourceFile::new(path.display().to_string(), text)
    }

    fn errors(&self, name: &str) -> String {
        let source = self.source(name);
        match check(source.clone(), &registry(Arc::default())) {
            Ok(_) => String::new(),
            Err(diagnostics) => render_all(&diagnostics, &source, false),
        }
    }

    async fn run(&self, name: &str, built: Arc<AtomicUsize>, allow_destructive: bool) -> RunReport {
        self.run_recorded(name, built, allow_destructive, Arc::default())
            .await
    }

    async fn run_recorded(
        &self,
        name: &str,
        built: Arc<AtomicUsize>,
        allow_destructive: bool,
        store: Arc<MemoryStore>,
    ) -> RunReport {
        let source = self.source(name);
        let plan = check(source.clone(), &registry(built))
            .unwrap_or_else(|d| panic!("{}", render_all(&d, &source, false)));
        let params = plan.bind_params(&IndexMap::new()).expect("params");
        let options = ExecOptions {
            allow_destructive,
            ..ExecOptions::default()
        };
        Executor::new(options)
            .with_store(store)
            .run(Arc::new(plan), params, CancellationToken::new())
            .await
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        std::fs::remove_dir_all(&self.0).ok();
    }
}

/// Says who it talks to, through its `svc` connection.
const WHO: &str = r#"name: who
version: "1.0"
params:
  region: { type: string }
  fail: { type: boolean, default: false }
connections:
  svc: { connector: test-svc, endpoint: "https://default.example", token: { env: CARGO_PKG_NAME }, region: $.params.region }
steps:
  - id: who
    block: test-svc.whoami
  - id: maybe_fail
    block: core.shred
    confirm: true
    with: { fail: $.params.fail }
outputs:
  endpoint: $.steps.who.output.endpoint
  region: $.steps.who.output.region
"#;

#[tokio::test]
async fn a_template_runs_per_item_with_replaced_connections_and_one_client_per_distinct_settings() {
    let dir = Dir::new("items");
    dir.write("templates/who.yaml", WHO).write(
        "parent.yaml",
        r#"name: parent
steps:
  - id: tenants
    uses: ./templates/who.yaml
    for_each: [a, b, a]
    concurrency: 3
    confirm: true
    with: { region: "r-{{item}}" }
    connections:
      svc: { connector: test-svc, endpoint: "https://{{item}}.example", token: { env: CARGO_PKG_NAME } }
  - id: plain
    uses: ./templates/who.yaml
    confirm: true
    with: { region: eu }
outputs:
  endpoints: $.steps.tenants.output[*].endpoint
  plain: $.steps.plain.output.endpoint
"#,
    );
    let built = Arc::new(AtomicUsize::new(0));
    let store = Arc::new(MemoryStore::default());
    let report = dir
        .run_recorded("parent.yaml", built.clone(), true, store.clone())
        .await;
    assert_eq!(report.status, Status::Succeeded, "{report:#?}");
    // Every template run is recorded as a child of the step (and item) that ran it.
    let started = store.started.lock().expect("lock").clone();
    assert_eq!(started.len(), 5, "{started:#?}");
    assert_eq!(started[0].run_id, report.run_id);
    assert_eq!(started[0].parent, None);
    for child in &started[1..] {
        let parent = child.parent.as_ref().expect("a template run has a parent");
        assert_eq!(parent.run_id, report.run_id);
        let expected = match parent.item {
            Some(k) => format!("{}/{}/{k}", report.run_id, parent.step),
            None => format!("{}/{}", report.run_id, parent.step),
        };
        assert_eq!(child.run_id, expected);
        assert_eq!(child.flow, "who");
    }
    assert_eq!(
        report.outputs["endpoints"],
        serde_json::json!([
            "https://a.example",
            "https://b.example",
            "https://a.example"
        ])
    );
    assert_eq!(report.outputs["plain"], "https://default.example");
    // a, b and the template's own connection: the two runs for `a` share one client.
    assert_eq!(built.load(Ordering::SeqCst), 3);
    let runs = report.steps[0].runs.as_ref().expect("the template's runs");
    assert_eq!(runs.len(), 3);
    for (k, run) in runs.iter().enumerate() {
        assert_eq!(run.run_id, format!("{}/tenants/{k}", report.run_id));
        assert_eq!(run.flow, "who");
        assert_eq!(run.steps.len(), 2, "{run:#?}");
    }
    assert_eq!(
        runs[1].outputs["region"],
        serde_json::Value::Null,
        "a replaced connection has only the settings the step gives"
    );
    let plain = report.steps[1].runs.as_ref().expect("runs");
    assert_eq!(plain[0].outputs["region"], "eu", "params come from `with:`");
}

#[tokio::test]
async fn a_failing_item_names_the_template_step_and_keeps_what_ran() {
    let dir = Dir::new("fail");
    dir.write("templates/who.yaml", WHO).write(
        "parent.yaml",
        r#"name: parent
steps:
  - id: tenants
    uses: ./templates/who.yaml
    for_each: [false, true]
    concurrency: 1
    confirm: true
    with: { region: eu, fail: $.item }
"#,
    );
    let report = dir.run("parent.yaml", Arc::default(), true).await;
    assert_eq!(report.status, Status::Failed);
    let step = &report.steps[0];
    let error = step.error.as_ref().expect("error");
    assert_eq!(error.code, "Boom", "the template step's own code");
    assert!(
        error
            .message
            .contains("item 1: template `./templates/who.yaml`, step `maybe_fail`: told to fail"),
        "{}",
        error.message
    );
    let runs = step.runs.as_ref().expect("runs");
    assert_eq!(runs[0].status, Status::Succeeded);
    assert_eq!(runs[1].status, Status::Failed);
    assert_eq!(
        runs[1].steps[0].status,
        Status::Succeeded,
        "what ran before the failure is on record"
    );
}

#[tokio::test]
async fn a_destructive_template_needs_confirm_where_it_is_used_and_the_run_must_allow_it() {
    let dir = Dir::new("destructive");
    dir.write("templates/who.yaml", WHO)
        .write(
            "unconfirmed.yaml",
            "name: p\nsteps:\n  - id: t\n    uses: ./templates/who.yaml\n    with: { region: eu }\n",
        )
        .write(
            "confirmed.yaml",
            "name: p\nsteps:\n  - id: t\n    uses: ./templates/who.yaml\n    confirm: true\n    with: { region: eu }\n",
        );
    let found = dir.errors("unconfirmed.yaml");
    assert!(
        found.contains(
            "error[missing-confirm]: step `t` calls destructive block `./templates/who.yaml`"
        ),
        "{found}"
    );
    let report = dir.run("confirmed.yaml", Arc::default(), false).await;
    assert_eq!(report.status, Status::Failed);
    let error = report.steps[0].error.as_ref().expect("refusal");
    assert_eq!(error.code, "DestructiveNotAllowed");
    assert!(
        report.steps[0].runs.is_none(),
        "nothing of the template ran"
    );
}

#[test]
fn template_problems_are_reported_at_the_step_and_inside_the_template() {
    let dir = Dir::new("problems");
    dir.write("templates/who.yaml", WHO)
        .write(
            "templates/broken.yaml",
            "name: broken\nversion: 1\nsteps:\n  - id: a\n    block: core.nop\n",
        )
        .write(
            "templates/loop.yaml",
            "name: loop\nversion: 1\nsteps:\n  - id: again\n    uses: ./loop.yaml\n",
        )
        .write(
            "templates/unversioned.yaml",
            "name: u\nsteps:\n  - id: a\n    block: core.noop\n",
        )
        .write(
            "parent.yaml",
            r#"name: parent
steps:
  - id: missing
    uses: ./templates/nope.yaml
  - id: typed
    uses: ./templates/who.yaml
    confirm: true
    with: { region: 3, regoin: x }
  - id: broken
    uses: ./templates/broken.yaml
  - id: loop
    uses: ./templates/loop.yaml
  - id: unversioned
    uses: ./templates/unversioned.yaml
  - id: retried
    uses: ./templates/who.yaml
    confirm: true
    retry: { attempts: 2 }
    with: { region: eu }
    connections:
      svc: { connector: core, endpoint: x }
      other: { connector: test-svc }
  - id: reader
    block: core.shred
    confirm: true
    with: { fail: $.steps.retried.output.endpont }
"#,
        );
    let found = dir.errors("parent.yaml");
    for expected in [
        "error[invalid-uses]: cannot read template",
        "nope.yaml`: entity not found",
        "error[type-mismatch]: input `region` expects a string, found an integer",
        "has no input `regoin`",
        "error[invalid-uses]: template `",
        "broken.yaml` has 1 problem",
        // the template's own problem, with its file, line and column
        "broken.yaml:5:12",
        "unknown block `core.nop`",
        "templates use each other",
        "unversioned.yaml` has no `version`",
        "a template run is not retried as a whole",
        "error[wrong-connector]: connection `svc` is a `core` connection, but the block needs `test-svc`",
        "error[unknown-connection]: unknown connection `other`",
        "has no field `endpont`",
    ] {
        assert!(
            found.contains(expected),
            "expected `{expected}` in:\n{found}"
        );
    }
    assert!(dir.path().exists());
}

#[test]
fn a_file_that_is_not_a_flow_is_named_without_quoting_it() {
    let dir = Dir::new("not-a-flow");
    dir.write(
        "templates/passwd",
        "root:x:0:0:canary-7f3a:/root:/bin/bash\ndaemon:x:1:1:canary-7f3a:/usr/sbin:/usr/sbin/nologin\n",
    )
    .write("templates/broken.yaml", "a: [canary-7f3a\n")
    .write("templates/list.yaml", "- canary-7f3a\n")
    .write(
        "parent.yaml",
        "name: parent\nsteps:\n  - id: passwd\n    uses: ./templates/passwd\n  - id: broken\n    uses: ./templates/broken.yaml\n  - id: list\n    uses: ./templates/list.yaml\n",
    );
    let found = dir.errors("parent.yaml");
    assert!(!found.contains("canary"), "{found}");
    for expected in [
        "passwd` is not a template: it is not a flow (a mapping with `name`, `version` and `steps`)",
        "broken.yaml` is not a template: it is not valid YAML (line 1, column 1)",
        "list.yaml` is not a template: it is not a flow",
        "its contents are not shown",
    ] {
        assert!(found.contains(expected), "{expected}\n{found}");
    }
}

#[cfg(unix)]
#[test]
fn a_template_that_is_not_a_regular_file_is_refused_without_reading_it() {
    let dir = Dir::new("special");
    let fifo = dir.path().join("templates/pipe.yaml");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo");
    assert!(made.success());
    dir.write(
        "parent.yaml",
        "name: parent\nsteps:\n  - id: zero\n    uses: /dev/zero\n  - id: pipe\n    uses: ./templates/pipe.yaml\n",
    );
    let found = dir.errors("parent.yaml");
    assert!(
        found.contains("cannot read template: `/dev/zero` is a device, not a regular file"),
        "{found}"
    );
    assert!(
        found.contains("pipe.yaml` is a FIFO, not a regular file"),
        "{found}"
    );
}

/// Level `i` uses level `i + 1` ten times; the last level runs a block.
fn write_levels(dir: &Dir, levels: usize) {
    for level in 0..levels {
        let mut text = format!("name: level{level}\nversion: \"1\"\nsteps:\n");
        if level + 1 == levels {
            text += "  - id: leaf\n    block: core.noop\n";
        } else {
            for use_ in 0..10 {
                text += &format!("  - id: use{use_}\n    uses: ./level{}.yaml\n", level + 1);
            }
        }
        dir.write(&format!("templates/level{level}.yaml"), &text);
    }
}

#[test]
fn each_template_is_checked_once_however_often_it_is_used() {
    let work = |levels: usize| {
        let dir = Dir::new(&format!("levels{levels}"));
        write_levels(&dir, levels);
        let (found, units) =
            keyflow_engine::source::work::measure(|| dir.errors("templates/level0.yaml"));
        assert_eq!(found, "", "{levels} levels validate");
        units
    };
    let (four, five) = (work(4), work(5));
    // Unshared, each level would cost ten times the one below it (10,000 checks at five levels).
    assert!(
        five < 2 * four,
        "one more level adds one template's work: {four} -> {five}"
    );
}

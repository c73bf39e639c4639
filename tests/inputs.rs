//! What the command line reads: a flow from standard input, parameters from the environment and from
//! files, and files that are not what they should be (a FIFO, a device, a huge file, a folder loop).

use std::io::Write;
use std::process::Stdio;

use crate::harness::{Ran, flow_file, keyflow, path_str, run};

/// Runs `keyflow args` in `dir` with `stdin` as its standard input.
fn with_stdin(dir: &std::path::Path, args: &[&str], stdin: &str) -> Ran {
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("keyflow"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("KEYFLOW_STORE", crate::harness::tests_store())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start keyflow");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("wait").into()
}

#[test]
fn a_flow_is_read_from_standard_input_and_named_stdin() {
    let dir = tempfile::tempdir().expect("temp dir");
    let ran = with_stdin(
        dir.path(),
        &["validate", "-"],
        "name: x\nsteps:\n  - id: a\n    block: core.lgo\n",
    );
    assert_eq!(ran.code, 2);
    assert!(ran.stderr.contains("<stdin>:4:12"), "{}", ran.stderr);
    // Relative paths in it resolve against the current folder.
    std::fs::write(
        dir.path().join("greet.yaml"),
        "name: greet\nversion: 1\nparams:\n  who: { type: string }\nsteps:\n  - id: say\n    block: core.set\n    with: { line: \"hello {{params.who}}\" }\noutputs:\n  line: $.steps.say.output.line\n",
    )
    .expect("template");
    let flow = "name: x\nsteps:\n  - id: greet\n    uses: ./greet.yaml\n    with: { who: stdin }\noutputs:\n  line: $.steps.greet.output.line\n";
    let ran = with_stdin(dir.path(), &["run", "-", "-q", "--output", "json"], flow);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    let report: serde_json::Value = serde_json::from_str(&ran.stdout).expect("report");
    assert_eq!(report["outputs"]["line"], "hello stdin");
    let ran = with_stdin(dir.path(), &["plan", "-"], flow);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert!(ran.stdout.contains("(<stdin>)"), "{}", ran.stdout);
}

const WHO: &str = "name: x\nparams:\n  who: { type: string, default: flow }\nsteps:\n  - id: a\n    block: core.set\n    with: { who: $.params.who }\noutputs:\n  who: $.steps.a.output.who\n";

fn who(extra: &[&str], env: &[(&str, &str)]) -> String {
    let (_dir, flow) = flow_file(WHO);
    let ran: Ran = keyflow()
        .args(["run", path_str(&flow), "-q", "--output", "json"])
        .args(extra)
        .envs(env.iter().copied())
        .output()
        .expect("run")
        .into();
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    let report: serde_json::Value = serde_json::from_str(&ran.stdout).expect("report");
    report["outputs"]["who"].as_str().unwrap_or("").to_string()
}

#[test]
fn parameters_come_from_the_environment_with_the_lowest_precedence() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("params.yaml");
    std::fs::write(&file, "who: file\n").expect("params");
    let env = [("KEYFLOW_PARAM_who", "env"), ("KEYFLOW_PARAM_other", "x")];
    assert_eq!(who(&[], &[]), "flow");
    // A variable for a parameter the flow does not declare is left alone.
    assert_eq!(who(&[], &env), "env");
    assert_eq!(who(&["--params-file", path_str(&file)], &env), "file");
    assert_eq!(
        who(
            &["--params-file", path_str(&file), "--param", "who=cli"],
            &env
        ),
        "cli"
    );
}

#[test]
fn a_parameter_value_is_read_from_a_file_with_at() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("who.txt");
    std::fs::write(&file, "from a file\n").expect("value");
    let at = format!("who=@{}", path_str(&file));
    assert_eq!(who(&["--param", &at], &[]), "from a file");
    let (_dir, flow) = flow_file(WHO);
    let missing = format!("who=@{}", path_str(&dir.path().join("nope.txt")));
    let ran = run(&["run", path_str(&flow), "--param", &missing]);
    assert_eq!(ran.code, 2);
    assert!(
        ran.stderr.contains("cannot read file of parameter `who`")
            && ran.stderr.contains("no such file"),
        "{}",
        ran.stderr
    );
}

#[cfg(unix)]
#[test]
fn what_is_not_a_regular_file_is_refused_without_blocking() {
    let dir = tempfile::tempdir().expect("temp dir");
    let fifo = dir.path().join("fifo.yaml");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo");
    assert!(made.success());
    let fifo = path_str(&fifo);
    let (_flow_dir, flow) = flow_file(WHO);
    for args in [
        vec!["validate", fifo],
        vec!["run", fifo],
        vec!["plan", fifo],
        vec!["run", path_str(&flow), "--params-file", fifo],
        vec!["run", path_str(&flow), "--param", "who=@/dev/zero"],
    ] {
        let ran = run(&args);
        assert_eq!(ran.code, 2, "{args:?}: {}", ran.stderr);
        assert!(
            ran.stderr.contains("not a regular file"),
            "{args:?}: {}",
            ran.stderr
        );
    }
}

#[test]
fn files_are_read_up_to_16_mib() {
    let dir = tempfile::tempdir().expect("temp dir");
    let big = dir.path().join("big.yaml");
    let file = std::fs::File::create(&big).expect("file");
    file.set_len(17 * 1024 * 1024).expect("size");
    let ran = run(&["validate", path_str(&big)]);
    assert_eq!(ran.code, 2);
    assert!(ran.stderr.contains("larger than 16 MiB"), "{}", ran.stderr);
}

#[cfg(unix)]
#[test]
fn validate_visits_each_real_folder_once_and_says_when_nothing_was_validated() {
    let dir = tempfile::tempdir().expect("temp dir");
    let flows = dir.path().join("flows");
    std::fs::create_dir_all(flows.join("sub")).expect("dirs");
    std::fs::write(
        flows.join("sub/a.yaml"),
        "name: a\nsteps:\n  - id: a\n    block: core.log\n    with: { message: hi }\n",
    )
    .expect("flow");
    // Two loops: a folder linking to its parent, and one linking to itself.
    std::os::unix::fs::symlink(&flows, flows.join("sub/up")).expect("link");
    std::os::unix::fs::symlink(flows.join("sub"), flows.join("sub/again")).expect("link");
    let ran = run(&["validate", path_str(&flows)]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert_eq!(
        ran.stdout.matches("valid (1 steps)").count(),
        1,
        "{}",
        ran.stdout
    );

    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).expect("dir");
    let ran = run(&["validate", path_str(&empty)]);
    assert_eq!(ran.code, 2);
    assert!(
        ran.stderr.contains("nothing was validated"),
        "{}",
        ran.stderr
    );
}

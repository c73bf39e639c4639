//! Every way a secret can be wired, refused or allowed, over the registry of [`blocks`].

mod blocks;

use std::path::PathBuf;

use crate::diagnostic::render_all;
use crate::source::SourceFile;
use crate::validate::check;
use blocks::registry;

/// The steps every flow below starts with: a data key `dk`, and one per item `dks`.
const KEYS: &str = "name: f\nsteps:\n  - id: dk\n    block: kms.generate\n  - id: dks\n    block: kms.generate\n    for_each: [1, 2]\n";

/// What `validate` says about a flow made of [`KEYS`] and `rest` (empty when it is valid).
fn problems(rest: &str) -> String {
    problems_in(&Folder::new(), &format!("{KEYS}{rest}"))
}

fn problems_in(folder: &Folder, flow: &str) -> String {
    let path = folder.write("flow.yaml", flow);
    let source = SourceFile::new(path.display().to_string(), flow);
    match check(source.clone(), &registry()) {
        Ok(_) => String::new(),
        Err(found) => render_all(&found, &source, false),
    }
}

/// A folder for a flow and its templates, removed at the end.
struct Folder(PathBuf);

impl Folder {
    fn new() -> Folder {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("keyflow-secrets-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        Folder(dir)
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, text).expect("write");
        path
    }
}

impl Drop for Folder {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn refused(found: &str, secret: &str, sink: &str, line_col: &str) {
    let message = format!("error[missing-reveal]: `{secret}` is secret, and {sink}");
    assert!(found.contains(&message), "no `{message}` in:\n{found}");
    assert!(
        found.contains(&format!("flow.yaml:{line_col}")),
        "not at {line_col}:\n{found}"
    );
}

#[test]
fn a_secret_output_into_a_log_message_is_refused_at_the_reference() {
    let found = problems(
        "  - id: log\n    block: core.log\n    with: { message: $.steps.dk.output.Plaintext }\n",
    );
    refused(
        &found,
        "steps.dk.output.Plaintext",
        "input `message` of `core.log` does not take secrets",
        "10:22",
    );
    assert!(
        found.contains("add `reveal: true` to step `log`"),
        "{found}"
    );
    assert!(
        found.contains("1 problem") || found.matches("error[").count() == 1,
        "{found}"
    );
    // A field beside the secret is not secret.
    let fine = "  - id: log\n    block: core.log\n    with: { message: $.steps.dk.output.KeyId }\n";
    assert_eq!(problems(fine), "");
}

#[test]
fn a_template_string_reading_a_secret_is_refused_at_the_path() {
    let found = problems(
        "  - id: log\n    block: core.log\n    with:\n      message: \"key {{steps.dk.output.KeyId}} is {{steps.dk.output.Plaintext}}\"\n",
    );
    // The caret is under the path that reads the secret, not the one beside it.
    refused(
        &found,
        "steps.dk.output.Plaintext",
        "input `message` of `core.log` does not take secrets",
        "11:52",
    );
    let whole = problems(
        "  - id: log\n    block: core.log\n    with:\n      message: \"{{#each steps.dk.output}}{{this}}{{/each}}\"\n",
    );
    refused(
        &whole,
        "steps.dk.output.Plaintext",
        "input `message` of `core.log` does not take secrets",
        "11:",
    );
    let every = problems(
        "  - id: log\n    block: core.log\n    after: dk\n    with:\n      message: \"{{#each steps}}{{this.output}}{{/each}}\"\n",
    );
    assert!(every.contains("error[missing-reveal]"), "{every}");
}

#[test]
fn secrets_nested_in_objects_and_lists_are_found() {
    let found = problems(
        "  - id: enc\n    block: kms.encrypt\n    with:\n      plaintext: aGk=\n      tags: { owner: ops, copy: [$.steps.dk.output] }\n",
    );
    refused(
        &found,
        "steps.dk.output.Plaintext",
        "input `tags` of `kms.encrypt` does not take secrets",
        "12:",
    );
}

#[test]
fn secrets_pass_through_core_set_and_are_refused_where_they_leave() {
    let found = problems(
        "  - id: shaped\n    block: core.set\n    with: { key: { material: $.steps.dk.output.Plaintext }, id: $.steps.dk.output.KeyId }\n  - id: log\n    block: core.log\n    with: { message: $.steps.shaped.output.key.material }\n",
    );
    refused(
        &found,
        "steps.dk.output.Plaintext",
        "input `message` of `core.log` does not take secrets",
        "13:22",
    );
    let fine = "  - id: shaped\n    block: core.set\n    with: { key: $.steps.dk.output.Plaintext, id: $.steps.dk.output.KeyId }\n  - id: log\n    block: core.log\n    with: { message: $.steps.shaped.output.id }\n";
    assert_eq!(problems(fine), "");
}

#[test]
fn a_for_each_item_carries_the_secrets_of_what_it_iterates() {
    let found = problems(
        "  - id: log\n    block: core.log\n    for_each: $.steps.dks.output\n    with: { message: $.item.Plaintext }\n",
    );
    refused(
        &found,
        "steps.dks.output[*].Plaintext",
        "input `message` of `core.log` does not take secrets",
        "11:22",
    );
    let fine = "  - id: log\n    block: core.log\n    for_each: $.steps.dks.output\n    with: { message: $.item.KeyId }\n  - id: blobs\n    block: core.log\n    for_each: $.steps.dks.output[*].CiphertextBlob\n    with: { message: $.item }\n";
    assert_eq!(problems(fine), "");
    let indexed = problems(
        "  - id: log\n    block: core.log\n    with: { message: \"{{steps.dks.output.0.Plaintext}}\" }\n",
    );
    assert!(indexed.contains("error[missing-reveal]"), "{indexed}");
}

#[test]
fn an_input_that_takes_secrets_and_reveal_true_allow_them() {
    let encrypt = "  - id: enc\n    block: kms.encrypt\n    with: { plaintext: $.steps.dk.output.Plaintext }\n";
    assert_eq!(problems(encrypt), "");
    let revealed = "  - id: log\n    block: core.log\n    reveal: true\n    with: { message: \"{{steps.dk.output.Plaintext}}\" }\n";
    assert_eq!(problems(revealed), "");
}

#[test]
fn a_flow_output_reports_a_secret_only_when_marked_reveal() {
    let found =
        problems("outputs:\n  key: $.steps.dk.output.Plaintext\n  id: $.steps.dk.output.KeyId\n");
    refused(
        &found,
        "steps.dk.output.Plaintext",
        "flow output `key` would report it",
        "9:8",
    );
    assert!(
        found.contains(
            "write the output `key: { value: $.steps.dk.output.Plaintext, reveal: true }`"
        ),
        "{found}"
    );
    let marked = "outputs:\n  key: { value: $.steps.dk.output.Plaintext, reveal: true }\n";
    assert_eq!(problems(marked), "");
    let not_marked =
        problems("outputs:\n  key: { value: $.steps.dk.output.Plaintext, reveal: false }\n");
    refused(
        &not_marked,
        "steps.dk.output.Plaintext",
        "flow output `key` would report it",
        "9:17",
    );
    // The marked form's value is checked where it is written.
    let typo = problems("outputs:\n  key: { value: $.steps.dk.output.Plaintxt, reveal: true }\n");
    assert!(
        typo.contains("error[unknown-output-field]") && typo.contains("flow.yaml:9:35"),
        "{typo}"
    );
}

/// A template whose param `data` goes to `sink` and whose outputs are `outputs`.
fn template(sink: &str, outputs: &str) -> String {
    format!(
        "name: t\nversion: \"1.0\"\nparams:\n  data: {{ type: string }}\nsteps:\n  - id: dk\n    block: kms.generate\n  - id: use\n{sink}outputs:\n{outputs}"
    )
}

const INTO_LOG: &str = "    block: core.log\n    with: { message: \"got {{params.data}}\" }\n";
const INTO_ENCRYPT: &str = "    block: kms.encrypt\n    with: { plaintext: $.params.data }\n";

#[test]
fn a_template_param_takes_a_secret_only_when_the_template_keeps_it_secret() {
    let folder = Folder::new();
    folder.write("logs.yaml", &template(INTO_LOG, "  echo: $.params.data\n"));
    folder.write(
        "seals.yaml",
        &template(INTO_ENCRYPT, "  echo: $.params.data\n"),
    );
    let call = |uses: &str, data: &str| {
        format!("{KEYS}  - id: t\n    uses: ./{uses}\n    with: {{ data: {data} }}\n")
    };
    let found = problems_in(&folder, &call("logs.yaml", "$.steps.dk.output.Plaintext"));
    refused(
        &found,
        "steps.dk.output.Plaintext",
        "param `data` of template `./logs.yaml` does not take secrets",
        "10:19",
    );
    assert!(
        found.contains(
            "the template `./logs.yaml` sends its param `data` to input `message` of `core.log` at"
        ) && found.contains("logs.yaml:10:29"),
        "{found}"
    );
    assert_eq!(
        problems_in(&folder, &call("seals.yaml", "$.steps.dk.output.Plaintext")),
        ""
    );
    // What the template passes on of the secret is secret in the caller.
    let echoed = format!(
        "{}  - id: log\n    block: core.log\n    with: {{ message: $.steps.t.output.echo }}\n",
        call("seals.yaml", "$.steps.dk.output.Plaintext")
    );
    refused(
        &problems_in(&folder, &echoed),
        "steps.dk.output.Plaintext",
        "input `message` of `core.log` does not take secrets",
        "13:22",
    );
    let plain = format!(
        "{}  - id: log\n    block: core.log\n    with: {{ message: $.steps.t.output.echo }}\n",
        call("seals.yaml", "$.steps.dk.output.KeyId")
    );
    assert_eq!(problems_in(&folder, &plain), "");
    // `reveal: true` on the calling step lifts it.
    let revealed = format!(
        "{KEYS}  - id: t\n    uses: ./logs.yaml\n    reveal: true\n    with: {{ data: $.steps.dk.output.Plaintext }}\n"
    );
    assert_eq!(problems_in(&folder, &revealed), "");
}

#[test]
fn a_template_output_carrying_its_own_secret_is_secret_in_the_caller() {
    let folder = Folder::new();
    let unmarked = template(INTO_ENCRYPT, "  key: $.steps.dk.output.Plaintext\n");
    folder.write("unmarked.yaml", &unmarked);
    // The template itself must mark the output.
    let found = problems_in(
        &folder,
        &format!("{KEYS}  - id: t\n    uses: ./unmarked.yaml\n    with: {{ data: x }}\n"),
    );
    assert!(
        found.contains("template `") && found.contains("flow output `key` would report it"),
        "{found}"
    );
    let marked = template(
        INTO_ENCRYPT,
        "  key: { value: $.steps.dk.output.Plaintext, reveal: true }\n  id: $.steps.dk.output.KeyId\n",
    );
    folder.write("marked.yaml", &marked);
    let caller = |read: &str| {
        format!(
            "{KEYS}  - id: t\n    uses: ./marked.yaml\n    with: {{ data: x }}\n  - id: log\n    block: core.log\n    with: {{ message: $.steps.t.output.{read} }}\n"
        )
    };
    refused(
        &problems_in(&folder, &caller("key")),
        "steps.t.output.key",
        "input `message` of `core.log` does not take secrets",
        "13:22",
    );
    assert_eq!(problems_in(&folder, &caller("id")), "");
}

#[test]
fn the_template_plan_declares_its_secret_outputs_and_clear_params() {
    let folder = Folder::new();
    folder.write(
        "t.yaml",
        &template(
            INTO_LOG,
            "  key: { value: $.steps.dk.output, reveal: true }\n",
        ),
    );
    let flow = format!("{KEYS}  - id: t\n    uses: ./t.yaml\n    with: {{ data: x }}\n");
    let path = folder.write("flow.yaml", &flow);
    let plan = check(
        SourceFile::new(path.display().to_string(), flow),
        &registry(),
    )
    .unwrap_or_else(|found| panic!("{found:?}"));
    let template = plan.steps[2].call.template().expect("template");
    assert_eq!(template.spec.secret_outputs, ["key.Plaintext"]);
    assert!(template.plan.secrets.clear.contains_key("data"));
}

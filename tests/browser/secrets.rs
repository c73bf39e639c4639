//! Secrets on the run page: a data key's plaintext, and a plaintext the test chose and sent through the
//! KMS twin, read `<redacted>` wherever the page shows them, and the page holds neither in any form.

use serde_json::{Value, json};

use super::driver::Ui;
use super::{details, run_id};
use crate::harness::step;

/// The secret the flow encrypts, and the same in base64 as KMS takes and gives it.
const CHOSEN: &str = "browser-test-secret-7f3a9c";
const CHOSEN_BASE64: &str = "YnJvd3Nlci10ZXN0LXNlY3JldC03ZjNhOWM=";

const SECRETS: &str = "name: secrets\nconnections:\n  aws: { connector: aws-kms, region: eu-west-1 }\nsteps:\n  - id: key\n    block: aws-kms.create-key\n    with: { description: browser test }\n  - id: data\n    block: aws-kms.generate-data-key\n    with: { key_id: $.steps.key.output.KeyMetadata.KeyId, key_spec: AES_256 }\n  - id: wrap\n    block: aws-kms.encrypt\n    with: { key_id: $.steps.key.output.KeyMetadata.KeyId, plaintext: CHOSEN }\n  - id: unwrap\n    block: aws-kms.decrypt\n    with: { ciphertext_blob: $.steps.wrap.output.CiphertextBlob }\n";

/// Every value under a key named `Plaintext` or `plaintext`, anywhere in `value`.
fn plaintexts(value: &Value, found: &mut Vec<Value>) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                if key.eq_ignore_ascii_case("plaintext") {
                    found.push(inner.clone());
                }
                plaintexts(inner, found);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| plaintexts(v, found)),
        _ => {}
    }
}

#[test]
fn a_data_key_and_a_chosen_secret_are_masked_on_the_run_page() {
    let flow = SECRETS.replace("CHOSEN", CHOSEN_BASE64);
    let Some(ui) = Ui::start("secret_masked", &[("secrets.yaml", &flow)], None) else {
        return;
    };
    ui.open("/ui/flows/secrets");
    ui.wait_for("form#start-run button#start");
    ui.click("form#start-run button#start");
    let path = ui.wait_for_path("the run's page", |path| path.starts_with("/ui/runs/"));
    let id = run_id(&path);
    ui.wait_for("#run-status[data-status=\"succeeded\"]");
    ui.wait_until(
        "every step succeeded",
        "Array.from(document.querySelectorAll('details.step')).every(d => d.getAttribute('data-status') === 'succeeded')",
    );
    // What the page shows: the server's render after a reload, not only what live updates wrote.
    ui.open(&path);
    ui.wait_for("#run-status[data-status=\"succeeded\"]");

    let run = ui.api.get(&format!("/api/v1/runs/{id}")).body;
    ui.click(&format!("{} > summary", details("data")));
    let shown = ui.text(&format!("{} pre.output", details("data")));
    let output: Value = serde_json::from_str(&shown)
        .unwrap_or_else(|e| ui.fail(&format!("the data key's output is not JSON ({e}): {shown}")));
    assert_eq!(output["Plaintext"], "<redacted>", "{shown}");
    assert!(
        output["CiphertextBlob"]
            .as_str()
            .is_some_and(|blob| blob.len() > 40),
        "the ciphertext is shown: {shown}"
    );
    assert_eq!(output, step(&run, "data")["output"], "as the API gives it");
    ui.screenshot("run-secret");

    // Every plaintext in every input and output shown is the marker.
    let texts = ui.js(
        "return Array.from(document.querySelectorAll('pre.input, pre.output, pre.error'), p => p.textContent);",
        &[],
    );
    let mut found = Vec::new();
    for text in texts.as_array().into_iter().flatten() {
        let text = text.as_str().unwrap_or_default();
        let value: Value = serde_json::from_str(text)
            .unwrap_or_else(|e| ui.fail(&format!("a step's JSON does not parse ({e}): {text}")));
        plaintexts(&value, &mut found);
    }
    // The data key's and the decrypted plaintext (outputs), and the one encrypted (a secret input).
    assert!(found.len() >= 3, "{found:?}");
    assert!(
        found.iter().all(|v| v == &json!("<redacted>")),
        "a plaintext shown: {found:?}"
    );
    let source = ui.source();
    for secret in [CHOSEN, CHOSEN_BASE64] {
        assert!(
            !source.contains(secret),
            "the page holds the secret {secret}"
        );
    }
}

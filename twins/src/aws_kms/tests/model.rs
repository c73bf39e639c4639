//! The committed KMS API model: it reads, its patterns compile, it covers every operation the twin
//! serves, and it is what `scripts/kms-model` makes of the botocore in `.venv`.

use std::path::Path;
use std::process::Command;

use keyflow_blocks::aws_kms::operation::Operation;

use super::super::model::{self, Kind, TEXT};

#[test]
fn the_model_reads_and_covers_every_operation_the_twin_serves() {
    let model = model::model().unwrap();
    for operation in Operation::ALL {
        let input = &model.operations[operation.name()];
        assert_eq!(model.shapes[input].kind, Kind::Structure, "{input}");
    }
    let alias = &model.shapes["AliasNameType"];
    assert_eq!((alias.min, alias.max), (Some(1), Some(256)));
    assert!(model.patterns["^[a-zA-Z0-9:/_-]+$"].is_match("alias/x"));
    // Java's full-match semantics and ASCII classes.
    let policy = &model.patterns[r"[\u0009\u000A\u000D\u0020-\u00FF]+"];
    assert!(policy.is_match("{\"Sid\": \"é\"}\n"));
    assert!(!policy.is_match("{\"Sid\": \"日本\"}"));
    assert!(!model.patterns[r"[\w]+"].is_match("défault"));
}

#[test]
fn the_committed_model_is_what_the_script_makes_of_botocore() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let has_botocore = std::fs::read_dir(root.join(".venv/lib"))
        .into_iter()
        .flatten()
        .flatten()
        .any(|python| {
            python
                .path()
                .join("site-packages/botocore/data/kms")
                .is_dir()
        });
    if !has_botocore {
        assert!(
            std::env::var("CI").is_err(),
            "no botocore in .venv under CI: run scripts/moto start (or ./scripts/test) first"
        );
        println!("KMS model check skipped: no botocore in .venv (scripts/moto start installs it)");
        return;
    }
    let made = Command::new("python3")
        .arg(root.join("scripts/kms-model"))
        .arg("--stdout")
        .output()
        .unwrap();
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    assert!(
        String::from_utf8_lossy(&made.stdout) == TEXT,
        "twins/src/aws_kms/model.json is not what scripts/kms-model makes of .venv's botocore: run \
         scripts/kms-model and commit the result"
    );
    assert!(TEXT.contains("\"source\": \"botocore "), "{}", &TEXT[..200]);
}

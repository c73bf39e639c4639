//! Secrets never reach the run store: a recognisable canary goes through runs as a connection secret
//! (`{ env }`) and as a block's secret output copied by later steps, and neither it nor its base64 is
//! anywhere in the SQLite file or in the PostgreSQL rows.

use std::path::Path;

use base64::Engine as _;
use sqlx::{Connection as _, Row as _};

use crate::harness::{Ran, keyflow, path_str, run_file};
use crate::qlik_cloud::{TENANT, config, twin};
use crate::runs::Scratch;

const CANARY: &str = "kf-canary-Zq7vW3xR9s";

/// Seals the canary in the sandbox's KMS (state in `state`), recording nowhere that is searched.
fn seal(scratch: &Scratch, state: &Path) -> String {
    let flow = scratch.flow(
        "seal.yaml",
        "name: seal\nparams:\n  plaintext: { type: string }\nconnections:\n  aws: { connector: aws-kms, region: eu-west-1 }\nsteps:\n  - id: key\n    block: aws-kms.create-key\n  - id: seal\n    block: aws-kms.encrypt\n    with: { key_id: $.steps.key.output.KeyMetadata.KeyId, plaintext: $.params.plaintext }\noutputs:\n  blob: $.steps.seal.output.CiphertextBlob\n",
    );
    let elsewhere = scratch.dir.path().join("not-searched.db");
    let plaintext = format!(
        "plaintext={}",
        base64::engine::general_purpose::STANDARD.encode(CANARY)
    );
    let (code, report, ran) = run_file(
        keyflow(),
        path_str(&flow),
        &[
            "--sandbox",
            "--state",
            path_str(state),
            "-p",
            &plaintext,
            "--store",
            path_str(&elsewhere),
        ],
    );
    assert_eq!(code, 0, "{}", ran.stderr);
    report["outputs"]["blob"]
        .as_str()
        .expect("blob")
        .to_string()
}

/// Runs that learn the canary, recorded into `store`: a decrypt whose secret output later steps copy
/// and template, and a Qlik connection whose API key is the canary.
fn runs_with_the_canary(scratch: &Scratch, store: &str) {
    let state = scratch.dir.path().join("sandbox.json");
    let blob = seal(scratch, &state);
    let unseal = scratch.flow(
        "unseal.yaml",
        "name: unseal\nparams:\n  blob: { type: string }\nconnections:\n  aws: { connector: aws-kms, region: eu-west-1 }\nsteps:\n  - id: open\n    block: aws-kms.decrypt\n    with: { ciphertext_blob: $.params.blob }\n  - id: copy\n    block: core.set\n    with: { copied: $.steps.open.output.Plaintext, derived: \"x-{{steps.open.output.Plaintext}}\" }\n  - id: say\n    block: core.log\n    reveal: true\n    with: { message: \"got {{steps.copy.output.derived}}\" }\noutputs:\n  copied: { value: $.steps.copy.output.copied, reveal: true }\n",
    );
    let param = format!("blob={blob}");
    let (code, report, ran) = run_file(
        keyflow(),
        path_str(&unseal),
        &[
            "--sandbox",
            "--state",
            path_str(&state),
            "-p",
            &param,
            "--store",
            store,
        ],
    );
    assert_eq!(code, 0, "{}", ran.stderr);
    assert_eq!(report["outputs"]["copied"], "<redacted>");

    let mut seeded = config();
    seeded.api_keys = vec![(CANARY.into(), TENANT.into())];
    let twin = twin(seeded);
    let qlik = scratch.flow(
        "qlik.yaml",
        "name: qlik\nconnections:\n  qlik: { connector: qlik-cloud, tenant_url: { env: QLIK_TENANT_URL }, api_key: { env: QLIK_API_KEY } }\nsteps:\n  - id: providers\n    block: qlik-cloud.list-key-providers\n  - id: missing\n    block: qlik-cloud.get-key-provider\n    on_error: continue\n    with: { fingerprint: no-such-fingerprint }\n",
    );
    let ran: Ran = twin
        .command(&[("QLIK_API_KEY", CANARY)])
        .args(["run", path_str(&qlik), "-q", "--store", store])
        .output()
        .expect("run keyflow")
        .into();
    assert_eq!(ran.code, 0, "{}", ran.stderr);
}

/// How often the canary or its base64 occurs in `haystack`.
fn hits(haystack: &[u8]) -> usize {
    let b64 = base64::engine::general_purpose::STANDARD.encode(CANARY);
    [CANARY.as_bytes(), b64.as_bytes()]
        .iter()
        .map(|needle| {
            haystack
                .windows(needle.len())
                .filter(|w| w == needle)
                .count()
        })
        .sum()
}

#[test]
fn no_secret_reaches_the_sqlite_file() {
    let scratch = Scratch::new();
    let store = scratch.store();
    runs_with_the_canary(&scratch, path_str(&store));
    let listed = scratch.list(&[]);
    assert_eq!(listed.len(), 2, "both runs are on record");
    let mut searched = 0;
    for entry in std::fs::read_dir(scratch.dir.path()).expect("folder") {
        let path = entry.expect("entry").path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if name.starts_with("runs.db") {
            let bytes = std::fs::read(&path).expect("read store file");
            assert_eq!(hits(&bytes), 0, "{name} holds the canary");
            searched += bytes.len();
        }
    }
    assert!(searched > 0);
}

#[test]
fn no_secret_reaches_the_postgres_rows() {
    let Some(url) = crate::runs_postgres::database() else {
        return;
    };
    let scratch = Scratch::new();
    runs_with_the_canary(&scratch, &url);
    let rows = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(async {
            let mut conn = sqlx::AnyConnection::connect(&url).await.expect("connect");
            let mut text = String::new();
            for table in ["runs", "steps", "attempts", "intents"] {
                let sql = format!("SELECT CAST(t AS TEXT) FROM {table} t");
                for row in sqlx::query(sqlx::AssertSqlSafe(sql))
                    .fetch_all(&mut conn)
                    .await
                    .expect("rows")
                {
                    text.push_str(&row.try_get::<String, _>(0).expect("row text"));
                    text.push('\n');
                }
            }
            text
        });
    assert!(
        rows.contains("unseal") && rows.contains("qlik"),
        "both runs are on record"
    );
    assert_eq!(hits(rows.as_bytes()), 0, "the rows hold the canary");
}

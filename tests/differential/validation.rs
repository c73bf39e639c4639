//! Requests that break the KMS API model's constraints (lengths, ranges, patterns, enums), sent through
//! aws-sdk-kms to both peers. The twin checks them from AWS's own model (`twins/src/aws_kms/validate.rs`)
//! and answers `ValidationException`, as AWS does; where moto validates the same member it must agree on
//! the code, and where it does not (it accepts the request, or answers with another code) the case is
//! recorded as a divergence, as in [`super::divergences`].

use aws_sdk_kms::Client;
use aws_sdk_kms::error::ProvideErrorMetadata;
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::{KeySpec, Tag};

use super::divergences::{record, sdk};
use super::{Peers, Side, peers};

/// The cases, by name: each makes one request (with a key made on that side) and gives the error code, or
/// `accepted` when the peer took the request.
const CASES: [&str; 6] = [
    "CreateAlias with a 257-character alias name",
    "CreateAlias with an alias name outside its pattern",
    "ScheduleKeyDeletion with a 400-day window",
    "CreateKey with a KeySpec that is not one of the enum's",
    "TagResource with a 129-character tag key",
    "Encrypt with an empty plaintext",
];

/// Cases where moto 5.2.5 does not validate as AWS does and accepts the request (recorded, not held to
/// the twin's code): it checks an alias name's pattern but not its length, and neither the deletion
/// window's upper bound nor a tag key's length.
const MOTO_DIVERGES: [&str; 3] = [CASES[0], CASES[2], CASES[4]];

async fn outcome(kms: &Client, id: &str, case: &str) -> String {
    let code = |e: Option<&str>| e.unwrap_or("no code").to_string();
    match case {
        c if c == CASES[0] => kms
            .create_alias()
            .alias_name(format!("alias/{}", "a".repeat(251)))
            .target_key_id(id)
            .send()
            .await
            .map_or_else(|e| code(e.code()), |_| "accepted".into()),
        c if c == CASES[1] => kms
            .create_alias()
            .alias_name("alias/not valid!")
            .target_key_id(id)
            .send()
            .await
            .map_or_else(|e| code(e.code()), |_| "accepted".into()),
        c if c == CASES[2] => kms
            .schedule_key_deletion()
            .key_id(id)
            .pending_window_in_days(400)
            .send()
            .await
            .map_or_else(|e| code(e.code()), |_| "accepted".into()),
        c if c == CASES[3] => kms
            .create_key()
            .key_spec(KeySpec::from("AES_512"))
            .send()
            .await
            .map_or_else(|e| code(e.code()), |_| "accepted".into()),
        c if c == CASES[4] => kms
            .tag_resource()
            .key_id(id)
            .tags(
                Tag::builder()
                    .tag_key("k".repeat(129))
                    .tag_value("v")
                    .build()
                    .expect("tag"),
            )
            .send()
            .await
            .map_or_else(|e| code(e.code()), |_| "accepted".into()),
        c if c == CASES[5] => kms
            .encrypt()
            .key_id(id)
            .plaintext(Blob::new(Vec::new()))
            .send()
            .await
            .map_or_else(|e| code(e.code()), |_| "accepted".into()),
        other => panic!("no case `{other}`"),
    }
}

fn outcomes(peers: &Peers, side: Side) -> Vec<String> {
    let kms = sdk(peers, side);
    peers.block_on(async {
        let key = kms.create_key().send().await.expect("CreateKey");
        let id = key.key_metadata().expect("metadata").key_id().to_string();
        let mut all = Vec::new();
        for case in CASES {
            all.push(outcome(&kms, &id, case).await);
        }
        all
    })
}

#[test]
fn requests_outside_the_api_models_constraints_are_validation_errors_on_both_peers() {
    let Some(peers) = peers() else { return };
    let twin = outcomes(&peers, Side::Twin);
    let moto = outcomes(&peers, Side::Moto);
    for ((case, twin), moto) in CASES.iter().zip(&twin).zip(&moto) {
        assert_eq!(twin, "ValidationException", "the twin, {case}");
        if MOTO_DIVERGES.contains(case) {
            record(case, "ValidationException", moto);
        } else {
            assert_eq!(moto, twin, "moto and the twin disagree: {case}");
        }
    }
}

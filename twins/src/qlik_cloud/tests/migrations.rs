//! Migrations: start, one at a time, progress over time, completion flipping the current provider, and
//! the reset to the Qlik provider.

use reqwest::StatusCode;
use serde_json::json;

use super::*;

fn timed(duration_ms: u64) -> EmulatorConfig {
    EmulatorConfig {
        migration_duration: Duration::from_millis(duration_ms),
        ..config()
    }
}

#[tokio::test]
async fn details_are_404_before_any_migration() {
    let api = Api::start(config()).await;
    for path in ["migration/actions/details", "migration/actions/details?"] {
        let details = api.get(&format!("{PROVIDERS}/{path}")).await;
        assert_error(
            &details,
            StatusCode::NOT_FOUND,
            "There is no ongoing migration for this tenant",
        );
    }
}

#[tokio::test]
async fn a_migration_runs_to_completed_and_flips_the_current_provider() {
    let api = Api::start(timed(200)).await;
    let fp = api.create(ARN, "target").await;
    let started = api
        .post_empty(&format!("{PROVIDERS}/{fp}/actions/migrate"))
        .await;
    assert_eq!(started.status, StatusCode::OK, "{}", started.text);
    let body = &started.body;
    assert_eq!(body["state"], "New");
    assert_eq!(body["tenantId"], TENANT);
    assert_eq!(body["migratingTo"], ARN);
    assert_eq!(body["migratingToFingerPrint"], fp.as_str());
    assert_eq!(body["migratingToPrefix"], format!("#BYOKv1#:{fp}"));
    assert_eq!(body["completedAt"], "0001-01-01T00:00:00Z");
    assert!(body["migratingFrom"].as_str().unwrap().starts_with("v1:"));
    assert!(uuid::Uuid::parse_str(body["migrationId"].as_str().unwrap()).is_ok());
    assert!(body.get("id").is_none() && body.get("migratingToFingerprint").is_none());

    // Still the Qlik provider while it runs.
    assert_eq!(api.provider(TENANT).await["current"], true);
    let seen = api.until_completed().await;
    let progress: Vec<u64> = seen
        .iter()
        .map(|d| d["progress"].as_u64().unwrap())
        .collect();
    assert!(progress.windows(2).all(|w| w[0] <= w[1]), "{progress:?}");
    assert!(seen.iter().any(|d| d["state"] == "InProgress"), "{seen:?}");
    let last = seen.last().unwrap();
    assert_eq!(last["progress"], 100);
    assert_eq!(last["migrationId"], body["migrationId"]);
    let completed_at = last["completedAt"].as_str().unwrap();
    assert_ne!(completed_at, "0001-01-01T00:00:00Z");

    let target = api.provider(&fp).await;
    let qlik = api.provider(TENANT).await;
    assert_eq!(target["current"], true);
    assert!(qlik.get("current").is_none());
    let promoted = target["promotedToCurrentAt"].as_str().unwrap();
    assert_ne!(promoted, "0001-01-01T00:00:00Z");
    assert_eq!(qlik["demotedFromCurrentAt"], promoted);
    assert!(
        completed_at.starts_with(promoted.trim_end_matches('Z')),
        "{completed_at} vs {promoted}"
    );
}

#[tokio::test]
async fn a_second_migration_is_428_and_a_reset_406_while_one_runs() {
    let api = Api::start(timed(60_000)).await;
    let first = api.create(ARN, "a").await;
    let second = api.create(OTHER_ARN, "b").await;
    let started = api
        .post_empty(&format!("{PROVIDERS}/{first}/actions/migrate"))
        .await;
    assert_eq!(started.status, StatusCode::OK);

    let again = api
        .post_empty(&format!("{PROVIDERS}/{second}/actions/migrate"))
        .await;
    assert_error(
        &again,
        StatusCode::PRECONDITION_REQUIRED,
        "There is already an ongoing migration for the tenant",
    );
    let reset = api
        .post_empty(&format!("{PROVIDERS}/actions/reset-to-default-provider"))
        .await;
    assert_eq!(reset.status, StatusCode::NOT_ACCEPTABLE, "{}", reset.text);
    // The target of a running migration is in use.
    let delete = api
        .call(
            reqwest::Method::DELETE,
            &format!("{PROVIDERS}/{first}"),
            None,
        )
        .await;
    assert_eq!(delete.status, StatusCode::FAILED_DEPENDENCY);
    let details = api
        .get(&format!("{PROVIDERS}/migration/actions/details"))
        .await;
    assert!(["New", "InProgress"].contains(&details.body["state"].as_str().unwrap()));
}

#[tokio::test]
async fn migrating_to_the_current_provider_is_412() {
    let api = Api::start(config()).await;
    let to_qlik = api
        .post(&format!("{PROVIDERS}/{TENANT}/actions/migrate"), json!({}))
        .await;
    assert_error(
        &to_qlik,
        StatusCode::PRECONDITION_FAILED,
        "Failed to initiate migration",
    );
}

#[tokio::test]
async fn reset_is_200_on_qlik_and_205_with_the_migration_otherwise() {
    let api = Api::start(timed(0)).await;
    let idle = api
        .post_empty(&format!("{PROVIDERS}/actions/reset-to-default-provider"))
        .await;
    assert_eq!(idle.status, StatusCode::OK);
    assert_eq!(
        idle.body,
        json!({"message": "Tenant is already using Qlik KMS, no migration is required."})
    );

    let fp = api.create(ARN, "cmk").await;
    api.post_empty(&format!("{PROVIDERS}/{fp}/actions/migrate"))
        .await;
    assert_eq!(api.provider(&fp).await["current"], true);

    let reset = api
        .post_empty(&format!("{PROVIDERS}/actions/reset-to-default-provider"))
        .await;
    assert_eq!(reset.status, StatusCode::RESET_CONTENT);
    assert_eq!(reset.body["migratingTo"], "#QLIK_MANAGED_KEY_PROVIDER#");
    assert_eq!(reset.body["migratingToFingerPrint"], TENANT);
    assert_eq!(reset.body["migratingFrom"], ARN);

    let details = api
        .get(&format!("{PROVIDERS}/migration/actions/details"))
        .await;
    assert_eq!(details.body["migrationId"], reset.body["migrationId"]);
    assert_eq!(details.body["state"], "Completed");
    assert_eq!(api.provider(TENANT).await["current"], true);
    let cmk = api.provider(&fp).await;
    assert!(cmk.get("current").is_none());
    assert_ne!(cmk["demotedFromCurrentAt"], "0001-01-01T00:00:00Z");
    // Now inactive, it can go.
    let deleted = api
        .call(reqwest::Method::DELETE, &format!("{PROVIDERS}/{fp}"), None)
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
}

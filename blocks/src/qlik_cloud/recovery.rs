//! Settling a call whose answer was lost (a retry after a timeout or a dropped connection, `keyflow
//! resume`): what the Qlik blocks that create or destroy read before they act again or when Qlik answers
//! "already", so that a lost call is never done twice. Each block's `recovery:` says which it uses.

use keyflow_engine::block::{BlockContext, BlockError};
use reqwest::Method;

use super::client;
use super::client::Outcome;
use super::shapes::{KeyProvider, MigrationInformation, decode, decode_list};

/// What a migration back to Qlik's own key provider names as its target.
pub const QLIK_PROVIDER: &str = "#QLIK_MANAGED_KEY_PROVIDER#";

/// The tenant's AWS key provider registered for `arn`, if there is one.
pub async fn provider_with_arn(
    ctx: &BlockContext,
    arn: &str,
) -> Result<Option<KeyProvider>, BlockError> {
    let answer = client(ctx)?
        .call(
            "List Key Providers",
            Method::GET,
            "/api/v1/encryption/keyproviders",
            None,
        )
        .await?;
    let providers: Vec<KeyProvider> = decode_list("List Key Providers", answer.body)?;
    Ok(providers.into_iter().find(|p| p.arn == arn))
}

/// The tenant's ongoing or last migration; `None` when it never migrated (Qlik's 404).
pub async fn last_migration(
    ctx: &BlockContext,
) -> Result<Option<MigrationInformation>, BlockError> {
    let outcome = client(ctx)?
        .attempt(
            "Get Migration Details",
            Method::GET,
            "/api/v1/encryption/keyproviders/migration/actions/details",
            None,
        )
        .await?;
    match outcome {
        Outcome::Done(answer) => Ok(Some(decode("Get Migration Details", answer.body)?)),
        Outcome::Refused { status: 404, .. } => Ok(None),
        Outcome::Refused { error, .. } => Err(error),
    }
}

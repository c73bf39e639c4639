//! The one route of the AWS JSON 1.1 protocol: `POST /` with `X-Amz-Target: TrentService.<Operation>`.
//! Every request is authenticated, counted against its quotas, then served atomically under one lock;
//! every answer carries an `x-amzn-RequestId`.
//!
//! Nothing is copied per request, so a request costs the same however many keys the twin holds: reads
//! see the state as it is, and a write handler checks everything before it changes anything (so a
//! refused request changes nothing), then changes only what it must.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio::sync::Notify;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::call::Call;
use keyflow_blocks::aws_kms::operation::{Operation, Quota};

use super::quotas::Buckets;
use super::state::KmsState;
use super::wire::{KmsError, KmsStats};
use super::{
    KmsTwinConfig, Principal, aliases, auth, crypto, keys, lifecycle, replicas, rules, settings,
    tags,
};
use crate::sync::lock;

/// An operation's handler.
type Handler = fn(&mut Call, &Value) -> Result<Value, KmsError>;

/// Whether an operation changes the state.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Effect {
    Reads,
    Writes,
}

use Effect::{Reads, Writes};

/// The operations the twin serves, by name.
const OPERATIONS: &[(Operation, Effect, Handler)] = &[
    (Operation::CreateKey, Writes, keys::create_key),
    (Operation::DescribeKey, Reads, keys::describe_key),
    (Operation::ListKeys, Reads, keys::list_keys),
    (Operation::EnableKey, Writes, lifecycle::enable_key),
    (Operation::DisableKey, Writes, lifecycle::disable_key),
    (
        Operation::ScheduleKeyDeletion,
        Writes,
        lifecycle::schedule_key_deletion,
    ),
    (
        Operation::CancelKeyDeletion,
        Writes,
        lifecycle::cancel_key_deletion,
    ),
    (Operation::PutKeyPolicy, Writes, settings::put_key_policy),
    (Operation::GetKeyPolicy, Reads, settings::get_key_policy),
    (
        Operation::UpdateKeyDescription,
        Writes,
        settings::update_key_description,
    ),
    (
        Operation::EnableKeyRotation,
        Writes,
        settings::enable_key_rotation,
    ),
    (
        Operation::DisableKeyRotation,
        Writes,
        settings::disable_key_rotation,
    ),
    (
        Operation::GetKeyRotationStatus,
        Reads,
        settings::get_key_rotation_status,
    ),
    (Operation::CreateAlias, Writes, aliases::create_alias),
    (Operation::UpdateAlias, Writes, aliases::update_alias),
    (Operation::DeleteAlias, Writes, aliases::delete_alias),
    (Operation::ListAliases, Reads, aliases::list_aliases),
    (Operation::TagResource, Writes, tags::tag_resource),
    (Operation::UntagResource, Writes, tags::untag_resource),
    (Operation::ListResourceTags, Reads, tags::list_resource_tags),
    (Operation::Encrypt, Reads, crypto::encrypt),
    (Operation::Decrypt, Reads, crypto::decrypt),
    (Operation::GenerateDataKey, Reads, crypto::generate_data_key),
    (Operation::ReplicateKey, Writes, replicas::replicate_key),
];

/// The state and when it next needs settling.
struct Held {
    state: KmsState,
    /// Before this time (epoch seconds) settling changes nothing: no deletion date has passed.
    settle_at: f64,
}

/// The whole twin, shared by the requests.
pub struct Twin {
    account: String,
    principals: Vec<Principal>,
    held: Mutex<Held>,
    buckets: Mutex<Buckets>,
    stats: Mutex<KmsStats>,
    changes: Option<Arc<Notify>>,
}

impl Twin {
    /// A twin from its config, starting from the config's state or empty.
    pub fn new(config: KmsTwinConfig) -> Twin {
        Twin {
            buckets: Mutex::new(Buckets::new(&config.quotas)),
            account: config.account_id,
            principals: config.principals,
            held: Mutex::new(Held {
                state: config.state.unwrap_or_default(),
                settle_at: f64::NEG_INFINITY,
            }),
            stats: Mutex::new(KmsStats::default()),
            changes: config.changes,
        }
    }

    /// The counters so far.
    pub fn stats(&self) -> KmsStats {
        lock(&self.stats).clone()
    }

    /// The state now.
    pub fn snapshot(&self) -> KmsState {
        let mut held = lock(&self.held);
        held.settle(rules::now());
        held.state.clone()
    }

    /// Serves one request.
    fn serve(
        &self,
        method: &Method,
        uri: &Uri,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<Value, KmsError> {
        lock(&self.stats).requests += 1;
        let target = headers
            .get("x-amz-target")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let name = target.strip_prefix("TrentService.").unwrap_or_default();
        let (op, effect, operation) = OPERATIONS
            .iter()
            .find(|(op, _, _)| op.name() == name)
            .filter(|_| method == Method::POST)
            .map(|(op, effect, handler)| (*op, *effect, *handler))
            .ok_or_else(|| {
                KmsError::new(
                    "UnknownOperationException",
                    format!(
                        "`{target}` is not an operation of the KMS twin: POST / with X-Amz-Target \
                         TrentService.<Operation>"
                    ),
                )
            })?;
        lock(&self.stats)
            .operations
            .entry(name.to_string())
            .or_default()
            .requests += 1;
        let caller = auth::caller(&self.principals, method, uri, headers, body)?;
        let body: Value = if body.is_empty() {
            Value::Object(Default::default())
        } else {
            serde_json::from_slice(body).map_err(|e| {
                KmsError::new(
                    "SerializationException",
                    format!("the request body is not JSON: {e}"),
                )
            })?
        };
        super::validate::request(name, &body)?;
        let replica_region = match op {
            Operation::ReplicateKey => Some(replicas::replica_region(&body)?),
            _ => None,
        };
        let mut wanted = vec![(op.quota(), caller.region.as_str())];
        if let Some(region) = &replica_region {
            wanted.push((Quota::ReplicaCreateKey, region.as_str()));
        }
        if !lock(&self.buckets).admit(&wanted, Instant::now()) {
            let mut stats = lock(&self.stats);
            stats.throttled += 1;
            stats
                .operations
                .entry(name.to_string())
                .or_default()
                .throttled += 1;
            return Err(KmsError::new("ThrottlingException", "Rate exceeded"));
        }
        let mut held = lock(&self.held);
        let now = rules::now();
        held.settle(now);
        let mut call = Call {
            state: &mut held.state,
            caller: &caller,
            account: &self.account,
            now,
        };
        let answer = operation(&mut call, &body)?;
        if effect == Writes {
            // A deletion just scheduled may be due before the time settling was next needed.
            held.settle_at = f64::NEG_INFINITY;
            if let Some(changes) = &self.changes {
                changes.notify_one();
            }
        }
        Ok(answer)
    }
}

impl Held {
    /// Settles the state at `now` when a deletion may have come due.
    fn settle(&mut self, now: f64) {
        if now >= self.settle_at {
            self.settle_at = self.state.settle(now);
        }
    }
}

/// The twin's router.
pub fn router(twin: Arc<Twin>) -> Router {
    Router::new().fallback(handle).with_state(twin)
}

async fn handle(
    State(twin): State<Arc<Twin>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (status, body) = match twin.serve(&method, &uri, &headers, &body) {
        Ok(answer) => (StatusCode::OK, answer),
        Err(error) => {
            if error.code == "AccessDeniedException" {
                lock(&twin.stats).access_denied += 1;
            }
            (error.status, error.body())
        }
    };
    let mut response = (status, body.to_string()).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-amz-json-1.1"),
    );
    if let Ok(id) = HeaderValue::from_str(&uuid::Uuid::now_v7().to_string()) {
        headers.insert("x-amzn-requestid", id);
    }
    response
}

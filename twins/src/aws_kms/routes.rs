//! The one route of the AWS JSON 1.1 protocol: `POST /` with `X-Amz-Target: TrentService.<Operation>`.
//! Every request is authenticated, counted against its quotas, then served atomically under one lock;
//! every answer carries an `x-amzn-RequestId`.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::call::Call;
use super::quotas::{Buckets, quota_of};
use super::state::KmsState;
use super::wire::{KmsError, KmsStats};
use super::{
    KmsTwinConfig, Principal, aliases, auth, crypto, keys, lifecycle, replicas, rules, settings,
    tags,
};

/// An operation's handler.
type Operation = fn(&mut Call, &Value) -> Result<Value, KmsError>;

/// The operations the twin serves, by name.
const OPERATIONS: &[(&str, Operation)] = &[
    ("CreateKey", keys::create_key),
    ("DescribeKey", keys::describe_key),
    ("ListKeys", keys::list_keys),
    ("EnableKey", lifecycle::enable_key),
    ("DisableKey", lifecycle::disable_key),
    ("ScheduleKeyDeletion", lifecycle::schedule_key_deletion),
    ("CancelKeyDeletion", lifecycle::cancel_key_deletion),
    ("PutKeyPolicy", settings::put_key_policy),
    ("GetKeyPolicy", settings::get_key_policy),
    ("UpdateKeyDescription", settings::update_key_description),
    ("EnableKeyRotation", settings::enable_key_rotation),
    ("DisableKeyRotation", settings::disable_key_rotation),
    ("GetKeyRotationStatus", settings::get_key_rotation_status),
    ("CreateAlias", aliases::create_alias),
    ("UpdateAlias", aliases::update_alias),
    ("DeleteAlias", aliases::delete_alias),
    ("ListAliases", aliases::list_aliases),
    ("TagResource", tags::tag_resource),
    ("UntagResource", tags::untag_resource),
    ("ListResourceTags", tags::list_resource_tags),
    ("Encrypt", crypto::encrypt),
    ("Decrypt", crypto::decrypt),
    ("GenerateDataKey", crypto::generate_data_key),
    ("ReplicateKey", replicas::replicate_key),
];

/// The whole twin, shared by the requests.
pub struct Twin {
    account: String,
    principals: Vec<Principal>,
    state: Mutex<KmsState>,
    buckets: Mutex<Buckets>,
    stats: Mutex<KmsStats>,
}

/// Locks, going on after a panic elsewhere: a request changes the state only once it has succeeded.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Twin {
    /// A twin from its config, starting from the config's state or empty.
    pub fn new(config: KmsTwinConfig) -> Twin {
        Twin {
            buckets: Mutex::new(Buckets::new(&config.quotas)),
            account: config.account_id,
            principals: config.principals,
            state: Mutex::new(config.state.unwrap_or_default()),
            stats: Mutex::new(KmsStats::default()),
        }
    }

    /// The counters so far.
    pub fn stats(&self) -> KmsStats {
        lock(&self.stats).clone()
    }

    /// The state now.
    pub fn snapshot(&self) -> KmsState {
        let mut state = lock(&self.state);
        state.settle(rules::now());
        state.clone()
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
        let operation = OPERATIONS
            .iter()
            .find(|(op, _)| *op == name)
            .filter(|_| method == Method::POST)
            .map(|(_, handler)| *handler)
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
        let mut wanted = vec![(quota_of(name).to_string(), caller.region.clone())];
        if name == "ReplicateKey" {
            wanted.push(("ReplicaCreateKey".into(), replicas::replica_region(&body)?));
        }
        let wanted: Vec<(&str, &str)> = wanted
            .iter()
            .map(|(q, r)| (q.as_str(), r.as_str()))
            .collect();
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
        let mut state = lock(&self.state);
        let now = rules::now();
        state.settle(now);
        // Operations work on a copy, so that a request that fails half-way changes nothing.
        let mut draft = state.clone();
        let mut call = Call {
            state: &mut draft,
            caller: &caller,
            account: &self.account,
            now,
        };
        let answer = operation(&mut call, &body)?;
        *state = draft;
        Ok(answer)
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

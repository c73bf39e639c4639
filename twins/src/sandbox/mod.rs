//! The sandbox: both twins (AWS KMS, Qlik Cloud) in-process on loopback, with the documented seed —
//! account 111122223333, one tenant in `eu-west-1` on Qlik's own key, and a tenant of its own for every
//! other tenant a flow connects to — so that any flow can be rehearsed without a cloud account, and
//! `--state FILE` keeps what a run made for the next one, recorded as the run goes.

mod error;
mod state;
mod summary;

#[cfg(test)]
mod tests;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use tokio::task::JoinHandle;

use keyflow_blocks::aws_kms::limits::PUBLISHED;
use keyflow_blocks::aws_kms::operation::Quota;
use keyflow_blocks::aws_kms::sandbox::KmsTwin;
use keyflow_blocks::qlik_cloud::regions;
use keyflow_blocks::qlik_cloud::sandbox::QlikTwin;
use keyflow_engine::exec::sandbox::Sandbox;

use crate::aws_kms::{self as kms, KmsStats, KmsTwinConfig, Quotas};
use crate::faults::Faults;
use crate::qlik_cloud::{
    self as qlik, EmulatorConfig, KmsPeer, Provisioning, ProxyRole, TenantSeed, Tiers,
};

pub use error::SandboxError;
pub use state::{SavedSandbox, StateFile};
pub use summary::{Change, Created, KeyChange, TenantChange};

/// The seeded tenant's id (32 characters, as Qlik's are).
pub const TENANT_ID: &str = "KeyflowSandboxTenant000000000001";
/// The seeded tenant's API key: throwaway, known to the twin only.
pub const API_KEY: &str = "keyflow-sandbox-api-key";
/// Qlik's proxy role (commercial partition), as which the Qlik twin uses keys; the KMS twin knows it as a
/// principal of Qlik's account, so key policies decide what it may do. The GovCloud roles
/// (`arn:aws-us-gov:iam::…`) are not given: the KMS twin mints and resolves `arn:aws:` keys only.
pub const QLIK_PROXY_ROLE_ARN: &str = "arn:aws:iam::338144066592:role/byok-encryption-proxy-role";
/// The access key id the proxy role signs with: throwaway, known to the twins only.
pub const QLIK_PROXY_ACCESS_KEY_ID: &str = "AKIAQLIKPROXYSANDBOX";
/// Its secret access key: throwaway.
pub const QLIK_PROXY_SECRET_ACCESS_KEY: &str = "keyflow-sandbox-qlik-proxy-role-secret-0";
/// What the API key of every other tenant starts with, followed by its hostname or name; the twin hosts
/// the tenant on the key's first use.
pub const TENANT_API_KEY_PREFIX: &str = "keyflow-sandbox-tenant:";
/// The seeded tenant's region when none is given.
pub const DEFAULT_TENANT_REGION: &str = "eu-west-1";
/// How long a migration takes when not said otherwise.
pub const DEFAULT_MIGRATION: Duration = Duration::from_secs(5);

/// How the sandbox is set up (`--tenant-region`, `--migration-seconds`, `--no-quotas`, `--state`).
#[derive(Debug)]
pub struct Options {
    /// The tenant's `datacenter`: where its keys must be.
    pub tenant_region: String,
    /// How long a migration takes.
    pub migration: Duration,
    /// How the KMS twin throttles; [`Quotas::Off`] also lifts the Qlik twin's rate tiers.
    pub quotas: Quotas,
    /// Where state is read from and recorded to, taken for this sandbox.
    pub state: Option<StateFile>,
    /// Fixed ports (`sandbox serve`); ephemeral when `None`.
    pub kms_port: Option<u16>,
    /// Fixed port of the Qlik twin.
    pub qlik_port: Option<u16>,
    /// Faults both twins inject into clients' requests (`--faults`, `--faults-seed`).
    pub faults: Option<Arc<Faults>>,
}

impl Default for Options {
    /// The documented defaults: a tenant in `eu-west-1`, 5-second migrations, the published quotas, no
    /// state file, free ports.
    fn default() -> Options {
        Options {
            tenant_region: DEFAULT_TENANT_REGION.into(),
            migration: DEFAULT_MIGRATION,
            quotas: Quotas::Published,
            state: None,
            kms_port: None,
            qlik_port: None,
            faults: None,
        }
    }
}

/// Both twins, running.
pub struct Twins {
    /// The KMS twin.
    pub kms: kms::Running,
    /// The Qlik Cloud twin.
    pub qlik: qlik::Running,
    /// The seeded tenant.
    pub tenant: TenantSeed,
    state: Option<Arc<StateFile>>,
    /// Records the state after each change while the twins serve.
    recorder: Option<JoinHandle<()>>,
    before: SavedSandbox,
    faults: Option<Arc<Faults>>,
}

impl Twins {
    /// Starts both twins, from the state file when it exists.
    pub async fn start(options: Options) -> Result<Twins, SandboxError> {
        let Some(region_code) = regions::code(&options.tenant_region) else {
            return Err(SandboxError::NoTenantsIn {
                region: options.tenant_region.clone(),
                regions: regions::all().join(", "),
            });
        };
        let saved = match &options.state {
            Some(file) => file.read()?,
            None => None,
        };
        let changes = options.state.as_ref().map(|_| Arc::new(Notify::new()));
        if let Some(saved) = &saved
            && saved.tenant_region != options.tenant_region
        {
            return Err(SandboxError::OtherTenantRegion {
                saved: saved.tenant_region.clone(),
                given: options.tenant_region.clone(),
            });
        }
        let mut kms_config = KmsTwinConfig {
            quotas: options.quotas.clone(),
            state: saved.as_ref().map(|s| s.kms.clone()),
            changes: changes.clone(),
            faults: options.faults.clone(),
            ..KmsTwinConfig::default()
        };
        kms_config.principals.push(kms::Principal::new(
            QLIK_PROXY_ACCESS_KEY_ID,
            QLIK_PROXY_SECRET_ACCESS_KEY,
            QLIK_PROXY_ROLE_ARN,
        ));
        let kms = kms::start_at(kms_config, loopback(options.kms_port))
            .await
            .map_err(|source| SandboxError::Start {
                twin: "AWS KMS",
                source,
            })?;
        let tenant = TenantSeed {
            id: TENANT_ID.into(),
            name: "sandbox".into(),
            hostname: format!("sandbox.{region_code}.qlikcloud.com"),
            region: region_code.into(),
            datacenter: options.tenant_region.clone(),
        };
        let qlik_config = EmulatorConfig {
            tenants: vec![tenant.clone()],
            api_keys: vec![(API_KEY.into(), TENANT_ID.into())],
            provisioning: Some(Provisioning {
                api_key_prefix: TENANT_API_KEY_PREFIX.into(),
                region: region_code.into(),
                datacenter: options.tenant_region.clone(),
            }),
            migration_duration: options.migration,
            // `--no-quotas` lifts every limit the twins enforce, Qlik's rate tiers too.
            rates: match options.quotas {
                Quotas::Off => Tiers {
                    reads_per_minute: 0,
                    writes_per_minute: 0,
                },
                _ => Tiers::default(),
            },
            // Qlik's checks use the key as the proxy role: the KMS twin's policy evaluation decides.
            kms: Some(KmsPeer {
                endpoint_url: kms.url.clone(),
                credentials: Some((
                    kms::DEFAULT_ACCESS_KEY_ID.into(),
                    kms::DEFAULT_SECRET_ACCESS_KEY.into(),
                )),
                proxy: Some(ProxyRole::new(
                    QLIK_PROXY_ROLE_ARN,
                    QLIK_PROXY_ACCESS_KEY_ID,
                    QLIK_PROXY_SECRET_ACCESS_KEY,
                )),
            }),
            state: saved.as_ref().map(|s| s.qlik.clone()),
            changes: changes.clone(),
            faults: options.faults.clone(),
            ..EmulatorConfig::default()
        };
        let qlik = qlik::start_at(qlik_config, loopback(options.qlik_port))
            .await
            .map_err(|source| SandboxError::Start {
                twin: "Qlik Cloud",
                source,
            })?;
        let mut twins = Twins {
            kms,
            qlik,
            tenant,
            state: options.state.map(Arc::new),
            recorder: None,
            before: SavedSandbox::default(),
            faults: options.faults,
        };
        twins.before = twins.saved();
        if let (Some(file), Some(changes)) = (&twins.state, changes) {
            twins.recorder = Some(tokio::spawn(record(
                file.clone(),
                twins.snapshots(),
                changes,
            )));
        }
        Ok(twins)
    }

    /// Where every connection points in a `--sandbox` run.
    pub fn sandbox(&self) -> Arc<Sandbox> {
        Arc::new(
            Sandbox::new()
                .with(&KmsTwin {
                    endpoint_url: self.kms.url.clone(),
                    access_key_id: kms::DEFAULT_ACCESS_KEY_ID.into(),
                    secret_access_key: kms::DEFAULT_SECRET_ACCESS_KEY.into(),
                    region: self.tenant.datacenter.clone(),
                })
                .with(&QlikTwin {
                    tenant_url: self.qlik.url.clone(),
                    api_key: API_KEY.into(),
                    tenant_api_key_prefix: Some(TENANT_API_KEY_PREFIX.into()),
                }),
        )
    }

    /// The environment that points the AWS CLI, the SDKs, qlik-cli and keyflow at the twins.
    pub fn exports(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL_KMS", self.kms.url.clone()),
            ("AWS_ACCESS_KEY_ID", kms::DEFAULT_ACCESS_KEY_ID.into()),
            (
                "AWS_SECRET_ACCESS_KEY",
                kms::DEFAULT_SECRET_ACCESS_KEY.into(),
            ),
            ("AWS_REGION", self.tenant.datacenter.clone()),
            ("QLIK_SERVER", self.qlik.url.clone()),
            ("QLIK_API_KEY", API_KEY.into()),
            // The variables keyflow's example flows read their tenant from.
            ("QLIK_TENANT_URL", self.qlik.url.clone()),
        ]
    }

    /// What the twins hold now.
    pub fn saved(&self) -> SavedSandbox {
        (self.snapshots())()
    }

    /// Takes what the twins hold, whenever called: a reader that keeps no server alive, so that
    /// [`Twins::shutdown`] still takes the twins by value (the daemon's sandbox page holds one).
    pub fn snapshots(&self) -> Snapshots {
        let (kms, qlik) = (self.kms.snapshots(), self.qlik.snapshots());
        let tenant_region = self.tenant.datacenter.clone();
        Arc::new(move || SavedSandbox {
            tenant_region: tenant_region.clone(),
            kms: kms(),
            qlik: qlik(),
        })
    }

    /// What changed since the twins started (or since the state file was read).
    pub fn created(&self) -> Created {
        Created::between(&self.before, &self.saved(), &self.tenant)
    }

    /// What the KMS twin answered: requests, throttled ones by operation, denied ones.
    pub fn traffic(&self) -> KmsStats {
        self.kms.stats()
    }

    /// The faults injected (`--faults`), when any were asked for: their seed and counts.
    pub fn faults(&self) -> Option<&Faults> {
        self.faults.as_deref()
    }

    /// Writes the state file, if one was given.
    pub fn save(&self) -> Result<Option<PathBuf>, SandboxError> {
        let Some(file) = &self.state else {
            return Ok(None);
        };
        file.write(|| self.saved())?;
        Ok(Some(file.path().to_path_buf()))
    }

    /// Stops both twins (and the recording; [`Twins::save`] writes the last state).
    pub async fn shutdown(self) {
        if let Some(recorder) = &self.recorder {
            recorder.abort();
        }
        let _ = self.kms.shutdown().await;
        let _ = self.qlik.shutdown().await;
    }
}

/// Takes what both twins hold.
pub type Snapshots = Arc<dyn Fn() -> SavedSandbox + Send + Sync>;

/// Writes the state to `file` after each change, so that a keyflow killed mid-run keeps what it made up
/// to then. Changes that come while a write is under way are written together by the next one. A write
/// that fails is not reported here: the last one, at the end, says so.
async fn record(file: Arc<StateFile>, snapshots: Snapshots, changes: Arc<Notify>) {
    loop {
        changes.notified().await;
        let (file, snapshots) = (file.clone(), snapshots.clone());
        let _ = tokio::task::spawn_blocking(move || file.write(|| snapshots())).await;
    }
}

/// A quota override `OPERATION=RATE` (`CreateKey=2`), as `--quota` gives it: a quota the twin enforces
/// and a rate of 0 or more requests per second (0 lifts it).
pub fn parse_quota(given: &str) -> Result<(Quota, f64), SandboxError> {
    let parsed = given
        .split_once('=')
        .and_then(|(name, rate)| Some((name.trim(), rate.trim().parse::<f64>().ok()?)))
        .filter(|(_, rate)| rate.is_finite() && *rate >= 0.0);
    let Some((name, rate)) = parsed else {
        return Err(SandboxError::QuotaForm {
            given: given.into(),
        });
    };
    let Some(quota) = Quota::from_name(name) else {
        return Err(SandboxError::NoSuchQuota {
            given: given.into(),
            name: name.into(),
            quotas: PUBLISHED
                .iter()
                .map(|(quota, _)| quota.name())
                .collect::<Vec<_>>()
                .join(", "),
        });
    };
    Ok((quota, rate))
}

fn loopback(port: Option<u16>) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port.unwrap_or(0)))
}

//! The sandbox: both twins (AWS KMS, Qlik Cloud) in-process on loopback, with the documented seed —
//! account 111122223333, one tenant in `eu-west-1` on Qlik's own key, and a tenant of its own for every
//! other tenant a flow connects to — so that any flow can be rehearsed without a cloud account, and
//! `--state FILE` keeps what a run made for the next one.

mod state;
mod summary;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use keyflow_blocks::aws_kms::emulator::{self as kms, KmsTwinConfig, Quotas};
use keyflow_blocks::aws_kms::limits::PUBLISHED;
use keyflow_blocks::qlik_cloud::emulator::{
    self as qlik, EmulatorConfig, KmsPeer, Provisioning, ProxyRole, TenantSeed,
};
use keyflow_blocks::qlik_cloud::regions;
use keyflow_engine::exec::sandbox::Sandbox;
use serde_json::json;

pub use state::SavedSandbox;
pub use summary::Created;

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

/// How the sandbox is set up (`--tenant-region`, `--migration-seconds`, `--no-quotas`, `--state`).
#[derive(Debug, Clone)]
pub struct Options {
    /// The tenant's `datacenter`: where its keys must be.
    pub tenant_region: String,
    /// How long a migration takes.
    pub migration: Duration,
    /// How the KMS twin throttles.
    pub quotas: Quotas,
    /// Where state is read from and written back to.
    pub state: Option<PathBuf>,
    /// Fixed ports (`sandbox serve`); ephemeral when `None`.
    pub kms_port: Option<u16>,
    /// Fixed port of the Qlik twin.
    pub qlik_port: Option<u16>,
}

impl Options {
    /// The options the command line gave, with the documented defaults.
    pub fn from_settings(
        settings: &crate::cli::SandboxSettings,
        kms_port: Option<u16>,
        qlik_port: Option<u16>,
    ) -> anyhow::Result<Options> {
        let seconds = settings.migration_seconds.unwrap_or(5.0);
        let migration = Duration::try_from_secs_f64(seconds).map_err(|_| {
            anyhow::anyhow!(
                "`--migration-seconds {seconds}`: give a number of seconds of 0 or more"
            )
        })?;
        Ok(Options {
            tenant_region: settings
                .tenant_region
                .clone()
                .unwrap_or_else(|| "eu-west-1".into()),
            migration,
            quotas: quotas(settings)?,
            state: settings.state.clone(),
            kms_port,
            qlik_port,
        })
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
    options: Options,
    before: SavedSandbox,
}

impl Twins {
    /// Starts both twins, from the state file when it exists.
    pub async fn start(options: Options) -> anyhow::Result<Twins> {
        let Some(region_code) = regions::code(&options.tenant_region) else {
            anyhow::bail!(
                "Qlik Cloud has no tenants in `{}`: give `--tenant-region` one of {}",
                options.tenant_region,
                regions::all().join(", ")
            );
        };
        let saved = match &options.state {
            Some(path) => SavedSandbox::read(path)?,
            None => None,
        };
        if let Some(saved) = &saved
            && saved.tenant_region != options.tenant_region
        {
            anyhow::bail!(
                "the state file's tenant lives in `{}`, not `{}`: give `--tenant-region {}` or another file",
                saved.tenant_region,
                options.tenant_region,
                saved.tenant_region
            );
        }
        let mut kms_config = KmsTwinConfig {
            quotas: options.quotas.clone(),
            state: saved.as_ref().map(|s| s.kms.clone()),
            ..KmsTwinConfig::default()
        };
        kms_config.principals.push(kms::Principal::new(
            QLIK_PROXY_ACCESS_KEY_ID,
            QLIK_PROXY_SECRET_ACCESS_KEY,
            QLIK_PROXY_ROLE_ARN,
        ));
        let kms = kms::start_at(kms_config, loopback(options.kms_port))
            .await
            .context("starting the AWS KMS twin")?;
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
            ..EmulatorConfig::default()
        };
        let qlik = qlik::start_at(qlik_config, loopback(options.qlik_port))
            .await
            .context("starting the Qlik Cloud twin")?;
        let mut twins = Twins {
            kms,
            qlik,
            tenant,
            options,
            before: SavedSandbox::default(),
        };
        twins.before = twins.saved();
        Ok(twins)
    }

    /// Where every connection points in a `--sandbox` run.
    pub fn sandbox(&self) -> Arc<Sandbox> {
        Arc::new(
            Sandbox::new()
                .with_twin(
                    keyflow_blocks::aws_kms::CONNECTOR,
                    json!({
                        "endpoint_url": self.kms.url,
                        "access_key_id": kms::DEFAULT_ACCESS_KEY_ID,
                        "secret_access_key": kms::DEFAULT_SECRET_ACCESS_KEY,
                        "region": self.tenant.datacenter,
                    }),
                )
                .with_twin(
                    keyflow_blocks::qlik_cloud::CONNECTOR,
                    json!({
                        "tenant_url": self.qlik.url,
                        "api_key": API_KEY,
                        "tenant_api_key_prefix": TENANT_API_KEY_PREFIX,
                    }),
                ),
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
        SavedSandbox {
            tenant_region: self.tenant.datacenter.clone(),
            kms: self.kms.snapshot(),
            qlik: self.qlik.snapshot(),
        }
    }

    /// What changed since the twins started (or since the state file was read).
    pub fn created(&self) -> Created {
        Created::between(&self.before, &self.saved(), &self.tenant)
    }

    /// What the KMS twin answered: requests, throttled ones by operation, denied ones.
    pub fn traffic(&self) -> String {
        let stats = self.kms.stats();
        let throttled: Vec<String> = stats
            .operations
            .iter()
            .filter(|(_, op)| op.throttled > 0)
            .map(|(name, op)| format!("{name} {}", op.throttled))
            .collect();
        let mut line = format!(
            "the AWS KMS twin answered {} requests, throttled {}",
            stats.requests, stats.throttled
        );
        if !throttled.is_empty() {
            line.push_str(&format!(" ({})", throttled.join(", ")));
        }
        line.push_str(&format!(", denied {}", stats.access_denied));
        line
    }

    /// Writes the state file, if one was given.
    pub fn save(&self) -> anyhow::Result<Option<PathBuf>> {
        let Some(path) = &self.options.state else {
            return Ok(None);
        };
        self.saved().write(path)?;
        Ok(Some(path.clone()))
    }

    /// Stops both twins.
    pub async fn shutdown(self) {
        let _ = self.kms.shutdown().await;
        let _ = self.qlik.shutdown().await;
    }
}

/// The KMS twin's quotas from `--no-quotas` and `--quota OPERATION=RATE`.
fn quotas(settings: &crate::cli::SandboxSettings) -> anyhow::Result<Quotas> {
    if settings.no_quotas {
        return Ok(Quotas::Off);
    }
    if settings.quota.is_empty() {
        return Ok(Quotas::Published);
    }
    let names: Vec<&str> = PUBLISHED.iter().map(|(name, _)| *name).collect();
    let mut overrides = std::collections::HashMap::new();
    for given in &settings.quota {
        let parsed = given
            .split_once('=')
            .and_then(|(name, rate)| Some((name.trim(), rate.trim().parse::<f64>().ok()?)))
            .filter(|(_, rate)| rate.is_finite() && *rate >= 0.0);
        let Some((name, rate)) = parsed else {
            anyhow::bail!("`--quota {given}`: write OPERATION=RATE, such as `CreateKey=2`");
        };
        if !names.contains(&name) {
            anyhow::bail!(
                "`--quota {given}`: `{name}` has no quota; the quotas are {}",
                names.join(", ")
            );
        }
        overrides.insert(name.to_string(), rate);
    }
    Ok(Quotas::Overrides(overrides))
}

fn loopback(port: Option<u16>) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port.unwrap_or(0)))
}

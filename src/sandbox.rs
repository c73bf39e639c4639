//! The sandbox as the command line shows it: its options from the flags, and what a sandbox run made and
//! what the KMS twin answered, rendered from the twins' data on stderr (stdout may be the JSON report).
//! The twins themselves, the seed and the state file are `keyflow-twins`' ([`keyflow_twins::sandbox`]).

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use keyflow_twins::aws_kms::{KmsStats, Quotas};
use keyflow_twins::faults::{FaultRates, Faults};
use keyflow_twins::sandbox::{
    self, Change, Created, KeyChange, Options, StateFile, TenantChange, Twins,
};

use crate::cli::SandboxSettings;
use crate::style;

/// How many lines of each list are shown; the rest are counted.
const SHOWN: usize = 10;

/// The options the command line gave, with the documented defaults; the state file is taken for this
/// sandbox (waiting, and saying so, while another keyflow has it).
pub fn options(
    settings: &SandboxSettings,
    kms_port: Option<u16>,
    qlik_port: Option<u16>,
    color: bool,
) -> anyhow::Result<Options> {
    let defaults = Options::default();
    let migration = match settings.migration_seconds {
        None => defaults.migration,
        Some(seconds) => Duration::try_from_secs_f64(seconds).map_err(|_| {
            anyhow::anyhow!(
                "`--migration-seconds {seconds}`: give a number of seconds of 0 or more"
            )
        })?,
    };
    Ok(Options {
        tenant_region: settings
            .tenant_region
            .clone()
            .unwrap_or(defaults.tenant_region),
        migration,
        quotas: quotas(settings)?,
        state: match &settings.state {
            Some(path) => Some(take(path, color)?),
            None => None,
        },
        kms_port,
        qlik_port,
        faults: faults(settings)?,
    })
}

/// The faults of `--faults` and `--faults-seed`; without a seed, one from the clock (shown at the end,
/// so that the run can be replayed).
fn faults(settings: &SandboxSettings) -> anyhow::Result<Option<Arc<Faults>>> {
    let Some(given) = &settings.faults else {
        return Ok(None);
    };
    let rates = FaultRates::parse(given)?;
    let seed = settings.faults_seed.unwrap_or_else(|| {
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64)
    });
    Ok(Some(Arc::new(Faults::new(rates, seed))))
}

/// The state file at `path`, once no other keyflow has it.
fn take(path: &Path, color: bool) -> anyhow::Result<StateFile> {
    if let Some(file) = StateFile::try_take(path)? {
        return Ok(file);
    }
    errln!(
        "{} waiting for the state file {}: another keyflow (a run or `sandbox serve`) is using it",
        style::yellow(color, "sandbox:"),
        path.display()
    );
    Ok(StateFile::take(path)?)
}

/// The KMS twin's quotas from `--no-quotas` and `--quota OPERATION=RATE`.
fn quotas(settings: &SandboxSettings) -> anyhow::Result<Quotas> {
    if settings.no_quotas {
        return Ok(Quotas::Off);
    }
    if settings.quota.is_empty() {
        return Ok(Quotas::Published);
    }
    let mut overrides = HashMap::new();
    for given in &settings.quota {
        let (name, rate) = sandbox::parse_quota(given)?;
        overrides.insert(name, rate);
    }
    Ok(Quotas::Overrides(overrides))
}

/// After the twins served: what they made (unless `quiet`), what the KMS twin answered (always: how many
/// calls it throttled is what a rehearsal is for), the state saved, the twins stopped.
pub async fn finish(twins: Twins, color: bool, quiet: bool) -> anyhow::Result<()> {
    if !quiet {
        print_created(&twins.created(), color);
    }
    errln!(
        "{} {}",
        style::dim(color, "sandbox:"),
        traffic(&twins.traffic())
    );
    if let Some(faults) = twins.faults() {
        errln!("{} {}", style::dim(color, "sandbox:"), injected(faults));
    }
    let saved = twins.save();
    twins.shutdown().await;
    if let Some(path) = saved?
        && !quiet
    {
        errln!(
            "{} state saved to {}",
            style::dim(color, "sandbox:"),
            path.display()
        );
    }
    Ok(())
}

/// What a sandbox run made.
fn print_created(created: &Created, color: bool) {
    if created.is_empty() {
        errln!(
            "{} the run changed nothing in the twins",
            style::dim(color, "sandbox:")
        );
        return;
    }
    errln!("{}", style::bold(color, "in the sandbox:"));
    for line in lines(created) {
        errln!("  {line}");
    }
}

/// The lines to show: the first of the key lines, then the first of the tenant lines, each list's rest
/// counted.
pub fn lines(created: &Created) -> Vec<String> {
    let keys: Vec<String> = created.keys.iter().map(key_line).collect();
    let tenants: Vec<String> = created
        .tenants
        .iter()
        .map(|change| tenant_line(change, created.many_tenants))
        .collect();
    let mut lines = Vec::new();
    for list in [keys, tenants] {
        let more = list.len().saturating_sub(SHOWN);
        lines.extend(list.into_iter().take(SHOWN));
        if more > 0 {
            lines.push(format!("… and {more} more"));
        }
    }
    lines
}

fn key_line(key: &KeyChange) -> String {
    let aliases = if key.aliases.is_empty() {
        String::new()
    } else {
        format!(" ({})", key.aliases.join(", "))
    };
    match key.was {
        None => format!("created key {}{aliases}: {}", key.arn, key.state),
        Some(was) => format!("changed key {}{aliases}: {was} → {}", key.arn, key.state),
    }
}

/// One change of a tenant; with `many` tenants, a change inside one says which.
fn tenant_line(change: &Change, many: bool) -> String {
    let tenant = &change.tenant;
    let inside = match &change.what {
        TenantChange::New { id, datacenter } => {
            return format!("new tenant {tenant} ({id}) in {datacenter}");
        }
        TenantChange::EncryptsWith { arn } => {
            return format!("tenant {tenant} now encrypts with {arn}");
        }
        TenantChange::Registered {
            fingerprint,
            name,
            arn,
        } => format!("registered key provider {fingerprint} ({name}) for {arn}"),
        TenantChange::Deleted { fingerprint } => format!("deleted key provider {fingerprint}"),
        TenantChange::Migration { id, to } => format!("migration {id} to {to}"),
    };
    if many {
        format!("{tenant}: {inside}")
    } else {
        inside
    }
}

/// The faults the twins injected, and the seed that replays them.
fn injected(faults: &Faults) -> String {
    let counts = faults.counts();
    format!(
        "injected {} faults: {} throttled, {} answered 5xx, {} dropped after being applied \
         (replay with --faults-seed {})",
        counts.total(),
        counts.throttled,
        counts.errors,
        counts.dropped,
        faults.seed()
    )
}

/// What the KMS twin answered: requests, throttled ones by operation, denied ones.
fn traffic(stats: &KmsStats) -> String {
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

#[cfg(test)]
mod tests {
    use keyflow_twins::qlik_cloud::{SavedState, TenantSeed};
    use keyflow_twins::sandbox::SavedSandbox;
    use serde_json::{Value, json};

    use super::*;

    const SEED: &str = "KeyflowSandboxTenant000000000001";

    fn seed() -> TenantSeed {
        TenantSeed {
            id: SEED.into(),
            name: "sandbox".into(),
            hostname: "sandbox.eu.qlikcloud.com".into(),
            region: "eu".into(),
            datacenter: "eu-west-1".into(),
        }
    }

    fn provider(fingerprint: &str, arn: &str) -> Value {
        json!({
            "fingerprint": fingerprint, "arn": arn, "name": "n", "description": null,
            "created_at": null, "promoted_at": null, "demoted_at": null, "key": null,
        })
    }

    /// A tenant as a state file keeps it: `id`, provisioned as `hostname` when given, with the Qlik
    /// provider and the AWS keys `arns`, the last of them current when `byok`.
    fn tenant(id: &str, hostname: Option<&str>, arns: &[&str], byok: bool) -> Value {
        let mut providers = vec![provider(id, "#QLIK_MANAGED_KEY_PROVIDER#")];
        providers.extend(arns.iter().map(|arn| provider(&format!("fp-{arn}"), arn)));
        let current = match arns.last() {
            Some(arn) if byok => format!("fp-{arn}"),
            _ => id.to_string(),
        };
        let provisioned = hostname.map(
            |h| json!({"name": "n", "hostname": h, "region": "us", "datacenter": "us-east-1"}),
        );
        json!({"id": id, "providers": providers, "current": current, "migration": null,
               "provisioned": provisioned})
    }

    fn sandbox(tenants: Vec<Value>) -> SavedSandbox {
        let qlik: SavedState =
            serde_json::from_value(json!({ "tenants": tenants })).expect("a saved state");
        SavedSandbox {
            tenant_region: "eu-west-1".into(),
            qlik,
            ..SavedSandbox::default()
        }
    }

    #[test]
    fn with_one_tenant_the_lines_read_as_before() {
        let before = sandbox(vec![tenant(SEED, None, &[], false)]);
        let after = sandbox(vec![tenant(SEED, None, &["arn:k1"], true)]);
        assert_eq!(
            lines(&Created::between(&before, &after, &seed())),
            [
                "registered key provider fp-arn:k1 (n) for arn:k1".to_string(),
                format!("tenant {SEED} now encrypts with arn:k1"),
            ]
        );
    }

    #[test]
    fn with_many_tenants_each_line_says_which() {
        let before = sandbox(vec![tenant(SEED, None, &[], false)]);
        let after = sandbox(vec![
            tenant("id-b", Some("b.us.qlikcloud.com"), &["arn:b"], true),
            tenant(SEED, None, &["arn:s"], false),
            tenant("id-a", Some("a.us.qlikcloud.com"), &[], false),
        ]);
        assert_eq!(
            lines(&Created::between(&before, &after, &seed())),
            [
                format!("{SEED}: registered key provider fp-arn:s (n) for arn:s"),
                "new tenant a.us.qlikcloud.com (id-a) in us-east-1".to_string(),
                "new tenant b.us.qlikcloud.com (id-b) in us-east-1".to_string(),
                "b.us.qlikcloud.com: registered key provider fp-arn:b (n) for arn:b".to_string(),
                "tenant b.us.qlikcloud.com now encrypts with arn:b".to_string(),
            ]
        );
        // Nothing changed since: nothing to say.
        assert!(Created::between(&after, &after, &seed()).is_empty());
    }

    #[test]
    fn long_lists_show_their_first_lines_and_count_the_rest() {
        let before = sandbox(vec![tenant(SEED, None, &[], false)]);
        let mut tenants = vec![tenant(SEED, None, &[], false)];
        for n in 0..25 {
            let host = format!("t{n:02}.us.qlikcloud.com");
            tenants.push(tenant(&format!("id-{n}"), Some(&host), &["arn:k"], false));
        }
        let lines = lines(&Created::between(&before, &sandbox(tenants), &seed()));
        assert_eq!(lines.len(), SHOWN + 1, "{lines:#?}");
        assert_eq!(
            lines[0],
            "new tenant t00.us.qlikcloud.com (id-0) in us-east-1"
        );
        assert_eq!(lines[SHOWN], "… and 40 more");
    }
}

//! `/ui/sandbox`: what the twins of a `keyflow serve --sandbox` hold now — the KMS twin's keys (state,
//! spec and usage, description, rotation, creation) and aliases, the Qlik twin's tenants with their key
//! providers and migrations. Read from the twins' own snapshot, as a state file would save it; the
//! throwaway key material and the key policies in it are never put on the page. A daemon without
//! `--sandbox` answers 404, saying so.

use std::fmt::Write as _;
use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use keyflow_twins::aws_kms::{KeyRecord, KmsState};
use keyflow_twins::qlik_cloud::{SavedState, SavedTenant};

use super::html::{esc, respond, when};
use crate::serve::Daemon;

pub async fn show(State(daemon): State<Arc<Daemon>>) -> Response {
    let Some(snapshot) = &daemon.twins else {
        return respond(
            StatusCode::NOT_FOUND,
            "Not a sandbox",
            "<h1>Not a sandbox</h1><p>This daemon does not run with <code>--sandbox</code>, so it has no \
             twins to show: its flows call the real services. Start a daemon with <code>keyflow serve \
             --sandbox DIR…</code> to rehearse flows against the twins.</p><p><a href=\"/ui/runs\">All runs</a></p>",
        );
    };
    let saved = snapshot();
    let mut body = String::from(
        "<h1>Sandbox</h1>\n<p>What this daemon's twins of AWS KMS and Qlik Cloud hold now: throwaway \
         resources made by the flows it ran (key material is never shown).</p>\n",
    );
    body.push_str(&keys(&saved.kms));
    body.push_str(&aliases(&saved.kms));
    body.push_str(&providers(&saved.qlik));
    body.push_str(&migrations(&saved.qlik));
    respond(StatusCode::OK, "Sandbox", &body)
}

/// A table `id` with its column heads, and `rows` (`<tr>`s), or a note that there is none.
fn table(id: &str, title: &str, heads: &[&str], rows: &str, none: &str) -> String {
    let mut out = format!("<h2>{title}</h2>\n<table id=\"{id}\"><thead><tr>");
    for head in heads {
        let _ = write!(out, "<th scope=\"col\">{head}</th>");
    }
    let _ = writeln!(out, "</tr></thead><tbody>\n{rows}</tbody></table>");
    if rows.is_empty() {
        let _ = writeln!(out, "<p class=\"muted\">{none}</p>");
    }
    out
}

/// Epoch seconds as a page shows a time.
fn at(seconds: f64) -> String {
    chrono::DateTime::from_timestamp_millis((seconds * 1e3) as i64)
        .map_or_else(|| seconds.to_string(), |t| when(&t.to_rfc3339()))
}

fn keys(kms: &KmsState) -> String {
    let mut rows = String::new();
    for (region, state) in &kms.regions {
        for key in state.keys.values() {
            let _ = writeln!(
                rows,
                "<tr data-key=\"{}\"><td><code>{}</code><br><span class=\"muted\">{}</span></td><td>{}</td>\
                 <td>{}<br><span class=\"muted\">{}</span></td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&key.key_id),
                esc(&key.arn),
                esc(region),
                state_of(key),
                esc(&key.key_spec),
                esc(&key.key_usage),
                esc(&key.description),
                rotation(key),
                esc(&at(key.creation_date)),
            );
        }
    }
    table(
        "keys",
        "AWS KMS keys",
        &[
            "Key (ARN, region)",
            "State",
            "Spec and usage",
            "Description",
            "Rotation",
            "Created",
        ],
        &rows,
        "No keys yet.",
    )
}

/// A key's state, with its deletion date and multi-Region role when it has them.
fn state_of(key: &KeyRecord) -> String {
    let mut out = esc(key.key_state.as_str());
    if let Some(date) = key.deletion_date {
        let _ = write!(
            out,
            "<br><span class=\"muted\">deleted at {}</span>",
            esc(&at(date))
        );
    }
    if let Some(role) = key.multi_region_key_type {
        let role = match role {
            keyflow_twins::aws_kms::MultiRegionKeyType::Primary => "multi-Region primary",
            keyflow_twins::aws_kms::MultiRegionKeyType::Replica => "multi-Region replica",
        };
        let _ = write!(out, "<br><span class=\"muted\">{role}</span>");
    }
    out
}

fn rotation(key: &KeyRecord) -> String {
    match &key.rotation {
        Some(rotation) => format!(
            "every {} days, next {}",
            rotation.rotation_period_in_days,
            esc(&at(rotation.next_rotation_date))
        ),
        None => "off".to_string(),
    }
}

fn aliases(kms: &KmsState) -> String {
    let mut rows = String::new();
    for (region, state) in &kms.regions {
        for alias in state.aliases.values() {
            let key = state
                .keys
                .get(&alias.target_key_id)
                .map_or(alias.target_key_id.as_str(), |k| k.arn.as_str());
            let _ = writeln!(
                rows,
                "<tr data-alias=\"{}\"><td><code>{}</code></td><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
                esc(&alias.alias_name),
                esc(&alias.alias_name),
                esc(key),
                esc(region),
                esc(&at(alias.last_updated_date)),
            );
        }
    }
    table(
        "aliases",
        "Aliases",
        &["Alias", "Key", "Region", "Last updated"],
        &rows,
        "No aliases yet.",
    )
}

/// A tenant as a row names it: its hostname when the twin provisioned it, and its id.
fn tenant(saved: &SavedTenant) -> String {
    match &saved.provisioned {
        Some(seed) => format!(
            "{}<br><span class=\"muted\">{}</span>",
            esc(&seed.hostname),
            esc(&saved.id)
        ),
        None => format!("<code>{}</code>", esc(&saved.id)),
    }
}

fn providers(qlik: &SavedState) -> String {
    let mut rows = String::new();
    for saved in &qlik.tenants {
        for provider in &saved.providers {
            let current = if provider.fingerprint == saved.current {
                "<span aria-hidden=\"true\">✓</span> current"
            } else {
                "—"
            };
            let _ = writeln!(
                rows,
                "<tr data-fingerprint=\"{}\"><td>{}</td><td>{}</td><td><code>{}</code></td><td><code>{}</code></td><td>{current}</td></tr>",
                esc(&provider.fingerprint),
                tenant(saved),
                esc(&provider.name),
                esc(&provider.fingerprint),
                esc(&provider.arn),
            );
        }
    }
    table(
        "providers",
        "Qlik Cloud key providers",
        &["Tenant", "Name", "Fingerprint", "Key ARN", "Current"],
        &rows,
        "No key providers.",
    )
}

fn migrations(qlik: &SavedState) -> String {
    let mut rows = String::new();
    for saved in &qlik.tenants {
        if let Some(migration) = &saved.migration {
            let (state, progress) = migration.phase();
            let _ = writeln!(
                rows,
                "<tr data-migration=\"{}\"><td>{}</td><td><code>{}</code></td><td>{} ({progress} %)</td>\
                 <td><code>{}</code></td><td><code>{}</code></td></tr>",
                esc(&migration.id),
                tenant(saved),
                esc(&migration.id),
                esc(state),
                esc(&migration.from),
                esc(&migration.to),
            );
        }
    }
    table(
        "migrations",
        "Qlik Cloud migrations",
        &["Tenant", "Migration", "State", "From", "To"],
        &rows,
        "No migrations yet.",
    )
}

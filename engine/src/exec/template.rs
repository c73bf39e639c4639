//! `uses:` at run time: a template runs as a run of its own for the step (or each item), with the step's
//! input as its params and the step's `connections:` in place of its own, sharing the parent's
//! parallelism, cancellation, store, secrets, sandbox and clients. Its report joins the step's.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use indexmap::IndexMap;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use super::events::{Nested, ObserverLogs, RunObserver};
use super::report::{RunReport, Status};
use super::step::StepRun;
use super::store::ParentStep;
use super::{Shared, execute, now, run_facts};
use crate::block::BlockError;
use crate::expr::{Scope, ValueExpr};
use crate::model::DurationSpec;
use crate::plan::{ParamValue, Plan, PlannedConnection, Setting, Template};

impl StepRun<'_> {
    /// Runs the step's template with the input as its params; its outputs are the output, and its failure
    /// the step's, naming the template's step that failed.
    pub(super) async fn run_uses(
        &self,
        template: &Template,
        scope: &Scope<'_>,
        item: Option<usize>,
    ) -> Result<Value, BlockError> {
        let uses = template.spec.id;
        let template = &template.plan;
        let input = self.resolve_input(scope)?;
        let given: IndexMap<String, ParamValue> = input
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, v)| (k.clone(), ParamValue::Json(v.clone())))
            .collect();
        let params = template.bind_params(&given).map_err(|errors| {
            let errors: Vec<String> = errors.iter().map(ToString::to_string).collect();
            BlockError::invalid_input(format!("template `{uses}`: {}", errors.join("; ")))
        })?;
        let replaced = self.replaced(scope)?;
        self.attempts.fetch_add(1, Ordering::Relaxed);
        let cancel = self.shared.cancel.child_token();
        let run = run_template(
            self.shared,
            &self.step.id,
            item,
            template.clone(),
            params,
            replaced,
            cancel.clone(),
        );
        tokio::pin!(run);
        let mut timed_out = false;
        let report = match self.step.timeout {
            Some(limit) => match tokio::time::timeout(limit, &mut run).await {
                Ok(report) => report,
                Err(_) => {
                    // Its steps stop as on Ctrl-C, and the report still says what they did.
                    timed_out = true;
                    cancel.cancel();
                    run.await
                }
            },
            None => run.await,
        };
        let result = outcome(
            uses,
            &report,
            timed_out.then_some(self.step.timeout).flatten(),
        );
        self.runs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((item.unwrap_or(0), report));
        result
    }

    /// The step's `connections:` resolved for this call (for an item, with `$.item`): literal settings
    /// that the template's run uses as they are.
    fn replaced(
        &self,
        scope: &Scope<'_>,
    ) -> Result<IndexMap<String, PlannedConnection>, BlockError> {
        let mut replaced = IndexMap::new();
        for (name, connection) in &self.step.connections {
            let mut settings = IndexMap::new();
            for (key, setting) in &connection.settings {
                let setting = match setting {
                    Setting::Value(expr) => {
                        Setting::Value(ValueExpr::Literal(expr.resolve(scope).map_err(|e| {
                            BlockError::fatal(
                                "ReferenceFailed",
                                format!(
                                    "step `{}`, connection `{name}`, setting `{key}`: {e}",
                                    self.step.id
                                ),
                            )
                        })?))
                    }
                    secret => secret.clone(),
                };
                settings.insert(key.clone(), setting);
            }
            replaced.insert(
                name.clone(),
                PlannedConnection {
                    settings,
                    ..connection.clone()
                },
            );
        }
        Ok(replaced)
    }
}

/// Runs a template for one step (or one item of it) of the run `parent`: a run of its own, whose id is
/// the parent's followed by the step (and item), sharing the parent's parallelism, store, secrets,
/// sandbox and clients (one per distinct connection settings for the whole tree).
///
/// Boxed, because a template's run runs steps that may run templates: the future names itself.
fn run_template<'a>(
    parent: &'a Shared,
    step: &'a str,
    item: Option<usize>,
    plan: Arc<Plan>,
    params: Value,
    replaced: IndexMap<String, PlannedConnection>,
    cancel: CancellationToken,
) -> futures::future::BoxFuture<'a, RunReport> {
    Box::pin(async move {
        let started_at = now();
        let run_id: Arc<str> = match item {
            Some(k) => format!("{}/{step}/{k}", parent.run_id),
            None => format!("{}/{step}", parent.run_id),
        }
        .into();
        let observer: Arc<dyn RunObserver> = Arc::new(Nested {
            inner: parent.observer.clone(),
            step: step.to_string(),
            item,
        });
        let shared = Arc::new(Shared {
            run: run_facts(&run_id, &plan, &started_at),
            connections: parent.connections.nested(&plan, replaced),
            flow_dir: Arc::from(plan.files_dir()),
            plan,
            params,
            parent: Some(ParentStep {
                run_id: parent.run_id.to_string(),
                step: step.to_string(),
                item,
            }),
            run_id,
            options: parent.options.clone(),
            store: parent.store.clone(),
            records: parent.records,
            logs: Arc::new(ObserverLogs(observer.clone())),
            observer,
            secrets: parent.secrets.clone(),
            permits: parent.permits.clone(),
            cancel,
        });
        execute(shared, started_at).await
    })
}

/// A template run's report as the step's result.
fn outcome(
    uses: &str,
    report: &RunReport,
    timed_out: Option<Duration>,
) -> Result<Value, BlockError> {
    if let Some(limit) = timed_out {
        return Err(BlockError::fatal(
            "Timeout",
            format!("template `{uses}` took longer than {}", DurationSpec(limit)),
        ));
    }
    match report.status {
        Status::Succeeded => Ok(Value::Object(report.outputs.clone().into_iter().collect())),
        _ => match report
            .steps
            .iter()
            .find_map(|s| s.error.as_ref().map(|e| (s, e)))
        {
            Some((failed, error)) => Err(BlockError {
                message: format!("template `{uses}`, step `{}`: {}", failed.id, error.message),
                retryable: false,
                retry_after: None,
                ..error.clone()
            }),
            None => Err(BlockError::fatal(
                "TemplateFailed",
                format!(
                    "template `{uses}` {}: {}",
                    report.status.name(),
                    report.reason.as_deref().unwrap_or("no step failed")
                ),
            )),
        },
    }
}

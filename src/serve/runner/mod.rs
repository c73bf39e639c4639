//! Runs firings: every `poll` (or at once when woken) renews the leases of the firings this daemon runs,
//! stops the runs whose firing was taken over or asked to stop, and takes new work — firings whose daemon
//! went silent first (their runs are resumed), then pending ones, up to `--max-runs`. Each run goes
//! through the normal executor, recording into the store through a fence that shuts once the firing is
//! lost, so that a daemon that stalled past its lease cannot write over the run another one took over.
//!
//! - [`reuse`]: what a firing's run reuses of recorded runs (a resume, a re-run of steps of another run);
//! - [`fenced`]: the store as one run sees it, through its fence.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use indexmap::IndexMap;
use keyflow_engine::exec::report::{RunReport, Status};
use keyflow_engine::exec::store::{RunStore, StoreError};
use keyflow_engine::exec::{ExecOptions, Executor};
use keyflow_engine::plan::ParamValue;
use keyflow_store::{Backend, Ended, Firing, RunState};
use tokio_util::sync::CancellationToken;

mod fenced;
mod reuse;

use super::{Daemon, Local};
use fenced::Fenced;
use reuse::{Reuse, reuse};

pub async fn run(daemon: Arc<Daemon>) {
    let mut renewed = Instant::now();
    let mut ticks = tokio::time::interval(daemon.settings.poll);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        // Woken (a firing was just recorded, a run ended): take work at once, without renewing first,
        // so that a due firing starts within milliseconds; the ticks renew.
        let woken = tokio::select! {
            _ = ticks.tick() => false,
            _ = daemon.wake.notified() => true,
            _ = daemon.stopping.cancelled() => return,
        };
        if !woken {
            match renew(&daemon).await {
                Ok(()) => renewed = Instant::now(),
                Err(e) => {
                    daemon.warn(format_args!("cannot renew the leases: {e}"));
                    // Past most of the lease without renewal another daemon may take the firings
                    // over: stop writing before it can.
                    if renewed.elapsed() > daemon.settings.lease.mul_f64(0.8) {
                        for local in daemon.running().values() {
                            local.lost.store(true, Ordering::Release);
                            local.cancel.cancel();
                        }
                    }
                }
            }
        }
        take(&daemon, !woken).await;
    }
}

/// Renews this daemon's leases (and, on SQLite, its hold of the store); stops the runs it no longer
/// holds or that were asked to stop.
async fn renew(daemon: &Daemon) -> Result<(), StoreError> {
    if daemon.store.backend() == Backend::Sqlite
        && let Some(holder) = daemon
            .store
            .hold(&daemon.worker, daemon.settings.lease * 2)
            .await?
    {
        daemon.warn(format_args!(
            "the run store was taken by {holder}: this daemon stops"
        ));
        daemon.stopping.cancel();
    }
    let held = daemon
        .store
        .renew(&daemon.worker, daemon.settings.lease)
        .await?;
    for (id, local) in daemon.running().iter() {
        let ours = held.iter().find(|h| &h.id == id && h.fence == local.fence);
        if let Some(h) = ours {
            if h.cancel && !local.cancel.is_cancelled() {
                daemon.log(format_args!(
                    "run {} asked to stop: cancelling",
                    local.run_id
                ));
                local.cancel.cancel();
            }
        } else if !local.ended.load(Ordering::Acquire) && !local.lost.swap(true, Ordering::AcqRel) {
            // Not ours any more: another daemon took it over when our lease lapsed.
            daemon.warn(format_args!(
                "run {} of `{}` was taken over by another daemon: stopping it here",
                local.run_id, local.flow
            ));
            local.cancel.cancel();
        }
    }
    Ok(())
}

/// Takes what this daemon has room for and starts it; with `orphans`, firings other daemons left first.
async fn take(daemon: &Arc<Daemon>, orphans: bool) {
    if daemon.stopping.is_cancelled() {
        return;
    }
    let free = daemon
        .settings
        .max_runs
        .saturating_sub(daemon.running().len());
    if free == 0 {
        return;
    }
    let names = daemon.catalog().names();
    let lease = daemon.settings.lease;
    // On SQLite this daemon holds the store: every running firing of another daemon is an orphan.
    let orphans = match (orphans, daemon.store.backend()) {
        (false, _) => Ok(Vec::new()),
        (true, Backend::Sqlite) => {
            daemon
                .store
                .take_orphans(&daemon.worker, &names, free, lease)
                .await
        }
        (true, Backend::Postgres) => {
            daemon
                .store
                .take_over(&daemon.worker, &names, free, lease)
                .await
        }
    };
    let mut firings = match orphans {
        Ok(firings) => firings,
        Err(e) => {
            daemon.warn(format_args!("cannot take over runs: {e}"));
            Vec::new()
        }
    };
    let room = free - firings.len();
    if room > 0 {
        match daemon.store.take(&daemon.worker, &names, room, lease).await {
            Ok(more) => firings.extend(more),
            Err(e) => daemon.warn(format_args!("cannot take firings: {e}")),
        }
    }
    for firing in firings {
        let local = Local {
            run_id: firing.run_id.clone(),
            flow: firing.flow.clone(),
            trigger: firing.trigger.clone(),
            fence: firing.fence,
            cancel: CancellationToken::new(),
            lost: Arc::new(AtomicBool::new(false)),
            ended: Arc::new(AtomicBool::new(false)),
        };
        daemon.running().insert(firing.id.clone(), local.clone());
        let daemon = daemon.clone();
        tokio::spawn(async move {
            let id = firing.id.clone();
            start(&daemon, firing, &local).await;
            daemon.running().remove(&id);
            daemon.wake.notify_one();
        });
    }
}

/// Runs one firing to its end and records how it ended.
async fn start(daemon: &Daemon, firing: Firing, local: &Local) {
    let catalog = daemon.catalog();
    let Some(loaded) = catalog.flows.get(&firing.flow) else {
        finish(
            daemon,
            local,
            &firing,
            "failed: the flow is no longer served".into(),
            true,
        )
        .await;
        return;
    };
    let plan = loaded.plan.clone();
    // The plugins' executables must still be the ones recorded.
    let plugins = match crate::commands::plugin::used(&loaded.blocks, &plan) {
        Ok(plugins) => plugins,
        Err(e) => {
            finish(daemon, local, &firing, format!("failed: {e}"), true).await;
            return;
        }
    };
    // In the sandbox, the plugins this flow uses run against their own twins (started for the run),
    // or not at all unless the daemon allows them outside: a rehearsal never reaches a real system.
    let (sandbox, plugin_twins) = match &daemon.settings.sandbox {
        Some(sandbox) if !plugins.is_empty() => {
            match crate::commands::plugin::sandbox(
                &loaded.blocks,
                &plugins,
                (**sandbox).clone(),
                daemon.settings.plugins_outside_sandbox,
            )
            .await
            {
                Ok((sandbox, twins)) => (Some(Arc::new(sandbox)), twins),
                Err(e) => {
                    finish(daemon, local, &firing, format!("failed: {e}"), true).await;
                    return;
                }
            }
        }
        other => (other.clone(), Vec::new()),
    };
    let given: IndexMap<String, ParamValue> = firing
        .params
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| (k.clone(), ParamValue::Json(v.clone())))
        .collect();
    let params = match plan.bind_params(&given) {
        Ok(params) => params,
        Err(errors) => {
            let why = errors
                .iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join("; ");
            finish(
                daemon,
                local,
                &firing,
                format!("failed: its params do not fit the flow: {why}"),
                true,
            )
            .await;
            return;
        }
    };
    let resume = match reuse(daemon, &firing, &plan, &params).await {
        Reuse::Nothing => None,
        Reuse::Recorded(resume) => Some(resume),
        Reuse::Ended(status) => {
            daemon.log(format_args!(
                "run {} of `{}` had ended ({}) before its daemon could record it",
                firing.run_id,
                firing.flow,
                status.name()
            ));
            let failed = status == RunState::Failed;
            finish(daemon, local, &firing, status.name().to_string(), failed).await;
            return;
        }
        Reuse::Later(e) => {
            daemon.warn(format_args!(
                "run {}: {e}; trying again later",
                firing.run_id
            ));
            // Hand it back for another try.
            let _ = daemon.store.release(&daemon.worker).await;
            return;
        }
        Reuse::Refused(why) => {
            finish(daemon, local, &firing, format!("failed: {why}"), true).await;
            return;
        }
    };
    daemon.log(format_args!(
        "run {} of `{}` {}{}",
        firing.run_id,
        firing.flow,
        match (&firing.rerun, firing.resume) {
            (_, true) => "resumes".to_string(),
            (Some(rerun), false) => format!(
                "starts, re-running {} of run {}",
                rerun
                    .steps
                    .iter()
                    .map(|s| format!("`{s}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
                rerun.from
            ),
            (None, false) => "starts".to_string(),
        },
        match &firing.trigger {
            Some(t) => format!(" (trigger `{t}`, fire time {})", firing.fire_at),
            None => " (asked for through the API or the web UI)".to_string(),
        }
    ));
    let options = ExecOptions {
        parallelism: daemon.settings.parallelism,
        allow_destructive: firing.allow_destructive,
        sandbox,
        run_id: Some(firing.run_id.clone()),
        resume,
        ..ExecOptions::default()
    };
    let store: Arc<dyn RunStore> = Arc::new(Fenced {
        store: daemon.store.clone(),
        lost: local.lost.clone(),
    });
    let executor = Executor::new(options)
        .with_store(store)
        .with_observer(daemon.metrics.observer(&firing.flow));
    let report = executor.run(plan, params, local.cancel.clone()).await;
    for twin in plugin_twins {
        twin.stop().await;
    }
    if local.lost.load(Ordering::Acquire) {
        return;
    }
    daemon.metrics.run_ended(&report);
    let reason = match &report.reason {
        Some(reason) => format!("{}: {reason}", report.status.name()),
        None => report.status.name().to_string(),
    };
    daemon.log(format_args!(
        "run {} of `{}` {} in {} ms",
        report.run_id,
        report.flow,
        report.status.name(),
        report.duration_ms
    ));
    finish(daemon, local, &firing, reason, failed(&report)).await;
}

fn failed(report: &RunReport) -> bool {
    report.status == Status::Failed
}

/// Records the end of a firing; warns when another daemon holds it by now.
async fn finish(daemon: &Daemon, local: &Local, firing: &Firing, reason: String, failed: bool) {
    // Before the firing is closed: a renewal that no longer finds it must not take it for lost.
    local.ended.store(true, Ordering::Release);
    let pause_after = firing.trigger.as_ref().and_then(|id| {
        daemon
            .catalog()
            .flows
            .get(&firing.flow)
            .and_then(|f| f.plan.triggers.iter().find(|t| &t.id == id))
            .and_then(|t| t.pause_after_failures)
    });
    let ended = Ended {
        firing,
        reason,
        failed,
        pause_after,
    };
    match daemon.store.finish_firing(&daemon.worker, &ended).await {
        Ok(true) => {}
        Ok(false) => daemon.warn(format_args!(
            "run {}: another daemon took its firing over before it ended here",
            firing.run_id
        )),
        Err(e) => daemon.warn(format_args!(
            "run {}: cannot record its end: {e}",
            firing.run_id
        )),
    }
    if let Some(trigger) = &firing.trigger
        && failed
        && let Ok(Some(state)) = daemon.store.trigger_state(&firing.flow, trigger).await
        && let Some(why) = state.paused
    {
        daemon.warn(format_args!(
            "trigger `{trigger}` of `{}` is paused: {why}; resume it through the API",
            firing.flow
        ));
    }
}

/// After SIGTERM: waits up to `--grace` for the runs under way, then hands back the rest. How many
/// were handed back.
pub async fn drain(daemon: &Daemon) -> usize {
    let deadline = Instant::now() + daemon.settings.grace;
    let mut said = false;
    loop {
        let left = daemon.running().len();
        if left == 0 {
            return 0;
        }
        if !said {
            daemon.log(format_args!(
                "stopping: no more firings; waiting up to {}s for {left} run{} under way",
                daemon.settings.grace.as_secs(),
                if left == 1 { "" } else { "s" }
            ));
            said = true;
        }
        if Instant::now() >= deadline {
            break;
        }
        // Leases must hold while waiting, or another daemon would take the runs over.
        if let Err(e) = renew(daemon).await {
            daemon.warn(format_args!("cannot renew the leases: {e}"));
        }
        tokio::time::sleep(Duration::from_millis(100).min(daemon.settings.poll)).await;
    }
    // What is written stays; what waits in memory is written now.
    if let Err(e) = daemon.store.flush().await {
        daemon.warn(format_args!("{e}"));
    }
    for local in daemon.running().values() {
        local.lost.store(true, Ordering::Release);
    }
    match daemon.store.release(&daemon.worker).await {
        Ok(n) => usize::try_from(n).unwrap_or(usize::MAX),
        Err(e) => {
            daemon.warn(format_args!("cannot hand back the runs under way: {e}"));
            daemon.running().len()
        }
    }
}

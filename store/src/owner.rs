//! Who owns an open run, and whether it is still alive. A top-level run records its owner (host name,
//! process id) and a heartbeat that a background task renews while the run is open; a reader takes a
//! `running` run for `interrupted` when its heartbeat is older than [`MISSED_BEATS`] intervals, or, on
//! the owner's own host, when its process no longer exists.

use std::time::Duration;

use sqlx::AnyPool;
use tokio::task::JoinHandle;

use crate::codec::now_ms;

/// How many heartbeat intervals may pass without a beat before a run reads as interrupted.
pub const MISSED_BEATS: i64 = 3;

/// The process that writes a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    /// The host's name.
    pub host: String,
    /// The process id.
    pub pid: u32,
}

impl Owner {
    /// This process.
    pub fn current() -> Owner {
        Owner {
            host: host_name(),
            pid: std::process::id(),
        }
    }
}

/// This machine's name: the kernel's on Linux, else the usual environment variables.
fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|name| name.trim().to_string())
        .filter(|name| !name.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok().filter(|n| !n.is_empty()))
        .or_else(|| std::env::var("COMPUTERNAME").ok().filter(|n| !n.is_empty()))
        .unwrap_or_else(|| "unknown".to_string())
}

/// What the store knows of a `running` run's owner.
#[derive(Debug, Clone)]
pub(crate) struct Liveness {
    pub host: Option<String>,
    pub pid: Option<i64>,
    pub heartbeat_ms: Option<i64>,
    pub every_ms: Option<i64>,
}

impl Liveness {
    /// Why a `running` run is in fact interrupted, or `None` when it may still be running (or the store
    /// cannot tell: a run recorded before owners were).
    pub(crate) fn interrupted(&self, here: &Owner, now_ms: i64) -> Option<String> {
        let (Some(beat), Some(every)) = (self.heartbeat_ms, self.every_ms) else {
            return None;
        };
        let owner = match (&self.host, self.pid) {
            (Some(host), Some(pid)) => format!("process {pid} on {host}"),
            _ => "its process".to_string(),
        };
        if self.host.as_deref() == Some(here.host.as_str())
            && let Some(pid) = self.pid
            && pid != i64::from(here.pid)
            && process_gone(pid)
        {
            return Some(format!(
                "interrupted: {owner} is gone (last heartbeat {})",
                crate::codec::rfc3339_of(beat)
            ));
        }
        if now_ms - beat > MISSED_BEATS * every.max(1) {
            return Some(format!(
                "interrupted: no heartbeat from {owner} since {}",
                crate::codec::rfc3339_of(beat)
            ));
        }
        None
    }
}

/// Whether process `pid` of this host no longer runs (a zombie, dead but not yet reaped, counts as
/// gone). Only Linux can tell without a system call; elsewhere the heartbeat alone decides.
pub(crate) fn process_gone(pid: i64) -> bool {
    if !cfg!(target_os = "linux") {
        return false;
    }
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state follows the command name in parentheses, which may itself hold spaces.
        Ok(stat) => stat
            .rsplit_once(')')
            .map(|(_, rest)| rest.trim_start().starts_with(['Z', 'X']))
            .unwrap_or(false),
        Err(_) => true,
    }
}

/// Renews run `run_id`'s heartbeat every `every` until aborted (by `finish_run`, or with the process).
pub(crate) fn start_heartbeat(pool: AnyPool, run_id: String, every: Duration) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // The first tick is immediate, and `begin_run` has just written the first beat.
        ticks.tick().await;
        loop {
            ticks.tick().await;
            let beat = sqlx::query("UPDATE runs SET heartbeat_ms = $1 WHERE id = $2")
                .bind(now_ms())
                .bind(&run_id)
                .execute(&pool)
                .await;
            if let Err(e) = beat {
                // A missed beat is not the run's failure; enough of them and readers say interrupted.
                tracing::warn!(run_id, "run store heartbeat: {e}");
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alive(pid: i64, beat: i64) -> Liveness {
        Liveness {
            host: Some(Owner::current().host),
            pid: Some(pid),
            heartbeat_ms: Some(beat),
            every_ms: Some(1_000),
        }
    }

    #[test]
    fn a_fresh_heartbeat_of_a_live_process_is_running() {
        let here = Owner::current();
        let now = now_ms();
        assert_eq!(
            alive(i64::from(here.pid), now).interrupted(&here, now),
            None
        );
    }

    #[test]
    fn a_stale_heartbeat_is_interrupted() {
        let here = Owner::current();
        let now = now_ms();
        let stale = alive(i64::from(here.pid), now - 3_001).interrupted(&here, now);
        assert!(stale.is_some_and(|why| why.contains("no heartbeat")));
        let other_host = Liveness {
            host: Some("elsewhere".into()),
            ..alive(1, now - 10_000)
        };
        assert!(other_host.interrupted(&here, now).is_some());
    }

    #[test]
    fn a_run_without_an_owner_reads_as_stored() {
        let unknown = Liveness {
            host: None,
            pid: None,
            heartbeat_ms: None,
            every_ms: None,
        };
        assert_eq!(unknown.interrupted(&Owner::current(), now_ms()), None);
    }
}

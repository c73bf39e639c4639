//! `keyflow serve DIR…`: the daemon. It loads the flows below the given folders (reloading when files
//! change), fires their triggers into the run store, runs the firings it takes with the normal executor,
//! and answers an HTTP API. Several daemons share a PostgreSQL store; a SQLite store has one.
//!
//! - [`catalog`]: the flows loaded, and the files that are not valid flows;
//! - [`scheduler`]: turns due fire times into firings in the store;
//! - [`runner`]: takes firings under leases and runs them, renews the leases, and resumes what a dead
//!   daemon left;
//! - [`metrics`]: counters for `/metrics`;
//! - [`actions`]: starting, stopping, resuming and re-running runs, as the API and the UI both do;
//! - [`api`]: the HTTP API;
//! - [`ui`]: the web UI's pages and their live updates.

pub mod actions;
pub mod api;
mod args;
pub mod catalog;
pub mod metrics;
mod runner;
mod scheduler;
pub mod ui;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use anyhow::anyhow;
use keyflow_engine::exec::sandbox::Sandbox;
use keyflow_store::Store;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

pub use args::DaemonArgs;

use crate::exit::{Exit, Failure, ResultExt};
use crate::interrupt::{Interrupts, Terminations};
use crate::out::Colors;
use crate::style;
use catalog::Catalog;
use metrics::Metrics;

/// What the daemon's tasks share.
pub struct Daemon {
    /// The run store.
    pub store: Arc<Store>,
    /// This daemon's id in the store (fresh at each start).
    pub worker: String,
    /// The flows loaded now.
    pub catalog: RwLock<Arc<Catalog>>,
    /// The firings this daemon runs now, by firing id.
    pub running: Mutex<HashMap<String, Local>>,
    /// How it runs.
    pub settings: Settings,
    /// Counters for `/metrics`.
    pub metrics: Metrics,
    /// Wakes the runner (a run was asked for, a run ended).
    pub wake: Notify,
    /// Fires when the daemon stops taking work (SIGTERM, Ctrl-C).
    pub stopping: CancellationToken,
    /// When the daemon started.
    pub started: Instant,
    /// Whether the first load of the flows is done (readiness).
    pub ready: std::sync::atomic::AtomicBool,
    /// Under `--sandbox`, what the twins hold, read whenever called (the web UI's sandbox page).
    pub twins: Option<keyflow_twins::sandbox::Snapshots>,
    /// Places for the web UI's live-update streams: [`MAX_STREAMS`] of them.
    pub streams: Arc<tokio::sync::Semaphore>,
}

/// The web UI's live-update streams open at once at most: each polls the store while its page is open,
/// so that many pages (or a client that opens streams and never reads them) cannot load the store without
/// bound. One more is answered 503; the page still works, without live updates.
pub const MAX_STREAMS: usize = 64;

/// A firing this daemon runs.
#[derive(Debug, Clone)]
pub struct Local {
    /// The run's id.
    pub run_id: String,
    /// The flow's name.
    pub flow: String,
    /// The trigger's id, for a triggered run.
    pub trigger: Option<String>,
    /// The fencing token it was taken with.
    pub fence: i64,
    /// Cancels the run.
    pub cancel: CancellationToken,
    /// Set once the firing is no longer this daemon's: the run's records stop going to the store.
    pub lost: Arc<std::sync::atomic::AtomicBool>,
    /// Set once the run ended here, before its firing is closed (a renewal then no longer finds it).
    pub ended: Arc<std::sync::atomic::AtomicBool>,
}

/// How the daemon runs flows.
#[derive(Clone)]
pub struct Settings {
    /// How long a taken firing stays ours without renewal.
    pub lease: Duration,
    /// How often leases are renewed and the store is asked for work.
    pub poll: Duration,
    /// How often the folders are checked for changed files.
    pub reload: Duration,
    /// At most this many runs at once in this daemon.
    pub max_runs: usize,
    /// Block calls at the same time within a run.
    pub parallelism: usize,
    /// The twins every run uses (`--sandbox`).
    pub sandbox: Option<Arc<Sandbox>>,
    /// Under `--sandbox`, whether plugins without a twin may call their real service.
    pub plugins_outside_sandbox: bool,
    /// How long running flows may take to finish after SIGTERM.
    pub grace: Duration,
    /// No log line per firing and run.
    pub quiet: bool,
    /// Whether stderr is painted.
    pub color: bool,
}

impl Daemon {
    /// The catalog now.
    pub fn catalog(&self) -> Arc<Catalog> {
        self.catalog
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The firings this daemon runs now.
    pub fn running(&self) -> std::sync::MutexGuard<'_, HashMap<String, Local>> {
        self.running.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A line of the daemon's log on stderr, with the time.
    pub fn log(&self, line: std::fmt::Arguments<'_>) {
        if !self.settings.quiet {
            let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
            errln!("{} {line}", style::dim(self.settings.color, &now));
        }
    }

    /// A warning on stderr (always shown).
    pub fn warn(&self, line: std::fmt::Arguments<'_>) {
        let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        errln!(
            "{} {} {line}",
            style::dim(self.settings.color, &now),
            style::yellow(self.settings.color, "warning:")
        );
    }
}

pub fn run(args: &DaemonArgs, colors: Colors) -> Result<Exit, Failure> {
    let color = colors.err;
    args.options.check()?;
    let token = args.token()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .environment()?;
    let store = args.store.open(&runtime).map_err(Failure::classify)?;
    let worker = uuid::Uuid::now_v7().to_string();
    runtime.block_on(async {
        let mut interrupts = Interrupts::listen().environment()?;
        let mut terminations = Terminations::listen().environment()?;
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .map_err(|e| {
                Failure::environment(anyhow!(
                    "cannot listen on {}: {e}: choose another address with --listen",
                    args.listen
                ))
            })?;
        let listen = listener.local_addr().environment()?;
        if let Some(holder) = store
            .hold(&worker, args.lease * 2)
            .await
            .map_err(Failure::environment)?
        {
            return Err(Failure::environment(anyhow!(
                "the run store {} is held by another keyflow serve, {holder}: a SQLite store has one daemon; stop that one, or give every daemon the same PostgreSQL store (--store postgres://…) to share the work",
                store.shown()
            )));
        }
        store
            .join(&worker, Some(&listen.to_string()))
            .await
            .map_err(Failure::environment)?;
        let twins = match args.options.sandbox {
            true => {
                let options = crate::sandbox::options(&args.options.sandbox_settings, None, None, color)
                    .map_err(Failure::classify)?;
                Some(
                    keyflow_twins::sandbox::Twins::start(options)
                        .await
                        .map_err(|e| Failure::classify(e.into()))?,
                )
            }
            false => None,
        };
        let daemon = Arc::new(Daemon {
            store: store.clone(),
            worker: worker.clone(),
            catalog: RwLock::new(Arc::new(Catalog::default())),
            running: Mutex::new(HashMap::new()),
            settings: Settings {
                lease: args.lease,
                poll: args.poll,
                reload: args.reload,
                max_runs: usize::from(args.max_runs),
                parallelism: usize::from(args.options.parallelism),
                sandbox: twins.as_ref().map(|t| t.sandbox()),
                plugins_outside_sandbox: args.options.allow_plugins_outside_sandbox,
                grace: args.grace,
                quiet: args.options.quiet,
                color,
            },
            metrics: Metrics::default(),
            wake: Notify::new(),
            stopping: CancellationToken::new(),
            started: Instant::now(),
            ready: std::sync::atomic::AtomicBool::new(false),
            twins: twins.as_ref().map(|t| t.snapshots()),
            streams: Arc::new(tokio::sync::Semaphore::new(MAX_STREAMS)),
        });
        daemon.log(format_args!(
            "{} daemon {worker} serving {} with the run store {}; API at http://{listen}{}",
            style::green(color, "keyflow serve:"),
            args.paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
            store.shown(),
            if twins.is_some() { "; sandbox twins" } else { "" }
        ));
        catalog::load(&daemon, &args.paths).await;
        daemon
            .ready
            .store(true, std::sync::atomic::Ordering::Release);
        let tasks = [
            tokio::spawn(catalog::watch(daemon.clone(), args.paths.clone())),
            tokio::spawn(scheduler::run(daemon.clone())),
            tokio::spawn(runner::run(daemon.clone())),
            tokio::spawn(api::serve(daemon.clone(), listener, token)),
        ];
        tokio::select! {
            _ = interrupts.next() => {}
            _ = terminations.next() => {}
        }
        daemon.stopping.cancel();
        let left = runner::drain(&daemon).await;
        for task in tasks {
            task.abort();
        }
        if left > 0 {
            daemon.warn(format_args!(
                "{left} run{} did not end within --grace {}s: handed back as interrupted; the next keyflow serve resumes {}",
                if left == 1 { "" } else { "s" },
                daemon.settings.grace.as_secs(),
                if left == 1 { "it" } else { "them" }
            ));
        }
        // The plugins' processes stop now, not when the process does.
        let catalog = daemon.catalog();
        let mut hosts: Vec<&Arc<keyflow_plugin_host::Host>> = Vec::new();
        for flow in catalog.flows.values() {
            if !hosts.iter().any(|h| Arc::ptr_eq(h, &flow.blocks.host)) {
                hosts.push(&flow.blocks.host);
            }
        }
        for host in hosts {
            host.shutdown().await;
        }
        if let Err(e) = store.leave(&worker).await {
            daemon.warn(format_args!("{e}"));
        }
        store.close().await;
        if let Some(twins) = twins {
            let _ = twins.save();
            crate::sandbox::finish(twins, color, true)
                .await
                .map_err(Failure::environment)?;
        }
        daemon.log(format_args!("stopped"));
        if left > 0 {
            // The runs still under way stop with the process, unrecorded as ended: interrupted.
            std::process::exit(0);
        }
        Ok(Exit::Success)
    })
}

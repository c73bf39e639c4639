//! Plugins in the registry, and their processes during a run: one long-lived process per plugin, started
//! by its first call (after checking the executable is the one recorded), started again by the next call
//! when it has ended, shut down when the run ends.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use futures::future::BoxFuture;
use keyflow_engine::block::dynamic::{intern, intern_all};
use keyflow_engine::block::erased::{Connected, DynamicSchemas};
use keyflow_engine::block::{
    BlockContext, BlockError, BlockSpec, ConnectorSpec, DynamicBlock, DynamicConnector, Effect,
    Origin, Recovery, RegisteredBlock, RegisteredConnector, Registry,
};
use keyflow_plugin::protocol::{self, CallParams, CallResult, Method};
use serde_json::{Map, Value};

use crate::describe::output_problems;
use crate::process::{Graces, Process};
use crate::record::{PluginRecord, Project};

/// The plugins of one command (a run): their processes, started on demand.
#[derive(Default)]
pub struct Host {
    plugins: Mutex<Vec<Arc<Runtime>>>,
    graces: Graces,
}

impl Host {
    /// A host whose processes get `graces`.
    pub fn new(graces: Graces) -> Arc<Host> {
        Arc::new(Host {
            plugins: Mutex::default(),
            graces,
        })
    }

    /// Registers the blocks and connector of every record: checked like the built-ins, their calls made
    /// by this host. A plugin whose ids are keyflow's own, or another plugin's, is refused.
    pub fn register(
        self: &Arc<Host>,
        mut registry: Registry,
        project: &Project,
        records: &[PluginRecord],
    ) -> Result<Registry, String> {
        for record in records {
            let connector = &record.description.connector;
            if registry.get_connector(&connector.id).is_some() {
                return Err(format!(
                    "plugin `{}`: connector `{}` is already keyflow's or another plugin's",
                    record.name, connector.id
                ));
            }
            let runtime = Arc::new(Runtime {
                name: intern(&record.name),
                executable: record.executable_path(&project.root),
                dir: project.root.clone(),
                sha256: record.sha256.clone(),
                process: tokio::sync::Mutex::default(),
                graces: self.graces,
                started: std::sync::atomic::AtomicUsize::new(0),
            });
            lock(&self.plugins).push(runtime.clone());
            registry = registry.registered_connector(RegisteredConnector::dynamic(
                ConnectorSpec {
                    id: intern(&connector.id),
                    title: intern(&connector.title),
                    description: intern(&connector.description),
                    secret_settings: intern_all(&connector.secret_settings),
                },
                connector.settings.clone(),
                Box::new(PluginConnector {
                    runtime: runtime.clone(),
                }),
            ));
            for block in &record.description.blocks {
                if registry.get(&block.id).is_some() {
                    return Err(format!(
                        "plugin `{}`: block `{}` is already keyflow's or another plugin's",
                        record.name, block.id
                    ));
                }
                let spec = BlockSpec {
                    id: intern(&block.id),
                    title: intern(&block.title),
                    connector: Some(intern(&connector.id)),
                    description: intern(&block.description),
                    effect: effect(block.effect),
                    secret_outputs: intern_all(&block.secret_outputs),
                    secret_inputs: intern_all(&block.secret_inputs),
                    output_mirrors_input: false,
                    destructive_when: None,
                    recovery: recovery(block.recovery),
                };
                registry = registry.registered_block(RegisteredBlock::dynamic(
                    spec,
                    DynamicSchemas {
                        input: block.input.clone(),
                        output: block.output.clone(),
                        example_output: block.example_output.clone(),
                    },
                    Origin::Plugin(intern(&record.name)),
                    Box::new(PluginBlock {
                        runtime: runtime.clone(),
                        id: intern(&block.id),
                        output: block.output.clone(),
                    }),
                ));
            }
        }
        Ok(registry)
    }

    /// Shuts every plugin process down (killing those that do not exit in time) and reaps them.
    pub async fn shutdown(&self) {
        let plugins: Vec<_> = lock(&self.plugins).clone();
        futures::future::join_all(plugins.iter().map(|p| p.shutdown())).await;
    }

    /// How many processes of plugin `name` were started so far (a crashed one is started again).
    pub fn started(&self, name: &str) -> usize {
        lock(&self.plugins)
            .iter()
            .filter(|p| p.name == name)
            .map(|p| p.started.load(std::sync::atomic::Ordering::Relaxed))
            .sum()
    }
}

/// One plugin of a run.
struct Runtime {
    name: &'static str,
    executable: PathBuf,
    dir: PathBuf,
    sha256: String,
    process: tokio::sync::Mutex<Option<Arc<Process>>>,
    graces: Graces,
    started: std::sync::atomic::AtomicUsize,
}

impl Runtime {
    /// The running process, started (again) when there is none.
    async fn process(&self) -> Result<Arc<Process>, BlockError> {
        let mut slot = self.process.lock().await;
        if let Some(process) = slot.as_ref().filter(|p| !p.ended()) {
            return Ok(process.clone());
        }
        verify(self.name, &self.executable, &self.sha256)?;
        let (process, _) =
            Process::start(self.name, &self.executable, &self.dir, self.graces).await?;
        self.started
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        *slot = Some(process.clone());
        Ok(process)
    }

    async fn shutdown(&self) {
        if let Some(process) = self.process.lock().await.take() {
            process.shutdown().await;
        }
    }
}

/// Refuses an executable that is not the one recorded (missing, or changed since `keyflow plugin add`).
pub fn verify(name: &str, executable: &Path, recorded: &str) -> Result<(), BlockError> {
    let actual = crate::sha256_file(executable).map_err(|e| {
        BlockError::fatal(
            "PluginMissing",
            format!(
                "plugin `{name}`: cannot read its executable {}: {e}",
                executable.display()
            ),
        )
    })?;
    if actual != recorded {
        return Err(BlockError::fatal(
            "PluginChanged",
            format!(
                "plugin `{name}`: its executable {} changed since it was added (sha256 {actual}, recorded {recorded}): review it, then `keyflow plugin update {name}`",
                executable.display()
            ),
        ));
    }
    Ok(())
}

/// A plugin connection's client: the settings its calls carry.
struct PluginClient {
    settings: Map<String, Value>,
}

struct PluginConnector {
    runtime: Arc<Runtime>,
}

/// What the sandbox says about a plugin connector without a twin, when the run does not let it out.
pub const NO_TWIN: &str = "no_twin";

impl DynamicConnector for PluginConnector {
    fn connect<'a>(
        &'a self,
        settings: Value,
        twin: Option<&'a Value>,
    ) -> BoxFuture<'a, Result<Connected, BlockError>> {
        Box::pin(async move {
            let Value::Object(mut settings) = settings else {
                return Err(BlockError::invalid_input(
                    "connection settings: not a mapping",
                ));
            };
            if let Some(twin) = twin {
                if twin.get(NO_TWIN).is_some() {
                    return Err(BlockError::fatal(
                        "NoSandbox",
                        format!(
                            "plugin `{}` has no twin: under `--sandbox` its blocks reach the real service only with `--allow-plugins-outside-sandbox`",
                            self.runtime.name
                        ),
                    ));
                }
                // The twin's settings (its address, a throwaway token) replace the connection's.
                if let Some(given) = twin.as_object() {
                    settings.extend(given.clone());
                }
            }
            Ok(Connected {
                client: Arc::new(PluginClient { settings }),
                secrets: Vec::new(),
            })
        })
    }
}

struct PluginBlock {
    runtime: Arc<Runtime>,
    id: &'static str,
    output: Value,
}

impl DynamicBlock for PluginBlock {
    fn call<'a>(
        &'a self,
        ctx: &'a BlockContext,
        input: Value,
    ) -> BoxFuture<'a, Result<Value, BlockError>> {
        Box::pin(async move {
            let settings = ctx.client::<PluginClient>()?.settings.clone();
            let process = self.runtime.process().await?;
            let answer = process
                .request(
                    Method::Call(CallParams {
                        block: self.id.to_string(),
                        settings,
                        input,
                        attempt: ctx.attempt,
                        recovering: ctx.recovering(),
                        idempotency_key: ctx.idempotency_key(),
                    }),
                    Some(ctx.clone()),
                    None,
                )
                .await?;
            let name = self.runtime.name;
            let result: CallResult = serde_json::from_value(answer).map_err(|e| {
                BlockError::fatal(
                    "PluginProtocolError",
                    format!(
                        "plugin `{name}` answered a call of `{}` without an `output`: {e}",
                        self.id
                    ),
                )
            })?;
            let problems = output_problems(&self.output, &result.output);
            if !problems.is_empty() {
                return Err(BlockError::fatal(
                    "PluginInvalidOutput",
                    format!(
                        "plugin `{name}` answered `{}` with an output that does not match its declared schema: {}",
                        self.id,
                        problems.into_iter().take(3).collect::<Vec<_>>().join("; ")
                    ),
                ));
            }
            Ok(result.output)
        })
    }
}

fn effect(effect: protocol::Effect) -> Effect {
    match effect {
        protocol::Effect::Read => Effect::Read,
        protocol::Effect::Create => Effect::Create,
        protocol::Effect::Update => Effect::Update,
        protocol::Effect::Destructive => Effect::Destructive,
    }
}

fn recovery(recovery: protocol::Recovery) -> Recovery {
    match recovery {
        protocol::Recovery::Repeat => Recovery::Repeat,
        protocol::Recovery::Reapply => Recovery::Reapply,
        protocol::Recovery::FindFirst => Recovery::FindFirst,
        protocol::Recovery::ReadFirst => Recovery::ReadFirst,
        protocol::Recovery::AtLeastOnce => Recovery::AtLeastOnce,
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

//! The one adapter from typed blocks and connectors to the dynamic form the engine runs.

use std::any::Any;
use std::path::Path;
use std::sync::Arc;

use futures::future::BoxFuture;
use schemars::JsonSchema;
use schemars::generate::SchemaSettings;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::{
    Block, BlockContext, BlockError, BlockSpec, DynamicBlock, DynamicConnector, EffectBy, Origin,
    PreviewError,
};

/// A block as the engine holds it: its spec, its schemas and example computed once, and the erased call.
pub struct RegisteredBlock {
    /// The block's static facts.
    pub spec: BlockSpec,
    /// JSON Schema of the input (as deserialized: fields with defaults are optional).
    pub input_schema: Value,
    /// JSON Schema of the output (as serialized).
    pub output_schema: Value,
    /// The example output, as JSON.
    pub example_output: Value,
    /// Built in, or from a plugin.
    pub origin: Origin,
    /// The input that decides the effect of a call, for a block whose effect depends on it.
    pub effect_by: Option<EffectBy>,
    block: Box<dyn ErasedBlock>,
}

impl std::fmt::Debug for RegisteredBlock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegisteredBlock")
            .field("id", &self.spec.id)
            .finish()
    }
}

impl RegisteredBlock {
    /// Wraps a typed block.
    pub fn new<B: Block>(block: B) -> RegisteredBlock {
        let spec = block.spec();
        let example_output = serde_json::to_value(block.example_output()).unwrap_or(Value::Null);
        RegisteredBlock {
            spec,
            input_schema: schema_of::<B::Input>(SchemaSettings::draft2020_12().for_deserialize()),
            output_schema: schema_of::<B::Output>(SchemaSettings::draft2020_12().for_serialize()),
            example_output,
            origin: Origin::BuiltIn,
            effect_by: block.effect_by(),
            block: Box::new(block),
        }
    }

    /// A block described at run time (a plugin's): its facts, schemas and example as described, its
    /// calls made by `block`.
    pub fn dynamic(
        spec: BlockSpec,
        schemas: DynamicSchemas,
        origin: Origin,
        block: Box<dyn DynamicBlock>,
    ) -> RegisteredBlock {
        RegisteredBlock {
            spec,
            input_schema: schemas.input,
            output_schema: schemas.output,
            example_output: schemas.example_output,
            origin,
            effect_by: None,
            block: Box::new(Dynamic(block)),
        }
    }

    /// Calls the block with a JSON input.
    pub fn call<'a>(
        &'a self,
        ctx: &'a BlockContext,
        input: Value,
    ) -> BoxFuture<'a, Result<Value, BlockError>> {
        self.block.call(ctx, input)
    }

    /// The block's output computed from its input when the flow is checked, if it can say (see
    /// [`Block::preview`]).
    pub fn preview(&self, input: &Value, flow_dir: &Path) -> Option<Result<Value, PreviewError>> {
        self.block.preview(input, flow_dir)
    }
}

/// What a block described at run time says about its data.
#[derive(Debug, Clone)]
pub struct DynamicSchemas {
    /// JSON Schema of the input.
    pub input: Value,
    /// JSON Schema of the output.
    pub output: Value,
    /// An example output, valid against `output`.
    pub example_output: Value,
}

/// A JSON Schema with every sub-schema inline, so that it can be embedded in the flow schema as it is.
pub fn schema_of<T: JsonSchema>(settings: SchemaSettings) -> Value {
    settings
        .with(|s| s.inline_subschemas = true)
        .into_generator()
        .into_root_schema_for::<T>()
        .to_value()
}

trait ErasedBlock: Send + Sync {
    fn call<'a>(
        &'a self,
        ctx: &'a BlockContext,
        input: Value,
    ) -> BoxFuture<'a, Result<Value, BlockError>>;

    fn preview(&self, input: &Value, flow_dir: &Path) -> Option<Result<Value, PreviewError>>;
}

impl<B: Block> ErasedBlock for B {
    fn call<'a>(
        &'a self,
        ctx: &'a BlockContext,
        input: Value,
    ) -> BoxFuture<'a, Result<Value, BlockError>> {
        Box::pin(async move {
            let input: B::Input = from_json(input, "input")?;
            let output = self.run(ctx, input).await?;
            serde_json::to_value(output).map_err(|e| {
                BlockError::fatal(
                    "InvalidOutput",
                    format!("the block's output is not JSON: {e}"),
                )
            })
        })
    }

    fn preview(&self, input: &Value, flow_dir: &Path) -> Option<Result<Value, PreviewError>> {
        // An input that does not deserialize (a value the preview could not resolve) has no preview.
        let input: B::Input = serde_json::from_value(input.clone()).ok()?;
        Some(Block::preview(self, input, flow_dir)?.and_then(|output| {
            serde_json::to_value(output).map_err(|e| PreviewError {
                input: "",
                message: format!("the block's output is not JSON: {e}"),
            })
        }))
    }
}

struct Dynamic(Box<dyn DynamicBlock>);

impl ErasedBlock for Dynamic {
    fn call<'a>(
        &'a self,
        ctx: &'a BlockContext,
        input: Value,
    ) -> BoxFuture<'a, Result<Value, BlockError>> {
        self.0.call(ctx, input)
    }

    fn preview(&self, _input: &Value, _flow_dir: &Path) -> Option<Result<Value, PreviewError>> {
        None
    }
}

/// Deserializes JSON into a typed value, naming the field at fault: ``input `tags.team`: invalid type``.
pub fn from_json<T: DeserializeOwned>(value: Value, what: &str) -> Result<T, BlockError> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if path == "." {
            BlockError::invalid_input(format!("{what}: {inner}"))
        } else {
            BlockError::invalid_input(format!("{what} `{path}`: {inner}"))
        }
    })
}

/// The facts about a connector.
#[derive(Debug, Clone, Copy)]
pub struct ConnectorSpec {
    /// The name flows write in `connector:`: `aws-kms`.
    pub id: &'static str,
    /// A title for people: "AWS Key Management Service".
    pub title: &'static str,
    /// What it connects to and how it finds credentials.
    pub description: &'static str,
    /// Settings that hold secrets: they may only be written `{ env: NAME }` or `{ file: PATH }`.
    pub secret_settings: &'static [&'static str],
}

/// A connector: turns a connection's settings into a client that its blocks share for the whole run.
pub trait Connector: Send + Sync + 'static {
    /// The settings, as written beside `connector:` (secret sources already read).
    type Settings: DeserializeOwned + JsonSchema + Send;
    /// The client its blocks get from [`BlockContext::client`].
    type Client: Send + Sync + 'static;

    /// The connector's static facts.
    fn spec(&self) -> ConnectorSpec;

    /// Builds the client; called once per connection per run, when a step first needs it.
    fn connect(
        &self,
        settings: Self::Settings,
    ) -> impl std::future::Future<Output = Result<Self::Client, BlockError>> + Send;

    /// The secret values `client` holds beyond the connection's secret settings — an API key taken from
    /// the environment or a qlik-cli context, credentials inside a URL — so that the run masks them
    /// wherever they would appear, as it masks the secret settings it read itself.
    fn secrets(&self, client: &Self::Client) -> Vec<String> {
        let _ = client;
        Vec::new()
    }

    /// The settings pointed at the connector's local twin under `--sandbox`: `twin` is what the sandbox
    /// says about the twin (its endpoint, throwaway credentials), `settings` the connection's own, read
    /// without its secret settings. Connectors without a twin cannot run in the sandbox.
    fn sandbox(
        &self,
        settings: Self::Settings,
        twin: &Value,
    ) -> Result<Self::Settings, BlockError> {
        let _ = (settings, twin);
        Err(BlockError::fatal(
            "NoSandbox",
            format!("connector `{}` has no sandbox twin", self.spec().id),
        ))
    }
}

/// A connector as the engine holds it.
pub struct RegisteredConnector {
    /// The connector's static facts.
    pub spec: ConnectorSpec,
    /// JSON Schema of its settings.
    pub settings_schema: Value,
    connector: Box<dyn ErasedConnector>,
}

impl std::fmt::Debug for RegisteredConnector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegisteredConnector")
            .field("id", &self.spec.id)
            .finish()
    }
}

/// A shared, type-erased client.
pub type Client = Arc<dyn Any + Send + Sync>;

/// A client just built, and the secret values it holds (see [`Connector::secrets`]).
pub struct Connected {
    /// The client.
    pub client: Client,
    /// The secrets the run must mask.
    pub secrets: Vec<String>,
}

impl RegisteredConnector {
    /// Wraps a typed connector.
    pub fn new<C: Connector>(connector: C) -> RegisteredConnector {
        RegisteredConnector {
            spec: connector.spec(),
            settings_schema: schema_of::<C::Settings>(
                SchemaSettings::draft2020_12().for_deserialize(),
            ),
            connector: Box::new(connector),
        }
    }

    /// A connector described at run time (a plugin's), its clients built by `connector`.
    pub fn dynamic(
        spec: ConnectorSpec,
        settings_schema: Value,
        connector: Box<dyn DynamicConnector>,
    ) -> RegisteredConnector {
        RegisteredConnector {
            spec,
            settings_schema,
            connector: Box::new(DynamicConnection(connector)),
        }
    }

    /// Builds a client from JSON settings; with `twin`, pointed at the connector's sandbox twin.
    pub fn connect<'a>(
        &'a self,
        settings: Value,
        twin: Option<&'a Value>,
    ) -> BoxFuture<'a, Result<Connected, BlockError>> {
        self.connector.connect(settings, twin)
    }
}

struct DynamicConnection(Box<dyn DynamicConnector>);

impl ErasedConnector for DynamicConnection {
    fn connect<'a>(
        &'a self,
        settings: Value,
        twin: Option<&'a Value>,
    ) -> BoxFuture<'a, Result<Connected, BlockError>> {
        self.0.connect(settings, twin)
    }
}

trait ErasedConnector: Send + Sync {
    fn connect<'a>(
        &'a self,
        settings: Value,
        twin: Option<&'a Value>,
    ) -> BoxFuture<'a, Result<Connected, BlockError>>;
}

impl<C: Connector> ErasedConnector for C {
    fn connect<'a>(
        &'a self,
        settings: Value,
        twin: Option<&'a Value>,
    ) -> BoxFuture<'a, Result<Connected, BlockError>> {
        Box::pin(async move {
            let mut settings: C::Settings = from_json(settings, "connection setting")?;
            if let Some(twin) = twin {
                settings = Connector::sandbox(self, settings, twin)?;
            }
            let client = Connector::connect(self, settings).await?;
            let secrets = Connector::secrets(self, &client);
            Ok(Connected {
                client: Arc::new(client),
                secrets,
            })
        })
    }
}

//! A connector to an imaginary service and its blocks, for the connection and template tests.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use keyflow_engine::block::{
    Block, BlockContext, BlockError, BlockSpec, Connector, ConnectorSpec, Effect, Recovery,
    Registry,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A connector to an imaginary service; counts how many clients it built.
struct TestService {
    built: Arc<AtomicUsize>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct Settings {
    /// Where the service is.
    endpoint: String,
    /// The credential.
    token: String,
    /// Optional region.
    #[serde(default)]
    region: Option<String>,
}

struct Client {
    endpoint: String,
    region: Option<String>,
    token_len: usize,
}

impl Connector for TestService {
    type Settings = Settings;
    type Client = Client;

    fn spec(&self) -> ConnectorSpec {
        ConnectorSpec {
            id: "test-svc",
            title: "Test service",
            description: "a connector for tests",
            secret_settings: &["token"],
        }
    }

    async fn connect(&self, settings: Settings) -> Result<Client, BlockError> {
        self.built.fetch_add(1, Ordering::SeqCst);
        if settings.token == "reject-me" {
            return Err(BlockError::fatal(
                "AuthFailed",
                "the service refused the credential",
            ));
        }
        Ok(Client {
            endpoint: settings.endpoint,
            region: settings.region,
            token_len: settings.token.len(),
        })
    }
}

/// A block of that connector: says who it talks to.
struct WhoAmI;

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct WhoAmIInput {}

#[derive(Serialize, JsonSchema)]
struct WhoAmIOutput {
    endpoint: String,
    region: Option<String>,
    token_len: usize,
}

impl Block for WhoAmI {
    type Input = WhoAmIInput;
    type Output = WhoAmIOutput;

    fn spec(&self) -> BlockSpec {
        BlockSpec {
            id: "test-svc.whoami",
            title: "Who Am I",
            connector: Some("test-svc"),
            description: "returns the connection's endpoint",
            effect: Effect::Read,
            secret_outputs: &[],
            secret_inputs: &[],
            output_mirrors_input: false,
            destructive_when: None,
            recovery: Recovery::Repeat,
        }
    }

    fn example_output(&self) -> WhoAmIOutput {
        WhoAmIOutput {
            endpoint: "https://example".into(),
            region: None,
            token_len: 3,
        }
    }

    async fn run(&self, ctx: &BlockContext, _: WhoAmIInput) -> Result<WhoAmIOutput, BlockError> {
        let client = ctx.client::<Client>()?;
        Ok(WhoAmIOutput {
            endpoint: client.endpoint.clone(),
            region: client.region.clone(),
            token_len: client.token_len,
        })
    }
}

/// A block without connector.
struct Noop;

impl Block for Noop {
    type Input = WhoAmIInput;
    type Output = WhoAmIInput;

    fn spec(&self) -> BlockSpec {
        BlockSpec {
            id: "core.noop",
            title: "Noop",
            connector: None,
            description: "does nothing",
            effect: Effect::Read,
            secret_outputs: &[],
            secret_inputs: &[],
            output_mirrors_input: false,
            destructive_when: None,
            recovery: Recovery::Repeat,
        }
    }

    fn example_output(&self) -> WhoAmIInput {
        WhoAmIInput {}
    }

    async fn run(&self, _: &BlockContext, _: WhoAmIInput) -> Result<WhoAmIInput, BlockError> {
        Ok(WhoAmIInput {})
    }
}

impl Serialize for WhoAmIInput {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        serde_json::Map::new().serialize(s)
    }
}

/// A block that fails when told to, or deletes something (destructive) when told not to.
struct Shred;

#[derive(Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct ShredInput {
    /// Fail with `Boom`.
    fail: bool,
}

impl Block for Shred {
    type Input = ShredInput;
    type Output = ShredInput;

    fn spec(&self) -> BlockSpec {
        BlockSpec {
            id: "core.shred",
            title: "Shred",
            connector: None,
            description: "destroys something, or fails",
            effect: Effect::Destructive,
            secret_outputs: &[],
            secret_inputs: &[],
            output_mirrors_input: false,
            destructive_when: None,
            recovery: Recovery::AtLeastOnce,
        }
    }

    fn example_output(&self) -> ShredInput {
        ShredInput { fail: false }
    }

    async fn run(&self, _: &BlockContext, input: ShredInput) -> Result<ShredInput, BlockError> {
        if input.fail {
            return Err(BlockError::fatal("Boom", "told to fail"));
        }
        Ok(input)
    }
}

/// The test connector and its blocks; `built` counts the clients built.
pub fn registry(built: Arc<AtomicUsize>) -> Registry {
    Registry::new()
        .connector(TestService { built })
        .block(WhoAmI)
        .block(Noop)
        .block(Shred)
}

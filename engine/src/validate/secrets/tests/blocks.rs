//! A small registry for the secrets tests: a block with a secret output, one with a secret input, a log,
//! and a `core.set` that mirrors its input.

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::block::{Block, BlockContext, BlockError, BlockSpec, Effect, Recovery, Registry};

fn spec(id: &'static str) -> BlockSpec {
    BlockSpec {
        id,
        title: id,
        connector: None,
        description: id,
        effect: Effect::Read,
        secret_outputs: &[],
        secret_inputs: &[],
        output_mirrors_input: false,
        destructive_when: None,
        recovery: Recovery::Repeat,
    }
}

/// A data key, as `aws-kms.generate-data-key` gives it: `Plaintext` is secret.
struct Generate;

#[derive(Deserialize, JsonSchema)]
struct NoInput {}

#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "PascalCase")]
struct DataKey {
    plaintext: String,
    ciphertext_blob: String,
    key_id: String,
}

impl Block for Generate {
    type Input = NoInput;
    type Output = DataKey;

    fn spec(&self) -> BlockSpec {
        BlockSpec {
            secret_outputs: &["Plaintext"],
            ..spec("kms.generate")
        }
    }

    fn example_output(&self) -> DataKey {
        DataKey {
            plaintext: "cGxhaW4=".into(),
            ciphertext_blob: "Y2lwaGVy".into(),
            key_id: "k".into(),
        }
    }

    async fn run(&self, _: &BlockContext, _: NoInput) -> Result<DataKey, BlockError> {
        Ok(self.example_output())
    }
}

/// Encrypts `plaintext` (a secret input); `tags` go to the service in the clear.
struct Encrypt;

#[derive(Deserialize, JsonSchema)]
#[allow(dead_code)]
struct EncryptInput {
    plaintext: String,
    #[serde(default)]
    tags: IndexMap<String, String>,
}

#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "PascalCase")]
struct Sealed {
    ciphertext_blob: String,
}

impl Block for Encrypt {
    type Input = EncryptInput;
    type Output = Sealed;

    fn spec(&self) -> BlockSpec {
        BlockSpec {
            secret_inputs: &["plaintext"],
            ..spec("kms.encrypt")
        }
    }

    fn example_output(&self) -> Sealed {
        Sealed {
            ciphertext_blob: "Y2lwaGVy".into(),
        }
    }

    async fn run(&self, _: &BlockContext, _: EncryptInput) -> Result<Sealed, BlockError> {
        Ok(self.example_output())
    }
}

/// Logs a message.
struct Log;

#[derive(Deserialize, JsonSchema)]
#[allow(dead_code)]
struct Message {
    message: String,
}

impl Block for Log {
    type Input = Message;
    type Output = Option<Value>;

    fn spec(&self) -> BlockSpec {
        spec("core.log")
    }

    fn example_output(&self) -> Option<Value> {
        None
    }

    async fn run(&self, _: &BlockContext, _: Message) -> Result<Option<Value>, BlockError> {
        Ok(None)
    }
}

/// Outputs its input.
struct Set;

impl Block for Set {
    type Input = IndexMap<String, Value>;
    type Output = IndexMap<String, Value>;

    fn spec(&self) -> BlockSpec {
        BlockSpec {
            output_mirrors_input: true,
            ..spec("core.set")
        }
    }

    fn example_output(&self) -> IndexMap<String, Value> {
        IndexMap::new()
    }

    async fn run(
        &self,
        _: &BlockContext,
        input: IndexMap<String, Value>,
    ) -> Result<IndexMap<String, Value>, BlockError> {
        Ok(input)
    }
}

pub(super) fn registry() -> Registry {
    Registry::new()
        .block(Generate)
        .block(Encrypt)
        .block(Log)
        .block(Set)
}

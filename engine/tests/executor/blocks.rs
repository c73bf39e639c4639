//! Test blocks.

use super::*;

/// `test.work`: takes `ms` (tokio's clock), then returns its label and value, or fails when asked to.
pub(crate) struct Work(pub(crate) Arc<Probe>);

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct WorkInput {
    /// Names the call in the probe.
    pub(crate) label: String,
    /// How long the call takes.
    #[serde(default)]
    pub(crate) ms: u64,
    /// Handed back as the output's `value`.
    #[serde(default)]
    pub(crate) value: Value,
    /// Fail (not retryable) after the wait.
    #[serde(default)]
    pub(crate) fail: bool,
    /// Watch the run's cancellation during the wait, as long waits should, and fail when it fires.
    #[serde(default)]
    pub(crate) cooperative: bool,
    /// A message to log before working.
    #[serde(default)]
    pub(crate) log: Option<String>,
}

#[derive(Serialize, JsonSchema)]
pub(crate) struct WorkOutput {
    pub(crate) label: String,
    pub(crate) value: Value,
}

impl Block for Work {
    type Input = WorkInput;
    type Output = WorkOutput;

    fn spec(&self) -> BlockSpec {
        spec("test.work", "Work")
    }

    fn example_output(&self) -> WorkOutput {
        WorkOutput {
            label: "a".into(),
            value: json!(1),
        }
    }

    async fn run(&self, ctx: &BlockContext, input: WorkInput) -> Result<WorkOutput, BlockError> {
        if let Some(message) = &input.log {
            ctx.log(keyflow_engine::block::LogLevel::Info, message.clone());
        }
        let running = self.0.enter(&input.label);
        lock(&self.0.seen).push((input.label.clone(), input.value.clone()));
        let wait = tokio::time::sleep(Duration::from_millis(input.ms));
        if input.cooperative {
            tokio::select! {
                () = wait => {}
                () = ctx.cancelled() => return Err(BlockError::fatal("Cancelled", "the run was cancelled")),
            }
        } else {
            wait.await;
        }
        running.finish();
        if input.fail {
            return Err(BlockError::fatal(
                "Boom",
                format!("`{}` was told to fail", input.label),
            ));
        }
        Ok(WorkOutput {
            label: input.label,
            value: input.value,
        })
    }
}

/// `test.flaky`: the first `fail_times` calls of a key fail (or hang for `hang_ms`), the next succeed.
pub(crate) struct Flaky(pub(crate) Arc<Probe>);

pub(crate) fn yes() -> bool {
    true
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct FlakyInput {
    /// Counts calls.
    pub(crate) key: String,
    /// Calls that fail before one succeeds.
    pub(crate) fail_times: u32,
    /// Whether the failures are retryable.
    #[serde(default = "yes")]
    pub(crate) retryable: bool,
    /// The `Retry-After` of the failures.
    #[serde(default)]
    pub(crate) retry_after_ms: Option<u64>,
    /// Instead of failing, the failing calls take this long (and then succeed).
    #[serde(default)]
    pub(crate) hang_ms: Option<u64>,
}

#[derive(Serialize, JsonSchema)]
pub(crate) struct FlakyOutput {
    pub(crate) calls: u32,
}

impl Block for Flaky {
    type Input = FlakyInput;
    type Output = FlakyOutput;

    fn spec(&self) -> BlockSpec {
        spec("test.flaky", "Flaky")
    }

    fn example_output(&self) -> FlakyOutput {
        FlakyOutput { calls: 1 }
    }

    async fn run(&self, ctx: &BlockContext, input: FlakyInput) -> Result<FlakyOutput, BlockError> {
        let running = self.0.enter(&input.key);
        let n = self.0.count(&input.key);
        lock(&self.0.seen).push((
            format!("{} call {n}", input.key),
            serde_json::json!({ "recovering": ctx.recovering(), "key": ctx.idempotency_key() }),
        ));
        if n <= input.fail_times {
            if let Some(ms) = input.hang_ms {
                tokio::time::sleep(Duration::from_millis(ms)).await;
            } else if input.retryable {
                let error =
                    BlockError::retryable("ThrottlingException", format!("call {n} throttled"));
                return Err(match input.retry_after_ms {
                    Some(ms) => error.with_retry_after(Duration::from_millis(ms)),
                    None => error,
                });
            } else {
                return Err(BlockError::fatal(
                    "AccessDeniedException",
                    format!("call {n} denied"),
                ));
            }
        }
        running.finish();
        Ok(FlakyOutput { calls: n })
    }
}

/// `test.poll`: a long operation seen through successive calls: New 0%, InProgress 50%, Completed 100%.
pub(crate) struct Poll(pub(crate) Arc<Probe>);

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PollInput {
    /// Counts calls.
    pub(crate) key: String,
}

#[derive(Serialize, JsonSchema)]
pub(crate) struct PollOutput {
    pub(crate) progress: u32,
    pub(crate) state: String,
}

impl Block for Poll {
    type Input = PollInput;
    type Output = PollOutput;

    fn spec(&self) -> BlockSpec {
        spec("test.poll", "Poll")
    }

    fn example_output(&self) -> PollOutput {
        PollOutput {
            progress: 100,
            state: "Completed".into(),
        }
    }

    async fn run(&self, _: &BlockContext, input: PollInput) -> Result<PollOutput, BlockError> {
        self.0.enter(&input.key).finish();
        let n = self.0.count(&input.key);
        let state = match n {
            1 => "New",
            2 => "InProgress",
            _ => "Completed",
        };
        Ok(PollOutput {
            progress: (50 * (n - 1)).min(100),
            state: state.into(),
        })
    }
}

/// `test.policy`: an update that becomes destructive when `force` is true.
pub(crate) struct Policy(pub(crate) Arc<Probe>);

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PolicyInput {
    /// The key.
    pub(crate) key_id: String,
    /// Skip the safety check: destructive.
    #[serde(default)]
    pub(crate) force: bool,
}

impl Block for Policy {
    type Input = PolicyInput;
    type Output = DestroyOutput;

    fn spec(&self) -> BlockSpec {
        BlockSpec {
            effect: Effect::Update,
            destructive_when: Some("force"),
            recovery: Recovery::Reapply,
            ..spec("test.policy", "Put Policy")
        }
    }

    fn example_output(&self) -> DestroyOutput {
        DestroyOutput {
            key_id: "k".into(),
            state: "Enabled".into(),
        }
    }

    async fn run(&self, _: &BlockContext, input: PolicyInput) -> Result<DestroyOutput, BlockError> {
        self.0.count("policy");
        Ok(DestroyOutput {
            key_id: input.key_id,
            state: format!("forced={}", input.force),
        })
    }
}

/// `test.destroy`: a destructive block.
pub(crate) struct Destroy(pub(crate) Arc<Probe>);

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct DestroyInput {
    /// The key to destroy.
    pub(crate) key_id: String,
}

#[derive(Serialize, JsonSchema)]
pub(crate) struct DestroyOutput {
    pub(crate) key_id: String,
    pub(crate) state: String,
}

impl Block for Destroy {
    type Input = DestroyInput;
    type Output = DestroyOutput;

    fn spec(&self) -> BlockSpec {
        BlockSpec {
            effect: Effect::Destructive,
            ..spec("test.destroy", "Destroy Key")
        }
    }

    fn example_output(&self) -> DestroyOutput {
        DestroyOutput {
            key_id: "k".into(),
            state: "PendingDeletion".into(),
        }
    }

    async fn run(
        &self,
        _: &BlockContext,
        input: DestroyInput,
    ) -> Result<DestroyOutput, BlockError> {
        self.0.count("destroy");
        Ok(DestroyOutput {
            key_id: input.key_id,
            state: "PendingDeletion".into(),
        })
    }
}

/// `test.secret`: returns a token, declared secret.
pub(crate) struct Secret;

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SecretInput {
    /// Whose token.
    pub(crate) name: String,
}

#[derive(Serialize, JsonSchema)]
pub(crate) struct SecretOutput {
    pub(crate) name: String,
    pub(crate) token: String,
}

impl Block for Secret {
    type Input = SecretInput;
    type Output = SecretOutput;

    fn spec(&self) -> BlockSpec {
        BlockSpec {
            secret_outputs: &["token"],
            secret_inputs: &[],
            ..spec("test.secret", "Secret")
        }
    }

    fn example_output(&self) -> SecretOutput {
        SecretOutput {
            name: "n".into(),
            token: "t".into(),
        }
    }

    async fn run(&self, _: &BlockContext, input: SecretInput) -> Result<SecretOutput, BlockError> {
        Ok(SecretOutput {
            token: format!("s3cr3t-{}", input.name),
            name: input.name,
        })
    }
}

/// `test.consume`: uses a token (an input that takes secrets), and tells the probe what it got.
pub(crate) struct Consume(pub(crate) Arc<Probe>);

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ConsumeInput {
    /// The token.
    pub(crate) token: String,
}

#[derive(Serialize, JsonSchema)]
pub(crate) struct ConsumeOutput {
    pub(crate) length: usize,
}

impl Block for Consume {
    type Input = ConsumeInput;
    type Output = ConsumeOutput;

    fn spec(&self) -> BlockSpec {
        BlockSpec {
            secret_inputs: &["token"],
            ..spec("test.consume", "Consume")
        }
    }

    fn example_output(&self) -> ConsumeOutput {
        ConsumeOutput { length: 1 }
    }

    async fn run(
        &self,
        _: &BlockContext,
        input: ConsumeInput,
    ) -> Result<ConsumeOutput, BlockError> {
        let length = input.token.len();
        lock(&self.0.seen).push(("consume".into(), Value::String(input.token)));
        Ok(ConsumeOutput { length })
    }
}

/// `test.cancel-run`: cancels the run (as Ctrl-C would) and returns at once.
pub(crate) struct CancelRun(pub(crate) Arc<Probe>);

/// Input of `test.cancel-run`.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CancelRunInput {
    /// Counts calls.
    pub(crate) key: String,
    /// End with an error, as a block that sees the cancellation itself does.
    #[serde(default)]
    pub(crate) fail: bool,
}

impl Block for CancelRun {
    type Input = CancelRunInput;
    type Output = FlakyOutput;

    fn spec(&self) -> BlockSpec {
        spec("test.cancel-run", "Cancel Run")
    }

    fn example_output(&self) -> FlakyOutput {
        FlakyOutput { calls: 1 }
    }

    async fn run(
        &self,
        _: &BlockContext,
        input: CancelRunInput,
    ) -> Result<FlakyOutput, BlockError> {
        let calls = self.0.count(&input.key);
        self.0.cancel.cancel();
        if input.fail {
            return Err(BlockError::fatal("Cancelled", "the run was cancelled"));
        }
        Ok(FlakyOutput { calls })
    }
}

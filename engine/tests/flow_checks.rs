//! Rules a connector adds over whole flows: they run on otherwise valid flows, see inputs previewed with
//! example outputs, and report like any other problem, with the line and column of the input.

use keyflow_engine::block::{
    Block, BlockContext, BlockError, BlockSpec, CheckedFlow, Effect, Finding, FlowCheck, Recovery,
    Registry,
};
use keyflow_engine::diagnostic::render_all;
use keyflow_engine::source::SourceFile;
use keyflow_engine::validate::check;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Makes an account id, like a KMS key's metadata.
struct MakeAccount;

#[derive(Deserialize, JsonSchema)]
struct NoInput {}

#[derive(Serialize, JsonSchema)]
struct Account {
    /// The account.
    account: String,
}

impl Block for MakeAccount {
    type Input = NoInput;
    type Output = Account;
    fn spec(&self) -> BlockSpec {
        BlockSpec {
            id: "test.account",
            title: "Account",
            connector: None,
            description: "an account",
            effect: Effect::Read,
            secret_outputs: &[],
            secret_inputs: &[],
            output_mirrors_input: false,
            destructive_when: None,
            recovery: Recovery::Repeat,
        }
    }
    fn example_output(&self) -> Account {
        Account {
            account: "111122223333".into(),
        }
    }
    async fn run(&self, _: &BlockContext, _: NoInput) -> Result<Account, BlockError> {
        Ok(self.example_output())
    }
}

/// Takes a principal, like a key policy.
struct Grant;

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct GrantInput {
    /// Who.
    principal: String,
}

impl Block for Grant {
    type Input = GrantInput;
    type Output = Account;
    fn spec(&self) -> BlockSpec {
        BlockSpec {
            id: "test.grant",
            title: "Grant",
            description: "a grant",
            ..MakeAccount.spec()
        }
    }
    fn example_output(&self) -> Account {
        MakeAccount.example_output()
    }
    async fn run(&self, _: &BlockContext, input: GrantInput) -> Result<Account, BlockError> {
        Ok(Account {
            account: input.principal,
        })
    }
}

/// Principals must be account roots.
struct RootsOnly;

impl FlowCheck for RootsOnly {
    fn blocks(&self) -> &'static [&'static str] {
        &["test.grant"]
    }

    fn check(&self, flow: &CheckedFlow) -> Vec<Finding> {
        flow.calling("test.grant")
            .filter_map(|s| {
                let principal = s.input["principal"].as_str().unwrap_or_default();
                (!principal.ends_with(":root")).then(|| {
                    Finding::at_input(
                        &s.id,
                        "principal",
                        "not-a-root",
                        format!("`{principal}` is not an account root"),
                    )
                    .help("grant `arn:aws:iam::<account>:root`")
                })
            })
            .collect()
    }
}

fn registry() -> Registry {
    Registry::new()
        .block(MakeAccount)
        .block(Grant)
        .check(RootsOnly)
}

#[test]
fn a_rule_sees_previewed_inputs_and_points_at_the_input() {
    let good = "name: t\nsteps:\n  - id: account\n    block: test.account\n  - id: grant\n    block: test.grant\n    with:\n      principal: \"arn:aws:iam::{{steps.account.output.account}}:root\"\n";
    assert!(
        check(SourceFile::new("good.yaml", good), &registry()).is_ok(),
        "a template resolved with the example passes"
    );

    let bad = "name: t\nsteps:\n  - id: account\n    block: test.account\n  - id: grant\n    block: test.grant\n    with:\n      principal: \"arn:aws:iam::{{steps.account.output.account}}:user/bob\"\n";
    let source = SourceFile::new("bad.yaml", bad);
    let diagnostics = check(source.clone(), &registry()).expect_err("a user is not a root");
    assert_eq!(diagnostics.len(), 1);
    assert_eq!(diagnostics[0].kind.code(), "not-a-root");
    let text = render_all(&diagnostics, &source, false);
    assert!(
        text.contains(
            "error[not-a-root]: `arn:aws:iam::111122223333:user/bob` is not an account root"
        ),
        "{text}"
    );
    assert!(
        text.contains("bad.yaml:8:18"),
        "points at the input: {text}"
    );
    assert!(
        text.contains("help: grant `arn:aws:iam::<account>:root`"),
        "{text}"
    );
}

#[test]
fn rules_stay_quiet_on_flows_without_their_blocks_and_after_other_problems() {
    let other = "name: t\nsteps:\n  - id: account\n    block: test.account\n";
    assert!(check(SourceFile::new("other.yaml", other), &registry()).is_ok());
    let broken = "name: t\nsteps:\n  - id: grant\n    block: test.grant\n    with:\n      principal: user\n      extra: 1\n";
    let diagnostics =
        check(SourceFile::new("broken.yaml", broken), &registry()).expect_err("unknown input");
    assert!(
        diagnostics.iter().all(|d| d.kind.code() != "not-a-root"),
        "{diagnostics:?}"
    );
}

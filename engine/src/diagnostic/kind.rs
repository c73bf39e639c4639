//! Every kind of problem the checker reports, with its code, message and help.

/// What is wrong. Each kind holds exactly what its message needs; identifiers are shown in backticks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// The file is not valid YAML.
    YamlSyntax { message: String },
    /// A value has the wrong shape for the flow format (a string where a list is expected...).
    Structure { message: String },
    /// A template written without quotes, which YAML reads as a mapping.
    UnquotedTemplate,
    /// A key the flow format does not have.
    UnknownField { field: String, allowed: Vec<String> },
    /// A name that is not a valid identifier.
    InvalidId { what: &'static str, id: String },
    /// Two steps with the same id.
    DuplicateId { id: String, first_line: usize },
    /// A block id the registry does not have.
    UnknownBlock { block: String },
    /// A connector id the registry does not have.
    UnknownConnector { connector: String },
    /// A connector block with no connection to use.
    MissingConnection { block: String, connector: String },
    /// `connection:` names a connection the flow does not declare.
    UnknownConnection { name: String },
    /// `connection:` names a connection of another connector.
    WrongConnector {
        connection: String,
        found: String,
        expected: String,
    },
    /// Several connections fit and the step does not say which.
    AmbiguousConnection {
        connector: String,
        candidates: Vec<String>,
    },
    /// A core block given a connection.
    NeedlessConnection { block: String },
    /// A secret setting written as a literal.
    LiteralSecret { setting: String },
    /// A setting the connector does not have, or of the wrong type.
    InvalidSetting { setting: String, message: String },
    /// A required input left out.
    MissingInput { input: String, block: String },
    /// An input the block does not have.
    UnknownInput {
        input: String,
        block: String,
        allowed: Vec<String>,
    },
    /// A value whose type is not what the input takes.
    TypeMismatch {
        what: String,
        expected: String,
        found: String,
        /// What the input is for (its description), shown as help.
        hint: Option<String>,
    },
    /// A value that is not one of the allowed values.
    NotAllowed { what: String, allowed: Vec<String> },
    /// A malformed JSONPath reference.
    InvalidReference { message: String },
    /// A template that does not compile.
    InvalidTemplate { message: String },
    /// A template calling a helper that does not exist.
    UnknownHelper { helper: String },
    /// A condition that is not exactly one form.
    InvalidCondition { message: String },
    /// A regular expression that does not compile.
    InvalidRegex { message: String },
    /// A reference or `after:` naming a step that does not exist.
    UnknownStep { id: String },
    /// A step referring to itself.
    SelfReference { id: String },
    /// A reference to a parameter that `params:` does not declare.
    UndeclaredParam { name: String },
    /// `$.steps.<id>.<field>` with a field other than `output`, `status`, `error`.
    UnknownStepField { field: String },
    /// A reference to an output field the upstream block does not declare.
    UnknownOutputField {
        step: String,
        block: String,
        field: String,
        available: Vec<String>,
    },
    /// A reference into the part of a step's output whose schema declares nothing (a raw request's
    /// response): a warning, the flow runs.
    FreeFormOutput {
        step: String,
        block: String,
        field: String,
    },
    /// A reference to `$.run.<field>` that does not exist.
    UnknownRunField { field: String },
    /// `$.item`, `$.index` or `$.output` used where it does not exist.
    OutOfScope { root: String, place: &'static str },
    /// Steps that wait for each other.
    Cycle { path: Vec<String> },
    /// A destructive step without `confirm: true`.
    MissingConfirm {
        step: String,
        block: String,
        /// The input that makes an otherwise safe call destructive.
        because: Option<String>,
    },
    /// A secret wired where it would travel in the clear (an input that does not take secrets, a flow
    /// output) without `reveal: true`.
    MissingReveal {
        /// Where the secret comes from: `steps.dk.output.Plaintext`.
        secret: String,
        /// Where it goes, and why that is refused: "input `message` of `core.log` does not take secrets".
        sink: String,
        /// How to fix it, for this sink.
        help: String,
    },
    /// A parameter declaration that contradicts itself.
    InvalidParam { name: String, message: String },
    /// A control (`for_each`, `retry`, `until`...) that cannot work as written.
    InvalidControl { message: String },
    /// A trigger's cron expression that does not parse or never matches.
    InvalidCron { message: String },
    /// A trigger's time zone the IANA database does not have.
    UnknownTimezone { name: String },
    /// A trigger that cannot work as written (a duplicate id, a catch-up window without effect…).
    InvalidTrigger { message: String },
    /// A trigger's parameter that the flow's `params` refuse (unknown, missing, of the wrong type).
    TriggerParam {
        trigger: String,
        name: String,
        message: String,
    },
    /// What a connector's rule over the whole flow found (a key policy Qlik Cloud could not use…).
    Check {
        code: &'static str,
        message: String,
        help: Option<String>,
    },
}

impl Kind {
    /// A stable short code, shown as `error[code]` and searchable in the docs.
    pub fn code(&self) -> &'static str {
        match self {
            Kind::YamlSyntax { .. } => "yaml-syntax",
            Kind::Structure { .. } => "invalid-structure",
            Kind::UnquotedTemplate => "unquoted-template",
            Kind::UnknownField { .. } => "unknown-field",
            Kind::InvalidId { .. } => "invalid-id",
            Kind::DuplicateId { .. } => "duplicate-id",
            Kind::UnknownBlock { .. } => "unknown-block",
            Kind::UnknownConnector { .. } => "unknown-connector",
            Kind::MissingConnection { .. } => "missing-connection",
            Kind::UnknownConnection { .. } => "unknown-connection",
            Kind::WrongConnector { .. } => "wrong-connector",
            Kind::AmbiguousConnection { .. } => "ambiguous-connection",
            Kind::NeedlessConnection { .. } => "needless-connection",
            Kind::LiteralSecret { .. } => "literal-secret",
            Kind::InvalidSetting { .. } => "invalid-setting",
            Kind::MissingInput { .. } => "missing-input",
            Kind::UnknownInput { .. } => "unknown-input",
            Kind::TypeMismatch { .. } => "type-mismatch",
            Kind::NotAllowed { .. } => "not-allowed",
            Kind::InvalidReference { .. } => "invalid-reference",
            Kind::InvalidTemplate { .. } => "invalid-template",
            Kind::UnknownHelper { .. } => "unknown-helper",
            Kind::InvalidCondition { .. } => "invalid-condition",
            Kind::InvalidRegex { .. } => "invalid-regex",
            Kind::UnknownStep { .. } => "unknown-step",
            Kind::SelfReference { .. } => "self-reference",
            Kind::UndeclaredParam { .. } => "undeclared-param",
            Kind::UnknownStepField { .. } => "unknown-step-field",
            Kind::UnknownOutputField { .. } => "unknown-output-field",
            Kind::FreeFormOutput { .. } => "free-form-output",
            Kind::UnknownRunField { .. } => "unknown-run-field",
            Kind::OutOfScope { .. } => "out-of-scope",
            Kind::Cycle { .. } => "cycle",
            Kind::MissingConfirm { .. } => "missing-confirm",
            Kind::MissingReveal { .. } => "missing-reveal",
            Kind::InvalidParam { .. } => "invalid-param",
            Kind::InvalidControl { .. } => "invalid-control",
            Kind::InvalidCron { .. } => "invalid-cron",
            Kind::UnknownTimezone { .. } => "unknown-timezone",
            Kind::InvalidTrigger { .. } => "invalid-trigger",
            Kind::TriggerParam { .. } => "trigger-param",
            Kind::Check { code, .. } => code,
        }
    }

    /// How bad it is: every kind is an error but the warnings listed here.
    pub fn severity(&self) -> super::Severity {
        match self {
            Kind::FreeFormOutput { .. } => super::Severity::Warning,
            _ => super::Severity::Error,
        }
    }

    /// The one-line message.
    pub fn message(&self) -> String {
        match self {
            Kind::YamlSyntax { message } => format!("invalid YAML: {message}"),
            Kind::Structure { message } => message.clone(),
            Kind::UnquotedTemplate => "a template must be quoted".into(),
            Kind::UnknownField { field, .. } => format!("unknown field `{field}`"),
            Kind::InvalidId { what, id } => format!("invalid {what} `{id}`"),
            Kind::DuplicateId { id, .. } => format!("duplicate step id `{id}`"),
            Kind::UnknownBlock { block } => format!("unknown block `{block}`"),
            Kind::UnknownConnector { connector } => format!("unknown connector `{connector}`"),
            Kind::MissingConnection { block, connector } => {
                format!("block `{block}` needs a connection of connector `{connector}`")
            }
            Kind::UnknownConnection { name } => format!("unknown connection `{name}`"),
            Kind::WrongConnector {
                connection,
                found,
                expected,
            } => format!(
                "connection `{connection}` is a `{found}` connection, but the block needs `{expected}`"
            ),
            Kind::AmbiguousConnection {
                connector,
                candidates,
            } => format!(
                "several `{connector}` connections fit: {}",
                backticked(candidates)
            ),
            Kind::NeedlessConnection { block } => format!("block `{block}` takes no connection"),
            Kind::LiteralSecret { setting } => {
                format!("secret setting `{setting}` is written literally")
            }
            Kind::InvalidSetting { setting, message } => format!("setting `{setting}`: {message}"),
            Kind::MissingInput { input, block } => {
                format!("missing required input `{input}` of block `{block}`")
            }
            Kind::UnknownInput { input, block, .. } => {
                format!("block `{block}` has no input `{input}`")
            }
            Kind::TypeMismatch {
                what,
                expected,
                found,
                ..
            } => {
                format!("{what} expects {expected}, found {found}")
            }
            Kind::NotAllowed { what, allowed } => {
                format!("{what} must be one of {}", backticked(allowed))
            }
            Kind::InvalidReference { message } => format!("invalid reference: {message}"),
            Kind::InvalidTemplate { message } => format!("invalid template: {message}"),
            Kind::UnknownHelper { helper } => format!("unknown template helper `{helper}`"),
            Kind::InvalidCondition { message } => format!("invalid condition: {message}"),
            Kind::InvalidRegex { message } => format!("invalid regular expression: {message}"),
            Kind::UnknownStep { id } => format!("unknown step `{id}`"),
            Kind::SelfReference { id } => format!("step `{id}` refers to itself"),
            Kind::UndeclaredParam { name } => format!("undeclared parameter `{name}`"),
            Kind::UnknownStepField { field } => format!("a step result has no field `{field}`"),
            Kind::UnknownOutputField {
                step, block, field, ..
            } => format!("the output of step `{step}` (`{block}`) has no field `{field}`"),
            Kind::FreeFormOutput {
                step, block, field, ..
            } => format!(
                "the output of step `{step}` (`{block}`) is free-form: `{field}` is not checked before the run"
            ),
            Kind::UnknownRunField { field } => format!("`$.run` has no field `{field}`"),
            Kind::OutOfScope { root, place } => format!("`$.{root}` only exists {place}"),
            Kind::Cycle { path } => format!("steps wait for each other: {}", path.join(" -> ")),
            Kind::MissingConfirm {
                step,
                block,
                because: None,
            } => {
                format!("step `{step}` calls destructive block `{block}` without `confirm: true`")
            }
            Kind::MissingConfirm {
                step,
                block,
                because: Some(input),
            } => format!(
                "step `{step}` sets `{input}` of `{block}`, which makes the call destructive, without `confirm: true`"
            ),
            Kind::MissingReveal { secret, sink, .. } => {
                format!("`{secret}` is secret, and {sink}")
            }
            Kind::InvalidParam { name, message } => format!("parameter `{name}`: {message}"),
            Kind::InvalidControl { message } => message.clone(),
            Kind::InvalidCron { message } => format!("invalid cron expression: {message}"),
            Kind::UnknownTimezone { name } => format!("unknown time zone `{name}`"),
            Kind::InvalidTrigger { message } => message.clone(),
            Kind::TriggerParam {
                trigger,
                name,
                message,
            } => format!("trigger `{trigger}`: parameter `{name}`: {message}"),
            Kind::Check { message, .. } => message.clone(),
        }
    }

    /// What to do about it, when there is something general to say.
    pub fn help(&self) -> Option<String> {
        Some(match self {
            Kind::TypeMismatch { hint: Some(hint), .. } => hint.clone(),
            Kind::UnquotedTemplate => {
                "YAML reads `{{` as the start of a mapping: write the value in quotes, e.g. `\"{{params.tenant_id}}\"`".into()
            }
            Kind::UnknownField { allowed, .. } if !allowed.is_empty() => {
                format!("allowed here: {}", backticked(allowed))
            }
            Kind::InvalidId { what: "flow name", .. } => {
                "a flow name is letters, digits, `-`, `_` and `.`, starting with a letter or digit".into()
            }
            Kind::InvalidId { .. } => {
                "use letters, digits and `_`, not starting with a digit (so that `$.steps.<id>` is a valid reference)"
                    .into()
            }
            Kind::DuplicateId { first_line, .. } => format!("the first step with this id is on line {first_line}"),
            Kind::UnknownBlock { .. } => "`keyflow blocks list` shows every block".into(),
            Kind::MissingConnection { connector, .. } => format!(
                "declare one under `connections:`, e.g. `my_conn: {{ connector: {connector}, ... }}`, and name it with `connection:`"
            ),
            Kind::AmbiguousConnection { .. } => "name the one to use with `connection:`".into(),
            Kind::NeedlessConnection { .. } => "remove `connection:`".into(),
            Kind::LiteralSecret { .. } => {
                "read it when the run starts: `{ env: VARIABLE }` or `{ file: /path/to/secret }`".into()
            }
            Kind::UnknownInput { allowed, .. } if !allowed.is_empty() => {
                format!("inputs of this block: {}", backticked(allowed))
            }
            Kind::MissingInput { block, .. } => format!("`keyflow blocks describe {block}` lists its inputs"),
            Kind::UnknownStepField { .. } => {
                format!("a step result has {}", listed(&crate::context::step_entry_fields()))
            }
            Kind::UnknownOutputField { available, .. } if !available.is_empty() => {
                format!("fields here: {}", backticked(available))
            }
            Kind::FreeFormOutput { .. } => {
                "its block declares no fields here, so a misspelt name is found only by the run, when it selects nothing: check the name against the service's documentation"
                    .into()
            }
            Kind::UnknownRunField { .. } => {
                format!("`$.run` has {}", listed(&crate::context::run_fields()))
            }
            Kind::UndeclaredParam { name } => {
                format!("declare it under `params:`, e.g. `{name}: {{ type: string }}`")
            }
            Kind::InvalidReference { .. } => {
                "a reference is a JSONPath query such as `$.steps.<id>.output.<field>` or `$.params.<name>`; write `$$` for a literal `$`"
                    .into()
            }
            Kind::UnknownHelper { helper } if helper == "log" => {
                "a template does not log: its values (secrets included) would reach the log unmasked; \
                 log with a `core.log` step"
                    .into()
            }
            Kind::UnknownHelper { .. } => format!("available helpers: {}", backticked(super::super::expr::template::HELPERS)),
            Kind::Cycle { .. } => "remove one of these references or `after:` entries".into(),
            Kind::Check { help: Some(help), .. } => help.clone(),
            Kind::MissingReveal { help, .. } => help.clone(),
            Kind::InvalidCron { .. } => crate::schedule::FIELDS_HELP.into(),
            Kind::UnknownTimezone { .. } => {
                "a time zone is an IANA name such as `Europe/Berlin`, `America/New_York` or `UTC`".into()
            }
            Kind::MissingConfirm { .. } => {
                "add `confirm: true` to the step once the flow has been reviewed; the run also needs `--allow-destructive`"
                    .into()
            }
            _ => return None,
        })
    }
}

fn backticked<S: AsRef<str>>(names: &[S]) -> String {
    names
        .iter()
        .map(|n| format!("`{}`", n.as_ref()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `` `a`, `b` and `c` ``.
fn listed(names: &[String]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    match quoted.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        Some((last, _)) => last.clone(),
        None => String::new(),
    }
}

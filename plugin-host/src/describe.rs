//! What a plugin's description must hold before keyflow records or registers it: ids of its connector,
//! object schemas, an example output that matches its own schema, secret settings it declares.

use keyflow_engine::schema::check::{Found, Problem, check};
use keyflow_engine::source::YamlPath;
use keyflow_plugin::protocol::Description;
use serde_json::Value;

/// What is wrong with a description, and the text near which it is written (to point at in a record).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DescriptionProblem {
    /// What is wrong and what to do.
    pub message: String,
    /// A piece of the record's text near the problem (`"id": "x.y"`), for its line and column.
    pub near: String,
}

/// Checks a description; the first problem found.
pub fn check_description(description: &Description) -> Result<(), DescriptionProblem> {
    let connector = &description.connector;
    let near_id = |id: &str| format!("\"{id}\"");
    if !is_kebab(&connector.id) {
        return Err(DescriptionProblem {
            message: format!(
                "the connector id `{}` is not kebab-case (`vault-transit`)",
                connector.id
            ),
            near: near_id(&connector.id),
        });
    }
    if !connector.settings.is_object() {
        return Err(DescriptionProblem {
            message: format!(
                "the settings of connector `{}` are not a JSON Schema object",
                connector.id
            ),
            near: "\"settings\"".into(),
        });
    }
    if let Some(twin) = &connector.twin
        && twin.command.is_empty()
    {
        return Err(DescriptionProblem {
            message: "the twin's command is empty: give the program and its arguments".into(),
            near: "\"twin\"".into(),
        });
    }
    let mut seen = std::collections::HashSet::new();
    for block in &description.blocks {
        let Some(operation) = block.id.strip_prefix(&format!("{}.", connector.id)) else {
            return Err(DescriptionProblem {
                message: format!(
                    "block `{}` is not one of connector `{}`: its id must be `{}.<operation>`",
                    block.id, connector.id, connector.id
                ),
                near: near_id(&block.id),
            });
        };
        if !is_kebab(operation) {
            return Err(DescriptionProblem {
                message: format!(
                    "block `{}`: `{operation}` is not kebab-case (`encrypt-data`)",
                    block.id
                ),
                near: near_id(&block.id),
            });
        }
        if !seen.insert(block.id.as_str()) {
            return Err(DescriptionProblem {
                message: format!("block `{}` is described twice", block.id),
                near: near_id(&block.id),
            });
        }
        if block.connector.as_ref().is_some_and(|c| c != &connector.id) {
            return Err(DescriptionProblem {
                message: format!(
                    "block `{}` names connector `{}`, not its plugin's `{}`",
                    block.id,
                    block.connector.as_deref().unwrap_or_default(),
                    connector.id
                ),
                near: near_id(&block.id),
            });
        }
        if block.output_mirrors_input {
            return Err(DescriptionProblem {
                message: format!(
                    "block `{}`: `output_mirrors_input` is for keyflow's own `core.set`; describe the output",
                    block.id
                ),
                near: near_id(&block.id),
            });
        }
        for (what, schema) in [("input", &block.input), ("output", &block.output)] {
            if !schema.is_object() {
                return Err(DescriptionProblem {
                    message: format!(
                        "block `{}`: its {what} schema is not a JSON Schema object",
                        block.id
                    ),
                    near: near_id(&block.id),
                });
            }
        }
        let problems = output_problems(&block.output, &block.example_output);
        if let Some(first) = problems.first() {
            return Err(DescriptionProblem {
                message: format!(
                    "block `{}`: its example output does not match its output schema: {first}",
                    block.id
                ),
                near: near_id(&block.id),
            });
        }
    }
    Ok(())
}

/// What does not match `schema` in `output`, one line each (`at \`a.b\`: expected string, found number`).
pub fn output_problems(schema: &Value, output: &Value) -> Vec<String> {
    let mut found = Vec::new();
    check(schema, schema, output, &YamlPath::root(), &mut found);
    found.iter().map(describe).collect()
}

fn describe(found: &Found) -> String {
    let at = found.at.to_string();
    let at = if at.is_empty() {
        "the output".to_string()
    } else {
        format!("`{at}`")
    };
    match &found.problem {
        Problem::Type { expected, found } => format!(
            "{at}: expected {}, found {}",
            expected.describe(),
            found.describe()
        ),
        Problem::NotAllowed { allowed } => format!(
            "{at}: not one of {}",
            allowed
                .iter()
                .map(Value::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Problem::Missing { field } => format!("{at}: the required field `{field}` is missing"),
        Problem::Unknown { field, .. } => format!("{at}: the field `{field}` is not declared"),
        Problem::Bound { message } => format!("{at}: {message}"),
    }
}

fn is_kebab(text: &str) -> bool {
    !text.is_empty()
        && !text.starts_with('-')
        && !text.ends_with('-')
        && !text.contains("--")
        && text
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_output_that_does_not_match_is_described_where() {
        let schema = json!({"type": "object", "properties": {"ciphertext": {"type": "string"}}, "required": ["ciphertext"]});
        assert!(output_problems(&schema, &json!({"ciphertext": "x"})).is_empty());
        assert_eq!(
            output_problems(&schema, &json!({"ciphertext": 3})),
            vec!["`ciphertext`: expected a string, found an integer"]
        );
        assert_eq!(
            output_problems(&schema, &json!({})),
            vec!["the output: the required field `ciphertext` is missing"]
        );
    }

    #[test]
    fn kebab_case_ids() {
        assert!(is_kebab("vault-transit"));
        assert!(!is_kebab("Vault"));
        assert!(!is_kebab("a--b"));
        assert!(!is_kebab(""));
    }
}

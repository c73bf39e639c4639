//! `core.render`: a YAML or JSON document from a file beside the flow, its strings rendered as templates
//! over `data`. Shared documents — a key policy template per partition — live once under `flows/policies/`
//! and every flow fills them in the same way.
//!
//! The block has no side effects, so it also runs when the flow is checked: `keyflow validate` reports a
//! missing file or a value the template needs and `data` does not give, and later steps are checked with
//! the document the run will pass (the Qlik key-policy rule reads the rendered policy).

use std::path::{Path, PathBuf};

use keyflow_engine::block::{
    Block, BlockContext, BlockError, BlockSpec, Effect, PreviewError, Recovery,
};
use keyflow_engine::expr::{RenderError, TemplateExpr};
use keyflow_engine::source::{ReadError, depth, read_text};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Map, Value, json};

/// Renders a document template.
pub struct Render;

/// The inputs of `core.render`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RenderInput {
    /// The template: a `.yaml`, `.yml` or `.json` file, relative to the flow file's folder
    /// (`policies/qlik-aws.yaml`), and inside it (no `../` out of it, no symlink leading out).
    pub file: String,
    /// The values its templates read: `{{tenant_id}}` reads `data.tenant_id`.
    #[serde(default)]
    pub data: Map<String, Value>,
}

impl Block for Render {
    type Input = RenderInput;
    type Output = Value;

    fn spec(&self) -> BlockSpec {
        BlockSpec {
            id: "core.render",
            title: "Render Template",
            connector: None,
            description: "Reads a YAML or JSON document from `file` (relative to the flow file, inside its folder) and renders every \
                          string in it that contains `{{` as a template over `data`; outputs the document. \
                          Checked with the flow: a missing file or value is reported by `keyflow validate`.",
            effect: Effect::Read,
            secret_outputs: &[],
            secret_inputs: &[],
            output_mirrors_input: false,
            destructive_when: None,
            recovery: Recovery::Repeat,
        }
    }

    fn example_output(&self) -> Value {
        json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Sid": "Enable IAM User Permissions",
                "Effect": "Allow",
                "Principal": { "AWS": "arn:aws:iam::111122223333:root" },
                "Action": "kms:*",
                "Resource": "*"
            }]
        })
    }

    async fn run(&self, ctx: &BlockContext, input: RenderInput) -> Result<Value, BlockError> {
        render(ctx.flow_dir(), &input).map_err(|e| BlockError::invalid_input(e.message))
    }

    fn preview(&self, input: RenderInput, flow_dir: &Path) -> Option<Result<Value, PreviewError>> {
        Some(render(flow_dir, &input))
    }
}

/// Reads, parses and renders the template.
fn render(flow_dir: &Path, input: &RenderInput) -> Result<Value, PreviewError> {
    let file_error = |message: String| PreviewError {
        input: "file",
        message,
    };
    let path = flow_dir.join(&input.file);
    let structured = matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml" | "json")
    );
    if !structured {
        return Err(file_error(format!(
            "`{}` is not a `.yaml`, `.yml` or `.json` file",
            input.file
        )));
    }
    let path = confined(flow_dir, &input.file)?;
    let text = read_text(&path).map_err(|e| {
        file_error(match e {
            ReadError::Io { kind, .. } => format!(
                "cannot read `{}` (from the flow's folder `{}`): {kind}",
                input.file,
                flow_dir.display(),
            ),
            other => other.to_string(),
        })
    })?;
    if let Err(deep) = depth::check(&text) {
        return Err(file_error(format!(
            "`{}:{}:{}` nests more than {} levels deep",
            input.file,
            deep.at.line,
            deep.at.col,
            depth::MAX_DEPTH
        )));
    }
    let document: Value = serde_yaml::from_str(&text).map_err(|e| {
        let at = e
            .location()
            .map(|l| format!(":{}:{}", l.line(), l.column()))
            .unwrap_or_default();
        file_error(format!(
            "`{}{at}` is not valid YAML or JSON: {e}",
            input.file
        ))
    })?;
    let data = Value::Object(input.data.clone());
    fill(document, &data, &mut String::new()).map_err(|(at, e)| {
        let input_name = if e.is_missing { "data" } else { "file" };
        PreviewError {
            input: input_name,
            message: format!("`{}` at `{at}`: {}", input.file, e.message),
        }
    })
}

/// The template file `file`, which must be inside the flow's folder `flow_dir` once `..` and symlinks are
/// resolved: a flow may not make `core.render` read (and put in its report) any other file the run can
/// read. See `docs/security.md`.
fn confined(flow_dir: &Path, file: &str) -> Result<PathBuf, PreviewError> {
    let outside = |why: &str| PreviewError {
        input: "file",
        message: format!(
            "`{file}` {why} the flow's folder `{}`: `core.render` reads only files inside it",
            flow_dir.display()
        ),
    };
    let root = flow_dir.canonicalize().map_err(|e| PreviewError {
        input: "file",
        message: format!(
            "cannot read the flow's folder `{}`: {}",
            flow_dir.display(),
            e.kind()
        ),
    })?;
    let path = match flow_dir.join(file).canonicalize() {
        Ok(path) => path,
        Err(e) => {
            return Err(PreviewError {
                input: "file",
                message: format!(
                    "cannot read `{file}` (from the flow's folder `{}`): {}",
                    flow_dir.display(),
                    e.kind()
                ),
            });
        }
    };
    if !path.starts_with(&root) {
        return Err(outside(if Path::new(file).is_absolute() {
            "is outside"
        } else {
            "leads out of"
        }));
    }
    Ok(path)
}

/// A template in the document that did not render.
struct FillError {
    message: String,
    /// A value was missing from `data` (rather than the template being malformed).
    is_missing: bool,
}

/// Renders every string of `value` that contains `{{`; `at` is the path walked so far, for errors.
fn fill(value: Value, data: &Value, at: &mut String) -> Result<Value, (String, FillError)> {
    match value {
        Value::String(text) if TemplateExpr::looks_like(&text) => {
            let fail = |message: String, is_missing: bool| {
                let at = if at.is_empty() { "." } else { at.as_str() };
                (
                    at.to_string(),
                    FillError {
                        message,
                        is_missing,
                    },
                )
            };
            let template = TemplateExpr::compile(&text)
                .map_err(|e| fail(format!("invalid template: {}", e.message), false))?;
            template
                .render(data.clone())
                .map(Value::String)
                .map_err(|e| match e {
                    RenderError::Missing { .. } => {
                        fail(format!("{e}: give it under `data:`"), true)
                    }
                    RenderError::Failed(_) => fail(e.to_string(), false),
                })
        }
        Value::Array(items) => {
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.into_iter().enumerate() {
                let len = at.len();
                at.push_str(&format!("[{i}]"));
                out.push(fill(item, data, at)?);
                at.truncate(len);
            }
            Ok(Value::Array(out))
        }
        Value::Object(fields) => {
            let mut out = Map::new();
            for (key, field) in fields {
                let len = at.len();
                if !at.is_empty() {
                    at.push('.');
                }
                at.push_str(&key);
                let key = match fill(Value::String(key.clone()), data, at)? {
                    Value::String(key) => key,
                    _ => key,
                };
                out.insert(key, fill(field, data, at)?);
                at.truncate(len);
            }
            Ok(Value::Object(out))
        }
        other => Ok(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) {
        std::fs::write(dir.join(name), text).expect("write the template");
    }

    fn input(file: &str, data: Value) -> RenderInput {
        RenderInput {
            file: file.into(),
            data: data.as_object().cloned().unwrap_or_default(),
        }
    }

    fn temp() -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("keyflow-render-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        dir
    }

    #[test]
    fn renders_strings_and_keys_keeping_other_types() {
        let dir = temp();
        write(
            &dir,
            "p.yaml",
            "Version: '2012-10-17'\nCount: 3\nList: ['{{a}}', true]\n'{{k}}': { v: 'x-{{a}}' }\n",
        );
        let out = render(&dir, &input("p.yaml", json!({"a": "A", "k": "key"}))).expect("renders");
        assert_eq!(
            out,
            json!({"Version": "2012-10-17", "Count": 3, "List": ["A", true], "key": {"v": "x-A"}})
        );
    }

    #[test]
    fn a_missing_value_names_its_place_and_the_data_input() {
        let dir = temp();
        write(&dir, "p.json", r#"{"Statement": [{"Sid": "{{tenant}}"}]}"#);
        let e = render(&dir, &input("p.json", json!({}))).expect_err("tenant is missing");
        assert_eq!(e.input, "data");
        assert!(e.message.contains("Statement[0].Sid"), "{}", e.message);
        assert!(e.message.contains("tenant is missing"), "{}", e.message);
    }

    #[test]
    fn file_problems_point_at_the_file_input() {
        let dir = temp();
        let e = render(&dir, &input("absent.yaml", json!({}))).expect_err("no file");
        assert_eq!(e.input, "file");
        assert!(
            e.message.contains("cannot read `absent.yaml`"),
            "{}",
            e.message
        );
        write(&dir, "bad.yaml", "a: [1,\n");
        let e = render(&dir, &input("bad.yaml", json!({}))).expect_err("bad YAML");
        assert!(e.message.contains("bad.yaml:"), "{}", e.message);
        write(&dir, "t.txt", "x");
        let e = render(&dir, &input("t.txt", json!({}))).expect_err("not a document");
        assert!(e.message.contains("not a `.yaml`"), "{}", e.message);
        write(&dir, "broken.yaml", "a: '{{#if x}}'\n");
        let e = render(&dir, &input("broken.yaml", json!({"x": 1}))).expect_err("bad template");
        assert_eq!(e.input, "file");
    }

    #[test]
    fn files_outside_the_flows_folder_are_refused() {
        let outer = temp();
        let dir = outer.join("flow");
        std::fs::create_dir_all(dir.join("policies")).expect("flow dir");
        write(&outer, "secret.yaml", "key: canary-51c2\n");
        write(&dir, "policies/p.yaml", "a: '{{a}}'\n");
        let inside = render(&dir, &input("policies/../policies/p.yaml", json!({"a": 1})));
        assert_eq!(inside.expect("inside"), json!({"a": "1"}));
        let absolute = outer.join("secret.yaml").display().to_string();
        for file in [
            "../secret.yaml",
            "policies/../../secret.yaml",
            absolute.as_str(),
        ] {
            let e = render(&dir, &input(file, json!({}))).expect_err(file);
            assert_eq!(e.input, "file");
            assert!(
                e.message.contains("the flow's folder")
                    && e.message.contains("reads only files inside it"),
                "{file}: {}",
                e.message
            );
            assert!(!e.message.contains("canary"), "{}", e.message);
        }
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(outer.join("secret.yaml"), dir.join("link.yaml"))
                .expect("symlink");
            let e = render(&dir, &input("link.yaml", json!({}))).expect_err("a symlink out");
            assert!(e.message.contains("leads out of"), "{}", e.message);
            let made = std::process::Command::new("mkfifo")
                .arg(dir.join("pipe.yaml"))
                .status()
                .expect("mkfifo");
            assert!(made.success());
            let e = render(&dir, &input("pipe.yaml", json!({}))).expect_err("a FIFO");
            assert!(
                e.message.contains("is a FIFO, not a regular file"),
                "{}",
                e.message
            );
        }
        std::fs::remove_dir_all(&outer).ok();
    }
}

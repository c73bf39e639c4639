//! The UI's forms that start things: the fields as a browser sends them, the start form generated from a
//! flow's params (an enum is a `<select>`, a boolean a checkbox, a number a number field, an object or an
//! array a `<textarea>` of JSON, a string a text field with its pattern when a browser can check it; the
//! defaults filled in, the required ones marked, the descriptions as help), what was typed read as typed
//! JSON by each param's declaration, and the typed confirmation that destructive steps ask for.

use std::fmt::Write as _;

use indexmap::IndexMap;
use keyflow_engine::model::ParamType;
use keyflow_engine::plan::{ParamError, ParamSpec, ParamValue, Plan};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::html::{esc, url};
use super::pattern::js_pattern;
use super::session::Browser;

/// The prefix of a param's field: `param.NAME`.
pub const PARAM: &str = "param.";

/// A form's fields as sent, in order; a name may come more than once, and its last value counts (a
/// checkbox follows a hidden field of the same name, so that unchecked reads `false`).
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(transparent)]
pub struct Fields(pub Vec<(String, String)>);

impl Fields {
    /// The last value of `name`.
    pub fn last(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// What was typed for each param (`param.NAME` fields), by name, in the order first sent.
    pub fn params(&self) -> IndexMap<String, String> {
        let mut typed = IndexMap::new();
        for (name, value) in &self.0 {
            if let Some(param) = name.strip_prefix(PARAM) {
                typed.insert(param.to_string(), value.clone());
            }
        }
        typed
    }

    /// Whether the `confirm` field is `expected` (spaces around it aside).
    pub fn confirms(&self, expected: &str) -> bool {
        self.last("confirm").is_some_and(|c| c.trim() == expected)
    }
}

/// What was typed, as the values of a run: each param's text read by its type (an empty field is not
/// given, so its default applies), and a param the flow does not declare passed on as text so that the
/// flow's check names it. The problems found reading the text, by param.
pub fn typed(
    plan: &Plan,
    typed: &IndexMap<String, String>,
) -> (Map<String, Value>, Vec<ParamError>) {
    let mut values = Map::new();
    let mut errors = Vec::new();
    for (name, text) in typed {
        let Some(spec) = plan.params.get(name) else {
            values.insert(name.clone(), Value::String(text.clone()));
            continue;
        };
        if text.trim().is_empty() {
            continue;
        }
        match spec.parse(text) {
            Ok(value) => {
                values.insert(name.clone(), value);
            }
            Err(message) => errors.push(ParamError {
                name: name.clone(),
                message,
            }),
        }
    }
    (values, errors)
}

/// Every problem with what was typed: those reading the text, then the flow's check of the rest (as the
/// API checks a run's params), without a second word on a param already wrong. A required param left
/// empty is said to be required in the form's words rather than the command line's.
pub fn all_errors(
    plan: &Plan,
    values: &Map<String, Value>,
    mut errors: Vec<ParamError>,
) -> Vec<ParamError> {
    let given = values
        .iter()
        .map(|(n, v)| (n.clone(), ParamValue::Json(v.clone())))
        .collect();
    if let Err(more) = plan.bind_params(&given) {
        let known: Vec<String> = errors.iter().map(|e| e.name.clone()).collect();
        for mut error in more.into_iter().filter(|e| !known.contains(&e.name)) {
            if plan.params.contains_key(&error.name) && !values.contains_key(&error.name) {
                error.message = "required: fill it in".to_string();
            }
            errors.push(error);
        }
    }
    errors
}

/// The start form of `plan`: one field per param, with what was `typed` (else the defaults) and the
/// `errors` next to their fields; the typed confirmation when the flow has `destructive` steps.
pub fn start_form(
    plan: &Plan,
    typed: Option<&IndexMap<String, String>>,
    errors: &[ParamError],
    confirm: Option<Confirm<'_>>,
    browser: &Browser,
) -> String {
    let flow = url(&plan.name);
    let mut out = format!(
        "<form id=\"start-run\" method=\"post\" action=\"/ui/flows/{flow}/runs\" class=\"start\">{}\n",
        browser.field()
    );
    for error in errors.iter().filter(|e| !plan.params.contains_key(&e.name)) {
        let _ = writeln!(
            out,
            "<p class=\"field-error\" role=\"alert\">{}</p>",
            esc(&error.to_string())
        );
    }
    if plan.params.is_empty() {
        out.push_str("<p class=\"muted\">The flow declares no params.</p>\n");
    }
    for spec in plan.params.values() {
        let given = typed.and_then(|t| t.get(&spec.name)).map(String::as_str);
        let error = errors
            .iter()
            .find(|e| e.name == spec.name)
            .map(|e| e.message.as_str());
        out.push_str(&field(spec, typed.is_some(), given, error));
    }
    if let Some(confirm) = confirm {
        out.push_str(&confirm.field());
    }
    let _ = writeln!(
        out,
        "<div><button type=\"submit\" id=\"start\" class=\"primary\">Start run</button> \
         <button type=\"submit\" formmethod=\"get\" formaction=\"/ui/flows/{flow}/plan\" formnovalidate>Plan</button> \
         <span class=\"help\">Plan shows what the run would do with these params, calling nothing.</span></div></form>"
    );
    out
}

/// One param's field. `sent`: the form was sent (an absent checkbox is then unchecked, not its default).
fn field(spec: &ParamSpec, sent: bool, given: Option<&str>, error: Option<&str>) -> String {
    let id = format!("param-{}", url(&spec.name));
    let name = format!("{PARAM}{}", spec.name);
    let required = spec.default.is_none();
    let mut described = Vec::new();
    let mut help = ty_name(spec.ty).to_string();
    if let Some(pattern) = &spec.pattern {
        let _ = write!(help, ", matching <code>{}</code>", esc(pattern.as_str()));
    }
    if let Some(description) = &spec.description {
        let _ = write!(help, " — {}", esc(description));
    }
    described.push(format!("{id}-help"));
    if error.is_some() {
        described.push(format!("{id}-error"));
    }
    let aria = format!(
        " aria-describedby=\"{}\"{}",
        esc(&described.join(" ")),
        if error.is_some() {
            " aria-invalid=\"true\""
        } else {
            ""
        }
    );
    let shown = given
        .map(str::to_string)
        .or_else(|| spec.default.as_ref().map(|d| text_of(d, spec.ty)));
    let mark = if required {
        " <span class=\"req\">(required)</span>"
    } else {
        ""
    };
    let req = if required { " required" } else { "" };
    let input = match (&spec.allowed, spec.ty) {
        (_, ParamType::Boolean) => {
            let checked = match given {
                Some(text) => text == "true",
                None if sent => false,
                None => spec.default == Some(Value::Bool(true)),
            };
            format!(
                "<input type=\"hidden\" name=\"{n}\" value=\"false\"><span><input type=\"checkbox\" id=\"{id}\" name=\"{n}\" value=\"true\"{}{aria}> yes</span>",
                if checked { " checked" } else { "" },
                n = esc(&name)
            )
        }
        (Some(allowed), _) => {
            let mut options = String::new();
            if required {
                options.push_str("<option value=\"\">choose…</option>");
            }
            for value in allowed {
                let text = text_of(value, spec.ty);
                let _ = write!(
                    options,
                    "<option value=\"{0}\"{1}>{0}</option>",
                    esc(&text),
                    if shown.as_deref() == Some(text.as_str()) {
                        " selected"
                    } else {
                        ""
                    }
                );
            }
            format!(
                "<select id=\"{id}\" name=\"{}\"{req}{aria}>{options}</select>",
                esc(&name)
            )
        }
        (None, ParamType::Object | ParamType::Array) => format!(
            "<textarea id=\"{id}\" name=\"{}\" rows=\"4\"{req}{aria}>{}</textarea>",
            esc(&name),
            esc(shown.as_deref().unwrap_or_default())
        ),
        (None, ParamType::Integer | ParamType::Number) => format!(
            "<input type=\"number\" id=\"{id}\" name=\"{}\" step=\"{}\" value=\"{}\"{req}{aria}>",
            esc(&name),
            if spec.ty == ParamType::Integer {
                "1"
            } else {
                "any"
            },
            esc(shown.as_deref().unwrap_or_default())
        ),
        (None, ParamType::String) => format!(
            "<input type=\"text\" id=\"{id}\" name=\"{}\" value=\"{}\"{}{req}{aria}>",
            esc(&name),
            esc(shown.as_deref().unwrap_or_default()),
            spec.pattern
                .as_ref()
                .and_then(|p| js_pattern(p.as_str()))
                .map_or_else(String::new, |p| format!(" pattern=\"{}\"", esc(&p)))
        ),
    };
    let error = error.map_or_else(String::new, |e| {
        format!(
            "<span class=\"field-error\" id=\"{id}-error\">{}</span>",
            esc(e)
        )
    });
    format!(
        "<div class=\"field\"><label for=\"{id}\"><code>{}</code>{mark}</label>{input}\
         <span class=\"help\" id=\"{id}-help\">{help}</span>{error}</div>\n",
        esc(&spec.name)
    )
}

/// A type as the help under a field names it.
fn ty_name(ty: ParamType) -> &'static str {
    match ty {
        ParamType::String => "text",
        ParamType::Integer => "a whole number",
        ParamType::Number => "a number",
        ParamType::Boolean => "yes or no",
        ParamType::Object => "a JSON object",
        ParamType::Array => "a JSON array",
    }
}

/// A value as its field shows it: a string as is, an object or array as pretty JSON, the rest as JSON.
fn text_of(value: &Value, ty: ParamType) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Object(_) | Value::Array(_)
            if matches!(ty, ParamType::Object | ParamType::Array) =>
        {
            serde_json::to_string_pretty(value).unwrap_or_default()
        }
        other => other.to_string(),
    }
}

/// The typed confirmation a form asks for when what it starts would run destructive steps: the steps,
/// and a field to type the flow's name into.
#[derive(Debug, Clone, Copy)]
pub struct Confirm<'a> {
    /// What must be typed: the flow's name.
    pub flow: &'a str,
    /// The destructive steps that would run.
    pub steps: &'a [&'a str],
    /// Makes the field's id unique on a page of several forms.
    pub key: &'a str,
    /// Why the last confirmation was refused.
    pub error: Option<&'a str>,
}

impl Confirm<'_> {
    /// The field, with what it is about.
    pub fn field(&self) -> String {
        let id = if self.key.is_empty() {
            "confirm".to_string()
        } else {
            format!("confirm-{}", url(self.key))
        };
        let steps: Vec<String> = self
            .steps
            .iter()
            .map(|s| format!("<code>{}</code>", esc(s)))
            .collect();
        let error = self.error.map_or_else(String::new, |e| {
            format!(
                "<span class=\"field-error\" id=\"{id}-error\" role=\"alert\">{}</span>",
                esc(e)
            )
        });
        format!(
            "<div class=\"confirm warn\"><p>This would run destructive step{} {}.</p>\
             <label for=\"{id}\">Type the flow's name, <code>{}</code>, to confirm\
             <input type=\"text\" id=\"{id}\" name=\"confirm\" required autocomplete=\"off\" spellcheck=\"false\"></label>{error}</div>\n",
            if self.steps.len() == 1 { "" } else { "s" },
            steps.join(", "),
            esc(self.flow)
        )
    }
}

/// Why a confirmation is refused: missing, or not the flow's name.
pub fn unconfirmed(fields: &Fields) -> &'static str {
    match fields.last("confirm").map(str::trim) {
        None | Some("") => "Type the flow's name to confirm the destructive steps.",
        Some(_) => "That is not the flow's name: type it exactly to confirm the destructive steps.",
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn confirmations_name_the_flow_exactly() {
        let fields = Fields(vec![("confirm".into(), " rotate ".into())]);
        assert!(fields.confirms("rotate"));
        assert!(!fields.confirms("Rotate"));
        assert!(!Fields::default().confirms("rotate"));
        assert!(unconfirmed(&Fields::default()).contains("Type the flow's name"));
        assert!(unconfirmed(&fields).contains("not the flow's name"));
    }
}

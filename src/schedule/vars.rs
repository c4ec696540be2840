//! `{{name}}` placeholders in goals and plans, filled from what fired the schedule: `{{file}}`
//! for a watched folder, the JSON body's fields for a webhook (`{{repository.name}}` for
//! nested ones), and `{{schedule}}`, `{{date}}`, `{{time}}` always. A placeholder with no value
//! is an error that names it, never an empty string.

use std::collections::BTreeMap;

pub type Vars = BTreeMap<String, String>;

/// The placeholder with no value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingVariable(pub String);

impl std::fmt::Display for MissingVariable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "no value for {{{{{}}}}}", self.0)
    }
}

/// Replaces every `{{name}}` (spaces inside the braces allowed) with its value.
pub fn fill(text: &str, vars: &Vars) -> Result<String, MissingVariable> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some((before, name, after)) = next_placeholder(rest) {
        out.push_str(before);
        let value = vars
            .get(name)
            .ok_or_else(|| MissingVariable(name.to_string()))?;
        out.push_str(value);
        rest = after;
    }
    out.push_str(rest);
    Ok(out)
}

/// The names of the placeholders in `text`, in order, each once.
pub fn placeholders(text: &str) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    let mut rest = text;
    while let Some((_, name, after)) = next_placeholder(rest) {
        if !names.iter().any(|n| n == name) {
            names.push(name.to_string());
        }
        rest = after;
    }
    names
}

/// (text before, name, text after) of the first well-formed placeholder. Braces that do not
/// hold a name (`{{ }}`, `{{a b}}`, JSON in a task) are left as they are.
fn next_placeholder(text: &str) -> Option<(&str, &str, &str)> {
    let mut from = 0;
    while let Some(open) = text[from..].find("{{").map(|i| i + from) {
        let inner_start = open + 2;
        let close = text[inner_start..].find("}}").map(|i| i + inner_start)?;
        let name = text[inner_start..close].trim();
        if is_name(name) {
            return Some((&text[..open], name, &text[close + 2..]));
        }
        from = open + 1;
    }
    None
}

fn is_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

/// A webhook's JSON body as variables: each field by name, nested objects' fields joined with
/// dots, strings as they are, other values as JSON text.
pub fn from_json(body: &serde_json::Value) -> Vars {
    let mut vars = Vars::new();
    if let serde_json::Value::Object(fields) = body {
        flatten("", fields, &mut vars);
    }
    vars
}

fn flatten(prefix: &str, fields: &serde_json::Map<String, serde_json::Value>, vars: &mut Vars) {
    for (key, value) in fields {
        let name = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        match value {
            serde_json::Value::Object(inner) => {
                flatten(&name, inner, vars);
                vars.insert(name, value.to_string());
            }
            serde_json::Value::String(text) => {
                vars.insert(name, text.clone());
            }
            serde_json::Value::Null
            | serde_json::Value::Bool(_)
            | serde_json::Value::Number(_)
            | serde_json::Value::Array(_) => {
                vars.insert(name, value.to_string());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Vars {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn placeholders_are_filled_and_a_missing_one_is_named() {
        let v = vars(&[("file", "inbox/q3.csv"), ("date", "2026-12-01")]);
        assert_eq!(
            fill("Summarise {{file}} for {{ date }}; {{file}} again", &v).unwrap(),
            "Summarise inbox/q3.csv for 2026-12-01; inbox/q3.csv again"
        );
        assert_eq!(
            fill("Report on {{repo}}", &v),
            Err(MissingVariable("repo".into()))
        );
        assert_eq!(
            MissingVariable("repo".into()).to_string(),
            "no value for {{repo}}"
        );
    }

    #[test]
    fn braces_that_hold_no_name_are_text() {
        let v = Vars::new();
        for text in [
            "{{ }}",
            "a {{b c}} d",
            "json {\"a\": {\"b\": 1}}",
            "{{unclosed",
            "}}{{",
        ] {
            assert_eq!(fill(text, &v).unwrap(), text);
            assert!(placeholders(text).is_empty(), "{text}");
        }
        assert_eq!(
            placeholders("{{a}} {{b.c}} {{a}} {{ d-e }}"),
            ["a", "b.c", "d-e"]
        );
    }

    #[test]
    fn a_webhook_body_gives_its_fields_nested_ones_with_dots() {
        let body = serde_json::json!({
            "action": "opened",
            "number": 7,
            "draft": false,
            "repository": {"name": "el-jefe", "owner": {"login": "ana"}},
            "labels": ["bug"],
        });
        let v = from_json(&body);
        assert_eq!(v["action"], "opened");
        assert_eq!(v["number"], "7");
        assert_eq!(v["draft"], "false");
        assert_eq!(v["repository.name"], "el-jefe");
        assert_eq!(v["repository.owner.login"], "ana");
        assert_eq!(v["labels"], "[\"bug\"]");
        assert!(from_json(&serde_json::json!([1, 2])).is_empty());
    }
}

//! Secrets never leave the process in text: every configured API key is replaced by
//! `<redacted>` wherever text from a provider, a tool or a model could carry it.

use std::sync::Arc;

use serde_json::Value;

pub const REDACTED: &str = "<redacted>";

/// Shorter strings than this are not treated as secrets: redacting "abc" everywhere would
/// mangle ordinary text, and no real key is that short.
const MIN_SECRET_CHARS: usize = 8;

/// The secrets to hide. Cheap to clone; empty when no key is configured, and then every call is
/// a no-op.
#[derive(Clone, Default)]
pub struct Redactor {
    secrets: Arc<[String]>,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Redactor({} secrets)", self.secrets.len())
    }
}

impl Redactor {
    pub fn new<I, S>(secrets: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut list: Vec<String> = secrets
            .into_iter()
            .map(|s| s.as_ref().trim().to_string())
            .filter(|s| s.chars().count() >= MIN_SECRET_CHARS)
            .collect();
        // Longest first, so a key that contains another is hidden whole.
        list.sort_by_key(|s| std::cmp::Reverse(s.len()));
        list.dedup();
        Redactor {
            secrets: list.into(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.secrets.is_empty()
    }

    /// Whether `text` holds a secret.
    pub fn finds_in(&self, text: &str) -> bool {
        self.secrets.iter().any(|s| text.contains(s.as_str()))
    }

    /// Hides every secret in `text`, in place; leaves it untouched (no allocation) when it holds
    /// none, which is nearly always.
    pub fn scrub(&self, text: &mut String) {
        for secret in self.secrets.iter() {
            if text.contains(secret.as_str()) {
                *text = text.replace(secret.as_str(), REDACTED);
            }
        }
    }

    pub fn scrubbed(&self, text: &str) -> String {
        let mut owned = text.to_string();
        self.scrub(&mut owned);
        owned
    }

    /// Hides secrets in every string of a JSON value (tool-call arguments).
    pub fn scrub_json(&self, value: &mut Value) {
        match value {
            Value::String(s) => self.scrub(s),
            Value::Array(items) => items.iter_mut().for_each(|v| self.scrub_json(v)),
            Value::Object(map) => map.values_mut().for_each(|v| self.scrub_json(v)),
            Value::Null | Value::Bool(_) | Value::Number(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_secret_is_hidden_wherever_it_stands() {
        let r = Redactor::new(["sk-live-0123456789", "short", "  ant-key-abcdefgh \n"]);
        let mut text =
            "key sk-live-0123456789 and ant-key-abcdefgh, twice: sk-live-0123456789; short"
                .to_string();
        r.scrub(&mut text);
        assert_eq!(
            text,
            "key <redacted> and <redacted>, twice: <redacted>; short"
        );
        assert!(!r.finds_in(&text));
    }

    #[test]
    fn a_key_containing_another_is_hidden_whole() {
        let r = Redactor::new(["abcdefgh", "abcdefgh-ijklmnop"]);
        assert_eq!(r.scrubbed("x abcdefgh-ijklmnop y"), "x <redacted> y");
    }

    #[test]
    fn json_strings_are_scrubbed_at_any_depth() {
        let r = Redactor::new(["sk-0123456789"]);
        let mut v = json!({"cmd": "echo sk-0123456789", "list": [1, {"k": "sk-0123456789"}]});
        r.scrub_json(&mut v);
        assert_eq!(
            v,
            json!({"cmd": "echo <redacted>", "list": [1, {"k": "<redacted>"}]})
        );
    }

    #[test]
    fn with_no_secrets_nothing_changes() {
        let r = Redactor::default();
        assert!(r.is_empty());
        assert_eq!(r.scrubbed("anything at all"), "anything at all");
    }
}

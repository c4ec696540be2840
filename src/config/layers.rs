//! Where a setting comes from, strongest first: a flag, an environment variable, the config
//! file, the built-in default. Every setting that more than the file can set goes through here.

use std::path::PathBuf;

use super::ConfigError;

/// The process environment, or what a test puts in its place.
pub(super) struct Env<'a> {
    get: &'a dyn Fn(&str) -> Option<String>,
}

impl<'a> Env<'a> {
    pub fn new(get: &'a dyn Fn(&str) -> Option<String>) -> Self {
        Env { get }
    }

    /// A variable's value; set but empty counts as unset.
    pub fn text(&self, name: &str) -> Option<String> {
        (self.get)(name).filter(|v| !v.is_empty())
    }

    pub fn path(&self, name: &str) -> Option<PathBuf> {
        self.text(name).map(PathBuf::from)
    }

    /// A variable read with `parse`; a value it refuses is an error naming the variable.
    pub fn parsed<T>(
        &self,
        name: &str,
        parse: impl Fn(&str) -> Option<T>,
        expected: &str,
    ) -> Result<Option<T>, ConfigError> {
        match self.text(name) {
            None => Ok(None),
            Some(v) => parse(v.trim()).map(Some).ok_or_else(|| ConfigError {
                origin: format!("environment variable {name}"),
                message: format!("`{v}` is not {expected}"),
            }),
        }
    }

    pub fn number(&self, name: &str) -> Result<Option<u64>, ConfigError> {
        self.parsed(name, |v| v.parse().ok(), "a whole number")
    }
}

/// The first of flag, environment and file that is set, else the default.
pub(super) fn layered<T>(
    flag: Option<T>,
    env: Option<T>,
    file: Option<T>,
    default: impl FnOnce() -> T,
) -> T {
    flag.or(env).or(file).unwrap_or_else(default)
}

//! `[local]`: the embedded model, its file and how it runs.

use std::path::PathBuf;

use serde::Deserialize;

use super::layers::{Env, layered};
use super::{Bad, ConfigError, ENV_MODEL, ENV_THREADS, Overrides, check_range};
use crate::provider::LocalSettings;
use crate::provider::model_file::{MODEL_FILE_NAME, default_model_path};
use crate::store::paths::AppDirs;

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(super) struct LocalFile {
    model_path: Option<PathBuf>,
    threads: Option<u32>,
    context_tokens: Option<u32>,
    max_sequences: Option<u32>,
    flash_attention: Option<bool>,
}

impl LocalFile {
    pub fn settings(
        &self,
        flags: &Overrides,
        env: &Env<'_>,
        dirs: &AppDirs,
        bad: Bad<'_>,
    ) -> Result<LocalSettings, ConfigError> {
        let threads = layered(
            flags.threads,
            env.number(ENV_THREADS)?.map(|n| n as u32),
            self.threads,
            default_threads,
        );
        let model_path = layered(
            flags.model_file.clone(),
            env.path(ENV_MODEL),
            self.model_path.clone(),
            || default_model_path(&dirs.data),
        );
        let local = LocalSettings {
            pinned: model_path.file_name().is_some_and(|n| n == MODEL_FILE_NAME),
            model_path,
            threads,
            context_tokens: self.context_tokens.unwrap_or(8_192),
            max_sequences: self.max_sequences.unwrap_or(8),
            flash_attention: self.flash_attention.unwrap_or(true),
        };
        check_range(bad, "local.threads", u64::from(threads), 1, 256)?;
        check_range(
            bad,
            "local.context_tokens",
            u64::from(local.context_tokens),
            512,
            1 << 20,
        )?;
        check_range(
            bad,
            "local.max_sequences",
            u64::from(local.max_sequences),
            1,
            64,
        )?;
        Ok(local)
    }
}

fn default_threads() -> u32 {
    std::thread::available_parallelism().map_or(2, |n| n.get().min(8) as u32)
}

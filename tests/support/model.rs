//! Finding and loading the real embedded model for tests. A missing model fails the test with
//! the setup command to run; it never skips silently.

use std::path::PathBuf;

use el_jefe::provider::local::model_file::{self, MODEL_FILE_NAME};
use el_jefe::provider::local::{LocalProvider, LocalSettings};
use el_jefe::store::paths::AppDirs;

pub fn model_path() -> PathBuf {
    if let Some(p) = std::env::var_os("EL_JEFE_MODEL") {
        return PathBuf::from(p);
    }
    let dirs = AppDirs::from_env().expect("app dirs");
    model_file::default_model_path(&dirs.data)
}

pub fn settings(max_sequences: u32) -> LocalSettings {
    let path = model_path();
    LocalSettings {
        pinned: path.file_name().is_some_and(|n| n == MODEL_FILE_NAME),
        model_path: path,
        threads: 2,
        context_tokens: 4096,
        max_sequences,
        flash_attention: true,
    }
}

pub fn load(max_sequences: u32) -> LocalProvider {
    match LocalProvider::load(settings(max_sequences)) {
        Ok(p) => p,
        Err(e) => panic!("the real model is needed for this test: {e}"),
    }
}

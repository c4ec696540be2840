//! Finding and loading the real embedded model for tests. A missing model fails the test with
//! the setup command to run; it never skips silently.

use std::path::PathBuf;
use tokio::sync::{Mutex, MutexGuard};

use el_jefe::provider::LocalSettings;
use el_jefe::provider::local::LocalProvider;
use el_jefe::provider::model_file::{self, MODEL_FILE_NAME};
use el_jefe::store::paths::AppDirs;

/// Tests that run the model take turns: several llama.cpp thread pools on two cores spin against
/// each other and run some twenty times slower than one after another.
static TURN: Mutex<()> = Mutex::const_new(());

pub async fn exclusive() -> MutexGuard<'static, ()> {
    TURN.lock().await
}

/// The same turn, for tests without a runtime.
pub fn exclusive_blocking() -> MutexGuard<'static, ()> {
    TURN.blocking_lock()
}

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

//! The embedded model: llama.cpp in-process, one model in memory serving every agent.

mod sampling;
mod worker;

pub use sampling::{TokenSampler, build_sampler};

use std::num::NonZeroU32;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, OnceLock};

use llama_cpp_2::context::params::LlamaContextParams;
use llama_cpp_2::llama_backend::LlamaBackend;
use llama_cpp_2::model::LlamaModel;
use llama_cpp_2::model::params::LlamaModelParams;
use tokio::sync::mpsc::unbounded_channel;

use super::model_file::{self, ModelFileError};
use super::{CallControl, ChatRequest, LocalSettings, Provider, ProviderError, ProviderStream};
use worker::{Job, Worker, WorkerLimits};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LocalModelError {
    #[error(transparent)]
    File(#[from] ModelFileError),
    #[error("llama.cpp could not start: {0}")]
    Backend(String),
    #[error("llama.cpp could not load the model {path}: {detail}")]
    Load { path: PathBuf, detail: String },
}

pub struct LocalProvider {
    /// None only while dropping.
    jobs: Option<mpsc::Sender<Job>>,
    worker: Option<std::thread::JoinHandle<()>>,
    stop: Arc<AtomicBool>,
    model_name: String,
}

impl Drop for LocalProvider {
    /// Stops the model thread and waits for it: a process must not exit while llama.cpp is
    /// decoding, or its static destructors run under the running thread and crash it.
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        self.jobs.take();
        if let Some(worker) = self.worker.take() {
            let _ = worker.join();
        }
    }
}

/// llama.cpp can be initialised once per process; everything that needs it shares this.
pub fn backend() -> Result<&'static LlamaBackend, LocalModelError> {
    static BACKEND: OnceLock<Result<LlamaBackend, String>> = OnceLock::new();
    BACKEND
        .get_or_init(|| {
            let mut backend = LlamaBackend::init().map_err(|e| e.to_string())?;
            // llama.cpp logs to stderr, which would scribble over a full-screen terminal.
            backend.void_logs();
            Ok(backend)
        })
        .as_ref()
        .map_err(|e| LocalModelError::Backend(e.clone()))
}

impl LocalProvider {
    /// Checks and loads the model on its own thread; blocks until it is ready or has failed.
    pub fn load(settings: LocalSettings) -> Result<LocalProvider, LocalModelError> {
        if settings.pinned {
            model_file::verify_pinned(&settings.model_path)?;
        } else {
            model_file::check_custom(&settings.model_path)?;
        }
        let backend = backend()?;
        let started = std::time::Instant::now();
        let model_name = settings
            .model_path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "local".into());
        let (jobs_tx, jobs_rx) = mpsc::channel::<Job>();
        let (ready_tx, ready_rx) = mpsc::sync_channel::<Result<(), LocalModelError>>(1);
        let stop = Arc::new(AtomicBool::new(false));
        let worker_stop = stop.clone();
        let worker = std::thread::Builder::new()
            .name("local-model".into())
            .spawn(move || {
                let model = match LlamaModel::load_from_file(
                    backend,
                    &settings.model_path,
                    &LlamaModelParams::default(),
                ) {
                    Ok(m) => m,
                    Err(e) => {
                        let _ = ready_tx.send(Err(LocalModelError::Load {
                            path: settings.model_path.clone(),
                            detail: e.to_string(),
                        }));
                        return;
                    }
                };
                let params = context_params(&settings);
                let ctx = match model.new_context(backend, params) {
                    Ok(c) => c,
                    Err(e) => {
                        let _ = ready_tx.send(Err(LocalModelError::Load {
                            path: settings.model_path.clone(),
                            detail: format!("cannot create a context: {e}"),
                        }));
                        return;
                    }
                };
                let limits = WorkerLimits {
                    context_tokens: settings.context_tokens,
                    max_sequences: settings.max_sequences,
                    batch_tokens: BATCH_TOKENS,
                };
                let _ = ready_tx.send(Ok(()));
                Worker::new(&model, ctx, limits, worker_stop).run(jobs_rx);
            })
            .map_err(|e| LocalModelError::Backend(format!("cannot start the model thread: {e}")))?;
        ready_rx.recv().map_err(|_| {
            LocalModelError::Backend("the model thread stopped while loading".into())
        })??;
        tracing::info!(
            model = %model_name,
            load_ms = started.elapsed().as_millis() as u64,
            "local model ready"
        );
        Ok(LocalProvider {
            jobs: Some(jobs_tx),
            worker: Some(worker),
            stop,
            model_name,
        })
    }
}

const BATCH_TOKENS: u32 = 512;

/// The llama.cpp context every call shares: one KV cache, one sequence per call.
pub fn context_params(settings: &LocalSettings) -> LlamaContextParams {
    LlamaContextParams::default()
        .with_n_ctx(NonZeroU32::new(settings.context_tokens))
        .with_n_batch(BATCH_TOKENS)
        .with_n_ubatch(BATCH_TOKENS)
        .with_n_seq_max(settings.max_sequences)
        .with_kv_unified(true)
        .with_n_threads(settings.threads as i32)
        .with_n_threads_batch(settings.threads as i32)
        .with_flash_attention_policy(i32::from(settings.flash_attention))
}

impl Provider for LocalProvider {
    fn name(&self) -> &str {
        "local"
    }

    fn model(&self) -> &str {
        &self.model_name
    }

    fn supports_grammar(&self) -> bool {
        true
    }

    fn tools_only_when_asked(&self) -> bool {
        true
    }

    fn can_switch_model(&self) -> bool {
        false
    }

    fn stream(&self, request: ChatRequest, control: CallControl) -> ProviderStream {
        // The model has no tool calling of its own: tools go through the action format.
        if !request.tools.is_empty() && request.grammar.is_none() {
            let request = crate::provider::tool_actions::action_request(request);
            return crate::provider::tool_actions::decode_actions(self.generate(request, control));
        }
        self.generate(request, control)
    }
}

impl LocalProvider {
    fn generate(&self, request: ChatRequest, control: CallControl) -> ProviderStream {
        let (events, rx) = unbounded_channel();
        let job = Job {
            request,
            control,
            events,
        };
        let refused = match &self.jobs {
            Some(jobs) => jobs.send(job).err().map(|mpsc::SendError(job)| job),
            None => Some(job),
        };
        if let Some(job) = refused {
            let _ = job.events.send(Err(ProviderError::unavailable(
                "the local model thread has stopped",
            )));
        }
        Box::pin(futures::stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|item| (item, rx))
        }))
    }
}

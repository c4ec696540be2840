//! A provider loaded on its first call: the embedded model on a server whose configured routes
//! do not use it, so that a session choosing it (`--provider local`) does not make every start
//! pay for loading a model nobody may ask for.

use std::sync::Arc;

use futures::StreamExt;
use futures::future::BoxFuture;
use tokio::sync::OnceCell;

use super::{CallControl, ChatRequest, Provider, ProviderError, ProviderStream};

pub type Loader =
    Arc<dyn Fn() -> BoxFuture<'static, Result<Arc<dyn Provider>, ProviderError>> + Send + Sync>;

/// What the provider says of itself before it is loaded, which must match what it will say.
pub struct Describe {
    pub name: String,
    pub model: String,
    pub supports_grammar: bool,
    pub tools_only_when_asked: bool,
    pub can_switch_model: bool,
}

pub struct LazyProvider {
    describe: Describe,
    loader: Loader,
    /// A failed load stays failed: its message is given to every call, not retried per call.
    loaded: Arc<OnceCell<Result<Arc<dyn Provider>, ProviderError>>>,
}

impl LazyProvider {
    pub fn new(describe: Describe, loader: Loader) -> Self {
        LazyProvider {
            describe,
            loader,
            loaded: Arc::new(OnceCell::new()),
        }
    }
}

impl Provider for LazyProvider {
    fn name(&self) -> &str {
        &self.describe.name
    }

    fn model(&self) -> &str {
        &self.describe.model
    }

    fn supports_grammar(&self) -> bool {
        self.describe.supports_grammar
    }

    fn tools_only_when_asked(&self) -> bool {
        self.describe.tools_only_when_asked
    }

    fn can_switch_model(&self) -> bool {
        self.describe.can_switch_model
    }

    fn stream(&self, request: ChatRequest, control: CallControl) -> ProviderStream {
        let loaded = self.loaded.clone();
        let loader = self.loader.clone();
        let name = self.describe.name.clone();
        let call = async move {
            let provider = loaded.get_or_init(|| loader()).await;
            match provider {
                Ok(provider) => provider.stream(request, control),
                Err(e) => {
                    let error = ProviderError::new(
                        e.kind,
                        format!("provider `{name}` could not be loaded: {}", e.message),
                    );
                    futures::stream::once(async move { Err(error) }).boxed()
                }
            }
        };
        futures::stream::once(call).flatten().boxed()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;
    use crate::provider::ProviderEvent;

    struct Echo;

    impl Provider for Echo {
        fn name(&self) -> &str {
            "echo"
        }
        fn model(&self) -> &str {
            "m"
        }
        fn supports_grammar(&self) -> bool {
            false
        }
        fn stream(&self, _: ChatRequest, _: CallControl) -> ProviderStream {
            futures::stream::iter([Ok(ProviderEvent::Text("hi".into()))]).boxed()
        }
    }

    fn describe() -> Describe {
        Describe {
            name: "echo".into(),
            model: "m".into(),
            supports_grammar: false,
            tools_only_when_asked: false,
            can_switch_model: true,
        }
    }

    fn call(provider: &LazyProvider) -> Vec<Result<ProviderEvent, ProviderError>> {
        let control = CallControl::unpausable(tokio_util::sync::CancellationToken::new());
        futures::executor::block_on(
            provider
                .stream(ChatRequest::new(Vec::new()), control)
                .collect::<Vec<_>>(),
        )
    }

    #[test]
    fn loads_once_on_the_first_call() {
        let loads = Arc::new(AtomicU32::new(0));
        let counted = loads.clone();
        let loader: Loader = Arc::new(move || {
            counted.fetch_add(1, Ordering::SeqCst);
            Box::pin(async { Ok(Arc::new(Echo) as Arc<dyn Provider>) })
        });
        let lazy = LazyProvider::new(describe(), loader);
        assert_eq!(loads.load(Ordering::SeqCst), 0);
        for _ in 0..2 {
            assert_eq!(call(&lazy), vec![Ok(ProviderEvent::Text("hi".into()))]);
        }
        assert_eq!(loads.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn a_failed_load_fails_each_call_with_its_reason() {
        let loader: Loader =
            Arc::new(|| Box::pin(async { Err(ProviderError::unavailable("no model file")) }));
        let lazy = LazyProvider::new(describe(), loader);
        let events = call(&lazy);
        let err = events[0].as_ref().unwrap_err();
        assert_eq!(
            err.message,
            "provider `echo` could not be loaded: no model file"
        );
    }
}

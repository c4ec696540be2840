//! A provider with fallbacks: when one gives up on a failure that may pass (after its own
//! retries), the call continues on the next, and the user is told.

use std::sync::Arc;

use futures::StreamExt;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

use super::{
    CallControl, ChatRequest, FailoverNotice, Provider, ProviderError, ProviderEvent,
    ProviderStream,
};

pub struct FailoverProvider {
    /// The provider first, then its fallbacks in order.
    chain: Vec<Arc<dyn Provider>>,
}

impl FailoverProvider {
    pub fn new(chain: Vec<Arc<dyn Provider>>) -> Self {
        assert!(!chain.is_empty(), "a failover chain needs a provider");
        FailoverProvider { chain }
    }
}

impl Provider for FailoverProvider {
    fn name(&self) -> &str {
        self.chain[0].name()
    }

    fn model(&self) -> &str {
        self.chain[0].model()
    }

    /// Any provider in the chain: callers then send a grammar, which providers that cannot use
    /// it ignore, so a fallback that can (the embedded model) still gets a valid plan.
    fn supports_grammar(&self) -> bool {
        self.chain.iter().any(|p| p.supports_grammar())
    }

    /// As the first provider: the one that answers unless it fails.
    fn tools_only_when_asked(&self) -> bool {
        self.chain
            .first()
            .is_some_and(|p| p.tools_only_when_asked())
    }

    fn stream(&self, request: ChatRequest, control: CallControl) -> ProviderStream {
        let chain = self.chain.clone();
        let (tx, rx) = mpsc::channel(256);
        tokio::spawn(async move {
            tokio::select! {
                _ = run_chain(chain, request, control, &tx) => {}
                _ = tx.closed() => {}
            }
        });
        ReceiverStream::new(rx).boxed()
    }
}

async fn run_chain(
    chain: Vec<Arc<dyn Provider>>,
    request: ChatRequest,
    control: CallControl,
    tx: &mpsc::Sender<Result<ProviderEvent, ProviderError>>,
) {
    for (i, provider) in chain.iter().enumerate() {
        let mut call = request.clone();
        if i > 0 {
            // A fallback runs its own model.
            call.model = None;
        }
        let mut stream = provider.stream(call, control.clone());
        let mut streamed_text = false;
        let mut failed_over = false;
        while let Some(item) = stream.next().await {
            match item {
                Err(e) if e.retryable() && i + 1 < chain.len() => {
                    let next = &chain[i + 1];
                    tracing::warn!(from = provider.name(), to = next.name(), error = %e.message, "failing over");
                    let notice = FailoverNotice {
                        from: provider.name().to_string(),
                        to: next.name().to_string(),
                        to_model: next.model().to_string(),
                        kind: e.kind,
                        error: e.message,
                        discarded_text: streamed_text,
                    };
                    if tx
                        .send(Ok(ProviderEvent::FailingOver(notice)))
                        .await
                        .is_err()
                    {
                        return;
                    }
                    failed_over = true;
                    break;
                }
                item => {
                    let last = matches!(item, Err(_) | Ok(ProviderEvent::Finished { .. }));
                    match &item {
                        Ok(ProviderEvent::Text(_)) => streamed_text = true,
                        // A retry that throws text away starts this provider's reply afresh.
                        Ok(ProviderEvent::Retrying(r)) => streamed_text &= !r.discarded_text,
                        Ok(
                            ProviderEvent::ToolCall(_)
                            | ProviderEvent::FailingOver(_)
                            | ProviderEvent::Warning(_)
                            | ProviderEvent::WaitingForSlot { .. }
                            | ProviderEvent::GotSlot { .. }
                            | ProviderEvent::Finished { .. },
                        )
                        | Err(_) => {}
                    }
                    if tx.send(item).await.is_err() || last {
                        return;
                    }
                }
            }
        }
        if !failed_over {
            // The provider's stream ended without a reply or an error: pass that on as it is
            // (the caller treats a stream without its end as a failed call).
            return;
        }
    }
}

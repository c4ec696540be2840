//! A pause flag shared between whoever pauses (the engine) and whoever must hold (agent,
//! provider). It also keeps the total time spent paused, so measured durations can leave it out.

use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;

#[derive(Debug, Clone, Copy)]
struct PauseState {
    paused_since: Option<Instant>,
    /// Time spent paused before `paused_since`.
    total: Duration,
}

/// The engine's side: flips the flag.
#[derive(Debug)]
pub struct PauseSwitch(watch::Sender<PauseState>);

/// The worker's side: reads the flag or waits for it to clear.
#[derive(Debug, Clone)]
pub struct PauseSignal(watch::Receiver<PauseState>);

impl PauseSwitch {
    pub fn new() -> (PauseSwitch, PauseSignal) {
        let (tx, rx) = watch::channel(PauseState {
            paused_since: None,
            total: Duration::ZERO,
        });
        (PauseSwitch(tx), PauseSignal(rx))
    }

    /// Returns false when the flag already had that value.
    pub fn set(&self, paused: bool) -> bool {
        self.0
            .send_if_modified(|state| match (paused, state.paused_since) {
                (true, None) => {
                    state.paused_since = Some(Instant::now());
                    true
                }
                (false, Some(since)) => {
                    state.total += since.elapsed();
                    state.paused_since = None;
                    true
                }
                (true, Some(_)) | (false, None) => false,
            })
    }

    pub fn is_paused(&self) -> bool {
        self.0.borrow().paused_since.is_some()
    }
}

impl PauseSignal {
    /// A signal that is never paused.
    pub fn never() -> PauseSignal {
        PauseSwitch::new().1
    }

    pub fn is_paused(&self) -> bool {
        self.0.borrow().paused_since.is_some()
    }

    /// Time spent paused so far, the current pause included.
    pub fn paused_total(&self) -> Duration {
        let state = *self.0.borrow();
        state.total + state.paused_since.map_or(Duration::ZERO, |s| s.elapsed())
    }

    /// Returns once not paused; returns at once if the switch is gone (its owner no longer cares).
    pub async fn wait_until_running(&mut self) {
        let _ = self.0.wait_for(|s| s.paused_since.is_none()).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn paused_time_is_accumulated() {
        let (switch, signal) = PauseSwitch::new();
        assert!(switch.set(true));
        assert!(!switch.set(true));
        tokio::time::advance(Duration::from_secs(2)).await;
        assert_eq!(signal.paused_total(), Duration::from_secs(2));
        assert!(switch.set(false));
        tokio::time::advance(Duration::from_secs(5)).await;
        assert_eq!(signal.paused_total(), Duration::from_secs(2));
        assert!(!signal.is_paused());
    }

    #[tokio::test(start_paused = true)]
    async fn waiting_ends_on_resume() {
        let (switch, mut signal) = PauseSwitch::new();
        switch.set(true);
        let waiter = tokio::spawn(async move {
            signal.wait_until_running().await;
        });
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished());
        switch.set(false);
        waiter.await.unwrap();
    }
}

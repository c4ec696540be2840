//! Taking over the terminal and always giving it back: on normal exit, on error (the guard's
//! drop), on panic (the hook restores before the panic message is printed) and on SIGTERM (the
//! event loop treats it as quit, so the guard runs).

use std::io::{self, Stdout};
use std::sync::Once;
use std::sync::atomic::{AtomicBool, Ordering};

use crossterm::event::{DisableMouseCapture, EnableMouseCapture};
use crossterm::execute;
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;

pub type Tui = Terminal<CrosstermBackend<Stdout>>;

/// Restores the terminal when dropped.
pub struct TerminalGuard(());

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore();
    }
}

/// Whether the terminal is ours: restoring twice would run "leave the alternate screen" on the
/// normal screen, which puts the cursor back where the program started and lets later output
/// (the shell prompt) overwrite the panic message the first restore made room for.
static TAKEN_OVER: AtomicBool = AtomicBool::new(false);

pub fn setup() -> io::Result<(Tui, TerminalGuard)> {
    install_panic_hook();
    enable_raw_mode()?;
    TAKEN_OVER.store(true, Ordering::SeqCst);
    // From here on a failure must still restore what was already changed.
    let guard = TerminalGuard(());
    execute!(io::stdout(), EnterAlternateScreen, EnableMouseCapture)?;
    let mut terminal = Terminal::new(CrosstermBackend::new(io::stdout()))?;
    terminal.clear()?;
    Ok((terminal, guard))
}

/// Safe to call more than once, and when nothing was set up: only the first call after a setup
/// does anything.
pub fn restore() {
    if !TAKEN_OVER.swap(false, Ordering::SeqCst) {
        return;
    }
    let _ = disable_raw_mode();
    let _ = execute!(
        io::stdout(),
        DisableMouseCapture,
        LeaveAlternateScreen,
        crossterm::cursor::Show
    );
}

fn install_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore();
            previous(info);
        }));
    });
}

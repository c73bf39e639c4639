//! Ctrl-C, listened for from the moment [`Interrupts::listen`] is called.
//!
//! `tokio::signal::ctrl_c()` only installs its handler when first polled: a Ctrl-C that comes before
//! the task listening for it has run would kill keyflow without a report.

use std::io;

/// The interrupts (SIGINT, or Ctrl-C on Windows) received since [`Interrupts::listen`].
pub struct Interrupts {
    #[cfg(unix)]
    signal: tokio::signal::unix::Signal,
    #[cfg(windows)]
    signal: tokio::signal::windows::CtrlC,
}

impl Interrupts {
    /// Installs the handler now. Call it inside the runtime.
    pub fn listen() -> io::Result<Interrupts> {
        #[cfg(unix)]
        let signal = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())?;
        #[cfg(windows)]
        let signal = tokio::signal::windows::ctrl_c()?;
        Ok(Interrupts { signal })
    }

    /// Waits for the next interrupt (`false`: no more can come).
    pub async fn next(&mut self) -> bool {
        self.signal.recv().await.is_some()
    }
}

/// SIGTERM, listened for from the moment [`Terminations::listen`] is called (never on Windows, which has
/// no such signal).
pub struct Terminations {
    #[cfg(unix)]
    signal: tokio::signal::unix::Signal,
}

impl Terminations {
    /// Installs the handler now. Call it inside the runtime.
    pub fn listen() -> std::io::Result<Terminations> {
        Ok(Terminations {
            #[cfg(unix)]
            signal: tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?,
        })
    }

    /// Waits for the next SIGTERM.
    pub async fn next(&mut self) {
        #[cfg(unix)]
        self.signal.recv().await;
        #[cfg(not(unix))]
        std::future::pending::<()>().await;
    }
}

//! Graceful shutdown: on SIGTERM or Ctrl-C the server stops accepting, open websockets get close
//! 1001 "going away", in-flight requests finish, and the process waits for all of it at most
//! `SHUTDOWN_GRACE_SECS`.

use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::sync::{Notify, watch};

/// The instance-wide shutdown switch and the count of sockets still open.
#[derive(Debug)]
pub struct Shutdown {
    started: watch::Sender<bool>,
    open: AtomicUsize,
    closed: Notify,
}

impl Default for Shutdown {
    fn default() -> Self {
        Self {
            started: watch::Sender::new(false),
            open: AtomicUsize::new(0),
            closed: Notify::new(),
        }
    }
}

/// One open websocket; counted until dropped.
#[derive(Debug)]
pub struct OpenSocket<'a>(&'a Shutdown);

impl Drop for OpenSocket<'_> {
    fn drop(&mut self) {
        if self.0.open.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.closed.notify_waiters();
        }
    }
}

impl Shutdown {
    /// Starts the shutdown: every socket is told to close.
    pub fn begin(&self) {
        self.started.send_replace(true);
    }

    /// Whether the shutdown started.
    pub fn has_begun(&self) -> bool {
        *self.started.borrow()
    }

    /// Resolves once the shutdown started.
    pub async fn begun(&self) {
        let mut started = self.started.subscribe();
        let _ = started.wait_for(|started| *started).await;
    }

    /// Counts a socket as open until the guard drops.
    pub fn socket(&self) -> OpenSocket<'_> {
        self.open.fetch_add(1, Ordering::AcqRel);
        OpenSocket(self)
    }

    /// Sockets still open.
    pub fn open_sockets(&self) -> usize {
        self.open.load(Ordering::Acquire)
    }

    /// Resolves when no socket is open.
    pub async fn drained(&self) {
        loop {
            let closed = self.closed.notified();
            tokio::pin!(closed);
            closed.as_mut().enable();
            if self.open_sockets() == 0 {
                return;
            }
            closed.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[tokio::test]
    async fn drained_waits_for_the_last_socket() {
        let shutdown = Arc::new(Shutdown::default());
        let socket = shutdown.socket();
        assert_eq!(shutdown.open_sockets(), 1);
        let waiting = {
            let shutdown = shutdown.clone();
            tokio::spawn(async move { shutdown.drained().await })
        };
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished());
        drop(socket);
        waiting.await.expect("drained resolves");
        shutdown.begin();
        shutdown.begun().await;
        assert!(shutdown.has_begun());
    }
}

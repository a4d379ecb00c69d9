//! Live updates inside one server process: a chat's pages hear of its new messages,
//! advocates' consoles of anything their panels show. A signal carries no content, only
//! "look again"; what changed is always read from the database, so a page that misses
//! a signal (another process wrote, or it lagged) catches up at its next periodic look.

use tokio::sync::broadcast;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Signal {
    /// A chat has a new message or a new status.
    Chat(String),
    /// Something a console shows changed: the queue, a text, an alert.
    Console,
}

pub struct Live {
    tx: broadcast::Sender<Signal>,
}

impl Default for Live {
    fn default() -> Self {
        // Receivers that fall this far behind are told they lagged and look again.
        let (tx, _) = broadcast::channel(1_024);
        Self { tx }
    }
}

impl Live {
    pub fn notify(&self, signal: Signal) {
        // No receiver is not an error: no page is open.
        let _ = self.tx.send(signal);
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Signal> {
        self.tx.subscribe()
    }
}

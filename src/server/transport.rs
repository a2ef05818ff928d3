//! The stdio transport. lsp-server's own stops reading for good at the first message that
//! is not JSON-RPC; this one skips such a message (said on stderr, which editors keep in
//! the server's log) and reads on, so one bad message cannot kill the server. Its queue is
//! unbounded, so the main loop can see that more messages wait and lint once for a burst
//! of edits.

use std::io::ErrorKind;
use std::thread::{self, JoinHandle};

use lsp_server::{Connection, Message};

pub struct Writer(JoinHandle<()>);

impl Writer {
    /// Wait until every message sent has been written (the connection must be dropped).
    pub fn join(self) {
        let _ = self.0.join();
    }
}

pub fn stdio() -> (Connection, Writer) {
    let (to_client, outgoing) = crossbeam_channel::unbounded::<Message>();
    let (incoming, from_client) = crossbeam_channel::unbounded::<Message>();
    let writer = thread::spawn(move || {
        let mut out = std::io::stdout().lock();
        for msg in outgoing {
            if msg.write(&mut out).is_err() {
                break;
            }
        }
    });
    // Not joined: after the last message it may sit in a read of stdin until the process ends.
    thread::spawn(move || {
        let mut input = std::io::stdin().lock();
        loop {
            match Message::read(&mut input) {
                Ok(Some(msg)) => {
                    let exit = matches!(&msg, Message::Notification(n) if n.method == "exit");
                    if incoming.send(msg).is_err() || exit {
                        break;
                    }
                }
                Ok(None) => break,
                Err(e) if e.kind() == ErrorKind::InvalidData => eprintln!("conflint server: ignored a message: {e}"),
                Err(e) => {
                    eprintln!("conflint server: cannot read from the client: {e}");
                    break;
                }
            }
        }
    });
    (Connection { sender: to_client, receiver: from_client }, Writer(writer))
}

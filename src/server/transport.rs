//! The transport: Content-Length framed JSON-RPC over any reader and writer (stdio for
//! editors). lsp-server's own reader stops for good at the first message that is not
//! JSON-RPC and reserves whatever `Content-Length` claims up front; this one skips a bad
//! message (said on stderr, which editors keep in the server's log) and reads on, refuses
//! a message over [`MAX_MESSAGE`] without holding it, and bounds header lines, so a client
//! cannot kill the server or exhaust its memory. Its queue is unbounded, so the main loop
//! can see that more messages wait and lint once for a burst of edits.

use std::io::{BufRead, ErrorKind, Read, Write};
use std::thread::{self, JoinHandle};

use lsp_server::{Connection, Message};

/// The largest message read: a full-text change of a 64 MiB file (the lint's own file
/// size cap) with room for its JSON escaping.
pub const MAX_MESSAGE: u64 = 80 << 20;

/// A header line longer than this is not a header.
const MAX_HEADER_LINE: u64 = 8 << 10;

pub struct Writer(JoinHandle<()>);

impl Writer {
    /// Wait until every message sent has been written (the connection must be dropped).
    pub fn join(self) {
        let _ = self.0.join();
    }
}

/// What reading the next message gave.
#[derive(Debug)]
pub enum Read1 {
    Message(Message),
    /// Skipped (not JSON-RPC, over the cap, a bad header), with why; reading goes on.
    Ignored(String),
    /// The client closed its end.
    End,
}

/// Read one framed message from `input`.
pub fn read_message(input: &mut dyn BufRead) -> std::io::Result<Read1> {
    let mut length: Option<u64> = None;
    let mut bad_header = None;
    let mut line = Vec::new();
    loop {
        line.clear();
        let n = input.take(MAX_HEADER_LINE).read_until(b'\n', &mut line)?;
        if n == 0 {
            return Ok(Read1::End);
        }
        if !line.ends_with(b"\n") {
            if n as u64 == MAX_HEADER_LINE {
                // No header of ours is this long: skipped without being held.
                skip_line(input)?;
                continue;
            }
            return Ok(Read1::End);
        }
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end_matches(['\r', '\n']);
        if text.is_empty() {
            if length.is_none() && bad_header.is_none() {
                // A stray blank line between messages.
                continue;
            }
            break;
        }
        match text.split_once(':') {
            Some((name, value)) if name.trim().eq_ignore_ascii_case("Content-Length") => match value.trim().parse::<u64>() {
                Ok(n) => length = Some(n),
                Err(_) => {
                    bad_header.get_or_insert_with(|| format!("bad Content-Length {:?}", crate::report::printable(value.trim())));
                }
            },
            Some(_) => {}
            None => {
                bad_header.get_or_insert_with(|| format!("malformed header {:?}", crate::report::printable(text)));
            }
        }
    }
    let Some(length) = length else {
        return Ok(Read1::Ignored(bad_header.unwrap_or_else(|| "no Content-Length".into())));
    };
    if length > MAX_MESSAGE {
        // Read past the body so the next message is found, holding none of it.
        let skipped = std::io::copy(&mut input.take(length), &mut std::io::sink())?;
        if skipped < length {
            return Ok(Read1::End);
        }
        return Ok(Read1::Ignored(format!("a message of {length} bytes is over the {MAX_MESSAGE}-byte limit")));
    }
    // Grown as the bytes arrive: a length claimed but never sent reserves nothing.
    let mut body = Vec::new();
    input.take(length).read_to_end(&mut body)?;
    if (body.len() as u64) < length {
        return Ok(Read1::End);
    }
    if let Some(why) = bad_header {
        return Ok(Read1::Ignored(why));
    }
    match serde_json::from_slice::<Message>(&body) {
        Ok(msg) => Ok(Read1::Message(msg)),
        Err(e) => Ok(Read1::Ignored(format!("not a JSON-RPC message: {e}"))),
    }
}

fn skip_line(input: &mut dyn BufRead) -> std::io::Result<()> {
    loop {
        let buf = input.fill_buf()?;
        if buf.is_empty() {
            return Ok(());
        }
        match memchr::memchr(b'\n', buf) {
            Some(i) => {
                input.consume(i + 1);
                return Ok(());
            }
            None => {
                let n = buf.len();
                input.consume(n);
            }
        }
    }
}

/// A connection reading `input` and writing `output` on threads of their own.
pub fn connect(mut input: impl BufRead + Send + 'static, mut output: impl Write + Send + 'static) -> (Connection, Writer) {
    let (to_client, outgoing) = crossbeam_channel::unbounded::<Message>();
    let (incoming, from_client) = crossbeam_channel::unbounded::<Message>();
    let writer = thread::spawn(move || {
        for msg in outgoing {
            if msg.write(&mut output).is_err() {
                break;
            }
        }
    });
    // Not joined: after the last message it may sit in a read of stdin until the process ends.
    thread::spawn(move || loop {
        match read_message(&mut input) {
            Ok(Read1::Message(msg)) => {
                let exit = matches!(&msg, Message::Notification(n) if n.method == "exit");
                if incoming.send(msg).is_err() || exit {
                    break;
                }
            }
            Ok(Read1::End) => break,
            Ok(Read1::Ignored(why)) => eprintln!("conflint server: ignored a message: {}", crate::report::printable(&why)),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => {
                eprintln!("conflint server: cannot read from the client: {e}");
                break;
            }
        }
    });
    (Connection { sender: to_client, receiver: from_client }, Writer(writer))
}

pub fn stdio() -> (Connection, Writer) {
    connect(std::io::BufReader::new(std::io::stdin()), std::io::stdout())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(bytes: &[u8]) -> Vec<String> {
        let mut input = bytes;
        let mut out = Vec::new();
        loop {
            match read_message(&mut input).unwrap() {
                Read1::Message(Message::Notification(n)) => out.push(n.method),
                Read1::Message(other) => out.push(format!("{other:?}")),
                Read1::Ignored(why) => out.push(format!("ignored: {why}")),
                Read1::End => return out,
            }
        }
    }

    fn frame(body: &str) -> String {
        format!("Content-Length: {}\r\n\r\n{body}", body.len())
    }

    #[test]
    fn bad_messages_are_skipped_and_framing_kept() {
        let ok = frame(r#"{"jsonrpc":"2.0","method":"a","params":null}"#);
        let mut input = format!("{}{ok}Content-Length: x\r\n\r\n{ok}", frame("{not json"));
        input.push_str(&format!("X: {}\r\n{ok}", "y".repeat(10_000)));
        input.push_str(&format!("Content-Length: {}\r\n\r\n{}{ok}", MAX_MESSAGE + 1, " ".repeat(MAX_MESSAGE as usize + 1)));
        let got = read_all(input.as_bytes());
        let expected = ["ignored: not a JSON-RPC message", "a", "ignored: bad Content-Length", "a", "a", "ignored: a message of", "a"];
        assert_eq!(got.len(), expected.len(), "{got:?}");
        for (g, e) in got.iter().zip(expected) {
            assert!(g.starts_with(e), "{g} is not {e}: {got:?}");
        }
    }

    #[test]
    fn a_length_never_sent_ends_the_stream_without_reserving_it() {
        assert!(read_all(b"Content-Length: 99999999999\r\n\r\n{}").is_empty());
        assert!(read_all(b"Content-Length: 1000\r\n\r\n{}").is_empty());
    }
}

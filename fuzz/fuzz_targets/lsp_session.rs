//! The language server on a generated session: framed messages (open, change, save, close,
//! code actions, hover, completion, shutdown) on files inside and outside the workspace
//! folder, mixed with raw bytes and bogus headers. The server must end when the input does, never panic,
//! write well-framed JSON-RPC, and publish diagnostics only for files inside the folder or
//! documents the client opened.
#![no_main]

use std::io::Write as _;
use std::sync::{Arc, Mutex};

use arbitrary::Arbitrary;
use conflint_fuzz::{Name, Piece};
use libfuzzer_sys::fuzz_target;
use serde_json::{json, Value};

#[derive(Arbitrary, Debug)]
struct Session {
    /// The workspace folder's files.
    files: Vec<(Name, Vec<Piece>)>,
    frames: Vec<Frame>,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Doc {
    Inside(Name),
    /// A file of a directory beside the folder: linted alone, never read.
    Outside(Name),
    Untitled,
    Weird(u8),
}

#[derive(Arbitrary, Debug)]
enum Frame {
    Open(Doc, Vec<Piece>),
    Change(Doc, Vec<Piece>, bool),
    Save(Doc, Option<Vec<Piece>>),
    Close(Doc),
    CodeAction(Doc, u8, u8, u8, u8),
    Hover(Doc, u8, u8),
    Complete(Doc, u8, u8),
    Request(String, Vec<u8>),
    Notification(String, Vec<u8>),
    Raw(Vec<u8>),
    BadLength(u64),
    Shutdown,
}

/// Output shared with the writer thread.
#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Shared {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn text(pieces: &[Piece]) -> String {
    let mut s = String::new();
    conflint_fuzz::render(pieces, &mut s, 0);
    s
}

fn frame(out: &mut Vec<u8>, msg: &Value) {
    let body = msg.to_string();
    let _ = write!(out, "Content-Length: {}\r\n\r\n{body}", body.len());
}

fuzz_target!(|s: Session| {
    let Ok(dir) = tempfile::tempdir() else { return };
    let Ok(base) = dir.path().canonicalize() else { return };
    let (folder, outside) = (base.join("ws"), base.join("outside"));
    for (name, pieces) in &s.files {
        let path = folder.join(name.rel());
        let _ = std::fs::create_dir_all(path.parent().unwrap());
        let _ = std::fs::write(&path, text(pieces));
    }
    // Beside the folder: read by nothing, whatever is opened next to it.
    let _ = std::fs::create_dir_all(outside.join("nginx"));
    let _ = std::fs::write(outside.join("nginx/nginx.conf"), "events {}\nhttp { include sites-enabled/*; }\n");
    let _ = std::fs::create_dir_all(&folder);
    let uri = |d: Doc| match d {
        Doc::Inside(n) => format!("file://{}", folder.join(n.rel()).display()),
        Doc::Outside(n) => format!("file://{}", outside.join(n.rel()).display()),
        Doc::Untitled => "untitled:Untitled-1".into(),
        Doc::Weird(n) => ["file:///", "file://host/x", "http://x/y", "file:///%00", "file:///etc/../etc/passwd", "::"][usize::from(n % 6)].into(),
    };
    let mut input = Vec::new();
    frame(&mut input, &json!({"jsonrpc": "2.0", "id": 0, "method": "initialize",
        "params": {"workspaceFolders": [{"uri": format!("file://{}", folder.display()), "name": "ws"}], "capabilities": {}}}));
    frame(&mut input, &json!({"jsonrpc": "2.0", "method": "initialized", "params": {}}));
    let mut opened = Vec::new();
    for (id, f) in s.frames.iter().enumerate() {
        let id = id + 1;
        let msg = match f {
            Frame::Open(d, p) => {
                opened.push(uri(*d));
                json!({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {"uri": uri(*d), "languageId": "nginx", "version": 1, "text": text(p)}}})
            }
            Frame::Change(d, p, ranged) => {
                let change = if *ranged { json!({"range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 1}}, "text": text(p)}) } else { json!({"text": text(p)}) };
                json!({"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {"textDocument": {"uri": uri(*d), "version": 2}, "contentChanges": [change]}})
            }
            Frame::Save(d, p) => json!({"jsonrpc": "2.0", "method": "textDocument/didSave", "params": {"textDocument": {"uri": uri(*d)}, "text": p.as_ref().map(|p| text(p))}}),
            Frame::Close(d) => json!({"jsonrpc": "2.0", "method": "textDocument/didClose", "params": {"textDocument": {"uri": uri(*d)}}}),
            Frame::CodeAction(d, l0, c0, l1, c1) => json!({"jsonrpc": "2.0", "id": id, "method": "textDocument/codeAction", "params": {
                "textDocument": {"uri": uri(*d)},
                "range": {"start": {"line": l0, "character": c0}, "end": {"line": l1, "character": c1}},
                "context": {"diagnostics": [], "only": if l0 % 2 == 0 { json!(["source.fixAll.conflint"]) } else { json!(null) }}}}),
            Frame::Hover(d, l, c) => json!({"jsonrpc": "2.0", "id": id, "method": "textDocument/hover", "params": {"textDocument": {"uri": uri(*d)}, "position": {"line": l, "character": c}}}),
            Frame::Complete(d, l, c) => json!({"jsonrpc": "2.0", "id": id, "method": "textDocument/completion", "params": {"textDocument": {"uri": uri(*d)}, "position": {"line": l, "character": c}}}),
            Frame::Request(method, params) => {
                json!({"jsonrpc": "2.0", "id": id, "method": method, "params": serde_json::from_slice::<Value>(params).unwrap_or(Value::Null)})
            }
            Frame::Notification(method, params) => {
                // `exit` would end the session before the rest is read: kept for the end.
                if method == "exit" {
                    continue;
                }
                json!({"jsonrpc": "2.0", "method": method, "params": serde_json::from_slice::<Value>(params).unwrap_or(Value::Null)})
            }
            Frame::Raw(bytes) => {
                input.extend_from_slice(bytes);
                continue;
            }
            Frame::BadLength(n) => {
                // Small enough not to swallow the rest of the input for long.
                let _ = write!(input, "Content-Length: {}\r\n\r\n", n % 64);
                continue;
            }
            Frame::Shutdown => json!({"jsonrpc": "2.0", "id": id, "method": "shutdown"}),
        };
        frame(&mut input, &msg);
    }
    let out = Shared::default();
    let code = conflint::server::serve_io(std::io::Cursor::new(input), out.clone());
    assert!(matches!(code, Ok(0 | 1)) || code.is_err(), "exit code {code:?}");
    let bytes = out.0.lock().unwrap().clone();
    // Well framed, each body JSON-RPC.
    let mut rest = bytes.as_slice();
    let inside = format!("file://{}/", folder.display());
    while !rest.is_empty() {
        let head_end = rest.windows(4).position(|w| w == b"\r\n\r\n").expect("a header ends");
        let head = std::str::from_utf8(&rest[..head_end]).expect("header is text");
        let len: usize = head.strip_prefix("Content-Length: ").expect("Content-Length header").parse().expect("a length");
        let body = &rest[head_end + 4..head_end + 4 + len];
        let msg: Value = serde_json::from_slice(body).expect("a JSON body");
        assert_eq!(msg["jsonrpc"], "2.0");
        if msg["method"] == "textDocument/publishDiagnostics" {
            let u = msg["params"]["uri"].as_str().expect("a uri");
            assert!(u.starts_with(&inside) || opened.iter().any(|o| o == u), "diagnostics published for {u}, neither in the folder nor opened");
        }
        rest = &rest[head_end + 4 + len..];
    }
});

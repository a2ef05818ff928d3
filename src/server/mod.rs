//! `conflint server`: a language server over stdio. Every open nginx or PHP-FPM file is
//! linted with its whole workspace (includes, nginx ↔ PHP-FPM rules), unsaved buffers laid
//! over the disk; diagnostics are published for every file of the workspace, fixes are
//! offered as code actions. Directive names are completed from the directive tables, and
//! hover shows what the tables say of a directive and the rule's page of a diagnostic.
//!
//! Synchronous: messages are handled in order and a burst of edits is linted once, when
//! the client pauses. A completion is answered from the buffer and what the last lint
//! learnt, without linting first: it comes while the user types.

// lsp-types' `Uri` hashes and compares by its text; clippy only sees a `Cell` inside it.
// LSP's own `WorkspaceEdit` is keyed by it.
#![allow(clippy::mutable_key_type)]

mod actions;
mod complete;
mod convert;
mod diagnostics;
mod hover;
mod lint;
mod tables;
mod transport;

use std::collections::{BTreeSet, HashMap};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crossbeam_channel::{RecvTimeoutError, Sender};
use lsp_server::{Connection, ErrorCode, Message, Notification, Request, Response, ResponseError};
use lsp_types::notification::{
    DidChangeTextDocument, DidCloseTextDocument, DidOpenTextDocument, DidSaveTextDocument, LogMessage, Notification as _,
    PublishDiagnostics, ShowMessage,
};
use lsp_types::request::{CodeActionRequest, Completion, HoverRequest, Request as _};
use lsp_types::{
    CodeActionKind, CodeActionOptions, CodeActionParams, CodeActionProviderCapability, CompletionOptions, CompletionParams, Diagnostic, HoverParams,
    HoverProviderCapability, Position, Range,
    InitializeParams, InitializeResult, LogMessageParams, MessageType, PublishDiagnosticsParams, ServerCapabilities, ServerInfo,
    ShowMessageParams, TextDocumentSyncCapability, TextDocumentSyncKind, TextDocumentSyncOptions, TextDocumentSyncSaveOptions, Uri,
};
use serde::de::DeserializeOwned;

use convert::Encoding;
use lint::Failure;

/// Serve one client on stdin/stdout. The exit code is 0 after `shutdown` then `exit`, 1
/// when the client left without `shutdown` (as LSP specifies).
pub fn run() -> Result<i32, String> {
    finish(transport::stdio())
}

/// Serve one client on `input` and `output` (what the fuzz target drives).
pub fn serve_io(input: impl std::io::BufRead + Send + 'static, output: impl std::io::Write + Send + 'static) -> Result<i32, String> {
    finish(transport::connect(input, output))
}

fn finish((connection, writer): (Connection, transport::Writer)) -> Result<i32, String> {
    let code = serve(&connection);
    drop(connection);
    writer.join();
    code
}

fn serve(connection: &Connection) -> Result<i32, String> {
    let (id, params) = connection.initialize_start().map_err(|e| e.to_string())?;
    let params: InitializeParams = match serde_json::from_value(params) {
        Ok(params) => params,
        Err(e) => {
            let message = format!("bad initialize parameters: {e}");
            let _ = connection.sender.send(Response::new_err(id, ErrorCode::InvalidParams as i32, message.clone()).into());
            return Err(message);
        }
    };
    let encoding = Encoding::negotiate(params.capabilities.general.as_ref().and_then(|g| g.position_encodings.as_deref()));
    let capabilities = ServerCapabilities {
        position_encoding: Some(encoding.kind()),
        text_document_sync: Some(TextDocumentSyncCapability::Options(TextDocumentSyncOptions {
            open_close: Some(true),
            change: Some(TextDocumentSyncKind::FULL),
            save: Some(TextDocumentSyncSaveOptions::Supported(true)),
            ..Default::default()
        })),
        code_action_provider: Some(CodeActionProviderCapability::Options(CodeActionOptions {
            code_action_kinds: Some(vec![CodeActionKind::QUICKFIX, actions::FIX_ALL]),
            ..Default::default()
        })),
        hover_provider: Some(HoverProviderCapability::Simple(true)),
        completion_provider: Some(CompletionOptions::default()),
        ..Default::default()
    };
    let result = InitializeResult {
        capabilities,
        server_info: Some(ServerInfo { name: "conflint".into(), version: Some(env!("CARGO_PKG_VERSION").into()) }),
    };
    let result = serde_json::to_value(result).map_err(|e| e.to_string())?;
    connection.initialize_finish(id, result).map_err(|e| e.to_string())?;

    let mut server = Server::new(connection.sender.clone(), encoding, folders(&params));
    loop {
        // Edits are linted once the client has paused for SETTLE: a completion sent just
        // after the edit (as editors send it) is answered before the lint, not after it.
        let msg = if server.pending.is_empty() {
            connection.receiver.recv().map_err(|_| RecvTimeoutError::Disconnected)
        } else {
            connection.receiver.recv_timeout(SETTLE)
        };
        let msg = match msg {
            Ok(msg) => msg,
            Err(RecvTimeoutError::Timeout) => {
                server.lint_pending();
                continue;
            }
            Err(RecvTimeoutError::Disconnected) => break,
        };
        match msg {
            Message::Request(req) if req.method == "shutdown" => {
                connection.sender.send(Response::new_ok(req.id, ()).into()).map_err(|e| e.to_string())?;
                return Ok(after_shutdown(connection));
            }
            Message::Request(req) => {
                // Answers reflect every edit received before the request; a completion
                // needs only the buffer, and is not held up by a lint.
                if req.method != Completion::METHOD {
                    server.lint_pending();
                }
                server.request(req);
            }
            Message::Notification(n) if n.method == "exit" => return Ok(1),
            Message::Notification(n) => server.notification(n),
            Message::Response(_) => {}
        }
    }
    Ok(1)
}

/// How long the client must be quiet after an edit before it is linted.
const SETTLE: Duration = Duration::from_millis(30);

/// After `shutdown` only `exit` is expected; requests get an error, as LSP asks.
fn after_shutdown(connection: &Connection) -> i32 {
    while let Ok(msg) = connection.receiver.recv() {
        match msg {
            Message::Notification(n) if n.method == "exit" => return 0,
            Message::Request(req) => {
                let resp = Response::new_err(req.id, ErrorCode::InvalidRequest as i32, "the server is shutting down".into());
                let _ = connection.sender.send(resp.into());
            }
            _ => {}
        }
    }
    1
}

/// The workspace folders the client opened, as real paths.
fn folders(params: &InitializeParams) -> Vec<PathBuf> {
    #[allow(deprecated)] // rootUri: what clients without workspace folders send
    let uris: Vec<&Uri> = match &params.workspace_folders {
        Some(folders) => folders.iter().map(|f| &f.uri).collect(),
        None => params.root_uri.iter().collect(),
    };
    uris.into_iter().filter_map(real_path).collect()
}

fn real_path(uri: &Uri) -> Option<PathBuf> {
    let path = convert::uri_to_path(uri)?;
    Some(path.canonicalize().unwrap_or(path))
}

/// Run `f`, turning a panic into its message.
fn catch_panic<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|payload| {
        payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic without a message".into())
    })
}

struct Doc {
    uri: Uri,
    version: i32,
    text: String,
    root: PathBuf,
}

/// Diagnostics last published for a file.
struct Published {
    uri: Uri,
    root: PathBuf,
    diagnostics: Vec<Diagnostic>,
}

struct Server {
    sender: Sender<Message>,
    encoding: Encoding,
    folders: Vec<PathBuf>,
    /// Open documents by real path.
    docs: HashMap<PathBuf, Doc>,
    /// Files with diagnostics on the client, by real path.
    published: HashMap<PathBuf, Published>,
    /// The rules of each root's last lint, for hover.
    registries: HashMap<PathBuf, crate::rules::Registry>,
    /// The directive tables of each root's last lint, for completion and hover.
    tables: HashMap<PathBuf, tables::Tables>,
    /// Roots edited since their last lint.
    pending: BTreeSet<PathBuf>,
    /// The failure last reported per root, so an error is said once, not per keystroke.
    failures: HashMap<PathBuf, Failure>,
}

impl Server {
    fn new(sender: Sender<Message>, encoding: Encoding, folders: Vec<PathBuf>) -> Self {
        Server {
            sender,
            encoding,
            folders,
            docs: HashMap::new(),
            published: HashMap::new(),
            registries: HashMap::new(),
            tables: HashMap::new(),
            pending: BTreeSet::new(),
            failures: HashMap::new(),
        }
    }

    fn notification(&mut self, n: Notification) {
        match n.method.as_str() {
            DidOpenTextDocument::METHOD => {
                let Some(p) = self.params::<lsp_types::DidOpenTextDocumentParams>(n) else { return };
                let Some(path) = real_path(&p.text_document.uri) else { return };
                let root = lint::root_for(&path, &self.folders);
                self.pending.insert(root.clone());
                let doc = Doc { uri: p.text_document.uri, version: p.text_document.version, text: p.text_document.text, root };
                self.docs.insert(path, doc);
            }
            DidChangeTextDocument::METHOD => {
                let Some(p) = self.params::<lsp_types::DidChangeTextDocumentParams>(n) else { return };
                let Some(path) = real_path(&p.text_document.uri) else { return };
                let Some(doc) = self.docs.get_mut(&path) else { return };
                self.pending.insert(doc.root.clone());
                if p.content_changes.iter().any(|c| c.range.is_some()) {
                    // The server asked for full text; a client sending pieces leaves the
                    // buffer unknown, and the saved file is better than a wrong guess.
                    self.docs.remove(&path);
                    self.log(MessageType::WARNING, "conflint: the client sent an incremental change; linting this file as saved".into());
                    return;
                }
                doc.version = p.text_document.version;
                if let Some(change) = p.content_changes.into_iter().last() {
                    doc.text = change.text;
                }
            }
            DidSaveTextDocument::METHOD => {
                let Some(p) = self.params::<lsp_types::DidSaveTextDocumentParams>(n) else { return };
                let Some(path) = real_path(&p.text_document.uri) else { return };
                let root = match self.docs.get_mut(&path) {
                    Some(doc) => {
                        if let Some(text) = p.text {
                            doc.text = text;
                        }
                        doc.root.clone()
                    }
                    None => lint::root_for(&path, &self.folders),
                };
                self.pending.insert(root);
            }
            DidCloseTextDocument::METHOD => {
                let Some(p) = self.params::<lsp_types::DidCloseTextDocumentParams>(n) else { return };
                // The file is linted from the disk again: its unsaved edits are gone.
                if let Some(doc) = real_path(&p.text_document.uri).and_then(|path| self.docs.remove(&path)) {
                    self.pending.insert(doc.root);
                }
            }
            // `$/cancelRequest` (every answer is immediate), `$/setTrace`, settings: nothing to do.
            _ => {}
        }
    }

    /// A notification's parameters; bad ones are logged and the notification dropped.
    fn params<P: DeserializeOwned>(&self, n: Notification) -> Option<P> {
        match serde_json::from_value(n.params) {
            Ok(p) => Some(p),
            Err(e) => {
                self.log(MessageType::WARNING, format!("conflint: ignored {} with bad parameters: {e}", n.method));
                None
            }
        }
    }

    fn request(&mut self, req: Request) {
        let id = req.id.clone();
        let response = match catch_panic(|| self.answer(req)) {
            Ok(result) => Response { id, response_result: result },
            Err(panic) => {
                let message = format!("conflint: internal error: {panic}");
                self.log(MessageType::ERROR, format!("{message}. This is a bug in conflint; please report it."));
                Response::new_err(id, ErrorCode::InternalError as i32, message)
            }
        };
        let _ = self.sender.send(response.into());
    }

    fn answer(&self, req: Request) -> Result<serde_json::Value, ResponseError> {
        match req.method.as_str() {
            CodeActionRequest::METHOD => {
                let p: CodeActionParams = request_params(req.params)?;
                let published = self.diagnostics_of(&p.text_document.uri);
                json(actions::code_actions(&p, published))
            }
            HoverRequest::METHOD => {
                let p: HoverParams = request_params(req.params)?;
                let at = p.text_document_position_params;
                let rules = self.published_of(&at.text_document.uri).and_then(|pb| {
                    let registry = self.registries.get(&pb.root)?;
                    hover::rule_pages(at.position, &pb.diagnostics, registry)
                });
                let facts = self.at_cursor(&at.text_document.uri, at.position, hover::facts);
                json(hover::hover(facts, rules))
            }
            Completion::METHOD => {
                let p: CompletionParams = request_params(req.params)?;
                let at = p.text_document_position;
                json(self.at_cursor(&at.text_document.uri, at.position, complete::completion))
            }
            method => Err(error(ErrorCode::MethodNotFound, format!("conflint does not implement {method}"))),
        }
    }

    /// `f` on the open document `uri` at `position`: its root's tables, path, text, the
    /// byte offset, and a converter of byte spans to ranges. `None` for a closed document.
    fn at_cursor<T>(
        &self,
        uri: &Uri,
        position: Position,
        f: impl FnOnce(&tables::Tables, &Path, &[u8], usize, &dyn Fn(usize, usize) -> Range) -> Option<T>,
    ) -> Option<T> {
        let path = real_path(uri)?;
        let doc = self.docs.get(&path)?;
        let text = doc.text.as_bytes();
        let fallback;
        let tables = match self.tables.get(&doc.root) {
            Some(t) => t,
            None => {
                fallback = lint::tables_without_lint(&doc.root);
                &fallback
            }
        };
        let offset = convert::offset(text, position, self.encoding);
        let src = crate::source::SourceFile::new("", None, text.to_vec());
        let range_of = |start: usize, end: usize| convert::range(&src, crate::source::Span::new(start, end), self.encoding);
        f(tables, &path, text, offset, &range_of)
    }

    fn published_of(&self, uri: &Uri) -> Option<&Published> {
        self.published.get(&real_path(uri)?)
    }

    fn diagnostics_of(&self, uri: &Uri) -> &[Diagnostic] {
        self.published_of(uri).map_or(&[], |pb| &pb.diagnostics)
    }

    fn lint_pending(&mut self) {
        for root in std::mem::take(&mut self.pending) {
            self.lint(&root);
        }
    }

    fn lint(&mut self, root: &Path) {
        let overlay = self.docs.iter().map(|(path, doc)| (path.clone(), doc.text.clone().into_bytes())).collect();
        let docs = &self.docs;
        let uri_of = |path: &Path| docs.get(path).map(|d| d.uri.clone()).or_else(|| convert::path_to_uri(path));
        let outcome = if lint::outside(root, &self.folders) {
            lint::lint_alone(root, docs.get(root).map(|d| d.text.as_str()), self.encoding, &uri_of)
        } else {
            lint::lint(root, overlay, self.encoding, &uri_of)
        };
        match outcome {
            Ok(outcome) => {
                self.failures.remove(root);
                self.publish(root, outcome);
            }
            Err(failure) => self.report(root, failure),
        }
    }

    /// Publish what changed: new and changed diagnostics, empty lists for files whose
    /// findings are gone, and every open document of the root with its version.
    fn publish(&mut self, root: &Path, outcome: lint::Outcome) {
        let lint::Outcome { mut diagnostics, linted, registry, tables } = outcome;
        self.registries.insert(root.to_path_buf(), registry);
        self.tables.insert(root.to_path_buf(), tables);
        let mut paths: BTreeSet<PathBuf> = diagnostics.keys().cloned().collect();
        paths.extend(self.published.iter().filter(|(_, pb)| pb.root == root).map(|(p, _)| p.clone()));
        paths.extend(self.docs.keys().filter(|p| linted.contains(*p)).cloned());
        for path in paths {
            let new = diagnostics.remove(&path).unwrap_or_default();
            let doc = self.docs.get(&path);
            let Some(uri) = doc.map(|d| d.uri.clone()).or_else(|| convert::path_to_uri(&path)) else { continue };
            let old = self.published.remove(&path);
            if let Some(old) = &old {
                if old.uri != uri {
                    self.send_diagnostics(old.uri.clone(), Vec::new(), None);
                }
            }
            if doc.is_some() || old.as_ref().is_none_or(|o| o.diagnostics != new) {
                self.send_diagnostics(uri.clone(), new.clone(), doc.map(|d| d.version));
            }
            if !new.is_empty() {
                self.published.insert(path, Published { uri, root: root.to_path_buf(), diagnostics: new });
            }
        }
    }

    fn report(&mut self, root: &Path, failure: Failure) {
        if self.failures.get(root) == Some(&failure) {
            return;
        }
        let shown = root.display();
        match &failure {
            Failure::Config(e) => {
                let message = format!("conflint: {e} (nothing in {shown} is linted until this is fixed)");
                self.notify::<ShowMessage>(ShowMessageParams { typ: MessageType::ERROR, message: message.clone() });
                self.log(MessageType::ERROR, message);
            }
            Failure::Lint(e) => self.log(MessageType::ERROR, format!("conflint: cannot lint {shown}: {e}")),
            Failure::Panic(e) => self.log(
                MessageType::ERROR,
                format!("conflint: internal error while linting {shown}: {e}. This is a bug in conflint; please report it with the config that triggered it."),
            ),
        }
        self.failures.insert(root.to_path_buf(), failure);
    }

    fn send_diagnostics(&self, uri: Uri, diagnostics: Vec<Diagnostic>, version: Option<i32>) {
        self.notify::<PublishDiagnostics>(PublishDiagnosticsParams { uri, diagnostics, version });
    }

    fn log(&self, typ: MessageType, message: String) {
        self.notify::<LogMessage>(LogMessageParams { typ, message });
    }

    fn notify<N: lsp_types::notification::Notification>(&self, params: N::Params) {
        let _ = self.sender.send(Notification::new(N::METHOD.into(), params).into());
    }
}

fn request_params<P: DeserializeOwned>(params: serde_json::Value) -> Result<P, ResponseError> {
    serde_json::from_value(params).map_err(|e| error(ErrorCode::InvalidParams, e.to_string()))
}

fn json(value: impl serde::Serialize) -> Result<serde_json::Value, ResponseError> {
    serde_json::to_value(value).map_err(|e| error(ErrorCode::InternalError, e.to_string()))
}

fn error(code: ErrorCode, message: String) -> ResponseError {
    ResponseError { code: code as i32, message, data: None }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_its_message() {
        assert_eq!(catch_panic(|| 7), Ok(7));
        assert_eq!(catch_panic(|| -> i32 { panic!("boom at {}", 3) }), Err("boom at 3".to_string()));
        assert_eq!(catch_panic(|| -> i32 { panic!("static boom") }), Err("static boom".to_string()));
    }
}

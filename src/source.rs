//! Source files as bytes, with the line table every span is resolved against.

use std::path::PathBuf;

/// Byte range `[start, end)` into one source file.
///
/// Stored as two `u32`s: the trees hold millions of spans (a word of the nginx tree takes 40
/// bytes instead of 48). No file past [`MAX_SOURCE_LEN`] is read: `[check] max-file-size`
/// cannot be set higher, and the editor server takes no message that large.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct Span {
    start: u32,
    end: u32,
}

/// The longest source a [`Span`] can address.
pub const MAX_SOURCE_LEN: u64 = u32::MAX as u64;

impl Span {
    pub fn new(start: usize, end: usize) -> Self {
        debug_assert!(start <= end && end as u64 <= MAX_SOURCE_LEN);
        Span { start: start as u32, end: end as u32 }
    }
    pub fn empty(at: usize) -> Self {
        Span::new(at, at)
    }
    pub fn start(&self) -> usize {
        self.start as usize
    }
    pub fn end(&self) -> usize {
        self.end as usize
    }
    pub fn len(&self) -> usize {
        (self.end - self.start) as usize
    }
    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }
    pub fn join(self, other: Span) -> Span {
        Span { start: self.start.min(other.start), end: self.end.max(other.end) }
    }
}

/// 1-based line, 1-based column in Unicode scalar values (of the lossily decoded line),
/// 0-based byte offset: the position triple of `../shared/spec/cli.md`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Position {
    pub line: usize,
    pub column: usize,
    pub offset: usize,
}

/// Index of a file in [`Sources`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FileId(pub usize);

/// One file's bytes. Configs are read as bytes: non-UTF-8 content is displayed lossily,
/// never rejected.
#[derive(Debug)]
pub struct SourceFile {
    /// Where the bytes came from on disk (`None` for stdin and `nginx -T` parts).
    pub disk_path: Option<PathBuf>,
    /// The path shown to the user: as named on the command line, or relative to the
    /// current directory, `/`-separated.
    pub display: String,
    pub text: Vec<u8>,
    lines: LineTable,
}

/// Where each line of a text starts, and its line ending.
#[derive(Debug)]
pub struct LineTable {
    starts: Vec<usize>,
    crlf: bool,
}

impl LineTable {
    pub fn of(text: &[u8]) -> Self {
        // Counted first: growing a vector of a million offsets by doubling costs more.
        let mut starts = Vec::with_capacity(memchr::memchr_iter(b'\n', text).count() + 1);
        starts.push(0);
        starts.extend(memchr::memchr_iter(b'\n', text).map(|i| i + 1));
        LineTable { starts, crlf: memchr::memmem::find(text, b"\r\n").is_some() }
    }

    /// The 0-based line holding byte `offset`.
    pub fn line_of(&self, offset: usize) -> usize {
        self.starts.partition_point(|&s| s <= offset) - 1
    }

    /// Where the 0-based line `line` starts.
    pub fn start(&self, line: usize) -> usize {
        self.starts[line]
    }
}

impl SourceFile {
    pub fn new(display: impl Into<String>, disk_path: Option<PathBuf>, text: Vec<u8>) -> Self {
        let lines = LineTable::of(&text);
        Self::with_lines(display, disk_path, text, lines)
    }

    /// Its real path, bytes and line table, for reuse by a later lint of the same file.
    pub fn into_parts(self) -> (Option<PathBuf>, Vec<u8>, LineTable) {
        (self.disk_path, self.text, self.lines)
    }

    /// A file whose line table was built elsewhere (beside its parse, on another core).
    pub fn with_lines(display: impl Into<String>, disk_path: Option<PathBuf>, text: Vec<u8>, lines: LineTable) -> Self {
        SourceFile { disk_path, display: display.into(), text, lines }
    }

    /// `\r\n` when the file uses it anywhere, else `\n`: what an inserted line ends with.
    pub fn line_ending(&self) -> &'static str {
        if self.lines.crlf { "\r\n" } else { "\n" }
    }

    pub fn position(&self, offset: usize) -> Position {
        let offset = offset.min(self.text.len());
        let line_idx = self.lines.line_of(offset);
        let line_start = self.lines.start(line_idx);
        let before = &self.text[line_start..offset];
        let column = if before.is_ascii() { before.len() } else { String::from_utf8_lossy(before).chars().count() } + 1;
        Position { line: line_idx + 1, column, offset }
    }

    /// Byte range of the 1-based line `line`, without its line terminator.
    pub fn line_span(&self, line: usize) -> Span {
        let start = self.lines.starts[line - 1];
        let mut end = self.lines.starts.get(line).map_or(self.text.len(), |&n| n - 1);
        if end > start && self.text[end - 1] == b'\r' {
            end -= 1;
        }
        Span::new(start, end)
    }

    pub fn line_count(&self) -> usize {
        self.lines.starts.len()
    }

    pub fn slice(&self, span: Span) -> &[u8] {
        &self.text[span.start()..span.end()]
    }

    pub fn lossy(&self) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(&self.text)
    }

    pub fn is_utf8(&self) -> bool {
        std::str::from_utf8(&self.text).is_ok()
    }
}

/// Every file read in one run; findings point into it with a [`FileId`].
#[derive(Debug, Default)]
pub struct Sources {
    files: Vec<SourceFile>,
}

impl Sources {
    pub fn add(&mut self, file: SourceFile) -> FileId {
        self.files.push(file);
        FileId(self.files.len() - 1)
    }
    pub fn get(&self, id: FileId) -> &SourceFile {
        &self.files[id.0]
    }
    pub fn iter(&self) -> impl Iterator<Item = (FileId, &SourceFile)> {
        self.files.iter().enumerate().map(|(i, f)| (FileId(i), f))
    }
    pub fn into_files(self) -> impl Iterator<Item = (FileId, SourceFile)> {
        self.files.into_iter().enumerate().map(|(i, f)| (FileId(i), f))
    }
    pub fn len(&self) -> usize {
        self.files.len()
    }
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_address_every_offset_of_the_largest_file() {
        let last = MAX_SOURCE_LEN as usize;
        let s = Span::new(last - 1, last);
        assert_eq!((s.start(), s.end(), s.len()), (last - 1, last, 1));
        assert_eq!(Span::new(3, 9).join(Span::empty(12)), Span::new(3, 12));
        assert_eq!(std::mem::size_of::<Span>(), 8);
    }

    #[test]
    fn positions_count_scalars_and_lines() {
        let f = SourceFile::new("x", None, "ab\nçé x\r\nlast".as_bytes().to_vec());
        assert_eq!(f.position(0), Position { line: 1, column: 1, offset: 0 });
        let x = "ab\nçé ".len();
        assert_eq!(f.position(x), Position { line: 2, column: 4, offset: x });
        assert_eq!(f.line_span(2), Span::new(3, 3 + "çé x".len()));
        assert_eq!(f.position(f.text.len()).line, 3);
    }

    #[test]
    fn invalid_utf8_is_counted_lossily() {
        let f = SourceFile::new("x", None, b"a\xff\xfeb".to_vec());
        assert_eq!(f.position(3).column, 4);
        assert!(!f.is_utf8());
    }
}

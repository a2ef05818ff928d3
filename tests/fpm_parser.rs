//! The PHP-FPM line parser: losslessness, PHP-FPM's syntax rules, spans and scanner values.
//! Expected verdicts for the tricky cases were taken from `php-fpm8.2 -t`/`-tt` runs.

use conflint::fpm::ast::{Entry, FpmFile, LineKind};
use conflint::fpm::parse;
use conflint::source::Span;

fn reassemble(src: &[u8], file: &FpmFile) -> Vec<u8> {
    let mut out = Vec::with_capacity(src.len());
    for line in &file.lines {
        assert_eq!(line.span.end(), line.eol().start(), "eol follows the line");
        out.extend_from_slice(&src[line.span.start()..line.span.end()]);
        out.extend_from_slice(&src[line.eol().start()..line.eol().end()]);
    }
    out
}

fn assert_round_trip(src: &[u8]) -> FpmFile {
    let file = parse(src);
    assert_eq!(reassemble(src, &file), src, "round trip of {:?}", String::from_utf8_lossy(src));
    file
}

/// The kind of a one-line input.
fn kind(src: &str) -> LineKind {
    let file = assert_round_trip(src.as_bytes());
    assert_eq!(file.lines.len(), 1, "{src:?}");
    file.lines[0].kind.clone()
}

fn entry(src: &str) -> Entry {
    match kind(src) {
        LineKind::Entry(e) => *e,
        other => panic!("{src:?}: expected an entry, got {other:?}"),
    }
}

/// The scanner's value of `key = <value>`.
fn value(v: &str) -> String {
    entry(&format!("key = {v}")).value.text.to_string()
}

fn error(src: &str) -> (String, Span) {
    match kind(src) {
        LineKind::Error(e) => (e.message, e.span),
        other => panic!("{src:?}: expected an error, got {other:?}"),
    }
}

const MSG_DQ: &str = "syntax error, unexpected end of file, expecting TC_DOLLAR_CURLY or TC_QUOTED_STRING or '\"'";

fn text(src: &str, span: Span) -> &str {
    &src[span.start()..span.end()]
}

#[test]
fn empty_file_has_no_lines() {
    assert!(parse(b"").lines.is_empty());
}

#[test]
fn lines_split_on_lf_crlf_and_missing_final_newline() {
    let src = b"a = 1\r\nb = 2\n\nc = 3";
    let file = assert_round_trip(src);
    assert_eq!(file.lines.len(), 4);
    assert_eq!(file.lines[0].span, Span::new(0, 5));
    assert_eq!(file.lines[0].eol(), Span::new(5, 7));
    assert_eq!(file.lines[1].eol(), Span::new(12, 13));
    assert_eq!(file.lines[2].kind, LineKind::Blank);
    assert_eq!(file.lines[3].eol(), Span::new(src.len(), src.len()));
    let LineKind::Entry(a) = &file.lines[0].kind else { panic!() };
    assert_eq!(&*a.value.text, "1", "CR is not part of the value");
}

#[test]
fn lone_cr_is_a_line_break_like_in_the_scanner() {
    let file = assert_round_trip(b"a = 1\rb = 2\n");
    assert_eq!(file.lines.len(), 2);
    assert_eq!(file.lines[0].eol(), Span::new(5, 6));
}

#[test]
fn round_trip_of_awkward_inputs() {
    let mut huge = b"key = ".to_vec();
    huge.extend(std::iter::repeat_n(b'x', 1 << 20));
    let inputs: Vec<Vec<u8>> = vec![
        b"\n".to_vec(),
        b"\n\n\r\n".to_vec(),
        b"\r".to_vec(),
        b"\r\r\n\n\r".to_vec(),
        b"[www]\n; c\n\tuser = x ; y\r\n".to_vec(),
        b"\xff\xfe\x00\x01[\x80]\n\x00\x00\n".to_vec(),
        (0..=255u8).collect(),
        (0..=255u8).rev().cycle().take(5000).collect(),
        huge,
    ];
    for input in inputs {
        assert_round_trip(&input);
    }
}

#[test]
fn never_panics_on_generated_garbage() {
    // A small deterministic generator over the bytes the scanner cares about.
    let alphabet = b"ab =;[]\"'$\\{}()|&^~!#\t\r\n\x00\xffonyes";
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    for _ in 0..20_000 {
        let len = (state % 24) as usize;
        let mut input = Vec::with_capacity(len);
        for _ in 0..len {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            input.push(alphabet[(state % alphabet.len() as u64) as usize]);
        }
        let file = assert_round_trip(&input);
        for line in &file.lines {
            if let LineKind::Error(e) = &line.kind {
                let span = e.span;
                assert!(span.start() >= line.span.start() && span.end() <= line.span.end(), "{input:?}");
            }
        }
    }
}

#[test]
fn blank_and_comment_lines() {
    assert_eq!(kind("   \t "), LineKind::Blank);
    let src = "  ; a comment = with [stuff]";
    let file = parse(src.as_bytes());
    assert_eq!(file.lines[0].kind, LineKind::Blank);
    assert_eq!(text(src, file.lines[0].comment.unwrap()), "; a comment = with [stuff]");
}

#[test]
fn sections() {
    let src = "[www]";
    let LineKind::Section(section) = kind(src) else { panic!() };
    assert_eq!((section.name.as_str(), text(src, section.name_span)), ("www", "www"));
    // PHP-FPM keeps blanks inside the brackets (`[ pool2 ]` is the pool " pool2 ").
    assert!(matches!(kind("  [ pool2 ]  "), LineKind::Section(s) if s.name == " pool2 "));
    assert!(matches!(kind("[my pool]"), LineKind::Section(s) if s.name == "my pool"));
    assert!(matches!(kind("[\"w w\"]"), LineKind::Section(s) if s.name == "w w"));
    assert!(matches!(kind("[]"), LineKind::Section(s) if s.name.is_empty()));
    let src = "[www] ; the pool";
    let file = parse(src.as_bytes());
    assert!(matches!(&file.lines[0].kind, LineKind::Section(s) if s.name == "www"));
    assert_eq!(text(src, file.lines[0].comment.unwrap()), "; the pool");
}

#[test]
fn section_errors() {
    let (message, span) = error("[www");
    assert_eq!(message, "syntax error, unexpected end of file, expecting ']'");
    assert_eq!(span, Span::new(0, 4));
    assert_eq!(error("[my;pool]").0, "syntax error, unexpected end of file, expecting ']'");
    let (message, span) = error("[www] user = x");
    assert!(message.starts_with("unexpected text after the section header"), "{message}");
    assert_eq!(text("[www] user = x", span), "user = x");
}

#[test]
fn entries_with_spans() {
    let src = "  pm.max_children   =   5   ; five";
    let file = parse(src.as_bytes());
    let LineKind::Entry(e) = &file.lines[0].kind else { panic!() };
    assert_eq!(e.name, "pm.max_children");
    assert_eq!(text(src, e.name_span), "pm.max_children");
    assert_eq!(text(src, e.value.span), "5");
    assert_eq!(&*e.value.text, "5");
    assert!(!e.value.quoted && !e.value.has_env);
    assert_eq!(text(src, file.lines[0].comment.unwrap()), "; five");
    // Spaces inside a name are kept (PHP-FPM then reports an unknown entry).
    assert_eq!(entry("pm max = 1").name, "pm max");
    // Directive case is preserved here; the resolver compares case-insensitively.
    assert_eq!(entry("PM.MAX_CHILDREN = 3").name, "PM.MAX_CHILDREN");
}

#[test]
fn empty_value_is_an_empty_span_after_the_equals_sign() {
    let src = "pm.max_children =";
    let e = entry(src);
    assert_eq!(&*e.value.text, "");
    assert_eq!(e.value.span, Span::empty(src.len()));
    let src = "slowlog =   ; nothing";
    let e = entry(src);
    assert_eq!(e.value.span, Span::empty("slowlog =".len()));
}

#[test]
fn trailing_comments_and_semicolons_in_quotes() {
    assert_eq!(value("10s;"), "10s");
    assert_eq!(value("10s ; idle"), "10s");
    let src = "php_value[include_path] = \".:/usr/share/php;/opt/php\" ; paths";
    let e = entry(src);
    assert_eq!(&*e.value.text, ".:/usr/share/php;/opt/php");
    assert!(e.value.quoted);
    assert_eq!(text(src, e.value.span), "\".:/usr/share/php;/opt/php\"");
}

#[test]
fn arrays() {
    let src = "php_admin_value[memory_limit] = 256M";
    let e = entry(src);
    assert_eq!(e.name, "php_admin_value");
    let (key, key_span) = *e.array_key.unwrap();
    assert_eq!((key.as_str(), text(src, key_span)), ("memory_limit", "memory_limit"));
    assert_eq!(&*e.value.text, "256M");
    let e = entry("access.suppress_path[] = /ping");
    assert_eq!((e.name.as_str(), e.array_key.unwrap().0.as_str()), ("access.suppress_path", ""));
    // Blanks after `[` go, blanks before `]` stay (php-fpm -tt: `php_value[a b ]`).
    assert_eq!(entry("php_value[ a b ] = 1").array_key.unwrap().0, "a b ");
    assert_eq!(entry("php_value [x] = 1").name, "php_value");
    assert_eq!(entry("php_value[\"a b\"] = 1").array_key.unwrap().0, "a b");
    assert_eq!(entry("php_value['a'] = 1").array_key.unwrap().0, "a");
    assert_eq!(entry("env[Mixed_Case] = abc").array_key.unwrap().0, "Mixed_Case");
    assert_eq!(&*entry("env[PATH] = $PATH").value.text, "$PATH");
}

#[test]
fn array_errors() {
    assert_eq!(error("php_value[x]").0, "syntax error, unexpected END_OF_LINE, expecting '='");
    assert_eq!(error("php_value[a] x = 1").0, "syntax error, unexpected TC_LABEL, expecting '='");
    assert_eq!(error("php_value[a[b]] = 1").0, "syntax error, unexpected TC_LABEL, expecting '='");
    assert_eq!(error("php_value[a;b] = 1").0, "syntax error, unexpected end of file, expecting ']'");
    assert_eq!(error("php_value\t[x] = 1").0, "value is NULL for a ZEND_INI_PARSER_ENTRY");
}

#[test]
fn keywords_are_converted_case_insensitively() {
    for t in ["true", "on", "yes", "TRUE", "On", "yEs"] {
        assert_eq!(value(t), "1", "{t}");
    }
    for f in ["false", "off", "no", "none", "null", "NULL", "Off", "None"] {
        assert_eq!(value(f), "", "{f}");
    }
    assert_eq!(value("on ; comment"), "1");
    // Only whole words: these are plain strings.
    for s in ["only", "nobody", "yes.", "none/x", "on$x", "off-peak"] {
        assert_eq!(value(s), s);
    }
    // Quoted keywords stay words.
    assert_eq!(value("\"yes\""), "yes");
    assert_eq!(value("'Off'"), "Off");
}

#[test]
fn keywords_inside_values_are_syntax_errors() {
    assert_eq!(error("ping.response = foo on").0, "syntax error, unexpected BOOL_TRUE");
    assert_eq!(error("ping.response = on duty").0, "syntax error, unexpected TC_CONSTANT");
    assert_eq!(error("ping.response = a none").0, "syntax error, unexpected BOOL_FALSE");
    assert_eq!(error("ping.response = null \"x\"").0, "syntax error, unexpected '\"'");
    let (message, span) = error("on = 1");
    assert_eq!(message, "syntax error, unexpected BOOL_TRUE");
    assert_eq!(span, Span::new(0, 2));
}

#[test]
fn double_quotes() {
    assert_eq!(value("\"5\""), "5");
    assert_eq!(value("\"\""), "");
    assert_eq!(value(r#""a\"b\\c\$d\ne""#), r"a$b\c$d\ne".replacen('$', "\"", 1));
    assert_eq!(value(r#""C:\new\path""#), r"C:\new\path");
    // `"C:\path\"`: a `\"` at the end of the line closes the string, backslash kept.
    assert_eq!(value(r#""C:\path\""#), r"C:\path\");
    // Blanks around quotes are eaten by the quote tokens (php-fpm -tt: `abc`).
    assert_eq!(value("a \"b\" c"), "abc");
    assert_eq!(value("\"abc\" x"), "abcx");
    assert_eq!(value(r#""%R - %u \"%m %r\" %s""#), r#"%R - %u "%m %r" %s"#);
    assert_eq!(value("\"a=b\""), "a=b");
    assert_eq!(value("\"a#b\""), "a#b");
}

#[test]
fn unterminated_double_quote() {
    let src = "ping.response = \"abc";
    let (message, span) = error(src);
    assert_eq!(message, "syntax error, unexpected end of file, expecting TC_DOLLAR_CURLY or TC_QUOTED_STRING or '\"'");
    assert_eq!(text(src, span), "\"abc");
    // `\"` at the end of the line closes the string, so this is fine ...
    assert_eq!(value(r#""abc\""#), r"abc\");
    // ... but not when something follows.
    assert!(matches!(kind(r#"k = "abc\" ; c"#), LineKind::Error(_)));
}

#[test]
fn single_quotes() {
    assert_eq!(value("'a;b=c\"d'"), "a;b=c\"d");
    assert_eq!(value("'${HOME}'"), "${HOME}");
    assert!(entry("k = '${HOME}'").value.quoted);
    assert!(!entry("k = '${HOME}'").value.has_env);
    assert_eq!(value("' '"), " ");
    assert_eq!(value("abc'de'f"), "abcdef");
    // An unmatched `'` after a complete value ends the value there (php-fpm -tt: `abc`).
    let src = "ping.response = abc'def=x";
    let e = entry(src);
    assert_eq!(&*e.value.text, "abc");
    assert_eq!(text(src, e.value.span), "abc");
    assert_eq!(value("\"a\"'"), "a");
}

#[test]
fn single_quote_errors() {
    assert_eq!(error("k = 'abc").0, "syntax error, unexpected end of file");
    assert_eq!(error("k = '").0, "syntax error, unexpected end of file");
    assert_eq!(error("k = x | 'abc").0, "syntax error, unexpected end of file");
    for v in ["''", "''x", "abc''", "abc ''", "'' ; c"] {
        let (message, _) = error(&format!("k = {v}"));
        assert!(message.contains("value is NULL for a ZEND_INI_PARSER_ENTRY"), "{v}: {message}");
    }
}

#[test]
fn environment_variables() {
    let src = "pm.max_children = ${FPM_CHILDREN}";
    let e = entry(src);
    assert!(e.value.has_env);
    assert_eq!(&*e.value.text, "${FPM_CHILDREN}");
    assert_eq!(text(src, e.value.span), "${FPM_CHILDREN}");
    assert_eq!(value("${HOME}/slow.log"), "${HOME}/slow.log");
    assert!(entry("k = \"a${HOME}b\"").value.has_env);
    assert_eq!(value("\"a${HOME}b\""), "a${HOME}b");
    assert_eq!(value("\"a\\${HOME}b\""), "a${HOME}b", "escaped: no variable");
    assert!(!entry("k = \"a\\${HOME}b\"").value.has_env);
    assert_eq!(value("${ HOME }y"), "${ HOME }y");
    // 8.2 has no `:-` fallback: the whole thing is a variable name.
    assert!(entry("k = ${HOME:-x}").value.has_env);
    assert!(entry("env[${HOME}] = 1").array_key.is_some());
    assert!(matches!(kind("[${POOL}]"), LineKind::Section(s) if s.name == "${POOL}"));
}

#[test]
fn environment_variable_errors() {
    assert_eq!(error("k = ${}").0, "syntax error, unexpected '}', expecting TC_VARNAME");
    assert_eq!(error("k = ${HOME").0, "syntax error, unexpected end of file, expecting '}'");
    assert_eq!(error("k = \"${HOME\"").0, "syntax error, unexpected end of file, expecting '}'");
}

#[test]
fn dollar_without_brace_is_literal() {
    assert_eq!(value("/var/log/$pool.log"), "/var/log/$pool.log");
    assert_eq!(value("abc$"), "abc$");
    // `$` swallows the byte after it, even `=`, `;`, a blank or a quote (php-fpm -tt).
    assert_eq!(value("a$=b"), "a$=b");
    assert_eq!(value("a$;b ; c"), "a$;b");
    assert_eq!(value("a$ b$"), "a$ b$");
    assert_eq!(error("k = a$\"b\"").0, MSG_DQ);
    assert!(!entry("k = $x").value.has_env);
}

#[test]
fn equals_in_unquoted_value_is_an_error() {
    let src = "php_value[include_path] = .:/a=b";
    let (message, span) = error(src);
    assert_eq!(message, "syntax error, unexpected '='");
    assert_eq!(span, Span::new(src.len() - 2, src.len() - 1));
    assert_eq!(error("sendmail_path = /usr/sbin/sendmail -t -i -f a=b;c").0, "syntax error, unexpected '='");
    assert_eq!(error("k == 1").0, "syntax error, unexpected '='");
    assert_eq!(error("=x").0, "syntax error, unexpected '='");
}

#[test]
fn line_without_equals_is_an_error() {
    let (message, span) = error("this line has no equals sign");
    assert_eq!(message, "value is NULL for a ZEND_INI_PARSER_ENTRY");
    assert_eq!(span, Span::new(0, 28));
    assert_eq!(error("catch_workers_output ; yes").0, "value is NULL for a ZEND_INI_PARSER_ENTRY");
    assert_eq!(error("ping\t.response = x").0, "value is NULL for a ZEND_INI_PARSER_ENTRY");
}

#[test]
fn hash_is_not_a_comment() {
    let (message, span) = error("# a hash comment");
    assert_eq!(message, "`#` does not start a comment in PHP-FPM (php-fpm: value is NULL for a ZEND_INI_PARSER_ENTRY)");
    assert_eq!(span, Span::new(0, 16));
    let (message, span) = error("  # pm.max_children = 3");
    assert_eq!(message, "`#` does not start a comment in PHP-FPM (php-fpm: unknown entry '# pm.max_children')");
    assert_eq!(span.start(), 2);
    assert!(error("#php_value[x] = 1").0.contains("unknown directive '#php_value'"));
    assert!(error("#").0.starts_with("`#` does not start a comment"));
    // Inside values `#` is an ordinary byte.
    assert_eq!(value("/tmp/a#b.log"), "/tmp/a#b.log");
}

#[test]
fn operators_and_constants_are_evaluated() {
    assert_eq!(value("E_ALL & ~E_DEPRECATED"), "24575");
    assert_eq!(value("E_ALL & ~E_DEPRECATED & ~E_STRICT"), "22527");
    assert_eq!(value("E_ALL"), "32767");
    assert_eq!(value("(E_ERROR | E_WARNING)"), "3");
    assert_eq!(value("!0"), "1");
    assert_eq!(value("a|b"), "0");
    assert_eq!(value("e_all"), "e_all", "constants are case-sensitive");
}

#[test]
fn operator_syntax_errors() {
    assert_eq!(error("k = pong!").0, "syntax error, unexpected '!'");
    assert_eq!(error("k = foo (bar)").0, "syntax error, unexpected '('");
    let src = "k = a|";
    let (message, span) = error(src);
    assert_eq!(message, "syntax error, unexpected END_OF_LINE");
    assert_eq!(text(src, span), "|");
    assert_eq!(error("k = (a").0, "syntax error, unexpected END_OF_LINE");
    assert_eq!(error("k = )").0, "syntax error, unexpected ')'");
}

#[test]
fn statement_start_errors() {
    assert_eq!(error("$x = 1").0, "syntax error, unexpected '$'");
    assert_eq!(error("\"a\" = 1").0, "syntax error, unexpected '\"'");
    assert_eq!(error("]").0, "syntax error, unexpected ']'");
}

#[test]
fn byte_order_marks_are_skipped() {
    let src = b"\xEF\xBB\xBF[global]\n\xEF\xBB\xBFpid = /run/x.pid\n";
    let file = assert_round_trip(src);
    assert!(
        matches!(&file.lines[0].kind, LineKind::Section(s) if s.name == "global" && s.name_span.start() == 4)
    );
    assert!(matches!(&file.lines[1].kind, LineKind::Entry(e) if e.name == "pid"));
}

#[test]
fn nul_ends_what_php_fpm_sees_of_a_line() {
    let src = b"ping.response = abc\x00=def\n";
    let file = assert_round_trip(src);
    let LineKind::Entry(e) = &file.lines[0].kind else { panic!("{:?}", file.lines[0]) };
    assert_eq!(&*e.value.text, "abc");
    let file = assert_round_trip(b"[www\x00]\n");
    assert!(matches!(file.lines[0].kind, LineKind::Error(_)));
}

#[test]
fn non_utf8_is_decoded_lossily() {
    let src = b"user = caf\xe9\n[p\xffol]\n";
    let file = assert_round_trip(src);
    let LineKind::Entry(e) = &file.lines[0].kind else { panic!() };
    assert_eq!(&*e.value.text, "caf\u{FFFD}");
    assert_eq!(e.value.span, Span::new(7, 11));
    assert!(matches!(&file.lines[1].kind, LineKind::Section(s) if s.name == "p\u{FFFD}ol"));
}

#[test]
fn a_realistic_pool_file() {
    let src = "\
; Pool www
[www]
user = www-data
group = www-data
listen = /run/php/php8.2-fpm.sock
listen.owner = www-data
pm = dynamic
pm.max_children = 5
pm.process_idle_timeout = 10s;
slowlog = /var/log/$pool.slow.log
php_admin_value[error_log] = /var/log/fpm-php.www.log
php_admin_flag[log_errors] = on
php_value[error_reporting] = E_ALL & ~E_DEPRECATED & ~E_STRICT
env[PATH] = /usr/local/bin:/usr/bin:/bin
access.format = \"%R - %u %t \\\"%m %r%Q%q\\\" %s %f %{mili}d %{kilo}M %C%%\"
";
    let file = assert_round_trip(src.as_bytes());
    let errors: Vec<_> = file.lines.iter().filter(|l| matches!(l.kind, LineKind::Error(_))).collect();
    assert!(errors.is_empty(), "{errors:?}");
    let entries: Vec<_> =
        file.lines.iter().filter_map(|l| if let LineKind::Entry(e) = &l.kind { Some(e) } else { None }).collect();
    assert_eq!(entries.len(), 13);
    assert_eq!(&*entries[9].value.text, "1");
    assert_eq!(&*entries[10].value.text, "22527");
    assert_eq!(&*entries[12].value.text, "%R - %u %t \"%m %r%Q%q\" %s %f %{mili}d %{kilo}M %C%%");
}

/// A pool section as generated configs look: documented directives, arrays, quoting.
const DOCUMENTED_POOL: &str = "\
; Pool pool_N: one application, one socket.
; The process manager and the limits below were sized for a 2 GB host;
; revisit them when the memory_limit changes.
[pool_N]
user = www-data
group = www-data

; nginx connects here: keep in sync with fastcgi_pass.
listen = /run/php/pool_N.sock
listen.owner = www-data
listen.group = www-data
;listen.mode = 0660

; dynamic: between min and max spare idle children, at most max_children.
pm = dynamic
pm.max_children = 50
pm.start_servers = 5
pm.min_spare_servers = 2
pm.max_spare_servers = 8 ; never above max_children
pm.max_requests = 500

; A request running longer than this is killed (nginx then answers 502).
request_terminate_timeout = 60s
request_slowlog_timeout = 5s
slowlog = /var/log/php-fpm/$pool.slow.log

php_admin_value[error_log] = /var/log/php-fpm/$pool.error.log
php_admin_flag[log_errors] = on
php_value[memory_limit] = 256M
php_value[error_reporting] = E_ALL & ~E_DEPRECATED
env[PATH] = /usr/local/bin:/usr/bin:/bin
access.format = \"%R - %u %t \\\"%m %r\\\" %s %{mili}d\"

";

/// Only blocks of directives, no comments: the worst case per byte, as every line is an entry.
const DENSE_POOL: &str = "\
[pool_N]
user = www-data
listen = /run/php/pool_N.sock
pm = dynamic
pm.max_children = 50
pm.process_idle_timeout = 10s;
php_admin_value[error_log] = /var/log/fpm/$pool.log
php_admin_flag[log_errors] = on
php_value[error_reporting] = E_ALL & ~E_DEPRECATED
access.format = \"%R - %u %t \\\"%m %r\\\" %s\"
";

fn generated(block: &str, size: usize) -> String {
    let mut src = String::with_capacity(size + block.len() * 2);
    let mut n = 0;
    while src.len() < size {
        src.push_str(&block.replace('N', &n.to_string()));
        n += 1;
    }
    src
}

/// Parse throughput on generated 20 MB pool files. Run with
/// `cargo test --release --test fpm_parser -- --ignored --nocapture`.
#[test]
#[ignore]
fn throughput_on_20_mb_pool_files() {
    for (label, block) in [("documented", DOCUMENTED_POOL), ("dense", DENSE_POOL)] {
        let src = generated(block, 20 << 20);
        let errors = parse(src.as_bytes()).lines.iter().filter(|l| matches!(l.kind, LineKind::Error(_))).count();
        assert_eq!(errors, 0, "{label}");
        let best = (0..5)
            .map(|_| {
                let start = std::time::Instant::now();
                let file = parse(src.as_bytes());
                let elapsed = start.elapsed();
                drop(file);
                elapsed
            })
            .min()
            .unwrap();
        let lines = src.lines().count();
        let mb_s = src.len() as f64 / 1e6 / best.as_secs_f64();
        eprintln!("{label}: {:.1} MB, {lines} lines, best of 5 {best:?}: {mb_s:.0} MB/s", src.len() as f64 / 1e6);
    }
}

//! The nginx tokenizer and tree, rule by rule (`ngx_conf_read_token`). Cases marked
//! "nginx 1.22.1" were checked against the real binary with `nginx -t`.

use conflint::nginx::ast::{Config, Directive, End, Item, TokenKind};
use conflint::nginx::parse;
use conflint::source::SourceFile;

/// Parse and check the tree is lossless, as every test wants.
fn parsed(src: &[u8]) -> Config {
    let config = parse(src);
    assert_eq!(config.print(src), src, "print differs from the input");
    config.check_lossless(src).unwrap();
    config
}

/// Every directive as `name arg arg` (values), depth first.
fn directives(src: &str) -> Vec<String> {
    let config = parsed(src.as_bytes());
    assert_eq!(config.errors, vec![], "unexpected errors in {src:?}");
    lines(&config)
}

fn lines(config: &Config) -> Vec<String> {
    config
        .walk()
        .into_iter()
        .map(|(_, d)| {
            std::iter::once(d.name.value.as_str())
                .chain(d.arg_values())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

/// Errors as `line:column message`.
fn errors(src: &[u8]) -> Vec<String> {
    let config = parsed(src);
    let file = SourceFile::new("t", None, src.to_vec());
    config
        .errors
        .iter()
        .map(|e| {
            let p = file.position(e.span.start());
            format!("{}:{} {}", p.line, p.column, e.message)
        })
        .collect()
}

fn only_directive(src: &str) -> Directive {
    let config = parsed(src.as_bytes());
    assert_eq!(config.errors, vec![]);
    match config.items.as_slice() {
        [Item::Directive(d)] => d.clone(),
        other => panic!("expected one directive, got {other:?}"),
    }
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/fixtures/nginx-syntax/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

// --- words and separators -------------------------------------------------------------

#[test]
fn space_tab_cr_lf_separate_words() {
    assert_eq!(directives("a\tb\rc\nd   e\r\n;"), ["a b c d e"]);
}

#[test]
fn semicolon_and_braces_end_words_without_spaces() {
    assert_eq!(directives("a b;c{d;}e;"), ["a b", "c", "d", "e"]);
}

#[test]
fn one_line_blocks_nest() {
    let config = parsed(b"events { worker_connections 64; } http { server { listen 80; } }");
    assert_eq!(config.errors, vec![]);
    let depths: Vec<_> =
        config.walk().iter().map(|(depth, d)| (*depth, d.name.value.to_string())).collect();
    assert_eq!(
        depths,
        [(0, "events"), (1, "worker_connections"), (0, "http"), (1, "server"), (2, "listen")]
            .map(|(d, n)| (d, n.to_string()))
    );
}

#[test]
fn arguments_may_span_lines_with_comments_between() {
    let d = only_directive("proxy_pass # why\n   http://x # and more\n ;");
    assert_eq!(d.arg_values().collect::<Vec<_>>(), ["http://x"]);
    let texts: Vec<_> = d.inner_comments.iter().map(|c| c.text.as_str()).collect();
    assert_eq!(texts, [" why", " and more"]);
}

#[test]
fn closing_brace_inside_a_word_is_literal() {
    // nginx 1.22.1: `env foo};` is accepted.
    assert_eq!(directives("a foo};"), ["a foo}"]);
    assert_eq!(directives("s { return 200 ok}; }"), ["s", "return 200 ok}"]);
}

#[test]
fn hash_starts_a_comment_only_at_token_start() {
    assert_eq!(directives("add_header X-A foo#bar;"), ["add_header X-A foo#bar"]);
    let config = parsed(b"a b; #c d;\ne;");
    assert_eq!(lines(&config), ["a b", "e"]);
    assert!(matches!(&config.items[1], Item::Comment(c) if c.text == "c d;"));
}

#[test]
fn dollar_brace_does_not_open_a_block() {
    // nginx 1.22.1: `add_header X-A ${a}x;` and `env a${{b;` are accepted.
    assert_eq!(directives("add_header X ${var}x;"), ["add_header X ${var}x"]);
    assert_eq!(directives("a b${{c;"), ["a b${{c"]);
    // Anything between `$` and `{` ends the variable state: the `{` opens a block.
    assert_eq!(directives("x a$b{ c; }"), ["x a$b", "c"]);
}

// --- quotes and escapes ---------------------------------------------------------------

#[test]
fn quoted_words_keep_spaces_and_may_span_lines() {
    let d = only_directive("add_header X \"a b; {c}\" 'one\ntwo';");
    let values: Vec<_> = d.arg_values().collect();
    assert_eq!(values, ["X", "a b; {c}", "one\ntwo"]);
    assert_eq!(d.args[1].quote, Some('"'));
    assert_eq!(d.args[2].quote, Some('\''));
    assert_eq!(d.args[0].quote, None);
    // The span covers the quotes.
    assert_eq!(d.args[1].span.len(), "\"a b; {c}\"".len());
}

#[test]
fn quotes_inside_a_word_are_literal() {
    assert_eq!(directives("a b\"c d'e;"), ["a b\"c d'e"]);
}

#[test]
fn escapes_are_unescaped_like_nginx() {
    let d = only_directive(r#"a "q\"q" 'q\'q' "b\\s" "t\tr\rn\n" "other\q" un\"quoted;"#);
    let values: Vec<_> = d.arg_values().collect();
    assert_eq!(values, ["q\"q", "q'q", "b\\s", "t\tr\rn\n", "other\\q", "un\"quoted"]);
}

#[test]
fn backslash_protects_separators_in_unquoted_words() {
    // The escaped space and `;` stay in the word; `\ ` and `\;` are not unescaped.
    assert_eq!(directives(r"a b\ c\;d;"), [r"a b\ c\;d"]);
}

#[test]
fn closing_quote_must_be_followed_by_a_separator() {
    // nginx 1.22.1: `env "a"b;` → unexpected "b"; `env 'a'"b;` → unexpected """.
    assert_eq!(errors(b"a \"x\"b;"), ["1:6 unexpected \"b\""]);
    assert_eq!(errors(b"a 'x'\"b;"), ["1:6 unexpected \"\"\""]);
    assert_eq!(errors(b"a \"x\"#c\n;"), ["1:6 unexpected \"#\""]);
    assert_eq!(directives("a \"x\";"), ["a x"]);
    assert_eq!(directives("a \"x\"{ b; }"), ["a x", "b"]);
}

#[test]
fn a_parenthesis_after_a_quote_starts_a_new_word() {
    // nginx 1.22.1: `env "a")b;` gives env two arguments.
    assert_eq!(directives("if ($a = \"x\") { b; }"), ["if ($a = x )", "b"]);
    assert_eq!(directives("a \"x\")y;"), ["a x )y"]);
}

#[test]
fn unterminated_quote_runs_to_end_of_file() {
    assert_eq!(errors(b"a \"b;\nc;\n"), ["3:1 unexpected end of file, expecting \";\" or \"}\""]);
}

// --- structural errors and recovery ---------------------------------------------------

#[test]
fn stray_tokens_are_reported_in_nginx_words() {
    assert_eq!(errors(b"}"), ["1:1 unexpected \"}\""]);
    assert_eq!(errors(b"a;\n ;"), ["2:2 unexpected \";\""]);
    assert_eq!(errors(b"{ a; }\nb;"), ["1:1 unexpected \"{\""]);
    // nginx 1.22.1: `env a }` → unexpected "}".
    assert_eq!(errors(b"a b }"), ["1:5 unexpected \"}\""]);
}

#[test]
fn end_of_file_errors_point_at_the_end() {
    assert_eq!(errors(b"a b"), ["1:4 unexpected end of file, expecting \";\" or \"}\""]);
    assert_eq!(errors(b"http {\n  server {\n"), ["3:1 unexpected end of file, expecting \"}\""]);
    // Reported once, like nginx, even though blocks are open too.
    assert_eq!(errors(b"http { a b\n"), ["2:1 unexpected end of file, expecting \";\" or \"}\""]);
    // A comment at the end is fine.
    assert_eq!(errors(b"a;\n# end"), Vec::<String>::new());
}

#[test]
fn missing_semicolon_before_brace_keeps_the_directive_and_closes_the_block() {
    let src = b"server {\n    listen 80\n}\nnext;\n";
    assert_eq!(errors(src), ["3:1 unexpected \"}\""]);
    let config = parse(src);
    let server = config.walk()[0].1.block().unwrap().clone();
    assert!(server.close.is_some(), "the closing brace still closes the server block");
    let Item::Directive(listen) = &server.items[0] else { panic!() };
    assert_eq!(listen.end, End::Missing);
    assert_eq!(&src[listen.span.start()..listen.span.end()], b"listen 80");
    assert_eq!(lines(&config), ["server", "listen 80", "next"]);
}

#[test]
fn recovery_resumes_at_the_next_semicolon_or_brace() {
    let src = b"a \"x\"y z;\nb 1;\nserver { c \"q\"r { inner; } d 2; e \"s\"t }\nf 3;\n";
    let config = parsed(src);
    assert_eq!(
        errors(src),
        ["1:6 unexpected \"y\"", "3:15 unexpected \"r\"", "3:38 unexpected \"t\""]
    );
    assert_eq!(lines(&config), ["b 1", "server", "d 2", "f 3"]);
    // The skipped bytes are error nodes, so nothing is lost.
    let skipped: Vec<_> = config
        .tokens()
        .into_iter()
        .filter(|t| t.kind == TokenKind::Error)
        .map(|t| String::from_utf8_lossy(&src[t.span.start()..t.span.end()]).into_owned())
        .collect();
    assert_eq!(skipped, ["a \"x\"y z;", "c \"q\"r { inner; }", "e \"s\"t"]);
}

// --- nginx's 4096-byte token buffer ---------------------------------------------------

#[test]
fn tokens_longer_than_the_buffer_are_rejected() {
    let word = "y".repeat(5000);
    assert_eq!(
        errors(format!("a;\nenv {word};\nb;").as_bytes()),
        ["2:5 too long parameter \"yyyyyyyyyy...\" started"]
    );
    assert_eq!(
        errors(format!("env \"{word}\";\nb;").as_bytes()),
        ["1:5 too long parameter, probably missing terminating \"\"\" character"]
    );
    assert_eq!(
        errors(format!("env '{word}';\nb;").as_bytes()),
        ["1:5 too long parameter, probably missing terminating \"'\" character"]
    );
    // Comments go through the same buffer (nginx 1.22.1 rejects a 5000-byte comment).
    assert_eq!(
        errors(format!("#{word}\nenv A;").as_bytes()),
        ["1:1 too long parameter \"#yyyyyyyyy...\" started"]
    );
}

#[test]
fn buffer_limit_counts_the_separator_nginx_keeps() {
    // nginx keeps a word's trailing whitespace in its buffer but not a `;`: a 4095-byte
    // word is fine before `;` and too long before ` ;` (nginx 1.22.1, several alignments).
    let word = "y".repeat(4095);
    assert_eq!(errors(format!("env {word};\n").as_bytes()), Vec::<String>::new());
    assert_eq!(errors(format!("env {word} ;\n").as_bytes()).len(), 1);
    let word = "y".repeat(4096);
    assert_eq!(errors(format!("env {word};\n").as_bytes()).len(), 1);
}

#[test]
fn recovery_after_a_too_long_word_keeps_later_directives() {
    let src = format!("a {} b;\nc;\n", "x".repeat(5000));
    let config = parsed(src.as_bytes());
    assert_eq!(config.errors.len(), 1);
    assert_eq!(lines(&config), ["c"]);
}

// --- Lua blocks -----------------------------------------------------------------------

#[test]
fn lua_block_bodies_are_raw_and_end_at_the_matching_brace() {
    let src = fixture("lua-blocks.conf");
    let config = parsed(&src);
    assert_eq!(config.errors, vec![]);
    let raw_blocks: Vec<_> = config
        .walk()
        .into_iter()
        .filter_map(|(_, d)| Some((d.name.value.clone(), d.block()?.raw?)))
        .map(|(name, raw)| {
            (name, String::from_utf8_lossy(&src[raw.start()..raw.end()]).trim().to_string())
        })
        .collect();
    let names: Vec<_> = raw_blocks.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        ["init_by_lua_block", "set_by_lua_block", "rewrite_by_lua_block", "content_by_lua_block"]
    );
    assert!(raw_blocks[0].1.ends_with("local long = [[ } { ]] .. [=[ ]] } ]=]"));
    assert_eq!(raw_blocks[1].1, "return 1 + 2");
    assert_eq!(raw_blocks[3].1, "if ngx.var.arg_x then ngx.say(\"{\") end");
    // `upstream content_by_lua_block { ... }` is an ordinary block.
    let upstream = config.walk().into_iter().find(|(_, d)| d.name.value == "upstream").unwrap().1;
    assert_eq!(upstream.block().unwrap().raw, None);
    assert_eq!(upstream.block().unwrap().items.len(), 2);
}

#[test]
fn lua_block_body_never_becomes_directives() {
    let d = only_directive("content_by_lua_block { a = 1; b { c } }");
    let block = d.block().unwrap();
    assert!(block.items.is_empty());
    assert!(block.close.is_some());
}

#[test]
fn lua_quote_that_does_not_close_on_its_line_is_plain_code() {
    // lua-nginx-module's string pattern excludes newlines, so this `'` is skipped and the
    // braces after it count.
    let src = "content_by_lua_block { x = 'it\n }\nafter;";
    assert_eq!(directives(src), ["content_by_lua_block", "after"]);
}

#[test]
fn lua_errors_use_lua_nginx_module_words() {
    assert_eq!(
        errors(b"content_by_lua_block {\n  local t = {\n"),
        ["2:13 unexpected end of file, expecting terminating characters for lua code block"]
    );
    assert_eq!(
        errors(b"content_by_lua_block { ngx.say(--[==[hello)\n}\n"),
        ["1:34 Lua code block missing the closing long bracket \"]==]\", the inlined Lua code may be too long"]
    );
}

#[test]
fn crossplane_lua_block_tricky_shape_parses() {
    let src = "http { server {\n\
        server_name content_by_lua_block ;  # not a directive name\n\
        set_by_lua_block $res { -- irregular\n  return a + b;  -- }\n }\n\
        \"rewrite_by_lua_block\" { do_something(\"hello, world!\\nhiya\\n\")\n a = { 1, 2, 3 }\n }\n\
        } upstream content_by_lua_block {\n # stuff\n }\n}\n";
    assert_eq!(
        directives(src),
        [
            "http",
            "server",
            "server_name content_by_lua_block",
            "set_by_lua_block $res",
            "rewrite_by_lua_block",
            "upstream content_by_lua_block"
        ]
    );
}

// --- bytes ----------------------------------------------------------------------------

#[test]
fn crlf_files_parse_and_round_trip() {
    let src = fixture("crlf.conf");
    let config = parsed(&src);
    assert_eq!(config.errors, vec![]);
    assert_eq!(lines(&config), ["events", "http", "server", "listen 127.0.0.1:8082"]);
    let comment = config.walk()[1].1.block().unwrap().items[0].clone();
    assert!(matches!(comment, Item::Comment(c) if c.text == " windows line ends"));
}

#[test]
fn invalid_utf8_is_decoded_lossily() {
    let src = b"a \xff\"\xfe\" x\xc3\xa9; # \xff\n";
    let config = parsed(src);
    assert_eq!(config.errors, vec![]);
    assert_eq!(lines(&config), ["a \u{fffd}\"\u{fffd}\" x\u{e9}"]);
    assert!(matches!(&config.items[1], Item::Comment(c) if c.text == " \u{fffd}"));
}

#[test]
fn empty_and_blank_files_have_no_items() {
    for src in [&b""[..], b"  \n\t\r\n"] {
        let config = parsed(src);
        assert_eq!((config.items.len(), config.errors.len()), (0, 0));
        assert_eq!(config.len, src.len());
    }
}

#[test]
fn nul_bytes_are_ordinary_word_bytes() {
    assert_eq!(directives("a\0b c;"), ["a\0b c"]);
}

#[test]
fn deep_nesting_is_bounded_without_overflowing_the_stack() {
    let deep = format!("{}{}", "a{".repeat(10_000), "}".repeat(10_000));
    let config = parsed(deep.as_bytes());
    assert_eq!(config.errors.len(), 1);
    assert_eq!(config.errors[0].message, "too deep nesting: more than 512 levels of blocks");
    assert_eq!(config.walk().len(), 512);

    let braces = "{".repeat(10_000);
    assert_eq!(errors(braces.as_bytes()), ["1:1 unexpected \"{\""]);

    // 512 levels are fine.
    let ok = format!("{}{}", "a{".repeat(512), "}".repeat(512));
    assert_eq!(parsed(ok.as_bytes()).errors, vec![]);
}

#[test]
fn arbitrary_bytes_never_panic_and_round_trip() {
    // A small deterministic fuzz over the bytes that matter to the lexer.
    let alphabet = b" \t\r\n;{}#\"'\\$()ab_\0\xff";
    let mut state = 0x2545_f491_u32;
    for _ in 0..3000 {
        let len = (state % 40) as usize;
        let mut src = Vec::with_capacity(len);
        for _ in 0..len {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            src.push(alphabet[state as usize % alphabet.len()]);
        }
        parsed(&src);
        // Lua bodies too.
        let mut lua = b"x_by_lua_block {".to_vec();
        lua.extend_from_slice(
            &src.iter().map(|&b| if b == b'a' { b'[' } else { b }).collect::<Vec<_>>(),
        );
        parsed(&lua);
    }
}

// --- spans and the fixture ------------------------------------------------------------

#[test]
fn spans_cover_name_to_terminator() {
    let src = "  listen 80 ;\nhttp { }";
    let config = parsed(src.as_bytes());
    let spans: Vec<_> = config.walk().iter().map(|(_, d)| &src[d.span.start()..d.span.end()]).collect();
    assert_eq!(spans, ["listen 80 ;", "http { }"]);
    let kinds: Vec<_> = config.tokens().iter().map(|t| t.kind).collect();
    use TokenKind::*;
    assert_eq!(kinds, [Word, Word, Semicolon, Word, Open, Close]);
}

#[test]
fn fixture_accepted_by_nginx_reads_as_nginx_reads_it() {
    let src = fixture("lexer-rules.conf");
    let config = parsed(&src);
    assert_eq!(config.errors, vec![]);
    let got = lines(&config);
    let expected = [
        "events",
        "worker_connections 64",
        "http",
        "map $uri $tag",
        "default ",
        "~^/a(b)$ single quoted",
        "server",
        "listen 127.0.0.1:8081",
        "server_name example.test",
        "add_header X-Hash foo#bar",
        "add_header X-Brace foo}",
        "add_header X-Var ${tag}x",
        "add_header X-Escaped a\"b\\c\td",
        "add_header X-Other \\q",
        "add_header X-Multi line one\nline two",
        "add_header X-Split value",
        "location ~ ^/re{2}$",
        "if ($request_method = POST )",
        "return 405",
        "return 200 ok",
    ];
    assert_eq!(got, expected);
}

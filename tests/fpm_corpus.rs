//! The real-world PHP-FPM configs of `../shared/corpus/fpm`: every file round-trips byte for
//! byte, and exactly the files php-fpm8.2 refuses to parse get FPM001.

mod common;

use std::path::PathBuf;

use conflint::fpm::parse;

/// Corpus files with FPM001, relative to the corpus directory, and why. Verified on copies
/// with `php-fpm8.2 -t` (logs and pid redirected, `include` lines disabled, lines with
/// load-time semantic errors such as `unknown entry` disabled one by one until php-fpm either
/// passed the parse stage or stopped on a syntax error): it stops on these files, and on no
/// other.
const EXPECTED_FPM001: &[(&str, &str)] = &[(
    "devilbox__docker-php-fpm/Dockerfiles__base__data__php-fpm.conf__php-fpm-5.2.conf",
    "PHP 5.2's XML config format: `<configuration>` is a line without `=` \
     (php-fpm8.2: value is NULL for a ZEND_INI_PARSER_ENTRY)",
)];


fn corpus_files() -> Option<(PathBuf, Vec<PathBuf>)> {
    let dir = common::corpus()?.join("fpm");
    let mut files = Vec::new();
    let mut pending = vec![dir.clone()];
    while let Some(d) = pending.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    Some((dir, files))
}

#[test]
fn corpus_files_round_trip() {
    let Some((_, files)) = corpus_files() else { return };
    assert!(!files.is_empty());
    for path in files {
        let src = std::fs::read(&path).unwrap();
        let file = parse(&src);
        let mut out = Vec::with_capacity(src.len());
        for line in &file.lines {
            out.extend_from_slice(&src[line.span.start()..line.span.end()]);
            out.extend_from_slice(&src[line.eol().start()..line.eol().end()]);
        }
        assert!(out == src, "{} does not round-trip", path.display());
    }
}

#[test]
fn exactly_the_expected_corpus_files_get_fpm001() {
    let Some((dir, files)) = corpus_files() else { return };
    let mut with_errors = Vec::new();
    for path in &files {
        let src = std::fs::read(path).unwrap();
        let config = common::resolve_alone(&path.display().to_string(), &src);
        if config.findings.iter().any(|f| f.code == "FPM001") {
            with_errors.push(path.strip_prefix(&dir).unwrap().to_string_lossy().into_owned());
        }
    }
    let expected: Vec<&str> = EXPECTED_FPM001.iter().map(|(file, _)| *file).collect();
    assert_eq!(with_errors, expected);
}

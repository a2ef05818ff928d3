//! Robustness and agreement tests over the shared corpus of real configuration files.
//!
//! The corpus lives beside the checkout (`../shared/corpus`); without it these tests skip,
//! or fail when CONFLINT_REQUIRE_CORPUS=1 (CI).

mod common;

use std::path::{Path, PathBuf};

const DIRS: [&str; 4] = ["nginx", "nginx-tests", "gixy-tests", "templated"];

/// Every corpus file that nginx's tokenizer (`ngx_conf_read_token` plus the brace matching
/// of `ngx_conf_parse`, ignoring directive dispatch) rejects: path, the first error in
/// nginx's words, and why.
///
/// Determined by running the parser over the corpus, cross-checking word boundaries with
/// crossplane 0.5.8 on every accepted file (they agree except where crossplane is known
/// to be wrong: `${1} last` merged into one word, Lua bodies) and checking each kind of
/// rejection with nginx 1.22.1 on a minimal reproduction.
///
/// Not listed because the tokenizer accepts it: walf443 `missing_semicolon/002` —
/// `listen 80` followed by `server_name example.com;` is one directive to the tokenizer;
/// real nginx rejects it only when dispatching (`invalid parameter "server_name"`).
const REJECTED: &[(&str, &str, &str)] = &[
    ("gixy-tests/Gixy-Next/tests/plugins/simply/allow_without_deny/include_and_deny_fp.conf",
     "unexpected \":\"",
     "test-harness header `// Options: {\"__allow_includes\": true}`: a quoted word followed by `:`"),
    ("gixy-tests/Gixy-Next/tests/plugins/simply/origins/map_origin_allowlist_fp.conf",
     "unexpected end of file, expecting \"}\"",
     "unquoted map regex `{1,5}`: the `{` opens a block (nginx: unexpected \"{\"), braces never balance"),
    ("gixy-tests/gixy-ng/tests/plugins/simply/origins/map_origin_allowlist_fp.conf",
     "unexpected end of file, expecting \"}\"",
     "unquoted map regex `{1,5}`: the `{` opens a block (nginx: unexpected \"{\"), braces never balance"),
    ("gixy-tests/gixy-ng/tests/plugins/simply/regex_redos/bounded_quantifier_fp.conf",
     "unexpected end of file, expecting \"}\"",
     "unquoted `location ~ ^/\\d{1,10}$`: `{` opens a block (nginx: unknown directive \"1,10}$\"), braces never balance"),
    ("nginx/certbot__certbot/certbot__src__certbot___internal__tests__plugins__nginx__testdata__etc_nginx__broken.conf",
     "unexpected end of file, expecting \";\" or \"}\"",
     "deliberately broken fixture: ends with `@@@` and no `;`"),
    ("nginx/certbot__certbot/certbot__src__certbot___internal__tests__plugins__nginx__testdata__etc_nginx__ubuntu_nginx_1_4_6__default_vhost__nginx__sites-enabled__default",
     "unexpected end of file, expecting \";\" or \"}\"",
     "a symlink stored as text: `../sites-available/default` with no `;`"),
    ("nginx/kubernetes__ingress-nginx/test__data__cleanConf.expected.conf",
     "unexpected end of file, expecting \"}\"",
     "truncated test data: `http {` is never closed"),
    ("nginx/kubernetes__ingress-nginx/test__data__cleanConf.src.conf",
     "unexpected end of file, expecting \"}\"",
     "truncated test data: `http {` is never closed"),
    ("nginx/nginxinc__crossplane/tests__configs__includes-globbed__servers__locations__not-included.conf",
     "unexpected end of file, expecting \";\" or \"}\"",
     "placeholder text `asdf...` without `;`"),
    ("nginx/nginxinc__crossplane/tests__configs__includes-regular__conf.d__bar.conf",
     "unexpected end of file, expecting \";\" or \"}\"",
     "placeholder text `asdf...` without `;`"),
    ("nginx/nginxinc__crossplane/tests__configs__includes-regular__conf.d__foo.conf",
     "unexpected end of file, expecting \";\" or \"}\"",
     "placeholder text `asdf...` without `;`"),
    ("nginx/nginxinc__crossplane/tests__configs__missing-semicolon__broken-above.conf",
     "unexpected \"}\"",
     "`proxy_pass ...` without `;` right before `}`"),
    ("nginx/nginxinc__crossplane/tests__configs__missing-semicolon__broken-below.conf",
     "unexpected \"}\"",
     "`proxy_pass ...` without `;` right before `}`"),
    ("nginx/nginxinc__crossplane/tests__configs__quote-behavior__nginx.conf",
     "unexpected \"-\"",
     "`\"left\"-quote`: a closing quote followed by `-` (crossplane accepts it, nginx does not)"),
    ("nginx/walf443__nginx-lint/src__rules__syntax__missing_semicolon__bad.conf",
     "unexpected \"}\"",
     "`server_name example.com` without `;` right before `}`"),
    ("nginx/walf443__nginx-lint/src__rules__syntax__unclosed_quote__bad.conf",
     "unexpected end of file, expecting \";\" or \"}\"",
     "the quote is never closed"),
    ("nginx/walf443__nginx-lint/src__rules__syntax__unmatched_braces__bad.conf",
     "unexpected end of file, expecting \"}\"",
     "a block is never closed"),
    ("nginx/walf443__nginx-lint/tests__fixtures__rules__syntax__missing_semicolon__001_basic__error__nginx.conf",
     "unexpected \"}\"",
     "`root /var/www/html` without `;` before `}` (real nginx stops earlier, at the dispatch error `directive \"worker_processes\" is not terminated by \";\"`)"),
    ("nginx/walf443__nginx-lint/tests__fixtures__rules__syntax__unclosed_quote__001_basic__error__nginx.conf",
     "unexpected end of file, expecting \";\" or \"}\"",
     "the quote is never closed"),
    ("nginx/walf443__nginx-lint/tests__fixtures__rules__syntax__unclosed_quote__002_single_quote__error__nginx.conf",
     "unexpected end of file, expecting \";\" or \"}\"",
     "the single quote is never closed"),
    ("nginx/walf443__nginx-lint/tests__fixtures__rules__syntax__unclosed_quote__003_in_location__error__nginx.conf",
     "unexpected end of file, expecting \";\" or \"}\"",
     "the quote is never closed"),
    ("nginx/walf443__nginx-lint/tests__fixtures__rules__syntax__unclosed_quote__004_with_escaped__error__nginx.conf",
     "unexpected end of file, expecting \";\" or \"}\"",
     "the quote is never closed (the `\\\"` inside does not close it)"),
    ("nginx/walf443__nginx-lint/tests__fixtures__rules__syntax__unclosed_quote__005_no_semicolon__error__nginx.conf",
     "unexpected \"o\"",
     "`\"value;` runs to the next line's `\"ok\"`, whose `o` follows the closing quote"),
    ("nginx/walf443__nginx-lint/tests__fixtures__rules__syntax__unmatched_braces__001_basic__error__nginx.conf",
     "unexpected end of file, expecting \"}\"",
     "a block is never closed"),
    ("nginx/walf443__nginx-lint/tests__fixtures__rules__syntax__unmatched_braces__002_without_comment__error__nginx.conf",
     "unexpected end of file, expecting \"}\"",
     "a block is never closed"),
    ("nginx/walf443__nginx-lint/tests__fixtures__rules__syntax__unmatched_braces__003_extra_closing__error__nginx.conf",
     "unexpected \"}\"",
     "an extra `}` at top level"),
    ("nginx/walf443__nginx-lint/tests__fixtures__rules__syntax__unmatched_braces__004_nested_missing__error__nginx.conf",
     "unexpected end of file, expecting \"}\"",
     "a nested block is never closed"),
    ("nginx/walf443__nginx-lint/tests__fixtures__rules__syntax__unmatched_braces__005_multiple_blocks__error__nginx.conf",
     "unexpected end of file, expecting \"}\"",
     "a block is never closed"),
    ("nginx/walf443__nginx-lint/tests__fixtures__rules__syntax__unmatched_braces__006_missing_opening__error__nginx.conf",
     "unexpected \"}\"",
     "a `}` without its `{`"),
    ("nginx/walf443__nginx-lint/tests__fixtures__rules__syntax__unmatched_braces__007_unmatched_location__error__nginx.conf",
     "unexpected \"}\"",
     "a `}` without its `{`"),
    ("templated/3scale__apicast/gateway__conf.d__opentracing__jaeger.conf.liquid",
     "unexpected \"{\"",
     "Liquid template: `{% ... %}` / `{{ ... }}` tags start with `{`"),
    ("templated/3scale__apicast/gateway__conf__nginx.conf.liquid",
     "unexpected \"{\"",
     "Liquid template: `{% ... %}` / `{{ ... }}` tags start with `{`"),
    ("templated/3scale__apicast/gateway__http.d__apicast.conf.liquid",
     "unexpected \"{\"",
     "Liquid template: `{% ... %}` / `{{ ... }}` tags start with `{`"),
    ("templated/3scale__apicast/gateway__http.d__standalone.conf.liquid",
     "unexpected \"{\"",
     "Liquid template: `{% ... %}` / `{{ ... }}` tags start with `{`"),
    ("templated/NginxProxyManager__nginx-proxy-manager/backend__templates___access.conf",
     "unexpected \"{\"",
     "Liquid template: `{% ... %}` / `{{ ... }}` tags start with `{`"),
    ("templated/NginxProxyManager__nginx-proxy-manager/backend__templates___assets.conf",
     "unexpected \"{\"",
     "Liquid template: `{% ... %}` / `{{ ... }}` tags start with `{`"),
    ("templated/NginxProxyManager__nginx-proxy-manager/backend__templates___certificates.conf",
     "unexpected \"{\"",
     "Liquid template: `{% ... %}` / `{{ ... }}` tags start with `{`"),
    ("templated/NginxProxyManager__nginx-proxy-manager/backend__templates___certificates_stream.conf",
     "unexpected \"{\"",
     "Liquid template: `{% ... %}` / `{{ ... }}` tags start with `{`"),
    ("templated/NginxProxyManager__nginx-proxy-manager/backend__templates___exploits.conf",
     "unexpected \"{\"",
     "Liquid template: `{% ... %}` / `{{ ... }}` tags start with `{`"),
    ("templated/NginxProxyManager__nginx-proxy-manager/backend__templates___forced_ssl.conf",
     "unexpected \"{\"",
     "Liquid template: `{% ... %}` / `{{ ... }}` tags start with `{`"),
    ("templated/NginxProxyManager__nginx-proxy-manager/backend__templates___hsts.conf",
     "unexpected \"{\"",
     "Liquid template: `{% ... %}` / `{{ ... }}` tags start with `{`"),
    ("templated/NginxProxyManager__nginx-proxy-manager/docker__rootfs__etc__nginx__conf.d__production.conf.template",
     "unexpected \"{\"",
     "Liquid template: `{% ... %}` / `{{ ... }}` tags start with `{`"),
    ("templated/YunoHost__yunohost/conf__nginx__security.conf.inc",
     "unexpected \"{\"",
     "Jinja-style template: `{% ... %}` / `{{ ... }}` tags start with `{`"),
    ("templated/YunoHost__yunohost/conf__nginx__server.tpl.conf",
     "unexpected \"{\"",
     "Jinja-style template: `{% ... %}` / `{{ ... }}` tags start with `{`"),
    ("templated/YunoHost__yunohost/conf__nginx__tls_passthrough.conf",
     "unexpected \"{\"",
     "Jinja-style template: `{% ... %}` / `{{ ... }}` tags start with `{`"),
    ("templated/YunoHost__yunohost/conf__nginx__tls_passthrough_server.conf",
     "unexpected \"{\"",
     "Jinja-style template: `{% ... %}` / `{{ ... }}` tags start with `{`"),
    ("templated/YunoHost__yunohost/conf__nginx__yunohost_admin.conf",
     "unexpected \"{\"",
     "Jinja-style template: `{% ... %}` / `{{ ... }}` tags start with `{`"),
    ("templated/YunoHost__yunohost/conf__nginx__yunohost_admin.conf.inc",
     "unexpected \"{\"",
     "Jinja-style template: `{% ... %}` / `{{ ... }}` tags start with `{`"),
    ("templated/YunoHost__yunohost/conf__nginx__yunohost_api.conf.inc",
     "unexpected \"{\"",
     "Jinja-style template: `{% ... %}` / `{{ ... }}` tags start with `{`"),
    ("templated/geerlingguy__ansible-role-nginx/templates__nginx.conf.j2",
     "unexpected \"{\"",
     "Jinja-style template: `{% ... %}` / `{{ ... }}` tags start with `{`"),
    ("templated/geerlingguy__ansible-role-nginx/templates__vhost.j2",
     "unexpected \"{\"",
     "Jinja-style template: `{% ... %}` / `{{ ... }}` tags start with `{`"),
    ("templated/geerlingguy__ansible-role-php/templates__php-fpm.conf.j2",
     "unexpected \";\"",
     "a PHP-FPM template: `;` INI comments"),
    ("templated/geerlingguy__ansible-role-php/templates__www.conf.j2",
     "unexpected \"{\"",
     "Jinja-style template: `{% ... %}` / `{{ ... }}` tags start with `{`"),
    ("templated/hestiacp__hestiacp/install__deb__php-fpm__dummy.conf",
     "unexpected \";\"",
     "a PHP-FPM template: `;` INI comments"),
    ("templated/hestiacp__hestiacp/install__deb__php-fpm__multiphp.tpl",
     "unexpected \";\"",
     "a PHP-FPM template: `;` INI comments"),
    ("templated/hestiacp__hestiacp/install__deb__templates__web__php-fpm__default.tpl",
     "unexpected \";\"",
     "a PHP-FPM template: `;` INI comments"),
    ("templated/jitsi__docker-jitsi-meet/web__rootfs__defaults__default",
     "unexpected \"{\"",
     "Go template: `{{ ... }}` actions start with `{`"),
    ("templated/jitsi__docker-jitsi-meet/web__rootfs__defaults__meet.conf",
     "unexpected \"{\"",
     "Go template: `{{ ... }}` actions start with `{`"),
    ("templated/jitsi__docker-jitsi-meet/web__rootfs__defaults__nginx.conf",
     "unexpected \"{\"",
     "Go template: `{{ ... }}` actions start with `{`"),
    ("templated/jitsi__docker-jitsi-meet/web__rootfs__defaults__ssl.conf",
     "unexpected \"{\"",
     "Go template: `{{ ... }}` actions start with `{`"),
    ("templated/kaltura__nginx-vod-module/tools__prefetch_proxy__nginx.conf",
     "unexpected \"{\"",
     "template: `{{ origin_domain }}` placeholder starts with `{`"),
    ("templated/kubernetes__ingress-nginx/rootfs__etc__nginx__template__nginx.tmpl",
     "unexpected \"{\"",
     "Go template: `{{ ... }}` actions start with `{`"),
    ("templated/mailcow__mailcow-dockerized/data__conf__nginx__templates__nginx.conf.j2",
     "unexpected \"{\"",
     "Jinja-style template: `{% ... %}` / `{{ ... }}` tags start with `{`"),
    ("templated/mailcow__mailcow-dockerized/data__conf__nginx__templates__sites-default.conf.j2",
     "unexpected \"{\"",
     "Jinja-style template: `{% ... %}` / `{{ ... }}` tags start with `{`"),
    ("templated/nginx-proxy__nginx-proxy/nginx.tmpl",
     "unexpected \"{\"",
     "Go template: `{{ ... }}` actions start with `{`"),
    ("templated/nginxinc__NGINX-Demos/consul-template-demo__nginx__nginx.conf",
     "unexpected \"{\"",
     "Go template: `{{ ... }}` actions start with `{`"),
    ("templated/nginxinc__NGINX-Demos/nginx-cookbook__templates__default__nginx.conf.erb",
     "unexpected end of file, expecting \";\" or \"}\"",
     "ERB template: `<% ... %>` tags are words that break the directive structure"),
    ("templated/nginxinc__NGINX-Demos/nginx-cookbook__templates__default__status.conf.erb",
     "unexpected \"}\"",
     "ERB template: `<% ... %>` tags are words that break the directive structure"),
    ("templated/nginxinc__NGINX-Demos/nginx-cookbook__templates__default__upstreams.conf.erb",
     "unexpected \"}\"",
     "ERB template: `<% ... %>` tags are words that break the directive structure"),
    ("templated/nystudio107__nginx-craft/forge-templates__NginxFastCGICacheTemplate.conf",
     "unexpected \"{\"",
     "Laravel Forge template: `{{ SITE }}` placeholders start with `{`"),
    ("templated/nystudio107__nginx-craft/forge-templates__NginxTemplate.conf",
     "unexpected \"{\"",
     "Laravel Forge template: `{{ SITE }}` placeholders start with `{`"),
    ("templated/pixelfed__pixelfed/docker__nginx__root__docker__templates__etc__nginx__conf.d__default.conf",
     "unexpected \"{\"",
     "Go template: `{{ ... }}` actions start with `{`"),
];

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files_under(&path, out);
        } else {
            out.push(path);
        }
    }
}

/// Corpus files as (path relative to the corpus, bytes), sorted.
fn corpus_files(root: &Path) -> Vec<(String, Vec<u8>)> {
    let mut paths = Vec::new();
    for dir in DIRS {
        files_under(&root.join(dir), &mut paths);
    }
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let rel = p.strip_prefix(root).unwrap().to_string_lossy().replace('\\', "/");
            (rel, std::fs::read(&p).unwrap())
        })
        .collect()
}

#[test]
fn every_corpus_file_round_trips() {
    let Some(root) = common::corpus() else { return };
    let files = corpus_files(&root);
    assert!(files.len() > 2000, "corpus looks incomplete: {} files", files.len());
    for (path, src) in &files {
        let config = conflint::nginx::parse(src);
        assert!(config.print(src) == *src, "{path}: printed tree differs from the file");
        if let Err(e) = config.check_lossless(src) {
            panic!("{path}: {e}");
        }
    }
}

#[test]
fn syntax_errors_match_nginx_tokenizer() {
    let Some(root) = common::corpus() else { return };
    let mut problems = Vec::new();
    for (path, src) in corpus_files(&root) {
        let config = conflint::nginx::parse(&src);
        let expected = REJECTED.iter().find(|(p, _, _)| *p == path);
        match (expected, config.errors.first()) {
            (None, None) => {}
            (Some((_, message, _)), Some(e)) if e.message == *message => {}
            (Some((_, message, _)), got) => {
                problems.push(format!("{path}: expected `{message}`, got {got:?}"))
            }
            (None, Some(e)) => problems.push(format!("{path}: unexpected error {e:?}")),
        }
    }
    for (path, _, _) in REJECTED {
        assert!(root.join(path).is_file(), "listed file missing from the corpus: {path}");
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

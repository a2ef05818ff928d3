//! What the generated tables cannot say, kept by hand. Each entry was checked with the
//! real `nginx -t` (1.22.1) unless noted.

/// Blocks whose body is data their module reads itself, not directives: no name inside is
/// looked up (`types { text/html html; }`, `map $a $b { default 0; }`).
pub const DATA_BLOCKS: &[&str] = &["types", "map", "geo", "split_clients", "match", "charset_map"];

/// Module handlers (not generic slots) that refuse a second occurrence in one block with
/// `"NAME" directive is duplicate`.
pub const CUSTOM_DUPLICATES: &[&str] =
    &["proxy_pass", "fastcgi_pass", "uwsgi_pass", "scgi_pass", "grpc_pass", "memcached_pass", "root", "alias", "try_files", "keepalive_timeout", "expires", "resolver", "internal", "charset", "user", "worker_processes", "worker_connections", "keepalive"];

/// `root` and `alias` share one setting: either after the other is refused too
/// (`"alias" directive is duplicate, "root" directive was specified earlier`).
pub const EXCLUSIVE: &[(&str, &str)] = &[("root", "alias")];

/// Dynamic-module files that declare no directive of their own (so loading them leaves
/// nothing unknown): the NDK, which lua-nginx-module and set-misc need.
pub const DIRECTIVELESS_MODULES: &[&str] = &["ndk_http_module"];

/// Event modules of other systems: on Linux they are never built, whatever the build says.
pub const NOT_ON_LINUX: &[&str] = &["ngx_kqueue_module", "ngx_devpoll_module", "ngx_eventport_module", "ngx_iocp_module", "ngx_win32_select_module"];

/// `include` is `NGX_ANY_CONF`, allowed everywhere (limit_except and if included); the
/// view splices included files in place, so it never reaches a context check.
pub const INCLUDE: &str = "include";

// `ssl_ocsp` (nginx-go-crossplane#161, declared NGX_CONF_FLAG there) is TAKE1 with the
// enum off|on|leaf in both pinned releases' source, so the generated entry needs no
// override; the table test in mod.rs keeps it so.

/// Variables third-party modules add in code the generator does not read (a loop over
/// their own list rather than an `ngx_http_variable_t` array): by table, a name prefix.
pub const MODULE_VARIABLES: &[(&str, &str)] = &[("nchan", "nchan_")];

//! Template placeholders: a value that deployment tooling fills in (`${FPM_TIMEOUT}`,
//! `{{ timeout }}`, `<PHP_TIMEOUT>`, `%domain%`), not one nginx or PHP-FPM would read as it
//! stands.

/// The first placeholder in `text`, as written: `${NAME}`/`$NAME` in capitals (envsubst;
/// nginx's own variables are lower case), `{{ … }}`, `{% … %}`, `<%= … %>`, `<NAME>`,
/// `%%NAME%%`, `%name%` (a letter first: `%2F` is URL encoding), `@NAME@`.
pub fn placeholder(text: &str) -> Option<&str> {
    let b = text.as_bytes();
    let ident = |s: &[u8]| !s.is_empty() && s[0].is_ascii_alphabetic() && s.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_');
    let upper = |s: &[u8]| !s.is_empty() && s[0].is_ascii_uppercase() && s.iter().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == b'_');
    // Quick exit: most values have none of the opening characters.
    if !b.iter().any(|c| matches!(c, b'$' | b'{' | b'<' | b'%' | b'@')) {
        return None;
    }
    for i in 0..b.len() {
        let rest = &b[i..];
        let closed = |open: &[u8], close: &[u8]| -> Option<usize> {
            let body = rest.strip_prefix(open)?;
            let end = body.windows(close.len()).position(|w| w == close)?;
            Some(open.len() + end + close.len())
        };
        let len = match rest[0] {
            b'$' if rest.get(1) == Some(&b'{') => closed(b"${", b"}").filter(|&n| upper(&rest[2..n - 1])),
            b'$' => {
                let n = rest[1..].iter().take_while(|c| c.is_ascii_alphanumeric() || **c == b'_').count();
                (n >= 2 && upper(&rest[1..=n])).then_some(n + 1)
            }
            b'{' => closed(b"{{", b"}}").or_else(|| closed(b"{%", b"%}")),
            b'<' => closed(b"<%", b"%>").or_else(|| closed(b"<", b">").filter(|&n| upper(&rest[1..n - 1]))),
            b'%' => closed(b"%%", b"%%").filter(|&n| upper(&rest[2..n - 2])).or_else(|| closed(b"%", b"%").filter(|&n| ident(&rest[1..n - 1]))),
            b'@' => closed(b"@", b"@").filter(|&n| upper(&rest[1..n - 1])),
            _ => None,
        };
        if let Some(n) = len {
            return text.get(i..i + n);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::placeholder;

    #[test]
    fn placeholders_of_common_template_tools() {
        assert_eq!(placeholder("${FPM_TIMEOUT}"), Some("${FPM_TIMEOUT}"));
        assert_eq!(placeholder("$FPM_TIMEOUT"), Some("$FPM_TIMEOUT"));
        assert_eq!(placeholder("{{ timeout }}"), Some("{{ timeout }}"));
        assert_eq!(placeholder("{% if x %}"), Some("{% if x %}"));
        assert_eq!(placeholder("<PHP_TIMEOUT>"), Some("<PHP_TIMEOUT>"));
        assert_eq!(placeholder("<%= @port %>"), Some("<%= @port %>"));
        assert_eq!(placeholder("%%TEST_PORT%%"), Some("%%TEST_PORT%%"));
        assert_eq!(placeholder("@PHP_PORT@"), Some("@PHP_PORT@"));
        assert_eq!(placeholder("127.0.0.1:${PHP_PORT}"), Some("${PHP_PORT}"));
        assert_eq!(placeholder("/run/php/php%backend_version%-fpm.sock"), Some("%backend_version%"));
    }

    #[test]
    fn nginx_variables_and_regexes_are_not_placeholders() {
        for v in ["$host", "${host}x", "$document_root$fastcgi_script_name", "~ ^/(?<app>[a-z]+)/", "300ms", "$1", "user@example.com", "50%", "$A", "/a%20b%2Fc"] {
            assert_eq!(placeholder(v), None, "{v}");
        }
    }
}

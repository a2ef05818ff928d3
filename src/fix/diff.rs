//! One unified diff over every fixed file, with git-style `a/` and `b/` paths that
//! `git apply` and `patch -p1` accept from the repository root.

use similar::TextDiff;

/// `path` is relative to the repository root (or the current directory).
pub fn unified(path: &str, before: &[u8], after: &[u8]) -> String {
    let old = String::from_utf8_lossy(before);
    let new = String::from_utf8_lossy(after);
    let diff = TextDiff::from_lines(old.as_ref(), new.as_ref());
    let mut out = String::new();
    out.push_str(&format!("diff --git a/{path} b/{path}\n"));
    let body = diff.unified_diff().context_radius(3).header(&format!("a/{path}"), &format!("b/{path}")).to_string();
    out.push_str(&body);
    if !body.ends_with('\n') && !body.is_empty() {
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn git_style_headers_and_missing_newline_marker() {
        let d = unified("nginx/site.conf", b"a;\nb 30s;\nc;", b"a;\nb 300s;\nc;");
        assert!(d.starts_with("diff --git a/nginx/site.conf b/nginx/site.conf\n--- a/nginx/site.conf\n+++ b/nginx/site.conf\n@@ -1,3 +1,3 @@\n"), "{d}");
        assert!(d.contains("-b 30s;\n+b 300s;\n"), "{d}");
        assert!(d.contains("\\ No newline at end of file"), "{d}");
    }
}

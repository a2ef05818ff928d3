//! `nginx -T` output split back into the files it was made of.

/// The header nginx writes before each file's content.
const HEADER: &[u8] = b"# configuration file ";

pub struct DumpedFile {
    pub path: String,
    pub text: Vec<u8>,
}

/// `Some(files)` when `bytes` is an `nginx -T` dump. nginx writes each file's content
/// followed by one extra LF, so that LF is removed to give back the file's own bytes and
/// line numbers. Lines before the first header (`nginx: ... syntax is ok` when stderr
/// was captured too) are dropped.
pub fn split(bytes: &[u8]) -> Option<Vec<DumpedFile>> {
    let mut starts = Vec::new();
    let mut line_start = 0;
    while line_start < bytes.len() {
        let line_end = memchr(b'\n', &bytes[line_start..]).map_or(bytes.len(), |i| line_start + i);
        let line = &bytes[line_start..line_end];
        if line.starts_with(HEADER) && line.ends_with(b":") && line.len() > HEADER.len() + 1 {
            let name = String::from_utf8_lossy(&line[HEADER.len()..line.len() - 1]).into_owned();
            starts.push((line_start, (line_end + 1).min(bytes.len()), name));
        }
        line_start = line_end + 1;
    }
    if starts.is_empty() {
        return None;
    }
    let mut files = Vec::with_capacity(starts.len());
    for (i, (_, body_start, name)) in starts.iter().enumerate() {
        let body_end = starts.get(i + 1).map_or(bytes.len(), |next| next.0);
        let mut text = bytes[*body_start..body_end].to_vec();
        if text.last() == Some(&b'\n') {
            text.pop();
        }
        files.push(DumpedFile { path: name.clone(), text });
    }
    Some(files)
}

fn memchr(needle: u8, hay: &[u8]) -> Option<usize> {
    hay.iter().position(|&b| b == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_files_and_restores_their_bytes() {
        let dump = b"nginx: the configuration file /etc/nginx/nginx.conf syntax is ok\n\
# configuration file /etc/nginx/nginx.conf:\nevents {}\nhttp { include conf.d/*.conf; }\n\n\
# configuration file /etc/nginx/conf.d/a.conf:\nserver { listen 80; }\n";
        let files = split(dump).unwrap();
        assert_eq!(files.len(), 2);
        assert_eq!(files[0].path, "/etc/nginx/nginx.conf");
        assert_eq!(files[0].text, b"events {}\nhttp { include conf.d/*.conf; }\n");
        assert_eq!(files[1].path, "/etc/nginx/conf.d/a.conf");
        assert_eq!(files[1].text, b"server { listen 80; }");
        assert!(split(b"server { listen 80; }\n").is_none());
    }
}

//! Just enough of the FastCGI protocol (fastcgi-spec §3–§5) to ask a socket whether a
//! FastCGI server answers (`FCGI_GET_VALUES`) and to read a pool's status page. The
//! crates that speak FastCGI are async servers or clients built on tokio; these two
//! exchanges are a few records each.

use std::io::{self, Read, Write};

const VERSION: u8 = 1;
const BEGIN_REQUEST: u8 = 1;
const END_REQUEST: u8 = 3;
const PARAMS: u8 = 4;
const STDIN: u8 = 5;
const STDOUT: u8 = 6;
const STDERR: u8 = 7;
const GET_VALUES: u8 = 9;
const GET_VALUES_RESULT: u8 = 10;
const RESPONDER: u16 = 1;

fn record(kind: u8, request: u16, content: &[u8]) -> Vec<u8> {
    let len = content.len().min(u16::MAX as usize);
    let padding = (8 - len % 8) % 8;
    let mut out = Vec::with_capacity(8 + len + padding);
    out.extend_from_slice(&[VERSION, kind]);
    out.extend_from_slice(&request.to_be_bytes());
    out.extend_from_slice(&(len as u16).to_be_bytes());
    out.extend_from_slice(&[padding as u8, 0]);
    out.extend_from_slice(&content[..len]);
    out.resize(out.len() + padding, 0);
    out
}

fn length(out: &mut Vec<u8>, n: usize) {
    if n < 128 {
        out.push(n as u8);
    } else {
        out.extend_from_slice(&((n as u32) | 0x8000_0000).to_be_bytes());
    }
}

fn pairs(items: &[(&str, &str)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (k, v) in items {
        length(&mut out, k.len());
        length(&mut out, v.len());
        out.extend_from_slice(k.as_bytes());
        out.extend_from_slice(v.as_bytes());
    }
    out
}

fn read_pairs(mut b: &[u8]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let len = |b: &mut &[u8]| -> Option<usize> {
        let first = *b.first()?;
        if first < 128 {
            *b = &b[1..];
            Some(first as usize)
        } else {
            let n = u32::from_be_bytes(b.get(..4)?.try_into().ok()?) & 0x7fff_ffff;
            *b = &b[4..];
            Some(n as usize)
        }
    };
    while !b.is_empty() {
        let (Some(k), Some(v)) = (len(&mut b), len(&mut b)) else { break };
        if b.len() < k + v {
            break;
        }
        out.push((String::from_utf8_lossy(&b[..k]).into_owned(), String::from_utf8_lossy(&b[k..k + v]).into_owned()));
        b = &b[k + v..];
    }
    out
}

/// One record: (type, content).
fn read_record(r: &mut impl Read) -> io::Result<(u8, Vec<u8>)> {
    let mut h = [0u8; 8];
    r.read_exact(&mut h)?;
    if h[0] != VERSION {
        return Err(io::Error::new(io::ErrorKind::InvalidData, "not a FastCGI answer"));
    }
    let len = u16::from_be_bytes([h[4], h[5]]) as usize;
    let mut content = vec![0u8; len + h[6] as usize];
    r.read_exact(&mut content)?;
    content.truncate(len);
    Ok((h[1], content))
}

/// `FCGI_GET_VALUES`: the server's `FCGI_MAX_CONNS`, `FCGI_MAX_REQS`, `FCGI_MPXS_CONNS`.
pub fn get_values(s: &mut (impl Read + Write)) -> io::Result<Vec<(String, String)>> {
    let ask = pairs(&[("FCGI_MAX_CONNS", ""), ("FCGI_MAX_REQS", ""), ("FCGI_MPXS_CONNS", "")]);
    s.write_all(&record(GET_VALUES, 0, &ask))?;
    loop {
        let (kind, content) = read_record(s)?;
        if kind == GET_VALUES_RESULT {
            return Ok(read_pairs(&content));
        }
    }
}

/// A GET request as a responder; returns stdout (headers and body) and stderr.
pub fn get(s: &mut (impl Read + Write), params: &[(&str, &str)]) -> io::Result<(Vec<u8>, Vec<u8>)> {
    let mut begin = Vec::with_capacity(8);
    begin.extend_from_slice(&RESPONDER.to_be_bytes());
    begin.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
    let mut out = record(BEGIN_REQUEST, 1, &begin);
    out.extend(record(PARAMS, 1, &pairs(params)));
    out.extend(record(PARAMS, 1, &[]));
    out.extend(record(STDIN, 1, &[]));
    s.write_all(&out)?;
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    loop {
        let (kind, content) = read_record(s)?;
        match kind {
            STDOUT => stdout.extend(content),
            STDERR => stderr.extend(content),
            END_REQUEST => return Ok((stdout, stderr)),
            _ => {}
        }
        if stdout.len() > 1 << 20 {
            return Err(io::Error::other("answer larger than 1 MiB"));
        }
    }
}

/// The body of a CGI-style answer (after the blank line ending the headers).
pub fn body(stdout: &[u8]) -> &[u8] {
    memchr::memmem::find(stdout, b"\r\n\r\n").map_or_else(|| memchr::memmem::find(stdout, b"\n\n").map_or(stdout, |i| &stdout[i + 2..]), |i| &stdout[i + 4..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_and_pairs_round_trip() {
        let long = "x".repeat(300);
        let p = pairs(&[("A", "1"), ("LONG", &long)]);
        assert_eq!(read_pairs(&p), [("A".to_string(), "1".to_string()), ("LONG".to_string(), long.clone())]);
        let r = record(GET_VALUES_RESULT, 0, &p);
        assert_eq!(r.len() % 8, 0);
        let (kind, content) = read_record(&mut &r[..]).unwrap();
        assert_eq!((kind, content), (GET_VALUES_RESULT, p));
        assert_eq!(body(b"Content-type: x\r\n\r\n{}"), b"{}");
    }
}

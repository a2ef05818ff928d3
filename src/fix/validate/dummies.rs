//! Throw-away stand-ins for certificates, keys and other files `nginx -t` loads but that
//! are absent or outside the linted tree: they prove only that the config names a file of
//! the right kind, and keep the real one from being read.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;

use crate::rules::builtin::validation::DummyKind;

/// Stand-in files made on demand in one directory, each kind (and each combination of
/// kinds one path is loaded as) once.
pub struct Dummies {
    dir: PathBuf,
}

/// An OCSP response with status `unauthorized` (RFC 6960): nginx only parses a
/// `ssl_stapling_file` while it checks the configuration.
const OCSP_UNAUTHORIZED: &[u8] = &[0x30, 0x03, 0x0a, 0x01, 0x06];

impl Dummies {
    pub fn new(dir: PathBuf) -> Dummies {
        Dummies { dir }
    }

    /// The stand-in for a file loaded as each of `kinds` (a combined certificate and key
    /// is loaded as both), made if needed.
    pub fn get(&self, kinds: &BTreeSet<DummyKind>) -> Result<PathBuf, String> {
        std::fs::create_dir_all(&self.dir).map_err(|e| format!("cannot create {}: {e}", self.dir.display()))?;
        let name: Vec<&str> = kinds.iter().map(|k| k.describe()).collect();
        let path = self.dir.join(name.join("+").replace(' ', "-"));
        if path.exists() {
            return Ok(path);
        }
        // PEM blocks of every kind asked for, one after the other (OpenSSL's readers skip
        // the blocks of other kinds); a raw kind stands alone.
        let mut bytes = Vec::new();
        for &kind in kinds {
            let part = self.part(kind)?;
            if !kind.is_pem() {
                bytes = part;
                break;
            }
            bytes.extend(part);
        }
        std::fs::write(&path, bytes).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        Ok(path)
    }

    fn part(&self, kind: DummyKind) -> Result<Vec<u8>, String> {
        let read = |p: PathBuf| std::fs::read(&p).map_err(|e| format!("cannot read {}: {e}", p.display()));
        let (crt, key) = (self.dir.join("one.crt"), self.dir.join("one.key"));
        match kind {
            DummyKind::Certificate | DummyKind::Key | DummyKind::Crl => {
                if !crt.exists() {
                    self.keypair(&crt, &key)?;
                }
                // A certificate is enough for `ssl_crl`: nginx loads certificates and CRLs
                // from it and wants at least one (checked with nginx 1.22.1).
                read(if kind == DummyKind::Key { key } else { crt })
            }
            // A named group (RFC 7919): nothing to generate, and big enough for OpenSSL 3
            // (1024-bit parameters fail with `dh key too small`).
            DummyKind::DhParam => {
                let p = self.dir.join("one.dh");
                openssl(&["genpkey", "-genparam", "-algorithm", "DH", "-pkeyopt", "group:ffdhe2048", "-out", &p.to_string_lossy()])?;
                read(p)
            }
            DummyKind::TicketKey => Ok(vec![7u8; 80]),
            DummyKind::Password => Ok(b"conflint-dummy\n".to_vec()),
            DummyKind::OcspResponse => Ok(OCSP_UNAUTHORIZED.to_vec()),
        }
    }

    fn keypair(&self, crt: &std::path::Path, key: &std::path::Path) -> Result<(), String> {
        openssl(&[
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
            "-subj", "/CN=conflint-staged-dummy", "-keyout", &key.to_string_lossy(), "-out", &crt.to_string_lossy(),
        ])
    }
}

/// How the stand-in for `kinds` is named to the user: `certificate and key`.
pub fn describe(kinds: &BTreeSet<DummyKind>) -> String {
    kinds.iter().map(|k| k.describe()).collect::<Vec<_>>().join(" and ")
}

fn openssl(args: &[&str]) -> Result<(), String> {
    let out = Command::new("openssl").args(args).output().map_err(|e| format!("cannot make stand-in certificates: openssl: {e}"))?;
    if !out.status.success() {
        let why = String::from_utf8_lossy(&out.stderr);
        return Err(format!("cannot make stand-in certificates: openssl {}: {}", args[0], why.trim()));
    }
    Ok(())
}

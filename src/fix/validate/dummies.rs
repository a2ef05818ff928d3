//! Throw-away stand-ins for certificates, keys and other files `nginx -t` loads but that
//! are absent or outside the linted tree: they prove only that the config names a file of
//! the right kind, and keep the real one from being read.

use std::path::PathBuf;
use std::process::Command;

use crate::rules::builtin::validation::DummyKind;

/// Stand-in files made on demand in one directory, each kind once.
pub struct Dummies {
    dir: PathBuf,
}

impl Dummies {
    pub fn new(dir: PathBuf) -> Dummies {
        Dummies { dir }
    }

    /// The stand-in for `kind`, made if needed.
    pub fn get(&self, kind: DummyKind) -> Result<PathBuf, String> {
        std::fs::create_dir_all(&self.dir).map_err(|e| format!("cannot create {}: {e}", self.dir.display()))?;
        let path = self.dir.join(match kind {
            DummyKind::Certificate => "dummy.crt",
            DummyKind::Key => "dummy.key",
            DummyKind::DhParam => "dummy-dhparam.pem",
            DummyKind::TicketKey => "dummy-ticket.key",
            DummyKind::Password => "dummy-password",
        });
        if path.exists() {
            return Ok(path);
        }
        match kind {
            DummyKind::Certificate | DummyKind::Key => self.keypair()?,
            // Smallest parameters nginx accepts; generating real DH groups takes seconds.
            DummyKind::DhParam => openssl(&["dhparam", "-dsaparam", "-out", &path.to_string_lossy(), "1024"])?,
            DummyKind::TicketKey => std::fs::write(&path, [7u8; 80]).map_err(|e| e.to_string())?,
            DummyKind::Password => std::fs::write(&path, "conflint-dummy\n").map_err(|e| e.to_string())?,
        }
        Ok(path)
    }

    fn keypair(&self) -> Result<(), String> {
        let (crt, key) = (self.dir.join("dummy.crt"), self.dir.join("dummy.key"));
        openssl(&[
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
            "-subj", "/CN=conflint-staged-dummy", "-keyout", &key.to_string_lossy(), "-out", &crt.to_string_lossy(),
        ])
    }
}

fn openssl(args: &[&str]) -> Result<(), String> {
    let out = Command::new("openssl").args(args).output().map_err(|e| format!("cannot make stand-in certificates: openssl: {e}"))?;
    if !out.status.success() {
        let why = String::from_utf8_lossy(&out.stderr);
        return Err(format!("cannot make stand-in certificates: openssl {}: {}", args[0], why.trim()));
    }
    Ok(())
}

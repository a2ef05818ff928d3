//! Running a validator with a time limit: a binary or config that makes `nginx -t` hang
//! (a wrapper script waiting on something, a stuck filesystem) must not hang `--fix`.
//!
//! The command runs in a process group of its own so that, when time is up, everything it
//! started goes with it: `unshare`'s child, a shell script's `sleep`.

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Sets the limit, in seconds.
pub const TIMEOUT_VAR: &str = "CONFLINT_VALIDATE_TIMEOUT";
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// The limit from CONFLINT_VALIDATE_TIMEOUT (seconds, fractions allowed), else 30 s.
pub fn timeout_from_env() -> Result<Duration, String> {
    match std::env::var(TIMEOUT_VAR) {
        Err(_) => Ok(DEFAULT_TIMEOUT),
        Ok(v) => v.trim().parse::<f64>().ok().filter(|s| *s > 0.0 && s.is_finite()).and_then(|s| Duration::try_from_secs_f64(s).ok()).ok_or_else(|| format!("{TIMEOUT_VAR}={v} is not a number of seconds greater than 0")),
    }
}

#[derive(Debug)]
pub enum RunError {
    Spawn(std::io::Error),
    /// Killed after the limit.
    TimedOut,
}

/// Run `cmd` with standard input closed and its output captured; after `limit`, kill it
/// and every process it started.
pub fn output(cmd: &mut Command, limit: Duration) -> Result<Output, RunError> {
    let deadline = Instant::now() + limit;
    let mut child = cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).process_group(0).spawn().map_err(RunError::Spawn)?;
    let (tx, rx) = mpsc::channel();
    let pipes: [Box<dyn Read + Send>; 2] = [Box::new(child.stdout.take().expect("piped")), Box::new(child.stderr.take().expect("piped"))];
    for (i, mut pipe) in pipes.into_iter().enumerate() {
        let tx = tx.clone();
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = pipe.read_to_end(&mut buf);
            let _ = tx.send((i, buf));
        });
    }
    // The child is reaped only after its output is complete, so until then its pid (the
    // group's id) cannot be reused and killing the group hits nothing else.
    let mut outs: [Option<Vec<u8>>; 2] = [None, None];
    while outs.iter().any(Option::is_none) {
        match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok((i, buf)) => outs[i] = Some(buf),
            Err(_) => return Err(kill(child)),
        }
    }
    loop {
        match child.try_wait() {
            Ok(Some(status)) => {
                let [stdout, stderr] = outs.map(Option::unwrap_or_default);
                return Ok(Output { status, stdout, stderr });
            }
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(5)),
            Ok(None) => return Err(kill(child)),
            Err(e) => return Err(RunError::Spawn(e)),
        }
    }
}

fn kill(mut child: Child) -> RunError {
    let group = child.id() as libc::pid_t;
    // SAFETY: kill(2) with a negative pid signals that process group; no memory is involved.
    unsafe { libc::kill(-group, libc::SIGKILL) };
    let _ = child.wait();
    RunError::TimedOut
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_of_a_quick_command() {
        let out = output(Command::new("sh").args(["-c", "echo out; echo err >&2; exit 3"]), Duration::from_secs(10)).unwrap();
        assert_eq!((out.stdout.as_slice(), out.stderr.as_slice(), out.status.code()), (&b"out\n"[..], &b"err\n"[..], Some(3)));
    }

    #[test]
    fn a_hanging_command_and_its_children_are_killed() {
        let start = Instant::now();
        // The shell's child holds the pipes open: it must die too, or this would wait 30 s.
        let r = output(Command::new("sh").args(["-c", "sleep 30; echo late"]), Duration::from_millis(300));
        assert!(matches!(r, Err(RunError::TimedOut)), "{r:?}");
        assert!(start.elapsed() < Duration::from_secs(5), "{:?}", start.elapsed());
    }
}

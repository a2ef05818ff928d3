use std::process::ExitCode;

// Linting allocates millions of small nodes; mimalloc is markedly faster at that than
// glibc's allocator (see `cargo bench --bench parse`), called as `conflint::alloc` explains.
#[global_allocator]
static ALLOCATOR: conflint::alloc::Allocator = conflint::alloc::Allocator;

use clap::Parser;

/// No transparent huge pages: with THP `always`, each region mimalloc touches is faulted in
/// and zeroed 2 MiB at a time, which doubled the peak RSS of a small run (25 -> 12 MiB on one
/// file, 150 -> 100 MiB on a 6 MB tree) for no measurable speed. Set from `.init_array`,
/// before the first allocation of the Rust runtime reserves mimalloc's first arena.
/// Inherited by the validators conflint runs, which is harmless.
#[cfg(target_os = "linux")]
#[used]
#[link_section = ".init_array"]
static NO_TRANSPARENT_HUGE_PAGES: extern "C" fn() = {
    extern "C" fn disable() {
        // SAFETY: PR_SET_THP_DISABLE takes no pointers; on failure nothing changes.
        unsafe {
            libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
        }
    }
    disable
};

fn main() -> ExitCode {
    std::panic::set_hook(Box::new(|info| {
        eprintln!(
            "conflint: internal error: {}\n\
             This is a bug in conflint. Please report it with the command line and, if you can, the config that triggered it.",
            conflint::report::printable(&info.to_string())
        );
    }));
    let args = conflint::cli::normalize_args(std::env::args_os().collect());
    let cli = match conflint::cli::Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match std::panic::catch_unwind(|| conflint::cli::run(cli)) {
        Ok(Ok(code)) => ExitCode::from(code as u8),
        Ok(Err(e)) => {
            eprintln!("conflint: error: {}", conflint::report::printable(&e.to_string()));
            ExitCode::from(2)
        }
        Err(_) => ExitCode::from(2),
    }
}

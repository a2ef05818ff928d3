use std::process::ExitCode;

// Linting allocates millions of small nodes; mimalloc is markedly faster at that than
// glibc's allocator (see `cargo bench --bench parse`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::Parser;

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

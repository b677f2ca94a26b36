//! The `seedance-tui` binary: parse arguments and hand over to the library.

use clap::Parser;
use seedance_tui::cli::{self, args::Cli};
use std::process::ExitCode;

fn main() -> ExitCode {
    // A shell asking for completions gets them and the process ends here.
    cli::complete::complete_if_asked();
    quiet_on_closed_pipe();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(3);
        }
    };
    runtime.block_on(cli::run(cli))
}

/// `seedance-tui ls | head -1`: once the reader has gone, printing fails with a broken pipe.
/// `println!` panics on that; the process ends quietly with 0 instead (what the reader asked
/// for is printed), as `cat` and `grep` do. Any other panic goes to the previous hook.
fn quiet_on_closed_pipe() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let text = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or("");
        let printing = text.contains("failed printing to std");
        if printing && text.contains("Broken pipe") {
            std::process::exit(0);
        }
        previous(info)
    }));
}

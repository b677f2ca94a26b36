//! The `seedance-tui` binary: parse arguments and hand over to the library.

use clap::Parser;
use seedance_tui::cli::{self, args::Cli};
use std::process::ExitCode;

fn main() -> ExitCode {
    // A shell asking for completions gets them and the process ends here.
    cli::complete::complete_if_asked();
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

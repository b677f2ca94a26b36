//! The `seedance-tui` binary: parse arguments and hand over to the library.

use clap::Parser;
use seedance_tui::cli::{self, args::Cli};
use std::process::ExitCode;

fn main() -> ExitCode {
    large_allocations_go_back();
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

/// Buffers of 1 MiB and more (a 20 MB prompt's copies while a batch line is read, stored and
/// sent) are mapped from the OS and given back when freed. glibc's default raises that
/// threshold to the largest block freed so far (up to 32 MiB), after which such copies come from
/// the heap and stay in the process once freed: a 20 MB line cost 180 MB instead of 60.
fn large_allocations_go_back() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes the allocator's tuning; called before any thread starts.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
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

//! The runtime: the event loop that merges terminal input, ticks and effect results into
//! messages, executes effects, and draws.

pub mod demo;
pub mod osc;
pub mod poller;
pub mod store_watch;
pub mod terminal;

use crate::cli::args::GlobalArgs;
use crate::cli::context::Context;

/// Open the dashboard and run until the user quits.
pub async fn run_dashboard(ctx: Context, g: &GlobalArgs) -> std::io::Result<()> {
    let _ = (ctx, g);
    Ok(())
}

//! The command line: parse arguments, resolve the context, run a headless command or the
//! dashboard, and map the outcome to an exit code.

pub(crate) mod adopt;
pub mod args;
pub(crate) mod batch;
pub(crate) mod candidates;
pub mod complete;
pub(crate) mod context;
pub(crate) mod copy;
pub(crate) mod delete;
pub mod doctor;
pub(crate) mod download;
pub(crate) mod exit;
pub mod gallery;
pub(crate) mod preflight;
pub mod query;
pub(crate) mod retry;
pub(crate) mod submit;
pub mod task_json;
pub(crate) mod watch;

use crate::context::Context;
use args::{Cli, Command, ConfigCommand, StoreCommand};
use exit::{Code, Failure};
use std::process::ExitCode;

/// Run the program; returns the process exit code.
pub async fn run(cli: Cli) -> ExitCode {
    match dispatch(cli).await {
        Ok(code) => code.into(),
        Err(f) => {
            // Server strings are escaped where they enter a message; each line of it is
            // escaped again here so nothing in it can drive the terminal.
            for (i, line) in f.message.lines().enumerate() {
                let prefix = if i == 0 { "error: " } else { "" };
                eprintln!("{prefix}{}", crate::sanitize::line(line));
            }
            f.code.into()
        }
    }
}

async fn dispatch(cli: Cli) -> Result<Code, Failure> {
    let g = cli.global;
    match cli.command {
        Some(Command::Sim(a)) => return run_sim(a).await,
        Some(Command::Config { what }) => {
            match what {
                ConfigCommand::Path => println!(
                    "{}",
                    g.config
                        .clone()
                        .unwrap_or_else(crate::config::Paths::config_file)
                        .display()
                ),
                ConfigCommand::Example => print!("{}", crate::config::Config::example()),
            }
            return Ok(Code::Ok);
        }
        Some(Command::Doctor(a)) => return doctor::run(&g, &a).await,
        Some(Command::Store {
            what: StoreCommand::Copy { from, to },
        }) => return copy::run(&from, &to).await,
        Some(Command::Completions { shell }) => {
            let argv0 = std::env::args_os()
                .next()
                .unwrap_or_else(|| "seedance-tui".into());
            complete::write_script(shell, &argv0, &mut std::io::stdout().lock())
                .map_err(|e| Failure::api(format!("cannot write the script: {e}")))?;
            return Ok(Code::Ok);
        }
        Some(Command::Man { command, dir }) => return man(command.as_deref(), dir.as_deref()),
        _ => {}
    }
    check_ids(&cli.command)?;
    let ctx = Context::resolve(&g).await?;
    match cli.command {
        None => {
            let opts = crate::runtime::DashboardOptions {
                theme: g.theme.clone(),
                mouse: g.mouse,
            };
            crate::runtime::run_dashboard(ctx, opts)
                .await
                .map(|_| Code::Ok)
                .map_err(|e| match e {
                    crate::runtime::DashboardError::Config(m) => Failure::usage(m),
                    crate::runtime::DashboardError::Io(e) => Failure::api(e.to_string()),
                })
        }
        Some(Command::Submit(a)) if a.batch.is_some() || a.prompts.is_some() => {
            batch::run(&ctx, &a).await
        }
        Some(Command::Submit(a)) => submit::run(&ctx, &a).await,
        Some(Command::Get { id }) => query::get(&ctx, &id).await,
        Some(Command::Ls {
            status,
            json,
            jsonl,
        }) => {
            let format = if json {
                query::ListFormat::Json
            } else if jsonl {
                query::ListFormat::JsonLines
            } else {
                query::ListFormat::Table
            };
            query::ls(&ctx, &status, format).await
        }
        Some(Command::Gallery(a)) => {
            let frames = a
                .frames
                .or(ctx.config.ui.contact_sheet_frames)
                .unwrap_or(crate::engine::sheet::DEFAULT_FRAMES)
                .min(crate::engine::sheet::MAX_FRAMES);
            let o = gallery::GalleryOptions {
                filter: a.filter.join(" "),
                out: a.out.clone(),
                frames,
                link_ttl: std::time::Duration::from_secs(a.link_hours.saturating_mul(3600)),
            };
            gallery::run(&ctx, &o).await
        }
        Some(Command::Cancel { id }) => query::cancel(&ctx, &id).await,
        Some(Command::Delete { ids, local, yes }) => delete::delete(&ctx, &ids, local, yes).await,
        Some(Command::Adopt { id, task_id, yes }) => adopt::adopt(&ctx, &id, &task_id, yes).await,
        Some(Command::Watch {
            ids,
            download,
            out,
            daemon,
        }) => watch::watch(&ctx, &ids, download, out.as_ref(), daemon).await,
        Some(Command::Retry {
            ids,
            failed,
            since,
            again,
            dry_run,
            max,
            over_budget,
        }) => {
            let o = retry::RetryOptions {
                ids,
                failed,
                since,
                again,
                dry_run,
                max,
                over_budget,
            };
            retry::retry(&ctx, &o).await
        }
        Some(Command::Download { ids, out }) => download::download(&ctx, &ids, out.as_ref()).await,
        Some(Command::Sim(_))
        | Some(Command::Config { .. })
        | Some(Command::Store { .. })
        | Some(Command::Doctor(_))
        | Some(Command::Completions { .. })
        | Some(Command::Man { .. }) => Ok(Code::Ok),
    }
}

/// Refuse task ids on the command line that could not be ids (`..`, `a/b`, control
/// characters, ...) before anything is looked up or sent.
fn check_ids(command: &Option<Command>) -> Result<(), Failure> {
    let ids: &[String] = match command {
        Some(Command::Get { id }) | Some(Command::Cancel { id }) => std::slice::from_ref(id),
        Some(Command::Adopt { task_id, .. }) => std::slice::from_ref(task_id),
        Some(Command::Watch { ids, .. })
        | Some(Command::Retry { ids, .. })
        | Some(Command::Download { ids, .. }) => ids,
        _ => &[],
    };
    for id in ids {
        crate::api::task_id::check(id).map_err(Failure::usage)?;
    }
    Ok(())
}

/// `man [COMMAND]` prints one page; `man --dir DIR` writes them all.
fn man(command: Option<&str>, dir: Option<&std::path::Path>) -> Result<Code, Failure> {
    use std::io::Write;
    if let Some(dir) = dir {
        for file in complete::write_man_pages(dir).map_err(Failure::usage)? {
            println!("{}", file.display());
        }
        return Ok(Code::Ok);
    }
    let page = complete::render_man(command).map_err(Failure::usage)?;
    // On a terminal the page is read, not its roff: through `man -l -` where there is one.
    if std::io::IsTerminal::is_terminal(&std::io::stdout()) && show_with_man(&page) {
        return Ok(Code::Ok);
    }
    std::io::stdout()
        .write_all(&page)
        .map_err(|e| Failure::api(format!("cannot write the page: {e}")))?;
    Ok(Code::Ok)
}

/// Show a roff page with `man -l -` (its formatter and pager). False when `man` cannot be run,
/// so the caller prints the roff instead.
fn show_with_man(page: &[u8]) -> bool {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let Ok(mut child) = Command::new("man")
        .args(["-l", "-"])
        .stdin(Stdio::piped())
        .spawn()
    else {
        return false;
    };
    if let Some(mut stdin) = child.stdin.take() {
        // A pager quit early closes the pipe: not an error.
        let _ = stdin.write_all(page);
    }
    child.wait().is_ok_and(|s| s.success())
}

async fn run_sim(a: args::SimArgs) -> Result<Code, Failure> {
    let addr = a.addr.parse().map_err(|_| {
        Failure::usage(format!(
            "`{}` is not an address; use e.g. 127.0.0.1:8080",
            a.addr
        ))
    })?;
    if let Some(path) = &a.replay {
        let exchanges = crate::api::trace::read(path).map_err(Failure::usage)?;
        crate::sim::replay::run_standalone(addr, exchanges)
            .await
            .map_err(|e| Failure::api(format!("simulator: {e}")))?;
        return Ok(Code::Ok);
    }
    if !(0.0..=1.0).contains(&a.fail_rate) {
        return Err(Failure::usage("--fail-rate is a probability from 0 to 1"));
    }
    if a.speed <= 0.0 || !a.speed.is_finite() {
        return Err(Failure::usage("--speed must be a positive number"));
    }
    let cfg = crate::sim::SimConfig {
        speed: a.speed,
        seed: a.seed,
        fail_rate: a.fail_rate,
        rate_limit: a.rate_limit,
        api_key: a.api_key,
        url_ttl: std::time::Duration::from_secs(a.url_ttl),
        max_running: a.max_running.max(1),
        video_size: a.video_size,
        max_queued: a.max_queued,
        ..crate::sim::SimConfig::default()
    };
    crate::sim::run_standalone(addr, cfg)
        .await
        .map_err(|e| Failure::api(format!("simulator: {e}")))?;
    Ok(Code::Ok)
}

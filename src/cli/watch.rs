//! `watch`: follow tasks until they finish, one line per change, through the headless poll
//! loop (`runtime::headless`).

use super::exit::{Code, Failure};
use crate::api::TaskStatus;
use crate::context::Context;
use crate::destination::Destination;
use crate::runtime::headless::{self, HeadlessError, WatchPlan, change_line};
use crate::store::{Phase, TaskRecord};

/// 1 when any task ended failed/expired/cancelled/rejected/unknown, else 0.
pub(crate) fn exit_code_for(records: &[TaskRecord]) -> Code {
    let bad = records
        .iter()
        .any(|r| !matches!(r.phase, Phase::Remote(TaskStatus::Succeeded)));
    if bad { Code::TaskFailed } else { Code::Ok }
}

impl From<HeadlessError> for Failure {
    fn from(e: HeadlessError) -> Failure {
        match e {
            HeadlessError::Lease(m) => Failure::usage(m),
            HeadlessError::Stopped(m) => Failure::api(m),
        }
    }
}

/// `watch [ID...] [--daemon]`: follow tasks until they settle (one line per change). Only the
/// process holding the store's poller lease polls; the others print what it records. With
/// `daemon`, run until a signal, picking up every task that appears in the store.
pub(crate) async fn watch(
    ctx: &Context,
    ids: &[String],
    download: bool,
    out: Option<&Destination>,
    daemon: bool,
) -> Result<Code, Failure> {
    ctx.require_key()?;
    let records = if ids.is_empty() {
        ctx.engine.with_store(|s| s.unfinished()).await?
    } else {
        let mut v = Vec::new();
        for id in ids {
            v.push(ctx.engine.find(id).await?);
        }
        v
    };
    if records.is_empty() && !daemon {
        crate::errln!("nothing to watch: no unfinished tasks");
        return Ok(Code::Ok);
    }
    for r in &records {
        crate::outln!("{}", change_line(r));
    }
    let dir = out.cloned().unwrap_or(ctx.output_dir.clone());
    let plan = WatchPlan {
        daemon,
        download_to: download.then_some(dir),
        ..WatchPlan::default()
    };
    let done = headless::run(ctx, records, plan).await?;
    if daemon {
        return Ok(Code::Ok);
    }
    eprintln!("{}", headless::summary_line(&done.records));
    Ok(exit_code_for(&done.records))
}

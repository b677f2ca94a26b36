//! `delete`: remove finished tasks' records on the server, or (`--local`) the local rows of
//! creates that never reached the server. Destructive, so it asks on a terminal and needs
//! `--yes` otherwise.

use super::exit::{Code, Failure};
use crate::context::Context;
use crate::store::{Phase, TaskRecord};
use std::io::{BufRead, IsTerminal, Write};

/// `delete ID... [--local] [--yes]`.
pub(crate) async fn delete(
    ctx: &Context,
    ids: &[String],
    local: bool,
    yes: bool,
) -> Result<Code, Failure> {
    let mut records = Vec::new();
    for id in ids {
        let r = ctx.engine.find(id).await?;
        if !records
            .iter()
            .any(|o: &TaskRecord| o.local_id == r.local_id)
        {
            records.push(r);
        }
    }
    for r in &records {
        refuse_unless_deletable(r, local)?;
    }
    let list: Vec<&str> = records.iter().map(|r| r.display_id()).collect();
    let question = if local {
        format!(
            "Remove {} local row(s) of refused creates ({})?",
            records.len(),
            list.join(", ")
        )
    } else {
        format!(
            "Delete {} task record(s) on the server ({})? Their result links stop working.",
            records.len(),
            list.join(", ")
        )
    };
    if !yes && !confirm_to(&question, "delete")? {
        eprintln!("nothing deleted");
        return Ok(Code::Ok);
    }
    if local {
        let lids: Vec<String> = records.iter().map(|r| r.local_id.clone()).collect();
        let n = ctx
            .engine
            .with_store(move |s| s.delete_local(&lids))
            .await?;
        println!("removed {} local row(s)", n.len());
        return Ok(Code::Ok);
    }
    ctx.require_key()?;
    let mut code = Code::Ok;
    for r in &records {
        match ctx.engine.cancel(r).await {
            Ok(()) => crate::outln!("{} deleted on the server", r.display_id()),
            Err(e) => {
                crate::errln!("{}: delete failed: {e}", r.display_id());
                code = Code::Api;
            }
        }
    }
    Ok(code)
}

/// Only finished tasks have a server record to delete; only refused creates have a local row
/// that may go (anything else may exist on the server and be billed).
fn refuse_unless_deletable(r: &TaskRecord, local: bool) -> Result<(), Failure> {
    let id = r.display_id();
    if local {
        return match r.phase {
            Phase::Rejected if r.task_id.is_none() => Ok(()),
            Phase::SubmitUnknown | Phase::Submitting => Err(Failure::usage(format!(
                "{id} is {}: its create may have reached the server, so its row is kept",
                r.phase
            ))),
            _ => Err(Failure::usage(format!(
                "{id} reached the server ({}): `delete --local` only removes refused creates; `delete {id}` deletes its server record",
                r.phase
            ))),
        };
    }
    match &r.phase {
        Phase::Remote(s) if s.is_terminal() && r.task_id.is_some() => Ok(()),
        Phase::Remote(crate::api::TaskStatus::Queued) => Err(Failure::usage(format!(
            "{id} is queued: `seedance-tui cancel {id}` cancels it"
        ))),
        Phase::Rejected => Err(Failure::usage(format!(
            "{id} never reached the server: `seedance-tui delete --local {id}` removes its row"
        ))),
        other => Err(Failure::usage(format!(
            "{id} is {other}: only a finished task's record can be deleted"
        ))),
    }
}

/// Ask `question` on the terminal; without one, refuse and say how to confirm (`--yes` to
/// `verb`).
pub(super) fn confirm_to(question: &str, verb: &str) -> Result<bool, Failure> {
    if !(std::io::stdin().is_terminal() && std::io::stderr().is_terminal()) {
        return Err(Failure::usage(format!(
            "{question}\nnot a terminal, so not asking: pass --yes to {verb}"
        )));
    }
    let mut err = std::io::stderr();
    let _ = write!(err, "{} [y/N] ", crate::sanitize::line(question));
    let _ = err.flush();
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(|e| Failure::usage(format!("cannot read the answer: {e}")))?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes"))
}

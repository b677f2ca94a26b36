//! `watch`, `retry` and `download`: poll tasks until they finish (one line per change), resubmit
//! stored requests, and save results.

use super::context::Context;
use super::exit::{Code, Failure};
use crate::api::{ApiError, TaskStatus};
use crate::destination::Destination;
use crate::engine::PollError;
use crate::store::{Phase, TaskQuery, TaskRecord};
use std::collections::BTreeMap;

/// 1 when any task ended failed/expired/cancelled/rejected/unknown, else 0.
pub fn exit_code_for(records: &[TaskRecord]) -> Code {
    let bad = records
        .iter()
        .any(|r| !matches!(r.phase, Phase::Remote(TaskStatus::Succeeded)));
    if bad { Code::TaskFailed } else { Code::Ok }
}

/// One line describing a task's state, for watch output.
pub fn change_line(r: &TaskRecord) -> String {
    let time = chrono::Local::now().format("%H:%M:%S");
    let mut line = format!("{time} {} {}", r.display_id(), r.phase);
    if let Some(code) = &r.error_code {
        line.push_str(&format!(" {code}"));
        if let Some(h) = crate::api::hints::hint_for_code(code) {
            line.push_str(&format!(" ({h})"));
        }
    }
    if let Some(t) = r.tokens {
        line.push_str(&format!(" tokens={t}"));
    }
    line
}

/// Where progress lines go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// `watch`: the lines are the output.
    Stdout,
    /// `submit --wait`: the lines are progress; stdout is kept for the result.
    Stderr,
}

impl Progress {
    fn line(self, text: &str) {
        match self {
            Progress::Stdout => println!("{text}"),
            Progress::Stderr => eprintln!("{text}"),
        }
    }
}

/// Poll `records` until each is settled, printing a line per change; download results of
/// succeeded tasks to `download_to` when given. Returns the final records.
pub async fn wait_for(
    ctx: &Context,
    records: Vec<TaskRecord>,
    print: Progress,
    download_to: Option<&Destination>,
) -> Result<Vec<TaskRecord>, Failure> {
    let mut pending: BTreeMap<String, TaskRecord> = records
        .into_iter()
        .map(|r| (r.local_id.clone(), r))
        .collect();
    let mut done = Vec::new();
    let mut warned = false;
    loop {
        let ids: Vec<String> = pending.keys().cloned().collect();
        for id in ids {
            let Some(current) = pending.get(&id).cloned() else {
                continue;
            };
            if current.phase.is_settled() {
                pending.remove(&id);
                done.push(finish(ctx, current, print, download_to).await?);
                continue;
            }
            match ctx.engine.poll(&current).await {
                Ok((fresh, changed)) => {
                    if changed {
                        print.line(&change_line(&fresh));
                    }
                    pending.insert(id, fresh);
                }
                Err(PollError::Api(e)) if fatal(&e) => return Err(e.into()),
                Err(e) => {
                    if !warned {
                        eprintln!("warning: {e} (will keep trying)");
                        warned = true;
                    }
                }
            }
        }
        if pending.is_empty() {
            return Ok(done);
        }
        let all_settled = pending.values().all(|r| r.phase.is_settled());
        if !all_settled {
            tokio::time::sleep(ctx.poll_interval).await;
        }
    }
}

/// Errors that no amount of polling fixes.
fn fatal(e: &ApiError) -> bool {
    matches!(e, ApiError::Auth { .. } | ApiError::NotTheApi { .. })
}

async fn finish(
    ctx: &Context,
    record: TaskRecord,
    print: Progress,
    download_to: Option<&Destination>,
) -> Result<TaskRecord, Failure> {
    let succeeded = matches!(record.phase, Phase::Remote(TaskStatus::Succeeded));
    match download_to {
        Some(dir) if succeeded => {
            let saved = crate::engine::task_results::save_results(
                &ctx.engine,
                &record,
                dir,
                &ctx.config.download.template,
            )
            .await
            .map_err(|e| Failure::api(e.to_string()))?;
            for path in &saved.files {
                print.line(&format!("saved {}", path.display()));
            }
            Ok(saved.record)
        }
        _ => Ok(record),
    }
}

/// `watch [ID...] [--daemon]`: follow tasks until they settle (one line per change). Only the
/// process holding the store's poller lease polls; the others print what it records. With
/// `daemon`, run until a signal, picking up every task that appears in the store.
pub async fn watch(
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
        eprintln!("nothing to watch: no unfinished tasks");
        return Ok(Code::Ok);
    }
    for r in &records {
        println!("{}", change_line(r));
    }
    let dir = out.cloned().unwrap_or(ctx.output_dir.clone());
    let plan = crate::runtime::headless::WatchPlan {
        daemon,
        download_to: download.then_some(dir),
    };
    let done = crate::runtime::headless::run(ctx, records, plan).await?;
    if daemon {
        return Ok(Code::Ok);
    }
    Ok(exit_code_for(&done))
}

/// Parse an age like `30m`, `1h`, `2d`, `90s` into seconds.
pub fn parse_age(s: &str) -> Option<i64> {
    let s = s.trim();
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit())?);
    let n: i64 = num.parse().ok()?;
    let mult = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return None,
    };
    n.checked_mul(mult)
}

/// `retry ID...` / `retry --failed [--since AGE]`.
pub async fn retry(
    ctx: &Context,
    ids: &[String],
    failed: bool,
    since: Option<&str>,
) -> Result<Code, Failure> {
    let mut originals = Vec::new();
    for id in ids {
        originals.push(ctx.engine.find(id).await?);
    }
    if failed {
        let since = match since {
            Some(s) => Some(
                crate::engine::now()
                    - parse_age(s).ok_or_else(|| {
                        Failure::usage(format!("`{s}` is not an age; use e.g. 30m, 1h or 2d"))
                    })?,
            ),
            None => None,
        };
        let query = TaskQuery {
            statuses: vec!["failed".into()],
            since,
            limit: None,
        };
        originals.extend(ctx.engine.with_store(move |s| s.list(&query)).await?);
    }
    // A task named twice (id and prefix, or also matched by --failed) is still one create.
    let mut seen = std::collections::HashSet::new();
    originals.retain(|r: &TaskRecord| seen.insert(r.local_id.clone()));
    if originals.is_empty() {
        return Err(Failure::usage(
            "nothing to retry: name tasks, or use --failed",
        ));
    }
    ctx.require_key()?;
    let mut code = Code::Ok;
    for original in &originals {
        match ctx.engine.retry(original).await {
            Ok(new) => println!("{} -> {}", original.display_id(), new.display_id()),
            Err(e) => {
                eprintln!("{}: retry failed: {e}", original.display_id());
                code = Code::Api;
            }
        }
    }
    Ok(code)
}

/// `download ID... [--out DIR]`.
pub async fn download(
    ctx: &Context,
    ids: &[String],
    out: Option<&Destination>,
) -> Result<Code, Failure> {
    if ids.is_empty() {
        return Err(Failure::usage("name at least one task to download"));
    }
    let dir = out.cloned().unwrap_or(ctx.output_dir.clone());
    for id in ids {
        let record = ctx.engine.find(id).await?;
        if !matches!(record.phase, Phase::Remote(TaskStatus::Succeeded)) {
            return Err(Failure::task_failed(format!(
                "{} is {}, not succeeded: nothing to download",
                record.display_id(),
                record.phase
            )));
        }
        let saved = crate::engine::task_results::save_results(
            &ctx.engine,
            &record,
            &dir,
            &ctx.config.download.template,
        )
        .await
        .map_err(|e| Failure::api(e.to_string()))?;
        for p in saved.files {
            println!("{}", p.display());
        }
    }
    Ok(Code::Ok)
}

#[cfg(test)]
mod tests {
    #[test]
    fn ages_parse() {
        assert_eq!(super::parse_age("90s"), Some(90));
        assert_eq!(super::parse_age("1h"), Some(3600));
        assert_eq!(super::parse_age("2d"), Some(172_800));
        assert_eq!(super::parse_age("h"), None);
        assert_eq!(super::parse_age("5x"), None);
    }
}

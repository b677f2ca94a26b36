//! `submit --batch FILE` / `submit --prompts FILE [--repeat N]`: read and validate the whole
//! file, queue every line as a `pending` row (idempotent by line key), then feed the queue
//! under `--max-in-flight` while this process holds the poller lease (or let the holder — a
//! dashboard or `watch --daemon` — feed it), and wait for the lines to be sent, or with
//! `--wait` to finish; `--detach` returns once they are queued.

use super::args::SubmitArgs;
use super::exit::{Code, Failure};
use crate::api::TaskStatus;
use crate::context::Context;
use crate::engine::batch::{self, BatchLine, Parsed};
use crate::engine::ids;
use crate::store::{Enqueued, NewPending, Phase, TaskRecord};
use std::io::Read;
use std::path::{Path, PathBuf};

/// The largest batch file read (requests are small; local files are read separately).
const MAX_FILE_BYTES: u64 = 64 << 20;

/// Problems printed before "and N more".
const SHOWN_PROBLEMS: usize = 50;

/// Read `path` (`-` is stdin), bounded.
fn read_input(path: &Path) -> Result<String, Failure> {
    let mut text = String::new();
    let too_big = || {
        Failure::usage(format!(
            "{} is larger than {} MiB; split it into several files",
            path.display(),
            MAX_FILE_BYTES >> 20
        ))
    };
    if path == Path::new("-") {
        std::io::stdin()
            .take(MAX_FILE_BYTES + 1)
            .read_to_string(&mut text)
            .map_err(|e| Failure::usage(format!("cannot read stdin: {e}")))?;
    } else {
        let f = std::fs::File::open(path)
            .map_err(|e| Failure::usage(format!("cannot read {}: {e}", path.display())))?;
        f.take(MAX_FILE_BYTES + 1)
            .read_to_string(&mut text)
            .map_err(|e| Failure::usage(format!("cannot read {}: {e}", path.display())))?;
    }
    if text.len() as u64 > MAX_FILE_BYTES {
        return Err(too_big());
    }
    Ok(text)
}

/// Read and validate the file the arguments name.
pub fn parse(ctx: &Context, args: &SubmitArgs) -> Result<(String, Parsed), Failure> {
    let (path, json_lines) = match (&args.batch, &args.prompts) {
        (Some(p), _) => (p.clone(), true),
        (None, Some(p)) => (p.clone(), false),
        (None, None) => return Err(Failure::usage("give --batch FILE or --prompts FILE")),
    };
    let shown = if path == Path::new("-") {
        "stdin".to_string()
    } else {
        path.display().to_string()
    };
    let text = read_input(&path)?;
    let parsed = if json_lines {
        let base = if path == Path::new("-") {
            PathBuf::from(".")
        } else {
            path.parent()
                .filter(|p| !p.as_os_str().is_empty())
                .map(Path::to_path_buf)
                .unwrap_or_else(|| PathBuf::from("."))
        };
        batch::parse_json_lines(&text, &base)
    } else {
        let template_args = SubmitArgs {
            prompt: None,
            ..args_for_template(args)
        };
        let template = super::submit::build_request(&template_args, &ctx.config.defaults)?;
        batch::parse_prompts(&text, &template)
    };
    Ok((shown, parsed))
}

/// The flags that shape every request of a `--prompts` file.
fn args_for_template(a: &SubmitArgs) -> SubmitArgs {
    SubmitArgs {
        model: a.model.clone(),
        ratio: a.ratio.clone(),
        duration: a.duration,
        resolution: a.resolution.clone(),
        image: a.image.clone(),
        video: a.video.clone(),
        audio: a.audio.clone(),
        seed: a.seed,
        web_search: a.web_search,
        priority: a.priority,
        safety_identifier: a.safety_identifier.clone(),
        no_watermark: a.no_watermark,
        watermark: a.watermark,
        audio_gen: a.audio_gen,
        no_audio_gen: a.no_audio_gen,
        last_frame: a.last_frame,
        ..SubmitArgs::default()
    }
}

/// One line of the batch with its row.
struct Row {
    line: BatchLine,
    local_id: String,
    existed: bool,
}

/// Run `submit --batch` / `--prompts`.
pub async fn run(ctx: &Context, args: &SubmitArgs) -> Result<Code, Failure> {
    let (file, parsed) = parse(ctx, args)?;
    if parsed.requests == 0 {
        return Err(Failure::usage(format!(
            "{file} holds no requests (blank lines and lines starting with # are skipped); nothing was queued"
        )));
    }
    if !parsed.problems.is_empty() {
        for p in parsed.problems.iter().take(SHOWN_PROBLEMS) {
            crate::errln!("{}", p.render(&file));
        }
        if parsed.problems.len() > SHOWN_PROBLEMS {
            crate::errln!(
                "... and {} more problems",
                parsed.problems.len() - SHOWN_PROBLEMS
            );
        }
        let bad_lines = parsed.requests - parsed.lines.len();
        if !args.skip_invalid || parsed.lines.is_empty() {
            return Err(Failure::usage(format!(
                "{bad_lines} of {} lines are not valid; nothing was queued (fix them, or pass --skip-invalid to queue the others)",
                parsed.requests
            )));
        }
        crate::errln!(
            "skipping {bad_lines} invalid line(s); queueing the other {}",
            parsed.lines.len()
        );
    }
    if !args.detach {
        ctx.require_key()?;
    }
    let out_dir = args.out.clone().unwrap_or_else(|| ctx.output_dir.clone());
    if args.wait && !args.detach {
        // Where the results go is checked before any line is queued (and so paid for).
        super::preflight::check_destination(ctx, &out_dir).await?;
    }
    let lines = batch::repeat(parsed.lines, args.repeat);
    let cap = args.max_in_flight.map(|n| n.max(1) as u32);
    let (rows, skipped) = enqueue(ctx, lines, cap).await?;
    if skipped > 0 {
        let s = if skipped == 1 { "" } else { "s" };
        crate::errln!("{skipped} removed line{s} skipped (removed from the queue earlier)");
    }
    let new = rows.iter().filter(|r| !r.existed).count();
    let old = rows.len() - new;
    match (new, old) {
        (0, _) => crate::errln!("{old} already submitted; nothing new to send"),
        (_, 0) => crate::errln!("queued {new} request(s)"),
        _ => crate::errln!("queued {new} request(s); {old} already submitted"),
    }
    let ids: Vec<String> = rows.iter().map(|r| r.local_id.clone()).collect();
    let lookup = ids.clone();
    let mut records = ctx
        .engine
        .with_store(move |s| {
            lookup
                .iter()
                .map(|id| s.find(id))
                .collect::<Result<Vec<_>, _>>()
        })
        .await?;
    // Over the spending cap the lines wait: say so now, not only in the feeder's log.
    if let Some(front) = records.iter().find(|r| r.phase == Phase::Pending)
        && let crate::engine::queue::BudgetVerdict::Hold(reason) =
            crate::engine::queue::budget_allows(&ctx.engine, front).await
    {
        crate::errln!(
            "warning: the queue is held ({reason}): nothing is sent until the budget allows (raise [budget], or the lines go tomorrow)"
        );
    }
    if args.detach {
        report_feeder(ctx).await;
        print_rows(&rows, &records, args.json_out);
        return Ok(Code::Ok);
    }
    let plan = crate::runtime::headless::WatchPlan {
        daemon: false,
        download_to: args.wait.then(|| out_dir.clone()),
        max_in_flight: args.max_in_flight.map(|n| n as usize),
        until_sent: !args.wait,
        progress: crate::runtime::headless::Progress::Stderr,
    };
    crate::runtime::headless::run(ctx, records.clone(), plan).await?;
    let lookup = ids.clone();
    records = ctx
        .engine
        .with_store(move |s| {
            lookup
                .iter()
                .map(|id| s.find(id))
                .collect::<Result<Vec<_>, _>>()
        })
        .await?;
    if args.wait {
        // Results another process (the poller) did not save into this folder.
        for r in records.iter_mut() {
            if matches!(r.phase, Phase::Remote(TaskStatus::Succeeded)) && r.video_path.is_none() {
                match crate::engine::task_results::save_results(
                    &ctx.engine,
                    r,
                    &out_dir,
                    &ctx.config.download.template,
                )
                .await
                {
                    Ok(saved) => {
                        for p in &saved.files {
                            crate::errln!("saved {}", p.display());
                        }
                        *r = saved.record;
                    }
                    Err(e) => crate::errln!("{}: download failed: {e}", r.display_id()),
                }
            }
        }
    }
    print_rows(&rows, &records, args.json_out);
    let s = Summary::of(&records);
    crate::errln!("{}", s.line(args.wait));
    let bad = s.rejected + s.unknown + if args.wait { s.failed } else { 0 };
    Ok(if bad > 0 { Code::TaskFailed } else { Code::Ok })
}

/// Write the lines as `pending` rows in one transaction.
/// Lines whose rows the user removed from the queue earlier are skipped and counted.
async fn enqueue(
    ctx: &Context,
    lines: Vec<BatchLine>,
    cap: Option<u32>,
) -> Result<(Vec<Row>, usize), Failure> {
    let profile = ctx.engine.profile.clone();
    let out = ctx
        .engine
        .with_store(move |s| {
            let local_ids: Vec<String> = lines.iter().map(|_| ids::new_local_id()).collect();
            let items: Vec<NewPending<'_>> = lines
                .iter()
                .zip(&local_ids)
                .map(|(l, id)| NewPending {
                    local_id: id,
                    profile: &profile,
                    request_json: &l.request_json,
                    key: Some(&l.key),
                    label: l.label.as_deref(),
                    retry_of: None,
                    max_in_flight: cap,
                })
                .collect();
            let done = s.enqueue(&items, crate::engine::now())?;
            let total = done.len();
            let rows: Vec<Row> = lines
                .into_iter()
                .zip(done)
                .filter_map(|(line, e)| {
                    Some(Row {
                        existed: matches!(e, Enqueued::Existing { .. }),
                        local_id: e.local_id()?.to_string(),
                        line,
                    })
                })
                .collect();
            let skipped = total - rows.len();
            Ok((rows, skipped))
        })
        .await?;
    Ok(out)
}

/// Say who feeds a detached queue, or that nobody does yet.
async fn report_feeder(ctx: &Context) {
    let lease = ctx
        .engine
        .with_store(|s| s.lease(crate::runtime::lease::POLLER))
        .await
        .ok()
        .flatten();
    let now_ms = chrono::Utc::now().timestamp_millis();
    match lease.filter(|l| l.expires_at > now_ms) {
        Some(l) => crate::errln!("the queue is fed by {}", l.holder),
        None => crate::errln!(
            "note: no dashboard or `seedance-tui watch --daemon` runs on this store; the queue waits until one starts"
        ),
    }
}

/// One line per batch line: TSV (`line`, id, status) or, with `json`, one JSON object.
fn print_rows(rows: &[Row], records: &[TaskRecord], json: bool) {
    for (row, r) in rows.iter().zip(records) {
        if json {
            let v = serde_json::json!({
                "line": row.line.line,
                "variant": row.line.variant,
                "key": row.line.key,
                "label": row.line.label,
                "local_id": r.local_id,
                "task_id": r.task_id,
                "status": r.phase.as_str(),
                "already_submitted": row.existed,
            });
            println!("{}", crate::sanitize::json(&v));
        } else {
            println!(
                "{}\t{}\t{}",
                row.line.line,
                crate::sanitize::line(r.display_id()),
                crate::sanitize::line(r.phase.as_str())
            );
        }
    }
}

/// What became of a batch's lines.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub lines: usize,
    pub sent: usize,
    pub pending: usize,
    pub succeeded: usize,
    pub failed: usize,
    pub rejected: usize,
    pub unknown: usize,
    pub tokens: u64,
}

impl Summary {
    pub fn of(records: &[TaskRecord]) -> Summary {
        let mut s = Summary {
            lines: records.len(),
            ..Summary::default()
        };
        for r in records {
            s.tokens += r.tokens.unwrap_or(0);
            match &r.phase {
                Phase::Pending | Phase::Submitting => s.pending += 1,
                Phase::Rejected => s.rejected += 1,
                Phase::SubmitUnknown => s.unknown += 1,
                Phase::Lost => {
                    s.sent += 1;
                    s.failed += 1;
                }
                Phase::Remote(st) => {
                    s.sent += 1;
                    match st {
                        TaskStatus::Succeeded => s.succeeded += 1,
                        TaskStatus::Failed | TaskStatus::Expired | TaskStatus::Cancelled => {
                            s.failed += 1
                        }
                        _ => {}
                    }
                }
            }
        }
        s
    }

    /// The closing line.
    pub fn line(&self, waited: bool) -> String {
        let mut parts = vec![format!("{} sent", self.sent)];
        if waited {
            parts.push(format!("{} succeeded", self.succeeded));
            parts.push(format!("{} failed", self.failed));
        }
        parts.push(format!("{} rejected", self.rejected));
        if self.unknown > 0 {
            parts.push(format!(
                "{} uncertain (submit_unknown: check before sending again)",
                self.unknown
            ));
        }
        if self.pending > 0 {
            parts.push(format!("{} still queued", self.pending));
        }
        let mut line = format!("{} lines: {}", self.lines, parts.join(", "));
        if waited {
            line.push_str(&format!("; {} tokens", self.tokens));
        }
        line
    }
}

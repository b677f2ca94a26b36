//! `submit --batch FILE` / `submit --prompts FILE [--repeat N]`: read and validate the whole
//! file as a stream (nothing is queued when a line is invalid), then read it again and queue
//! its lines as `pending` rows in chunks (idempotent by line key), so memory stays flat in the
//! number of lines; then feed the queue under `--max-in-flight` while this process holds the
//! poller lease (or let the holder — a dashboard or `watch --daemon` — feed it), and wait for
//! the lines to be sent, or with `--wait` to finish; `--detach` returns once they are queued.
//! stdin and named pipes are copied to a private temporary file first (read twice).

use super::args::SubmitArgs;
use super::exit::{Code, Failure};
use crate::api::TaskStatus;
use crate::context::Context;
use crate::engine::batch::{self, BatchLine, Line, LineParser, LineProblem};
use crate::engine::ids;
use crate::store::{Enqueued, NewPending, Phase, TaskRecord};
use std::io::{BufReader, IsTerminal, Read};
use std::path::{Path, PathBuf};

/// The largest batch file read (a line is at most `batch::MAX_LINE_BYTES`).
const MAX_FILE_BYTES: u64 = 256 << 20;

/// Problems printed before "and N more" (the rest are counted, not kept).
const SHOWN_PROBLEMS: usize = 50;

/// Lines queued per store transaction.
const CHUNK: usize = 1000;

/// The file a batch is read from: the user's, or a private copy of stdin or a named pipe.
struct Source {
    /// How messages name it.
    shown: String,
    path: PathBuf,
    /// The folder local references resolve against.
    base: PathBuf,
    /// The copy, held only to be removed (on drop) when the run ends.
    _spool: Option<Spool>,
}

/// A private temporary file (0600), removed on drop.
struct Spool(PathBuf);

impl Drop for Spool {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn too_big(shown: &str) -> Failure {
    Failure::usage(format!(
        "{shown} is larger than {} MiB; split it into several files",
        MAX_FILE_BYTES >> 20
    ))
}

/// Copy `from` (stdin or a pipe) into a private temporary file, bounded.
fn spool(mut from: impl Read, shown: &str) -> Result<Spool, Failure> {
    use std::os::unix::fs::OpenOptionsExt;
    let path = std::env::temp_dir().join(format!(
        "seedance-tui-batch-{}-{}",
        std::process::id(),
        ids::new_local_id()
    ));
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
        .map_err(|e| Failure::usage(format!("cannot make a copy of {shown}: {e}")))?;
    let spool = Spool(path);
    let n = std::io::copy(&mut (&mut from).take(MAX_FILE_BYTES + 1), &mut file)
        .map_err(|e| Failure::usage(format!("cannot read {shown}: {e}")))?;
    if n > MAX_FILE_BYTES {
        return Err(too_big(shown));
    }
    Ok(spool)
}

impl Source {
    /// Open what `path` names (`-` is stdin), saying so when it waits on a terminal or a pipe.
    fn open(path: &Path, json_lines: bool) -> Result<Source, Failure> {
        use std::os::unix::fs::FileTypeExt;
        if path == Path::new("-") {
            if std::io::stdin().is_terminal() {
                crate::errln!(
                    "reading the batch from stdin… (end it with Ctrl-D on a line of its own)"
                );
            }
            let copy = spool(std::io::stdin().lock(), "stdin")?;
            return Ok(Source {
                shown: "stdin".into(),
                path: copy.0.clone(),
                base: PathBuf::from("."),
                _spool: Some(copy),
            });
        }
        let shown = path.display().to_string();
        let meta = std::fs::metadata(path)
            .map_err(|e| Failure::usage(format!("cannot read {shown}: {e}")))?;
        let base = if json_lines {
            path.parent()
                .filter(|p| !p.as_os_str().is_empty())
                .map(Path::to_path_buf)
                .unwrap_or_else(|| PathBuf::from("."))
        } else {
            PathBuf::from(".")
        };
        if meta.file_type().is_fifo() {
            crate::errln!("reading the batch from the named pipe {shown}… (waiting for a writer)");
            let f = std::fs::File::open(path)
                .map_err(|e| Failure::usage(format!("cannot read {shown}: {e}")))?;
            let copy = spool(f, &shown)?;
            return Ok(Source {
                shown,
                path: copy.0.clone(),
                base,
                _spool: Some(copy),
            });
        }
        if !meta.is_file() {
            return Err(Failure::usage(format!(
                "{shown} is not a regular file or a pipe; give a batch file (or - for stdin)"
            )));
        }
        if meta.len() > MAX_FILE_BYTES {
            return Err(too_big(&shown));
        }
        Ok(Source {
            shown,
            path: path.to_path_buf(),
            base,
            _spool: None,
        })
    }

    /// Visit every line (see [`read_lines`]).
    fn each_line(
        &self,
        visit: impl FnMut(usize, batch::RawLine<'_>) -> bool,
    ) -> Result<(), Failure> {
        read_lines(&self.path, &self.shown, visit)
    }
}

/// Visit every line of the file at `path` (see `batch::each_line`), bounded by
/// [`MAX_FILE_BYTES`]; `shown` names it in messages.
fn read_lines(
    path: &Path,
    shown: &str,
    visit: impl FnMut(usize, batch::RawLine<'_>) -> bool,
) -> Result<(), Failure> {
    let f = std::fs::File::open(path)
        .map_err(|e| Failure::usage(format!("cannot read {shown}: {e}")))?;
    let read = batch::each_line(
        BufReader::with_capacity(256 << 10, f.take(MAX_FILE_BYTES + 1)),
        batch::MAX_LINE_BYTES,
        visit,
    )
    .map_err(|e| Failure::usage(format!("cannot read {shown}: {e}")))?;
    if read > MAX_FILE_BYTES {
        return Err(too_big(shown));
    }
    Ok(())
}

/// What the first reading found; only the first problems are kept.
#[derive(Default)]
struct Checked {
    /// Lines that held a request.
    requests: usize,
    /// Lines that can be queued.
    valid: usize,
    problems: Vec<LineProblem>,
    /// Problems past the shown ones.
    more_problems: usize,
    duplicates: Vec<(usize, usize)>,
    more_duplicates: usize,
}

/// The parser for the file the arguments name (a prompt list's template is built first).
fn parser_for<'a>(
    args: &SubmitArgs,
    source: &Source,
    template: Option<&'a crate::api::CreateRequest>,
) -> LineParser<'a> {
    match template {
        Some(t) => LineParser::prompts(t),
        None => LineParser::json_lines(&source.base, args.allow_outside_refs),
    }
}

/// Read and validate every line, keeping no line.
fn check_file(source: &Source, mut parser: LineParser<'_>) -> Result<Checked, Failure> {
    let mut c = Checked::default();
    source.each_line(|n, raw| {
        match parser.parse_raw(n, raw) {
            Line::Blank => {}
            Line::Request(_) => {
                c.requests += 1;
                c.valid += 1;
            }
            Line::Duplicate { line, first } => {
                c.requests += 1;
                if c.duplicates.len() < SHOWN_DUPLICATES {
                    c.duplicates.push((line, first));
                } else {
                    c.more_duplicates += 1;
                }
            }
            Line::Invalid(problems) => {
                c.requests += 1;
                for p in problems {
                    if c.problems.len() < SHOWN_PROBLEMS {
                        c.problems.push(p);
                    } else {
                        c.more_problems += 1;
                    }
                }
            }
        }
        true
    })?;
    Ok(c)
}

/// Duplicates named one by one before "and N more".
const SHOWN_DUPLICATES: usize = 10;

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

/// One line of the batch with its row: what is kept per line while a run waits (no request).
struct Row {
    line: u32,
    variant: u32,
    key: String,
    label: Option<String>,
    local_id: String,
    /// Its key was in the store already, with this status.
    existed: Option<String>,
}

/// Run `submit --batch` / `--prompts`.
pub(crate) async fn run(ctx: &Context, args: &SubmitArgs) -> Result<Code, Failure> {
    let (path, json_lines) = match (&args.batch, &args.prompts) {
        (Some(p), _) => (p.clone(), true),
        (None, Some(p)) => (p.clone(), false),
        (None, None) => return Err(Failure::usage("give --batch FILE or --prompts FILE")),
    };
    let template = if json_lines {
        None
    } else {
        let template_args = SubmitArgs {
            prompt: None,
            ..args_for_template(args)
        };
        // Its local files' names go with every line.
        let (req, _, files) =
            super::submit::build_request_with(&template_args, &ctx.config.defaults, None)?;
        Some((req, files.to_json()))
    };
    let source = Source::open(&path, json_lines)?;
    let file = source.shown.clone();
    let checked = check_file(
        &source,
        parser_for(args, &source, template.as_ref().map(|(t, _)| t)).checking(),
    )?;
    if checked.requests == 0 {
        return Err(Failure::usage(format!(
            "{file} holds no requests (blank lines and lines starting with # are skipped); nothing was queued"
        )));
    }
    let bad_lines =
        checked.requests - checked.valid - checked.duplicates.len() - checked.more_duplicates;
    if bad_lines > 0 {
        for p in &checked.problems {
            crate::errln!("{}", p.render(&file));
        }
        if checked.more_problems > 0 {
            crate::errln!("... and {} more problems", checked.more_problems);
        }
        if !args.skip_invalid || checked.valid == 0 {
            return Err(Failure::usage(format!(
                "{bad_lines} of {} lines are not valid; nothing was queued (fix them, or pass --skip-invalid to queue the others)",
                checked.requests
            )));
        }
        crate::errln!(
            "skipping {bad_lines} invalid line(s); queueing the other {}",
            checked.valid
        );
    }
    if let Some(said) = duplicates_line(&checked.duplicates, checked.more_duplicates) {
        crate::errln!("{said}");
    }
    if !args.detach {
        ctx.require_key()?;
    }
    let out_dir = args.out.clone().unwrap_or_else(|| ctx.output_dir.clone());
    if args.wait && !args.detach {
        // Where the results go is checked before any line is queued (and so paid for).
        super::preflight::check_destination(ctx, &out_dir).await?;
    }
    let rows = enqueue_file(ctx, args, &source, template).await?;
    drop(source);
    if rows.removed > 0 {
        let s = if rows.removed == 1 { "" } else { "s" };
        crate::errln!(
            "{} removed line{s} skipped (removed from the queue earlier)",
            rows.removed
        );
    }
    let new = rows.new;
    let sent_before = rows.existing - rows.still_queued;
    let mut parts = Vec::new();
    if new > 0 {
        parts.push(format!("queued {new} request(s)"));
    }
    if sent_before > 0 {
        parts.push(format!("{sent_before} already submitted"));
    }
    if rows.still_queued > 0 {
        parts.push(format!(
            "{} already queued by an earlier run and not sent yet",
            rows.still_queued
        ));
    }
    if new == 0 && rows.still_queued == 0 {
        parts.push("nothing new to send".into());
    }
    crate::errln!("{}", parts.join("; "));
    if new + rows.still_queued > 0 {
        warn_if_over_budget(ctx).await;
    }
    if args.detach {
        report_feeder(ctx).await;
        return Ok(Code::Ok);
    }
    let out_dir = args.out.clone().unwrap_or_else(|| ctx.output_dir.clone());
    let plan = crate::runtime::headless::WatchPlan {
        daemon: false,
        download_to: args.wait.then(|| out_dir.clone()),
        max_in_flight: args.max_in_flight.map(|n| n as usize),
        until_sent: !args.wait,
        progress: crate::runtime::headless::Progress::Stderr,
    };
    let ids: Vec<String> = rows.kept.iter().map(|r| r.local_id.clone()).collect();
    let watched = records_of(ctx, &ids).await?;
    crate::runtime::headless::run(ctx, watched, plan).await?;
    let mut summary = Summary::default();
    for chunk in rows.kept.chunks(CHUNK) {
        let ids: Vec<String> = chunk.iter().map(|r| r.local_id.clone()).collect();
        let lookup = ids.clone();
        let mut records = ctx
            .engine
            .with_store(move |s| {
                lookup
                    .iter()
                    .map(|id| s.find_followed(id))
                    .collect::<Result<Vec<_>, _>>()
            })
            .await?;
        if args.wait {
            save_unsaved(ctx, &mut records, &out_dir).await;
        }
        for (row, r) in chunk.iter().zip(&records) {
            print_row(
                row,
                r.task_id.as_deref(),
                r.display_id(),
                r.phase.as_str(),
                args.json_out,
            );
            summary.add(r);
        }
    }
    crate::errln!("{}", summary.line(args.wait));
    let bad = summary.rejected + summary.unknown + if args.wait { summary.failed } else { 0 };
    Ok(if bad > 0 { Code::TaskFailed } else { Code::Ok })
}

/// The watched rows to follow (their request's facts, not its body), without their answers
/// (the run needs their status).
async fn records_of(ctx: &Context, ids: &[String]) -> Result<Vec<TaskRecord>, Failure> {
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(CHUNK) {
        let lookup = chunk.to_vec();
        let records = ctx
            .engine
            .with_store(move |s| {
                lookup
                    .iter()
                    .map(|id| {
                        s.find_followed(id).map(|mut r| {
                            r.response_json = None;
                            r
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()
            })
            .await?;
        out.extend(records);
    }
    Ok(out)
}

/// Save the results another process (the poller) did not save into this folder.
async fn save_unsaved(
    ctx: &Context,
    records: &mut [TaskRecord],
    out_dir: &crate::destination::Destination,
) {
    for r in records.iter_mut() {
        if matches!(r.phase, Phase::Remote(TaskStatus::Succeeded)) && r.video_path.is_none() {
            match crate::engine::task_results::save_results(
                &ctx.engine,
                r,
                out_dir,
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

/// One line for every line that repeats an earlier one (same key, same request): queued once.
fn duplicates_line(dups: &[(usize, usize)], more: usize) -> Option<String> {
    let first = dups.first()?;
    if dups.len() == 1 && more == 0 {
        return Some(format!(
            "line {} repeats line {} (same key, same request): queued once",
            first.0, first.1
        ));
    }
    let mut shown: Vec<String> = dups.iter().map(|(l, f)| format!("{l} (= {f})")).collect();
    if more > 0 {
        shown.push(format!("and {more} more"));
    }
    Some(format!(
        "{} lines repeat an earlier line (same key, same request), each queued once: {}",
        dups.len() + more,
        shown.join(", ")
    ))
}

/// What queueing a file did.
#[derive(Default)]
struct Queued {
    new: usize,
    existing: usize,
    /// Lines whose pending row the user removed earlier (`X`): not queued again.
    removed: usize,
    /// Of the existing rows, those still `pending` (queued by a run that stopped).
    still_queued: usize,
    /// Every line's row (kept when the run waits; empty with `--detach`).
    kept: Vec<Row>,
}

/// A chunk is written once it holds this many bytes of requests (lines with inlined files
/// are large), or [`CHUNK`] lines.
const CHUNK_BYTES: usize = 16 << 20;

/// Read the file again and queue its valid lines (and their `--repeat` variants), a chunk per
/// transaction; with `--detach` each line's row is printed as it is queued and none is kept.
/// Runs on the blocking pool holding this process's store handle (nothing else uses it yet).
async fn enqueue_file(
    ctx: &Context,
    args: &SubmitArgs,
    source: &Source,
    template: Option<(crate::api::CreateRequest, Option<String>)>,
) -> Result<Queued, Failure> {
    let (path, shown, base) = (
        source.path.clone(),
        source.shown.clone(),
        source.base.clone(),
    );
    let (allow, repeat, detach, json) = (
        args.allow_outside_refs,
        args.repeat,
        args.detach,
        args.json_out,
    );
    let cap = args
        .max_in_flight
        .map(|n| n.clamp(1, u64::from(u32::MAX)) as u32);
    let profile = ctx.engine.profile.clone();
    ctx.engine
        .with_store(move |s| {
            let mut parser = match &template {
                Some((t, _)) => LineParser::prompts(t),
                None => LineParser::json_lines(&base, allow),
            };
            let template_files = template.as_ref().and_then(|(_, f)| f.as_deref());
            let mut out = Queued::default();
            let mut chunk: Vec<BatchLine> = Vec::new();
            let mut bytes = 0usize;
            let mut failed: Option<crate::store::StoreError> = None;
            let read = read_lines(&path, &shown, |n, raw| {
                if let Line::Request(mut l) = parser.parse_raw(n, raw) {
                    if l.asset_files.is_none() {
                        l.asset_files = template_files.map(str::to_string);
                    }
                    for v in batch::repeat(vec![l], repeat) {
                        bytes += v.request_json.len();
                        chunk.push(v);
                    }
                    if chunk.len() >= CHUNK || bytes >= CHUNK_BYTES {
                        bytes = 0;
                        if let Err(e) = queue_chunk(
                            s,
                            &profile,
                            std::mem::take(&mut chunk),
                            (detach, json, cap),
                            &mut out,
                        ) {
                            failed = Some(e);
                            return false;
                        }
                    }
                }
                true
            });
            if let Some(e) = failed {
                return Err(e);
            }
            if let Err(f) = read {
                return Ok(Err(f));
            }
            queue_chunk(s, &profile, chunk, (detach, json, cap), &mut out)?;
            Ok(Ok(out))
        })
        .await?
}

/// Queue one chunk of lines in one transaction, counting what was new, what existed and what
/// the user removed earlier; `how` is (`--detach`, `--json-out`, `--max-in-flight`).
fn queue_chunk(
    s: &crate::store::Store,
    profile: &str,
    lines: Vec<BatchLine>,
    how: (bool, bool, Option<u32>),
    out: &mut Queued,
) -> Result<(), crate::store::StoreError> {
    let (detach, json, cap) = how;
    if lines.is_empty() {
        return Ok(());
    }
    let local_ids: Vec<String> = lines.iter().map(|_| ids::new_local_id()).collect();
    let items: Vec<NewPending<'_>> = lines
        .iter()
        .zip(&local_ids)
        .map(|(l, id)| NewPending {
            local_id: id,
            profile,
            request_json: &l.request_json,
            key: Some(&l.key),
            label: l.label.as_deref(),
            retry_of: None,
            max_in_flight: cap,
            asset_files: l.asset_files.as_deref(),
        })
        .collect();
    let done = s.enqueue(&items, crate::engine::now())?;
    drop(items);
    for (line, e) in lines.into_iter().zip(done) {
        let Some(local_id) = e.local_id().map(str::to_string) else {
            out.removed += 1;
            continue;
        };
        let existed = match &e {
            Enqueued::New { .. } => {
                out.new += 1;
                None
            }
            Enqueued::Existing { status, .. } => {
                out.existing += 1;
                if status == "pending" {
                    out.still_queued += 1;
                }
                Some(status.clone())
            }
            Enqueued::Removed => None,
        };
        let row = Row {
            line: line.line.min(u32::MAX as usize) as u32,
            variant: line.variant,
            key: line.key,
            label: line.label,
            local_id,
            existed,
        };
        if detach {
            let task_id = match &row.existed {
                Some(_) => s
                    .find_without_request(&row.local_id)
                    .ok()
                    .and_then(|r| r.task_id),
                None => None,
            };
            let status = row.existed.as_deref().unwrap_or("pending");
            let shown = task_id.as_deref().unwrap_or(&row.local_id).to_string();
            print_row(&row, task_id.as_deref(), &shown, status, json);
        } else {
            out.kept.push(row);
        }
    }
    Ok(())
}

/// Over the spending cap the queued lines wait: say so at once, not only in the feeder's log.
async fn warn_if_over_budget(ctx: &Context) {
    let profile = ctx.engine.profile.clone();
    let front = ctx
        .engine
        .with_store(move |s| s.queue_front(&profile))
        .await
        .ok()
        .flatten();
    let Some(front) = front else {
        return;
    };
    let planned = [crate::engine::budget::Planned::task(&front)];
    if let Err(crate::engine::budget::BudgetError::Over(over)) =
        ctx.engine.may_spend(&planned).await
    {
        let reason = crate::runtime::feeder::budget_hold_reason(&over, crate::engine::now());
        crate::errln!("warning: the queue is held ({reason}): nothing is sent until then");
    }
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
    match lease.filter(|l| l.expires_at > now_ms && !crate::runtime::lease::holder_gone(&l.holder))
    {
        Some(l) => crate::errln!("the queue is fed by {}", l.holder),
        None => crate::errln!(
            "note: no dashboard or `seedance-tui watch --daemon` runs on this store; the queue waits until one starts"
        ),
    }
}

/// One line per batch line: TSV (`line`, id, status) or, with `json`, one JSON object.
fn print_row(row: &Row, task_id: Option<&str>, shown_id: &str, status: &str, json: bool) {
    if json {
        let v = serde_json::json!({
            "line": row.line,
            "variant": row.variant,
            "key": row.key,
            "label": row.label,
            "local_id": row.local_id,
            "task_id": task_id,
            "status": status,
            "already_submitted": row.existed.is_some(),
        });
        println!("{}", crate::sanitize::json(&v));
    } else {
        println!(
            "{}\t{}\t{}",
            row.line,
            crate::sanitize::line(shown_id),
            crate::sanitize::line(status)
        );
    }
}

/// What became of a batch's lines.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Summary {
    pub(crate) lines: usize,
    pub(crate) sent: usize,
    pub(crate) pending: usize,
    pub(crate) succeeded: usize,
    pub(crate) failed: usize,
    pub(crate) rejected: usize,
    pub(crate) unknown: usize,
    pub(crate) tokens: u64,
}

impl Summary {
    /// Count one more line.
    pub(crate) fn add(&mut self, r: &TaskRecord) {
        let s = self;
        s.lines += 1;
        s.tokens = s.tokens.saturating_add(r.tokens.unwrap_or(0));
        match &r.phase {
            Phase::Pending | Phase::Submitting => s.pending += 1,
            Phase::Rejected => s.rejected += 1,
            Phase::SubmitUnknown => s.unknown += 1,
            // Sent, then forgotten by the server: a failure to see to.
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

    /// The closing line.
    pub(crate) fn line(&self, waited: bool) -> String {
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

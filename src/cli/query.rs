//! `get`, `ls` and `cancel`: read tasks from the store (refreshing from the API where useful).

use super::exit::{Code, Failure};
use crate::context::Context;
use crate::store::{Phase, StoreError, TaskQuery};
use serde_json::Value;

/// Every task `query` selects, newest first, as JSON for scripts: one array (`array`) or one
/// object a line, each row written from its borrowed fields ([`super::task_json`]) into a large
/// buffer, written out whenever it holds [`FLUSH_AT`] bytes (also in the middle of a big
/// request, which is read apart and held once). A write error (a closed pipe: `| head`) stops
/// the scan quietly.
pub fn write_json_rows(
    store: &crate::store::Store,
    query: &TaskQuery,
    array: bool,
    out: &mut impl std::io::Write,
) -> Result<(), StoreError> {
    let mut out = Flushing {
        buf: Vec::with_capacity(FLUSH_AT + 64 * 1024),
        out,
    };
    let mut scratch = Vec::new();
    let mut ok = true;
    let mut first = true;
    let mut failed = None;
    if array {
        out.buf.push(b'[');
    }
    store.each_listed(query, |mut r, big| {
        if array {
            ok = out.put(if first { b"\n" } else { b",\n" });
        }
        first = false;
        let request = match big {
            Some(_) => match store.read_request(&r.local_id) {
                Ok(body) => body.unwrap_or_default(),
                Err(e) => {
                    failed = Some(e);
                    return false;
                }
            },
            None => std::mem::take(&mut r.request_json),
        };
        ok = ok
            && super::task_json::write_record_to(&mut out, &mut scratch, &r, &request).is_ok()
            && (array || out.put(b"\n"));
        ok
    })?;
    if let Some(e) = failed {
        return Err(e);
    }
    if ok {
        if array {
            out.buf
                .extend_from_slice(if first { b"]\n" } else { b"\n]\n" });
        }
        let _ = out.out.write_all(&out.buf).and_then(|()| out.out.flush());
    }
    Ok(())
}

/// The output is written out in slices of this many bytes.
const FLUSH_AT: usize = 256 * 1024;

/// A buffer in front of `out`, written out (and emptied) whenever it holds [`FLUSH_AT`] bytes.
struct Flushing<'a, W: std::io::Write> {
    buf: Vec<u8>,
    out: &'a mut W,
}

impl<W: std::io::Write> Flushing<'_, W> {
    /// Write `bytes`; false once the output failed.
    fn put(&mut self, bytes: &[u8]) -> bool {
        std::io::Write::write_all(self, bytes).is_ok()
    }
}

impl<W: std::io::Write> std::io::Write for Flushing<'_, W> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(bytes);
        if self.buf.len() >= FLUSH_AT {
            self.out.write_all(&self.buf)?;
            self.buf.clear();
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// `get ID`: the stored task, refreshed from the API when it has a server id; an id the store
/// does not know is fetched from the API directly.
pub(crate) async fn get(ctx: &Context, id: &str) -> Result<Code, Failure> {
    // The record without its request, which is read apart and written out in pieces: a
    // 20 MB prompt is held once.
    match ctx.engine.find_without_request(id).await {
        Ok(record) => {
            let record = if record.task_id.is_some() && ctx.key_var.is_some() {
                match ctx.engine.poll_without_request(&record).await {
                    Ok((fresh, _)) => fresh,
                    Err(e) => {
                        crate::errln!("warning: showing the stored copy; refresh failed: {e}");
                        record
                    }
                }
            } else {
                record
            };
            let lid = record.local_id.clone();
            let request = ctx
                .engine
                .with_store(move |s| s.read_request(&lid))
                .await?
                .unwrap_or_default();
            use std::io::Write;
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            // A closed pipe ends the output quietly.
            let _ = super::task_json::write_pretty(&mut out, &record, &request)
                .and_then(|()| out.write_all(b"\n"))
                .and_then(|()| out.flush());
            Ok(Code::Ok)
        }
        // A short id (what the table shows) the store does not know is no server id: asking
        // the API would only answer 404.
        Err(e @ StoreError::NotFound(_)) if crate::store::is_short_id(id.trim()) => Err(e.into()),
        Err(StoreError::NotFound(_)) => {
            ctx.require_key()?;
            let (_, raw) = ctx.engine.client.get(id).await?;
            // The client only returns answers that parse as a task, so this is JSON.
            let value = serde_json::from_str::<Value>(&raw).unwrap_or(Value::String(raw));
            println!("{}", crate::sanitize::json_pretty(&value));
            Ok(Code::Ok)
        }
        Err(e) => Err(e.into()),
    }
}

/// How `ls` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ListFormat {
    Table,
    /// One JSON array.
    Json,
    /// One JSON object a line.
    JsonLines,
}

/// `ls`: the store's tasks, newest first.
pub(crate) async fn ls(
    ctx: &Context,
    statuses: &[String],
    format: ListFormat,
) -> Result<Code, Failure> {
    for s in statuses {
        let unknown = matches!(
            Phase::parse(s),
            Phase::Remote(crate::api::TaskStatus::Unknown(_))
        );
        if unknown {
            return Err(Failure::usage(format!(
                "unknown status `{s}` (use queued, running, succeeded, failed, expired, cancelled, submitting, submit_unknown, rejected or lost)"
            )));
        }
    }
    let query = TaskQuery {
        statuses: statuses.to_vec(),
        ..TaskQuery::default()
    };
    if let ListFormat::Json | ListFormat::JsonLines = format {
        // Streamed: rows are read and written in 256 KiB slices, so memory stays flat however
        // big the store; a closed pipe (`| head`) stops the scan. `--json` wraps the same rows
        // in one array.
        let array = matches!(format, ListFormat::Json);
        ctx.engine
            .with_store(move |s| {
                let mut out = std::io::stdout().lock();
                write_json_rows(s, &query, array, &mut out)
            })
            .await?;
        return Ok(Code::Ok);
    }
    // Streamed like the JSON: one row at a time, so memory stays flat however many rows (and
    // however long a prompt: only its first 40 characters are shown); `| head` stops the scan.
    let shown = ctx
        .engine
        .with_store(move |s| {
            use std::io::Write;
            let mut out = std::io::BufWriter::with_capacity(64 << 10, std::io::stdout().lock());
            let mut shown = 0usize;
            let mut ok = true;
            s.each_line(&query, |r| {
                if shown == 0 {
                    ok = writeln!(
                        out,
                        "{:<12} {:<32} {:<14} {:<5} {:<10} {:>8}  {:<LABEL_WIDTH$} PROMPT",
                        "SHORT", "ID", "STATUS", "MODEL", "CREATED", "TOKENS", "LABEL"
                    )
                    .is_ok();
                }
                shown += 1;
                ok = ok && write_table_row(&mut out, &r).is_ok();
                ok
            })?;
            let _ = out.flush();
            Ok(shown)
        })
        .await?;
    if shown == 0 {
        crate::errln!("no tasks in {}", ctx.store_shown());
    }
    Ok(Code::Ok)
}

/// One row of `ls`'s table, each cell escaped on its own so the columns stay aligned.
fn write_table_row(
    out: &mut impl std::io::Write,
    r: &crate::store::TaskLine,
) -> std::io::Result<()> {
    use crate::sanitize::flat;
    let created = chrono::DateTime::from_timestamp(r.created_at, 0)
        .map(|t| {
            t.with_timezone(&chrono::Local)
                .format("%m-%d %H:%M")
                .to_string()
        })
        .unwrap_or_default();
    let start: String = r.prompt.chars().take(40).collect();
    let prompt: String = flat(&start).chars().take(40).collect();
    // `truncate` escapes it too; padded by display width, so wide letters keep the columns.
    let label = crate::text::truncate(r.label.as_deref().unwrap_or(""), LABEL_WIDTH);
    let pad = LABEL_WIDTH.saturating_sub(unicode_width::UnicodeWidthStr::width(label.as_str()));
    writeln!(
        out,
        "{:<12} {:<32} {:<14} {:<5} {:<10} {:>8}  {label}{:pad$} {}",
        flat(&crate::api::task_id::short_task_id(r.task_id.as_deref())),
        flat(r.display_id()),
        flat(r.phase.as_str()),
        flat(&crate::api::models::short_label(&r.model)),
        created,
        r.tokens.map(|t| t.to_string()).unwrap_or_default(),
        "",
        prompt
    )
}

/// `ls`'s LABEL column: a longer label is cut with `…` (`ls --json` has it whole).
const LABEL_WIDTH: usize = 14;

/// `cancel ID`: only a queued task (the service cannot stop a running one, and removing a
/// finished one's record is `delete`).
pub(crate) async fn cancel(ctx: &Context, id: &str) -> Result<Code, Failure> {
    ctx.require_key()?;
    let record = ctx.engine.find(id).await?;
    if record.phase != Phase::Remote(crate::api::TaskStatus::Queued) {
        let what = if record.phase.is_settled() {
            format!(
                "; `seedance-tui delete {}` removes its record on the server",
                record.display_id()
            )
        } else {
            String::new()
        };
        return Err(Failure::usage(format!(
            "{} is {}: only a queued task can be cancelled{what}",
            record.display_id(),
            record.phase
        )));
    }
    ctx.engine.cancel(&record).await.map_err(|e| match e {
        crate::engine::PollError::Api(a) => Failure::from(a),
        other => Failure::usage(other.to_string()),
    })?;
    match ctx.engine.poll(&record).await {
        Ok((fresh, _)) => crate::outln!("{} {}", fresh.display_id(), fresh.phase),
        Err(e) => crate::errln!(
            "{}: cancel sent; refreshing it failed: {e}",
            record.display_id()
        ),
    }
    Ok(Code::Ok)
}

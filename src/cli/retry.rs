//! `retry`: resubmit stored requests as new tasks (each one create, never automatic).

use super::exit::{Code, Failure};
use crate::context::Context;
use crate::engine::SubmitError;
use crate::store::{StoreError, TaskQuery, TaskRecord};

/// Parse an age like `30m`, `1h`, `2d`, `90s` into seconds.
pub(crate) fn parse_age(s: &str) -> Option<i64> {
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

/// What `retry` was asked to do.
#[derive(Debug, Clone, Default)]
pub(crate) struct RetryOptions {
    pub(crate) ids: Vec<String>,
    /// Also every failed task (at the head of its retry chain).
    pub(crate) failed: bool,
    pub(crate) since: Option<String>,
    /// Resubmit even a task that was already retried.
    pub(crate) again: bool,
    /// Print the plan (count, tokens, money) and send nothing.
    pub(crate) dry_run: bool,
    /// Send at most this many in one run.
    pub(crate) max: Option<usize>,
    /// Send even when it passes the daily spending cap.
    pub(crate) over_budget: bool,
}

/// `retry ID...` / `retry --failed [--since AGE]`: a retry chain is retried only at its head, so
/// a task whose retry is in flight, unknown, succeeded or failed in turn is skipped (and named)
/// unless `--again`; the plan (count, estimated tokens, money with `[pricing]`) is printed on
/// stderr before anything is sent.
pub(crate) async fn retry(ctx: &Context, o: &RetryOptions) -> Result<Code, Failure> {
    let mut originals = Vec::new();
    for id in &o.ids {
        originals.push(ctx.engine.find(id).await?);
    }
    // Tasks named on the command line get a line each when skipped; the rest (`--failed`) one
    // summary, so a long chain does not print a line per link.
    let named: std::collections::HashSet<String> =
        originals.iter().map(|r| r.local_id.clone()).collect();
    let mut chain_links: Vec<String> = Vec::new();
    if o.failed {
        let since = match o.since.as_deref() {
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
        if o.failed {
            eprintln!("nothing to retry: no failed tasks");
            return Ok(Code::Ok);
        }
        return Err(Failure::usage(
            "nothing to retry: name tasks, or use --failed",
        ));
    }
    // Skip what a retry must not touch: tasks still in flight or done, and (without --again)
    // tasks that are not the head of their retry chain.
    let mut chosen = Vec::new();
    for r in originals {
        if !o.again && !crate::engine::retryable(&r) {
            crate::errln!("skipped {}: it is {}, not failed", r.display_id(), r.phase);
            continue;
        }
        if !o.again {
            let lid = r.local_id.clone();
            if let Some(newer) = ctx.engine.with_store(move |s| s.retried_by(&lid)).await? {
                if !named.contains(&r.local_id) {
                    chain_links.push(r.display_id().to_string());
                    continue;
                }
                crate::errln!(
                    "skipped {}: already retried → {} ({}); `retry --again {}` sends it anyway",
                    r.display_id(),
                    newer.display_id(),
                    newer.phase,
                    r.display_id()
                );
                continue;
            }
        }
        chosen.push(r);
    }
    if !chain_links.is_empty() {
        const NAMED: usize = 5;
        let n = chain_links.len();
        let s = if n == 1 { "" } else { "s" };
        let mut ids = chain_links[..n.min(NAMED)].join(", ");
        if n > NAMED {
            ids.push_str(&format!(" and {} more", n - NAMED));
        }
        crate::errln!(
            "skipped {n} failed task{s} already retried: {ids} (a chain is retried at its newest task; `retry --again ID` sends one anyway)"
        );
    }
    if let Some(max) = o.max
        && chosen.len() > max
    {
        eprintln!(
            "--max {max}: sending {max} of {}; run again for the rest",
            chosen.len()
        );
        chosen.truncate(max);
    }
    if chosen.is_empty() {
        eprintln!("nothing to retry");
        return Ok(Code::Ok);
    }
    // Reference videos' seconds count in the estimate (and so against the cap).
    let client = crate::file_download::http_client();
    let mut unread = Vec::new();
    for r in &chosen {
        if let Ok(req) = crate::api::types::CreateRequest::from_json(&r.request_json) {
            let videos = crate::engine::input_video::read(&req, &client).await;
            unread.extend(videos.unread);
        }
    }
    unread.sort();
    unread.dedup();
    let note = crate::engine::input_video::InputVideos {
        seconds: 0.0,
        unread,
    }
    .note();
    let planned: Vec<crate::engine::budget::Planned> = chosen
        .iter()
        .map(crate::engine::budget::Planned::task)
        .collect();
    let cap = ctx.engine.spending_cap();
    let spend = cap.spend_of(&planned);
    let money = spend
        .money
        .map(|m| format!(" (≈ {})", cap.format_money(m)))
        .unwrap_or_default();
    let verb = if o.dry_run { "would retry" } else { "retrying" };
    eprintln!(
        "{verb} {} task(s), about {} tokens{money}",
        chosen.len(),
        spend.tokens
    );
    if let Some(note) = &note {
        crate::errln!("{note}");
    }
    if o.dry_run {
        for r in &chosen {
            crate::outln!("{}", r.display_id());
        }
        return Ok(Code::Ok);
    }
    ctx.require_key()?;
    if !o.over_budget {
        super::submit::check_budget(ctx, &planned)
            .await
            .map_err(|mut f| {
                if let Some(note) = &note {
                    f.message.push_str(&format!("\n{note}"));
                }
                f
            })?;
    }
    super::preflight::check(ctx).await?;
    let engine = if o.over_budget {
        ctx.engine.without_spending_cap()
    } else {
        ctx.engine.clone()
    };
    let mut code = Code::Ok;
    for original in &chosen {
        let sent = if o.again {
            engine.retry_again(original).await
        } else {
            engine.retry(original).await
        };
        match sent {
            Ok(new) => crate::outln!("{} -> {}", original.display_id(), new.display_id()),
            // Another process (or run) retried it since the plan was made: nothing was sent.
            Err(SubmitError::Store(e @ StoreError::AlreadyRetried { .. })) => {
                crate::errln!("skipped {e}")
            }
            // Another process spent the room since the plan was checked: nothing was sent.
            Err(SubmitError::OverBudget(over)) => {
                crate::errln!("{}: not retried: {over}", original.display_id());
                code = Code::Usage;
            }
            Err(e) => {
                crate::errln!("{}: retry failed: {e}", original.display_id());
                code = Code::Api;
            }
        }
    }
    Ok(code)
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

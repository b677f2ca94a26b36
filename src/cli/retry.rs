//! `retry`: resubmit stored requests as new tasks (each one create, never automatic).

use super::exit::{Code, Failure};
use crate::context::Context;
use crate::store::{TaskQuery, TaskRecord};

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
            Ok(new) => crate::outln!("{} -> {}", original.display_id(), new.display_id()),
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

//! `store copy --from STORE --to STORE`: moving history between a SQLite file and a PostgreSQL
//! store, either way (`store::copy` does the copying).

use super::exit::{Code, Failure};
use crate::store::location::{LocationError, parse_path};
use crate::store::{CopyReport, Store, StoreLocation};
use std::path::Path;

/// Copy the store `from` names into the one `to` names and say what was copied.
pub(crate) async fn run(from: &Path, to: &Path) -> Result<Code, Failure> {
    let usage = |e: LocationError| Failure::usage(e.to_string());
    let from = parse_path(from).map_err(usage)?;
    let to = parse_path(to).map_err(usage)?;
    if from == to {
        return Err(Failure::usage("--from and --to name the same store"));
    }
    if let StoreLocation::Sqlite(path) = &from
        && !path.is_file()
    {
        // Opening it would create an empty store and copy nothing.
        return Err(Failure::usage(format!(
            "there is no store at {} to copy from",
            path.display()
        )));
    }
    let (shown_from, shown_to) = (shown(&from), shown(&to));
    // The stores' calls block (PostgreSQL's client has a thread of its own).
    let report = tokio::task::spawn_blocking(move || {
        let source = Store::open_location(&from)?;
        let dest = Store::open_location(&to)?;
        source.copy_into(&dest)
    })
    .await
    .map_err(|e| Failure::api(format!("the copy stopped: {e}")))?
    .map_err(|e| Failure::usage(e.to_string()))?;
    println!("{}", summary(&report, &shown_from, &shown_to));
    Ok(Code::Ok)
}

/// A location as shown: the file, or the server without its password.
fn shown(location: &StoreLocation) -> String {
    match location {
        StoreLocation::Sqlite(path) => path.display().to_string(),
        StoreLocation::Postgres(target) => target.to_string(),
    }
}

/// `copied 4 tasks (9 status changes), 1 draft, …` with what was already there.
fn summary(r: &CopyReport, from: &str, to: &str) -> String {
    let n = |count: u64, one: &str, many: &str| {
        format!("{count} {}", if count == 1 { one } else { many })
    };
    let mut line = format!(
        "copied {} ({}), {}, {}, {} from {from} to {to}",
        n(r.tasks, "task", "tasks"),
        n(r.history, "status change", "status changes"),
        n(r.drafts, "draft", "drafts"),
        n(r.templates, "template", "templates"),
        n(r.removed_lines, "removed queue line", "removed queue lines"),
    );
    if r.tasks_there > 0 {
        line.push_str(&format!(
            "; {} already there, left unchanged",
            n(r.tasks_there, "task was", "tasks were")
        ));
    }
    crate::sanitize::line(&line).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_counts_each_kind_and_what_was_there() {
        let r = CopyReport {
            tasks: 4,
            history: 9,
            drafts: 1,
            templates: 0,
            removed_lines: 1,
            tasks_there: 1,
        };
        assert_eq!(
            summary(&r, "a.db", "postgres://u@h:5432/v"),
            "copied 4 tasks (9 status changes), 1 draft, 0 templates, 1 removed queue line \
             from a.db to postgres://u@h:5432/v; 1 task was already there, left unchanged"
        );
        assert!(!summary(&CopyReport::default(), "a", "b").contains("already"));
    }
}

//! What a Tab offers for an argument's value (clap_complete's dynamic engine calls these while
//! the shell completes): task ids from the store, profiles, models, themes, statuses. They read
//! the store, the config, the model table and the themes at that moment, so new tasks complete
//! at once; they honour `--store`/`--config` already typed on the line, never create or change a
//! file, and answer nothing rather than fail.

use crate::config::{Config, Paths};
use crate::store::{Store, StoreLocation, TaskQuery};
use clap_complete::engine::CompletionCandidate;
use std::ffi::{OsStr, OsString};
use std::path::PathBuf;

/// The shell that called us back for candidates (the value of [`COMPLETE_VAR`]).
pub(super) static ASKING_SHELL: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// How many of the newest tasks are offered (a shell list longer than this is not read).
const MAX_TASK_CANDIDATES: usize = 500;

/// The value of `--NAME VALUE` / `--NAME=VALUE` on the command line being completed (the words
/// after the `--` the completion script passes).
fn typed_option(name: &str) -> Option<PathBuf> {
    let words: Vec<OsString> = std::env::args_os()
        .skip_while(|w| w != "--")
        .skip(1)
        .collect();
    let flag = format!("--{name}");
    let with_eq = format!("--{name}=");
    let mut found = None;
    for (i, w) in words.iter().enumerate() {
        let Some(w) = w.to_str() else { continue };
        if w == flag {
            found = words.get(i + 1).map(PathBuf::from);
        } else if let Some(v) = w.strip_prefix(&with_eq) {
            found = Some(PathBuf::from(v));
        }
    }
    found.filter(|p| !p.as_os_str().is_empty())
}

/// Task ids from the store, newest first. A typed prefix of the server id completes to the id;
/// otherwise the short id the dashboard shows (which `get`, `retry`... accept) or the local id.
pub(crate) fn task_ids(current: &OsStr) -> Vec<CompletionCandidate> {
    let location = match typed_option("store") {
        Some(typed) => match crate::store::location::parse_path(&typed) {
            Ok(l) => l,
            Err(_) => return Vec::new(),
        },
        None => StoreLocation::Sqlite(Paths::store_file()),
    };
    task_candidates(&location, current.to_str().unwrap_or_default())
}

/// [`task_ids`] for the store at `location`, opened read-only: never created or migrated.
fn task_candidates(location: &StoreLocation, current: &str) -> Vec<CompletionCandidate> {
    let store = match location {
        StoreLocation::Sqlite(path) => Store::open_read_only(path),
        StoreLocation::Postgres(target) => Store::open_postgres_read_only(target),
    };
    let Ok(store) = store else {
        return Vec::new();
    };
    let query = TaskQuery {
        limit: Some(MAX_TASK_CANDIDATES),
        ..TaskQuery::default()
    };
    let Ok(tasks) = store.list(&query) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for t in &tasks {
        let short = crate::api::task_id::short_task_id(t.task_id.as_deref());
        // Server-assigned: an id outside the API's own characters is never offered (bash
        // inserts a candidate as typed, so `x;touch f` would run on Enter).
        if !t.task_id.as_deref().is_none_or(id_safe) {
            continue;
        }
        let value = match t.task_id.as_deref() {
            Some(id) if !current.is_empty() && id.starts_with(current) => id.to_string(),
            Some(_) if short.starts_with(current) => short,
            None if t.local_id.starts_with(current) => t.local_id.clone(),
            _ => continue,
        };
        if !id_safe(&value) {
            continue;
        }
        let help = crate::sanitize::flat(&format!(
            "{} {}",
            t.phase.as_str(),
            crate::text::truncate(&t.prompt, 50)
        ))
        .into_owned();
        out.push(CompletionCandidate::new(value).help(Some(help.into())));
    }
    out
}

/// True for a value made only of the characters task ids use (letters, digits, `-_.:`): safe
/// as a word in every shell, unquoted.
pub(crate) fn id_safe(v: &str) -> bool {
    !v.is_empty()
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'))
}

/// A value from the user's own files (a profile, model or theme name) as the calling shell
/// takes it: bash inserts candidates as they are, so there every character outside the safe
/// set is escaped with a backslash (zsh and fish quote candidates themselves); a value with
/// control characters is not offered at all.
fn for_shell(value: &str) -> Option<String> {
    if value.chars().any(char::is_control) {
        return None;
    }
    let bash = ASKING_SHELL.get().is_some_and(|s| s == "bash");
    if !bash || id_safe(value) {
        return Some(value.to_string());
    }
    let mut out = String::with_capacity(value.len() + 8);
    for c in value.chars() {
        if !(c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | ':' | '/' | '@' | '+' | ',')) {
            out.push('\\');
        }
        out.push(c);
    }
    Some(out)
}

/// Profile names from the config (`--config` on the line, else the default file), built-ins
/// included.
pub(crate) fn profiles(current: &OsStr) -> Vec<CompletionCandidate> {
    let path = typed_option("config").unwrap_or_else(Paths::config_file);
    let config = Config::load(&path).unwrap_or_default();
    let current = current.to_str().unwrap_or_default();
    config
        .profiles
        .iter()
        .filter(|(name, _)| name.starts_with(current))
        .filter_map(|(name, p)| {
            Some(
                CompletionCandidate::new(for_shell(name)?)
                    .help(Some(crate::sanitize::flat(&p.base_url).into_owned().into())),
            )
        })
        .collect()
}

/// Model ids from the model table: the shipped one with the config's `[models]` laid over it.
pub(crate) fn models(current: &OsStr) -> Vec<CompletionCandidate> {
    let path = typed_option("config").unwrap_or_else(Paths::config_file);
    let table = Config::load(&path)
        .ok()
        .and_then(|c| c.model_table().ok())
        .unwrap_or_else(crate::api::models::ModelTable::shipped);
    let current = current.to_str().unwrap_or_default();
    table
        .iter()
        .filter(|m| m.id.starts_with(current))
        .filter_map(|m| {
            Some(
                CompletionCandidate::new(for_shell(&m.id)?)
                    .help(Some(crate::sanitize::flat(&m.label).into_owned().into())),
            )
        })
        .collect()
}

/// Theme names: the built-ins and the user's theme files.
pub(crate) fn themes(current: &OsStr) -> Vec<CompletionCandidate> {
    let current = current.to_str().unwrap_or_default();
    let dir = Paths::themes_dir();
    let (themes, _) = crate::theme::load_all(dir.as_deref());
    themes
        .into_iter()
        .filter(|t| t.name.starts_with(current))
        .filter_map(|t| Some(CompletionCandidate::new(for_shell(&t.name)?)))
        .collect()
}

pub(crate) fn statuses(current: &OsStr) -> Vec<CompletionCandidate> {
    let current = current.to_str().unwrap_or_default();
    // The statuses `ls --status` filters on.
    crate::store::Phase::names()
        .filter(|s| s.starts_with(current))
        .map(CompletionCandidate::new)
        .collect()
}

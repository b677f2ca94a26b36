//! Shell completion and man pages, both generated from the clap definitions.
//!
//! Completion uses clap_complete's dynamic engine: the script `completions SHELL` prints calls the
//! binary back with [`COMPLETE_VAR`] set, and the candidate functions here read the store, the
//! config, the model table and the themes at that moment, so new tasks complete at once. They
//! honour `--store`/`--config` already typed on the line, never create or change a file, and
//! answer nothing rather than fail.

use super::args::{Cli, Shell};
use crate::config::{Config, Paths};
use crate::store::{Store, TaskQuery};
use clap::CommandFactory;
use clap_complete::engine::CompletionCandidate;
use clap_complete::env::EnvCompleter;
use std::ffi::{OsStr, OsString};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The environment variable that switches the binary into completion mode. Not the engine's
/// default `COMPLETE`, which is generic enough to be set in a user's environment for other reasons.
pub const COMPLETE_VAR: &str = "SEEDANCE_TUI_COMPLETE";

/// The shell that called us back for candidates (the value of [`COMPLETE_VAR`]).
static ASKING_SHELL: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// How many of the newest tasks are offered (a shell list longer than this is not read).
const MAX_TASK_CANDIDATES: usize = 500;

/// Answer a completion request when the shell called us for one (then exit); otherwise return.
/// Call first thing in `main`.
pub fn complete_if_asked() {
    // The engine removes the variable before the candidate functions run: keep which shell
    // asked (values are escaped for bash, which inserts them as they are).
    if let Ok(shell) = std::env::var(COMPLETE_VAR) {
        let _ = ASKING_SHELL.set(shell);
    }
    clap_complete::CompleteEnv::with_factory(Cli::command)
        .var(COMPLETE_VAR)
        .complete();
}

/// Write the registration script for `shell`. `argv0` is how the user ran us: the script calls
/// the binary back the same way (a name found on PATH, or a path made absolute).
pub fn write_script(shell: Shell, argv0: &OsStr, out: &mut dyn Write) -> std::io::Result<()> {
    let completer: &dyn EnvCompleter = match shell {
        Shell::Bash => &clap_complete::env::Bash,
        Shell::Zsh => &clap_complete::env::Zsh,
        Shell::Fish => &clap_complete::env::Fish,
        Shell::Elvish => &clap_complete::env::Elvish,
        Shell::Powershell => &clap_complete::env::Powershell,
    };
    let mut program = PathBuf::from(argv0);
    if program.components().count() > 1
        && let Ok(dir) = std::env::current_dir()
    {
        program = dir.join(program);
    }
    let program = program.to_string_lossy();
    let name = Cli::command().get_name().to_string();
    completer.write_registration(COMPLETE_VAR, &name, &name, &program, out)
}

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
pub fn task_ids(current: &OsStr) -> Vec<CompletionCandidate> {
    let path = typed_option("store").unwrap_or_else(Paths::store_file);
    task_candidates(&path, current.to_str().unwrap_or_default())
}

/// [`task_ids`] for the store at `path` (public for the tests).
pub fn task_candidates(path: &Path, current: &str) -> Vec<CompletionCandidate> {
    let Ok(store) = Store::open_read_only(path) else {
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
        let short = crate::ui::format::short_task_id(t.task_id.as_deref());
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
pub fn id_safe(v: &str) -> bool {
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
pub fn profiles(current: &OsStr) -> Vec<CompletionCandidate> {
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
pub fn models(current: &OsStr) -> Vec<CompletionCandidate> {
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
pub fn themes(current: &OsStr) -> Vec<CompletionCandidate> {
    let current = current.to_str().unwrap_or_default();
    let dir = Paths::themes_dir();
    let (themes, _) = crate::theme::load_all(dir.as_deref());
    themes
        .into_iter()
        .filter(|t| t.name.starts_with(current))
        .filter_map(|t| Some(CompletionCandidate::new(for_shell(&t.name)?)))
        .collect()
}

/// The statuses `ls --status` filters on.
pub const STATUSES: &[&str] = &[
    "queued",
    "running",
    "succeeded",
    "failed",
    "expired",
    "cancelled",
    "pending",
    "submitting",
    "submit_unknown",
    "rejected",
    "lost",
];

pub fn statuses(current: &OsStr) -> Vec<CompletionCandidate> {
    let current = current.to_str().unwrap_or_default();
    STATUSES
        .iter()
        .filter(|s| s.starts_with(current))
        .map(|s| CompletionCandidate::new(*s))
        .collect()
}

/// Subcommand names, for `man COMMAND`.
pub fn subcommands(current: &OsStr) -> Vec<CompletionCandidate> {
    let current = current.to_str().unwrap_or_default();
    Cli::command()
        .get_subcommands()
        .filter(|c| c.get_name().starts_with(current))
        .map(|c| {
            CompletionCandidate::new(c.get_name().to_string())
                .help(c.get_about().map(|a| a.to_string().into()))
        })
        .collect()
}

/// The command a man page is for: the whole program, or one subcommand (`seedance-tui-NAME`).
fn man_command(sub: Option<&str>) -> Result<clap::Command, String> {
    let mut cmd = Cli::command();
    cmd.build();
    let Some(name) = sub else {
        return Ok(cmd);
    };
    let known: Vec<String> = cmd
        .get_subcommands()
        .map(|c| c.get_name().to_string())
        .collect();
    let found = cmd.find_subcommand(name).cloned().ok_or_else(|| {
        format!(
            "no subcommand `{name}`; pages exist for: {}",
            known.join(", ")
        )
    })?;
    let bin = format!("{}-{}", cmd.get_name(), found.get_name());
    Ok(found
        .name(bin.clone())
        .bin_name(bin)
        .version(crate::VERSION))
}

/// Examples per page: (what it does, the command line).
fn man_examples(sub: Option<&str>) -> &'static [(&'static str, &'static str)] {
    match sub {
        None => &[
            (
                "Check the set-up, then open the dashboard.",
                "seedance-tui doctor && seedance-tui",
            ),
            (
                "Try everything against the embedded simulator, no key needed.",
                "seedance-tui --demo",
            ),
        ],
        Some("submit") => &[
            (
                "Send one request and save its results.",
                "seedance-tui submit --prompt \"apple tea\" --wait --out ~/videos",
            ),
            (
                "Queue a batch file, at most 4 in flight, for a dashboard or daemon to feed.",
                "seedance-tui submit --batch shots.jsonl --max-in-flight 4 --detach",
            ),
        ],
        Some("get") => &[(
            "One task as JSON, by the short id the table shows.",
            "seedance-tui get mq3yp",
        )],
        Some("ls") => &[(
            "Failed tasks as JSON lines.",
            "seedance-tui ls --status failed --jsonl",
        )],
        Some("watch") => &[(
            "Poll and save results in the background (one poller per store).",
            "seedance-tui watch --daemon --download",
        )],
        Some("retry") => &[
            (
                "Retry every failed task of the last hour.",
                "seedance-tui retry --failed --since 1h",
            ),
            (
                "Show what would be sent and its cost, send nothing.",
                "seedance-tui retry --failed --dry-run",
            ),
        ],
        Some("download") => &[(
            "Save a task's results into a bucket.",
            "seedance-tui download mq3yp --out s3://videos/demo",
        )],
        Some("cancel") => &[("Cancel a queued task.", "seedance-tui cancel mq3yp")],
        Some("doctor") => &[("The checks as JSON.", "seedance-tui doctor --json")],
        Some("man") => &[(
            "Install every page.",
            "seedance-tui man --dir ~/.local/share/man/man1",
        )],
        _ => &[],
    }
}

/// The EXIT STATUS section (`cli::exit`), with what `1` means for `doctor`.
const EXIT_STATUS: &str = ".SH \"EXIT STATUS\"\n.TP\n0\nok\n.TP\n1\na task failed (for doctor: a check failed)\n.TP\n2\nusage or validation error (nothing was sent)\n.TP\n3\nAPI, network or storage error\n";

/// Escape text for roff: backslashes, and a leading `.` or `'` that would read as a request.
fn roff_text(s: &str) -> String {
    let s = s.replace('\\', "\\e").replace('-', "\\-");
    if s.starts_with('.') || s.starts_with('\'') {
        format!("\\&{s}")
    } else {
        s
    }
}

/// Render the man page (roff) of the program or of subcommand `sub`, with EXAMPLES and
/// EXIT STATUS after clap's sections.
pub fn render_man(sub: Option<&str>) -> Result<Vec<u8>, String> {
    let cmd = man_command(sub)?;
    let mut out = Vec::new();
    clap_mangen::Man::new(cmd)
        .render(&mut out)
        .map_err(|e| format!("cannot render the man page: {e}"))?;
    let examples = man_examples(sub);
    if !examples.is_empty() {
        out.extend_from_slice(b".SH EXAMPLES\n");
        for (what, line) in examples {
            let text = format!(
                ".PP\n{}\n.PP\n.RS 4\n.nf\n{}\n.fi\n.RE\n",
                roff_text(what),
                roff_text(line)
            );
            out.extend_from_slice(text.as_bytes());
        }
    }
    out.extend_from_slice(EXIT_STATUS.as_bytes());
    Ok(out)
}

/// Write `seedance-tui.1` and `seedance-tui-NAME.1` for every subcommand into `dir`; returns the
/// files written.
pub fn write_man_pages(dir: &Path) -> Result<Vec<PathBuf>, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let mut pages: Vec<Option<String>> = vec![None];
    pages.extend(
        Cli::command()
            .get_subcommands()
            .map(|c| Some(c.get_name().to_string())),
    );
    let mut written = Vec::new();
    for page in pages {
        let bytes = render_man(page.as_deref())?;
        let file = match &page {
            None => dir.join("seedance-tui.1"),
            Some(name) => dir.join(format!("seedance-tui-{name}.1")),
        };
        std::fs::write(&file, bytes)
            .map_err(|e| format!("cannot write {}: {e}", file.display()))?;
        written.push(file);
    }
    Ok(written)
}

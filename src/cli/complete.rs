//! Shell completion and man pages, both generated from the clap definitions.
//!
//! Completion uses clap_complete's dynamic engine: the script `completions SHELL` prints calls the
//! binary back with [`COMPLETE_VAR`] set, and the candidate functions (`cli::candidates`) read
//! the store, the config, the model table and the themes at that moment.

use super::args::{Cli, Shell};
use clap::CommandFactory;
use clap_complete::env::EnvCompleter;
use std::ffi::OsStr;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The environment variable that switches the binary into completion mode. Not the engine's
/// default `COMPLETE`, which is generic enough to be set in a user's environment for other reasons.
pub const COMPLETE_VAR: &str = "SEEDANCE_TUI_COMPLETE";

/// Answer a completion request when the shell called us for one (then exit); otherwise return.
/// Call first thing in `main`.
pub fn complete_if_asked() {
    // The engine removes the variable before the candidate functions run: keep which shell
    // asked (values are escaped for bash, which inserts them as they are).
    if let Ok(shell) = std::env::var(COMPLETE_VAR) {
        let _ = super::candidates::ASKING_SHELL.set(shell);
    }
    clap_complete::CompleteEnv::with_factory(Cli::command)
        .var(COMPLETE_VAR)
        .complete();
}

/// Write the registration script for `shell`. `argv0` is how the user ran us: the script calls
/// the binary back the same way (a name found on PATH, or a path made absolute).
pub(crate) fn write_script(
    shell: Shell,
    argv0: &OsStr,
    out: &mut dyn Write,
) -> std::io::Result<()> {
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
pub(crate) fn write_man_pages(dir: &Path) -> Result<Vec<PathBuf>, String> {
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

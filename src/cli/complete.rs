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

/// Render the man page (roff) of the program or of subcommand `sub`.
pub fn render_man(sub: Option<&str>) -> Result<Vec<u8>, String> {
    let cmd = man_command(sub)?;
    let mut out = Vec::new();
    clap_mangen::Man::new(cmd)
        .render(&mut out)
        .map_err(|e| format!("cannot render the man page: {e}"))?;
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

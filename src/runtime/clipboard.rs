//! Copying text for the user, and knowing whether it arrived. Inside tmux the text is loaded
//! into tmux's buffer with `tmux load-buffer -w -` (the route editors use: `-w` also hands it to
//! the outer terminal's clipboard through tmux's own path) and a plain OSC 52 goes out too (tmux
//! takes it where `set-clipboard on`); tmux's passthrough form only where `allow-passthrough` is
//! on, since tmux 3.3+ drops it by default. GNU screen keeps its own wrapping. The dashboard
//! says "copied" only for a route known to work; otherwise it shows the text to select by hand.

use super::osc::{self, Mux};
use crate::app::copy::CopyRoute;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::AsyncWriteExt;

/// The most a tmux command may take (a wedged server must not wedge a copy).
const TMUX_DEADLINE: Duration = Duration::from_secs(2);

/// What is known about the terminal this process writes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clipboard {
    pub mux: Mux,
    /// `$TMUX` (the server's socket): the tmux commands talk to that server.
    pub tmux: Option<String>,
    /// tmux's `allow-passthrough` is on (asked once at start).
    pub passthrough: bool,
    /// The terminal is one known to take OSC 52 writes by default, or `[ui] clipboard =
    /// "osc52"` says it does.
    pub(crate) osc52_works: bool,
}

/// What one copy does: bytes for the terminal, whether to load tmux's buffer, and the route
/// that is known to work without tmux's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyPlan {
    pub bytes: Vec<u8>,
    pub(crate) load_tmux_buffer: bool,
    pub(crate) known: Option<CopyRoute>,
}

/// Terminals that accept OSC 52 writes in their default configuration, told by the variables
/// they set (`TERM` survives SSH; the others only locally). xterm (off by default), VTE-based
/// terminals (unsupported) and iTerm2 (asks first by default) are not among them.
pub(crate) fn osc52_terminal(env: &impl Fn(&str) -> Option<String>) -> bool {
    let set = |k: &str| env(k).is_some_and(|v| !v.is_empty());
    let term = env("TERM").unwrap_or_default();
    let program = env("TERM_PROGRAM").unwrap_or_default();
    [
        "xterm-kitty",
        "alacritty",
        "foot",
        "foot-extra",
        "wezterm",
        "xterm-ghostty",
        "contour",
    ]
    .contains(&term.as_str())
        || ["WezTerm", "ghostty"].contains(&program.as_str())
        || set("KITTY_WINDOW_ID")
        || set("WEZTERM_PANE")
        || set("ALACRITTY_WINDOW_ID")
        || set("WT_SESSION")
}

impl Clipboard {
    /// From the environment and `[ui] clipboard` (`auto`, or `osc52` when the user knows the
    /// terminal takes it); inside tmux, asks the server whether `allow-passthrough` is on.
    pub async fn detect(env: impl Fn(&str) -> Option<String>, setting: Option<&str>) -> Clipboard {
        let mux = Mux::detect(&env);
        let tmux = (mux == Mux::Tmux).then(|| env("TMUX")).flatten();
        let passthrough = match &tmux {
            Some(t) => tmux_option("allow-passthrough", t)
                .await
                .is_some_and(|v| v == "on" || v == "all"),
            None => false,
        };
        Clipboard {
            mux,
            tmux,
            passthrough,
            osc52_works: setting == Some("osc52") || osc52_terminal(&env),
        }
    }

    /// The plan for copying `text`.
    pub fn plan(&self, text: &str) -> CopyPlan {
        let mut bytes = osc::clipboard(text, self.mux);
        if self.mux == Mux::Tmux && self.passthrough {
            bytes.extend(osc::clipboard_passthrough(text));
        }
        // Inside tmux, OSC 52 reaches the terminal only through tmux's settings: not known.
        let through_terminal = self.osc52_works && self.mux != Mux::Tmux;
        CopyPlan {
            bytes,
            load_tmux_buffer: self.tmux.is_some(),
            known: through_terminal.then_some(CopyRoute::Terminal),
        }
    }
}

/// Run `tmux ARGS` against the server of `$TMUX` = `tmux_env`, with `input` on stdin; its
/// standard output, or why it failed. Bounded by [`TMUX_DEADLINE`].
async fn tmux(args: &[&str], input: Option<&[u8]>, tmux_env: &str) -> Result<String, String> {
    let mut child = tokio::process::Command::new("tmux")
        .args(args)
        .env("TMUX", tmux_env)
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("cannot run tmux: {e}"))?;
    let run = async {
        if let (Some(bytes), Some(mut stdin)) = (input, child.stdin.take()) {
            stdin
                .write_all(bytes)
                .await
                .map_err(|e| format!("cannot write to tmux: {e}"))?;
        }
        let out = child
            .wait_with_output()
            .await
            .map_err(|e| format!("tmux: {e}"))?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
        } else {
            let err = String::from_utf8_lossy(&out.stderr);
            Err(format!("tmux {}: {}", args.join(" "), err.trim()))
        }
    };
    tokio::time::timeout(TMUX_DEADLINE, run)
        .await
        .unwrap_or_else(|_| Err(format!("tmux {} did not answer", args.join(" "))))
}

/// A global tmux option's value (`tmux show -gv NAME`), if the server answers.
pub(crate) async fn tmux_option(name: &str, tmux_env: &str) -> Option<String> {
    tmux(&["show", "-gv", name], None, tmux_env).await.ok()
}

/// Load `text` into tmux's paste buffer and, with `-w`, the outer terminal's clipboard where
/// tmux can reach it. tmux before 3.2 has no `-w`: the buffer alone then.
pub(crate) async fn tmux_load_buffer(text: &str, tmux_env: &str) -> Result<(), String> {
    let bytes = text.as_bytes();
    match tmux(&["load-buffer", "-w", "-"], Some(bytes), tmux_env).await {
        Ok(_) => Ok(()),
        Err(e) if e.contains("unknown flag") || e.contains("usage") => {
            tmux(&["load-buffer", "-"], Some(bytes), tmux_env)
                .await
                .map(|_| ())
        }
        Err(e) => Err(e),
    }
}

/// The rest of a copy once the plan's bytes are written: load tmux's buffer when the plan says
/// so; the route known to have carried the text, if any.
pub async fn finish(plan: &CopyPlan, tmux_env: Option<&str>, text: &str) -> Option<CopyRoute> {
    if let (true, Some(t)) = (plan.load_tmux_buffer, tmux_env)
        && tmux_load_buffer(text, t).await.is_ok()
    {
        return Some(CopyRoute::TmuxBuffer);
    }
    plan.known
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clip(mux: Mux, passthrough: bool, osc52_works: bool) -> Clipboard {
        Clipboard {
            mux,
            tmux: (mux == Mux::Tmux).then(|| "/tmp/tmux-0/default,1,0".to_string()),
            passthrough,
            osc52_works,
        }
    }

    #[test]
    fn tmux_gets_the_buffer_and_plain_osc52_and_passthrough_only_when_allowed() {
        let plain = osc::clipboard("hi", Mux::None);
        let p = clip(Mux::Tmux, false, true).plan("hi");
        assert!(p.load_tmux_buffer);
        assert_eq!(p.bytes, plain, "no passthrough form under tmux's default");
        assert_eq!(p.known, None, "OSC 52 inside tmux is not known to arrive");
        let p = clip(Mux::Tmux, true, false).plan("hi");
        let mut both = plain.clone();
        both.extend(osc::clipboard_passthrough("hi"));
        assert_eq!(p.bytes, both);
    }

    #[test]
    fn outside_tmux_only_a_known_terminal_counts_as_copied() {
        let p = clip(Mux::None, false, true).plan("hi");
        assert!(!p.load_tmux_buffer);
        assert_eq!(p.known, Some(CopyRoute::Terminal));
        assert_eq!(clip(Mux::None, false, false).plan("hi").known, None);
        let s = clip(Mux::Screen, false, false).plan("hi");
        assert_eq!(s.bytes, osc::clipboard("hi", Mux::Screen));
        assert_eq!(s.known, None);
    }

    #[test]
    fn known_terminals_by_their_variables() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert!(osc52_terminal(&env(&[("TERM", "xterm-kitty")])));
        assert!(osc52_terminal(&env(&[("TERM_PROGRAM", "WezTerm")])));
        assert!(!osc52_terminal(&env(&[("TERM", "xterm-256color")])));
        assert!(!osc52_terminal(&env(&[("TERM_PROGRAM", "iTerm.app")])));
    }
}

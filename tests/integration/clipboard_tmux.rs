//! Copies inside tmux, against a real tmux server with no config on its own socket: the text
//! reaches tmux's buffer (read back with `show-buffer`), the passthrough form is sent only where
//! `allow-passthrough` is on, and a copy is said to have arrived only through a known route.

use seedance_tui::app::copy::CopyRoute;
use seedance_tui::runtime::clipboard::{self, Clipboard};
use seedance_tui::runtime::osc;
use std::process::Command;

/// A tmux server with no config on its own socket, killed on drop.
struct Tmux {
    name: String,
}

impl Tmux {
    fn start(tag: &str) -> Option<Tmux> {
        let name = format!("seedance-test-{tag}-{}", std::process::id());
        let ok = Command::new("tmux")
            .args(["-L", &name, "-f", "/dev/null", "new-session", "-d"])
            .args(["-x", "80", "-y", "24", "sleep", "600"])
            .status()
            .ok()?
            .success();
        ok.then_some(Tmux { name })
    }

    fn run(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .args(["-L", &self.name])
            .args(args)
            .output()
            .expect("run tmux");
        assert!(out.status.success(), "tmux {args:?}: {out:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// `$TMUX` as a program inside this server sees it: socket path, server pid, session.
    fn env(&self) -> String {
        self.run(&["display", "-p", "#{socket_path},#{pid},0"])
            .trim()
            .to_string()
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.name, "kill-server"])
            .status();
    }
}

fn tmux_or_skip(tag: &str) -> Option<Tmux> {
    let t = Tmux::start(tag);
    if t.is_none() {
        // CI installs tmux (.ci/run); a developer machine without it skips, loudly.
        assert!(
            std::env::var_os("CI").is_none(),
            "tmux is required under CI"
        );
        eprintln!("skipped: tmux is not installed");
    }
    t
}

#[tokio::test]
async fn a_copy_inside_tmux_with_no_config_reaches_its_buffer() {
    let Some(tmux) = tmux_or_skip("buffer") else {
        return;
    };
    let env = tmux.env();
    let lookup = |k: &str| match k {
        "TMUX" => Some(env.clone()),
        "TERM" => Some("tmux-256color".to_string()),
        _ => None,
    };
    let clip = Clipboard::detect(lookup, None).await;
    assert_eq!(clip.mux, osc::Mux::Tmux);
    assert!(
        !clip.passthrough,
        "tmux with no config has allow-passthrough off"
    );
    let text = "cgt-20261127120000-abcde\nsecond line ✓";
    let plan = clip.plan(text);
    assert_eq!(
        plan.bytes,
        osc::clipboard(text, osc::Mux::None),
        "a plain OSC 52 only, no passthrough form tmux would drop"
    );
    let route = clipboard::finish(&plan, clip.tmux.as_deref(), text).await;
    assert_eq!(route, Some(CopyRoute::TmuxBuffer));
    assert_eq!(tmux.run(&["show-buffer"]), text);
}

#[tokio::test]
async fn passthrough_is_added_only_where_tmux_allows_it() {
    let Some(tmux) = tmux_or_skip("passthrough") else {
        return;
    };
    tmux.run(&["set", "-g", "allow-passthrough", "on"]);
    let env = tmux.env();
    let clip = Clipboard::detect(|k| (k == "TMUX").then(|| env.clone()), None).await;
    assert!(clip.passthrough);
    let plan = clip.plan("hi");
    let mut both = osc::clipboard("hi", osc::Mux::None);
    both.extend(osc::clipboard_passthrough("hi"));
    assert_eq!(plan.bytes, both);
}

#[tokio::test]
async fn a_gone_tmux_server_means_no_known_route() {
    let Some(tmux) = tmux_or_skip("gone") else {
        return;
    };
    let env = tmux.env();
    let clip = Clipboard::detect(|k| (k == "TMUX").then(|| env.clone()), None).await;
    drop(tmux);
    let plan = clip.plan("lost");
    let route = clipboard::finish(&plan, clip.tmux.as_deref(), "lost").await;
    assert_eq!(route, None, "the text is then shown to select by hand");
}

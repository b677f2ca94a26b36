//! `o`: open a saved video with the system opener when there is a local display; over SSH (or
//! with no display) say where the file is and give an `scp` command to fetch it.

use std::path::Path;

/// What opening a file will do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum OpenPlan {
    /// Run this program with the path.
    Launch(&'static str),
    /// No local display: show the path and this command (copied to the clipboard).
    Remote { scp: String },
}

/// Whether this session is remote (SSH) or has no display.
pub(crate) fn plan(env: impl Fn(&str) -> Option<String>, path: &str, host: &str) -> OpenPlan {
    let set = |k: &str| env(k).is_some_and(|v| !v.is_empty());
    let ssh = set("SSH_CONNECTION") || set("SSH_TTY") || set("SSH_CLIENT");
    let display = cfg!(target_os = "macos") || set("DISPLAY") || set("WAYLAND_DISPLAY");
    if display && !ssh {
        return OpenPlan::Launch(if cfg!(target_os = "macos") {
            "open"
        } else {
            "xdg-open"
        });
    }
    let user = env("USER").or_else(|| env("LOGNAME")).unwrap_or_default();
    let target = if user.is_empty() {
        host.to_string()
    } else {
        format!("{user}@{host}")
    };
    OpenPlan::Remote {
        scp: format!("scp {target}:{} .", shell_quote(path)),
    }
}

/// Quote for a POSIX shell when needed.
fn shell_quote(s: &str) -> String {
    if s.chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._-+=:,@%".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// Open `path` as [`plan`] says for this process's environment: the message to show and, when
/// remote, what to copy and what it is (through `runtime::clipboard`, which says whether it
/// arrived).
pub(crate) fn open(path: &str) -> (crate::app::Level, String, Option<(String, &'static str)>) {
    use crate::app::Level;
    match plan(|k| std::env::var(k).ok(), path, &hostname()) {
        OpenPlan::Launch(program) => match launch(program, Path::new(path)) {
            Ok(()) => (Level::Info, format!("opening {path}"), None),
            Err(e) => (
                Level::Error,
                format!("could not run {program} ({e}); the file is {path}"),
                None,
            ),
        },
        // A presigned link to an object in a bucket: the link itself is what to take elsewhere.
        OpenPlan::Remote { .. } if path.starts_with("https://") || path.starts_with("http://") => (
            Level::Info,
            "no local display: take the object with a link (valid 1 hour)".to_string(),
            Some((path.to_string(), "link to the object")),
        ),
        OpenPlan::Remote { scp } => (
            Level::Info,
            format!("no local display: saved at {path}; fetch it with `{scp}`"),
            Some((scp, "scp command")),
        ),
    }
}

/// This machine's host name (`this-host` when it has none): named in scp hints and in poller
/// lease holder ids.
pub(crate) fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its length; gethostname writes at most that many bytes.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    // gethostname NUL-terminates within the buffer or truncates: stop at the first NUL or the end.
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    match std::str::from_utf8(&buf[..end]) {
        Ok(h) if rc == 0 && !h.is_empty() => h.to_string(),
        _ => "this-host".to_string(),
    }
}

/// Start `program path` detached (no terminal IO); the child is reaped on a thread.
pub(crate) fn launch(program: &str, path: &Path) -> std::io::Result<()> {
    use std::process::{Command, Stdio};
    let mut child = Command::new(program)
        .arg(path)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    std::thread::spawn(move || child.wait());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn ssh_gives_an_scp_command_and_a_local_display_launches() {
        let remote = plan(
            env(&[
                ("SSH_CONNECTION", "1 2 3 4"),
                ("DISPLAY", ":0"),
                ("USER", "ann"),
            ]),
            "/home/ann/Videos/a b.mp4",
            "box",
        );
        assert_eq!(
            remote,
            OpenPlan::Remote {
                scp: "scp ann@box:'/home/ann/Videos/a b.mp4' .".into()
            }
        );
        if !cfg!(target_os = "macos") {
            assert_eq!(
                plan(env(&[("DISPLAY", ":0")]), "/v.mp4", "box"),
                OpenPlan::Launch("xdg-open")
            );
            assert!(matches!(
                plan(env(&[]), "/v.mp4", "box"),
                OpenPlan::Remote { .. }
            ));
        }
        assert!(!hostname().is_empty());
    }
}

//! Terminal escape sequences that work over SSH: OSC 52 clipboard copies and desktop
//! notifications (OSC 777, OSC 9, OSC 99), wrapped for tmux (and GNU screen) passthrough.
//! Which copy route to use inside tmux is `runtime::clipboard`'s decision.
//!
//! Pure functions producing bytes, so tests assert on the exact sequences.

use base64::Engine as _;

/// Which multiplexer (if any) sits between us and the real terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mux {
    None,
    Tmux,
    Screen,
}

impl Mux {
    /// Detect from the environment (`TMUX`, `TERM=screen*` without tmux).
    pub(crate) fn detect(env: impl Fn(&str) -> Option<String>) -> Mux {
        if env("TMUX").is_some_and(|v| !v.is_empty()) {
            Mux::Tmux
        } else if env("STY").is_some_and(|v| !v.is_empty()) {
            Mux::Screen
        } else {
            Mux::None
        }
    }
}

/// Wrap a sequence so the multiplexer passes it to the outer terminal.
pub(crate) fn wrap(seq: &[u8], mux: Mux) -> Vec<u8> {
    match mux {
        Mux::None => seq.to_vec(),
        Mux::Tmux => {
            // DCS tmux; <seq with every ESC doubled> ST
            let mut out = b"\x1bPtmux;".to_vec();
            for &b in seq {
                if b == 0x1b {
                    out.push(0x1b);
                }
                out.push(b);
            }
            out.extend_from_slice(b"\x1b\\");
            out
        }
        Mux::Screen => {
            let mut out = b"\x1bP".to_vec();
            out.extend_from_slice(seq);
            out.extend_from_slice(b"\x1b\\");
            out
        }
    }
}

/// OSC 52: put `text` on the system clipboard (`c`), terminated with BEL for compatibility.
fn osc52(text: &str) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(text.as_bytes());
    format!("\x1b]52;c;{b64}\x07")
}

/// OSC 52 as it should be written through `mux`: plain outside a multiplexer and inside tmux
/// (tmux takes it itself where `set-clipboard on`; its passthrough form is dropped unless
/// `allow-passthrough` is on, see [`clipboard_passthrough`]); in GNU screen's own wrapping.
pub fn clipboard(text: &str, mux: Mux) -> Vec<u8> {
    let seq = osc52(text);
    match mux {
        Mux::Tmux => seq.into_bytes(),
        other => wrap(seq.as_bytes(), other),
    }
}

/// OSC 52 in tmux's passthrough form, straight to the outer terminal: only worth sending where
/// tmux's `allow-passthrough` is on (off by default since tmux 3.3, when it is dropped).
pub fn clipboard_passthrough(text: &str) -> Vec<u8> {
    wrap(osc52(text).as_bytes(), Mux::Tmux)
}

/// Characters that would end or break an OSC string (the sanitizer's control and bidi set,
/// and `;`) are replaced by spaces: a notification shows plain text.
fn clean(s: &str) -> String {
    s.chars()
        .map(|c| {
            if crate::sanitize::is_unsafe(c) || c == ';' {
                ' '
            } else {
                c
            }
        })
        .collect()
}

/// Which notification protocol to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NotifyProtocol {
    /// `OSC 777;notify;TITLE;BODY` (urxvt, foot, WezTerm, Ghostty, VTE).
    Osc777,
    /// `OSC 9;TEXT` (iTerm2, Windows Terminal, WezTerm, kitty).
    Osc9,
    /// `OSC 99` (kitty's protocol).
    Osc99,
}

/// A desktop notification sequence.
pub(crate) fn notify(title: &str, body: &str, protocol: NotifyProtocol, mux: Mux) -> Vec<u8> {
    let (title, body) = (clean(title), clean(body));
    let seq = match protocol {
        NotifyProtocol::Osc777 => format!("\x1b]777;notify;{title};{body}\x07"),
        NotifyProtocol::Osc9 => format!("\x1b]9;{title}: {body}\x07"),
        NotifyProtocol::Osc99 => {
            format!("\x1b]99;i=1:d=0;{title}\x1b\\\x1b]99;i=1:d=1:p=body;{body}\x1b\\")
        }
    };
    wrap(seq.as_bytes(), mux)
}

/// The terminal bell.
pub(crate) const BELL: &[u8] = b"\x07";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn osc52_plain_in_tmux_wrapped_in_screen_and_passthrough_on_request() {
        assert_eq!(clipboard("hi", Mux::None), b"\x1b]52;c;aGk=\x07".to_vec());
        // tmux's default (`allow-passthrough off`) drops the wrapped form: plain it is.
        assert_eq!(clipboard("hi", Mux::Tmux), b"\x1b]52;c;aGk=\x07".to_vec());
        assert_eq!(
            clipboard("hi", Mux::Screen),
            b"\x1bP\x1b]52;c;aGk=\x07\x1b\\".to_vec()
        );
        assert_eq!(
            clipboard_passthrough("hi"),
            b"\x1bPtmux;\x1b\x1b]52;c;aGk=\x07\x1b\\".to_vec()
        );
    }

    #[test]
    fn notifications_are_cleaned_and_wrapped() {
        assert_eq!(
            notify("done", "task;1\x07ok", NotifyProtocol::Osc777, Mux::None),
            b"\x1b]777;notify;done;task 1 ok\x07".to_vec()
        );
        assert_eq!(
            notify("d\u{9c}", "x\u{202e}y", NotifyProtocol::Osc777, Mux::None),
            "\x1b]777;notify;d ;x y\x07".as_bytes().to_vec(),
            "C1 (an 8-bit string terminator) and bidi characters are cleaned too"
        );
        assert_eq!(
            notify("a", "b", NotifyProtocol::Osc9, Mux::None),
            b"\x1b]9;a: b\x07".to_vec()
        );
        let wrapped = notify("a", "b", NotifyProtocol::Osc99, Mux::Tmux);
        assert!(wrapped.starts_with(b"\x1bPtmux;\x1b\x1b]99;"));
        assert!(wrapped.ends_with(b"\x1b\\"));
    }

    #[test]
    fn mux_detection() {
        assert_eq!(
            Mux::detect(|k| (k == "TMUX").then(|| "/tmp/t,1,0".into())),
            Mux::Tmux
        );
        assert_eq!(
            Mux::detect(|k| (k == "STY").then(|| "1.pts".into())),
            Mux::Screen
        );
        assert_eq!(Mux::detect(|_| None), Mux::None);
    }
}

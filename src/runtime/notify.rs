//! Finish notifications: the reducer batches finished tasks (one batch per window, by message
//! times); this turns a batch into the bytes to write — a bell and/or an OSC 777 / 9 / 99 desktop
//! notification wrapped for tmux/screen — as the `[notify]` config says.

use super::osc::{self, Mux, NotifyProtocol};
use crate::config::NotifyConfig;

/// The notification settings, parsed once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Notifier {
    pub(crate) bell: bool,
    pub(crate) protocol: Option<NotifyProtocol>,
    pub(crate) on_success: bool,
    pub(crate) on_failure: bool,
    pub(crate) mux: Mux,
}

impl Notifier {
    /// From the config; an unknown protocol name is an error that says the choices.
    pub(crate) fn from_config(c: &NotifyConfig, mux: Mux) -> Result<Notifier, String> {
        let protocol = match c.protocol.to_ascii_lowercase().as_str() {
            "none" | "off" | "" => None,
            "osc9" | "9" => Some(NotifyProtocol::Osc9),
            "osc777" | "777" => Some(NotifyProtocol::Osc777),
            "osc99" | "99" => Some(NotifyProtocol::Osc99),
            other => {
                return Err(format!(
                    "[notify] protocol `{other}` is unknown; use none, osc9, osc777 or osc99"
                ));
            }
        };
        Ok(Notifier {
            bell: c.bell,
            protocol,
            on_success: c.on_success,
            on_failure: c.on_failure,
            mux,
        })
    }

    /// The bytes announcing one batch (empty when the config wants nothing for it).
    pub(crate) fn bytes(&self, succeeded: &[String], failed: &[String]) -> Vec<u8> {
        let ok = if self.on_success { succeeded.len() } else { 0 };
        let bad = if self.on_failure { failed.len() } else { 0 };
        if ok + bad == 0 {
            return Vec::new();
        }
        let body = match (ok, bad) {
            (1, 0) => format!("{} succeeded", succeeded[0]),
            (0, 1) => format!("{} failed", failed[0]),
            (n, 0) => format!("{n} succeeded"),
            (0, m) => format!("{m} failed"),
            (n, m) => format!("{n} succeeded, {m} failed"),
        };
        let mut out = Vec::new();
        if self.bell {
            out.extend_from_slice(osc::BELL);
        }
        if let Some(p) = self.protocol {
            out.extend(osc::notify("seedance-tui", &body, p, self.mux));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(n: usize, p: &str) -> Vec<String> {
        (0..n).map(|i| format!("{p}{i}")).collect()
    }

    #[test]
    fn one_notification_per_batch_with_counts() {
        let n = Notifier::from_config(&NotifyConfig::default(), Mux::None).expect("valid");
        assert_eq!(
            n.bytes(&ids(12, "ok"), &ids(2, "bad")),
            b"\x07\x1b]777;notify;seedance-tui;12 succeeded, 2 failed\x07".to_vec()
        );
        assert_eq!(
            n.bytes(&ids(1, "cgt-"), &[]),
            b"\x07\x1b]777;notify;seedance-tui;cgt-0 succeeded\x07".to_vec()
        );
    }

    #[test]
    fn config_switches_parts_off_and_tmux_wraps() {
        let cfg = NotifyConfig {
            bell: false,
            protocol: "osc9".into(),
            on_success: false,
            ..NotifyConfig::default()
        };
        let n = Notifier::from_config(&cfg, Mux::Tmux).expect("valid");
        assert!(n.bytes(&ids(3, "a"), &[]).is_empty());
        assert_eq!(
            n.bytes(&ids(3, "a"), &ids(1, "x")),
            b"\x1bPtmux;\x1b\x1b]9;seedance-tui: x0 failed\x07\x1b\\".to_vec()
        );
        let quiet = NotifyConfig {
            protocol: "none".into(),
            ..NotifyConfig::default()
        };
        let n = Notifier::from_config(&quiet, Mux::None).expect("valid");
        assert_eq!(n.bytes(&ids(1, "a"), &[]), b"\x07".to_vec());
        let bad = NotifyConfig {
            protocol: "growl".into(),
            ..NotifyConfig::default()
        };
        assert!(
            Notifier::from_config(&bad, Mux::None)
                .expect_err("unknown")
                .contains("osc777")
        );
    }
}

//! Pre-flight at start: with no API key, a banner naming the variables that were searched; one
//! probe of the base URL (run by the runtime off the loop) and, when it is not the Ark API or
//! cannot be reached, a banner with the fix. The banner goes once a poll succeeds.

use super::effect::Effect;
use super::msg::Level;
use super::state::State;
use crate::api::client::ProbeVerdict;

/// Start: `key_var` is where the key came from (`None`: nowhere), `searched` the variables
/// looked in, in order. Asks for the probe either way (an API answers a missing key in its own
/// JSON, so the URL can be judged without one).
pub(crate) fn start(state: &mut State, key_var: Option<&str>, searched: &[String]) -> Vec<Effect> {
    if key_var.is_none() {
        let text = format!(
            "no API key: looked in {}; export one (or run with --demo)",
            searched.join(", ")
        );
        state.notice(Level::Error, text.clone());
        state.preflight = Some(text);
    }
    vec![Effect::Probe(state.base_url.clone())]
}

/// The probe's verdict: a banner (and a log line) when the URL is wrong or unreachable, or when
/// the server refused the key; `url_problems` are the base URL's shape problems, each with its fix.
pub(crate) fn probed(state: &mut State, verdict: &ProbeVerdict, url_problems: &[String]) {
    let base = state.base_url.clone();
    let text = match verdict {
        ProbeVerdict::Ok | ProbeVerdict::OtherApiError(_) => return,
        // Something API-like answered: a warning, not a wall (creates are sent).
        v @ ProbeVerdict::UnknownShape { .. } => {
            let text = format!("warning: {base} {}", v.shape_warning().unwrap_or_default());
            state.notice(Level::Warn, text.clone());
            if state.preflight.is_none() {
                state.preflight = Some(text);
            }
            state.dirty = true;
            return;
        }
        ProbeVerdict::ServerTrouble(e) => {
            format!("{base} is having trouble ({e}): try again in a minute")
        }
        // Without a key a refusal is expected: the banner already says so.
        ProbeVerdict::KeyRefused(_) if state.preflight.is_some() => return,
        ProbeVerdict::KeyRefused(e) => {
            format!(
                "the server refused the key in {}: {}",
                state.key_var,
                e.hint()
            )
        }
        ProbeVerdict::WrongUrl(e) => {
            let fix = url_problems.first().cloned().unwrap_or_else(|| e.hint());
            format!("{base} is not the Ark API: {fix}")
        }
        ProbeVerdict::Unreachable(e) => format!(
            "cannot reach {base} ({e}): check the host and port in --base-url or the profile"
        ),
    };
    state.notice(Level::Error, text.clone());
    state.preflight = Some(match state.preflight.take() {
        Some(first) => format!("{first} · {text}"),
        None => text,
    });
    state.dirty = true;
}

//! Pre-flight before a command's first create: a key must be there, and the base URL must not be
//! proven wrong (`ArkClient::probe`: one GET of a task id that cannot exist). It fails open: only
//! a web page, a redirect or no answer refuses; any JSON, whatever its shape, lets the create go
//! (its own answer decides) with a warning on stderr.

use super::exit::Failure;
use crate::api::client::ProbeVerdict;
use crate::context::Context;

/// The key and base-URL checks; `Ok` when a create can be sent. The demo's simulator is known
/// good and is not probed.
pub(crate) async fn check(ctx: &Context) -> Result<(), Failure> {
    ctx.require_key()?;
    if ctx.demo {
        return Ok(());
    }
    let probe = ctx.engine.client.probe().await;
    match probe.verdict {
        // The URL is right. A refused key is left to the create itself: its 401 says the same
        // and is recorded (`rejected`, nothing billed) like any refusal.
        ProbeVerdict::Ok | ProbeVerdict::OtherApiError(_) | ProbeVerdict::KeyRefused(_) => Ok(()),
        ref v @ ProbeVerdict::UnknownShape { .. } => {
            if let Some(w) = v.shape_warning() {
                eprintln!(
                    "warning: {} {}",
                    crate::sanitize::line(&ctx.base_url),
                    crate::sanitize::line(&w)
                );
            }
            Ok(())
        }
        ProbeVerdict::ServerTrouble(e) => Err(Failure::api(format!(
            "{} is having trouble (a gateway or server error: {e}); nothing was sent\nfix: try again in a minute; `seedance-tui doctor` checks it",
            ctx.base_url
        ))),
        ProbeVerdict::WrongUrl(e) => Err(Failure::api(format!(
            "the base URL {} does not reach the Ark API; nothing was sent: {e}\nfix: pass --base-url ending in /api/v3 (the relay: https://api.laozhang.ai/seedance/api/v3), or set base_url in the profile; `seedance-tui doctor` checks it",
            ctx.base_url
        ))),
        ProbeVerdict::Unreachable(e) => Err(Failure::api(format!(
            "cannot reach {}; nothing was sent: {e}\nfix: check the network and the base URL (--base-url or the profile's base_url); `seedance-tui doctor` checks it",
            ctx.base_url
        ))),
    }
}

/// The results destination, checked before the first create: a bucket that is missing,
/// refuses the credentials or a write (exit 3), or a folder that cannot be written (exit 2),
/// stops the command with nothing sent.
pub(crate) async fn check_destination(
    ctx: &Context,
    dest: &crate::destination::Destination,
) -> Result<(), Failure> {
    match dest.check_writable(&ctx.config.storage).await {
        Ok(()) => Ok(()),
        Err(e) if e.remote => Err(Failure::api(format!("{e}\nnothing was sent"))),
        Err(e) => Err(Failure::usage(format!("{e}\nnothing was sent"))),
    }
}

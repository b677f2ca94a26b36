//! Pre-flight before a command's first create: a key must be there, and the base URL must reach
//! the Ark API (`ArkClient::probe`: one GET of a task id that cannot exist). Failing early says
//! what to fix, instead of a create that fails with a misleading 404 or is sent to the wrong
//! place.

use super::exit::Failure;
use crate::api::ApiError;
use crate::api::client::ProbeVerdict;
use crate::context::Context;

/// The key and base-URL checks; `Ok` when a create can be sent. The demo's simulator is known
/// good and is not probed.
pub async fn check(ctx: &Context) -> Result<(), Failure> {
    ctx.require_key()?;
    if ctx.demo {
        return Ok(());
    }
    let probe = ctx.engine.client.probe().await;
    match probe.verdict {
        // The URL is right. A refused key is left to the create itself: its 401 says the same
        // and is recorded (`rejected`, nothing billed) like any refusal.
        ProbeVerdict::Ok | ProbeVerdict::OtherApiError(_) | ProbeVerdict::KeyRefused(_) => Ok(()),
        // JSON found for a task that cannot exist: not the API's behaviour, but not a web page
        // or a missing path either; the create's own answer will say more.
        ProbeVerdict::WrongUrl(ApiError::NotTheApi {
            status,
            content_type,
            ..
        }) if (200..300).contains(&status) && content_type.contains("json") => Ok(()),
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
pub async fn check_destination(
    ctx: &Context,
    dest: &crate::destination::Destination,
) -> Result<(), Failure> {
    match dest.check_writable(&ctx.config.storage).await {
        Ok(()) => Ok(()),
        Err(e) if e.remote => Err(Failure::api(format!("{e}\nnothing was sent"))),
        Err(e) => Err(Failure::usage(format!("{e}\nnothing was sent"))),
    }
}

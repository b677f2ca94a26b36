//! `adopt ID TASK_ID [--yes]`: the user's `y` for a reconciliation's "probable, not confirmed"
//! match. The server task is fetched and shown, the question is asked on the terminal, and only
//! then does the uncertain row take the task's id (and is polled from then on). Nothing is sent
//! but the GET.

use super::exit::{Code, Failure};
use crate::context::Context;
use crate::engine::PollError;
use crate::store::Phase;

pub(crate) async fn adopt(
    ctx: &Context,
    id: &str,
    task_id: &str,
    yes: bool,
) -> Result<Code, Failure> {
    let row = ctx.engine.find(id).await?;
    if row.phase != Phase::SubmitUnknown || row.task_id.is_some() {
        return Err(Failure::usage(format!(
            "{} is {}: only an uncertain create (submit_unknown, no server id) can adopt a task",
            row.local_id,
            row.phase.as_str()
        )));
    }
    ctx.require_key()?;
    let (task, _) = ctx.engine.client.get(task_id).await?;
    let req = row.request();
    let same = req
        .as_ref()
        .is_some_and(|r| crate::engine::reconcile::same_parameters(r, &task));
    let echoed = crate::engine::reconcile::echoed_client_id(&task);
    if echoed.is_some_and(|e| e != row.local_id) {
        return Err(Failure::usage(format!(
            "{task_id} was made by another request (it echoes request id {}, this row's is {}): not adopted",
            crate::sanitize::line(echoed.unwrap_or_default()),
            row.local_id
        )));
    }
    let question = format!(
        "adopt {} ({}, model {}, {}) as the outcome of {} (\"{}\")? Probable, not confirmed: \
         the server does not say which request made it",
        task.id,
        task.status.as_str(),
        task.model.as_deref().unwrap_or("?"),
        if same {
            "its parameters match"
        } else {
            "its parameters do NOT all match"
        },
        row.local_id,
        crate::text::truncate(&row.prompt, 60)
    );
    if !yes && !super::delete::confirm_to(&question, "adopt")? {
        eprintln!("not adopted");
        return Ok(Code::TaskFailed);
    }
    match ctx.engine.adopt_confirmed(&row.local_id, task_id).await {
        Ok(r) => {
            println!(
                "{} is now {} ({})",
                r.local_id,
                crate::sanitize::line(r.task_id.as_deref().unwrap_or_default()),
                r.phase.as_str()
            );
            Ok(Code::Ok)
        }
        Err(PollError::NotAccepted(why)) => Err(Failure::usage(format!("not adopted: {why}"))),
        Err(e) => Err(Failure::api(format!("not adopted: {e}"))),
    }
}

//! `download`: save the results of succeeded tasks.

use super::exit::{Code, Failure};
use crate::api::TaskStatus;
use crate::context::Context;
use crate::destination::Destination;
use crate::store::Phase;

/// `download ID... [--out DIR]`.
pub async fn download(
    ctx: &Context,
    ids: &[String],
    out: Option<&Destination>,
) -> Result<Code, Failure> {
    if ids.is_empty() {
        return Err(Failure::usage("name at least one task to download"));
    }
    let dir = out.cloned().unwrap_or(ctx.output_dir.clone());
    for id in ids {
        let record = ctx.engine.find(id).await?;
        if !matches!(record.phase, Phase::Remote(TaskStatus::Succeeded)) {
            return Err(Failure::task_failed(format!(
                "{} is {}, not succeeded: nothing to download",
                record.display_id(),
                record.phase
            )));
        }
        let saved = crate::engine::task_results::save_results(
            &ctx.engine,
            &record,
            &dir,
            &ctx.config.download.template,
        )
        .await
        .map_err(|e| Failure::api(e.to_string()))?;
        for p in saved.files {
            crate::outln!("{}", p.display());
        }
    }
    Ok(Code::Ok)
}

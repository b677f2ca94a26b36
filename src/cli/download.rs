//! `download`: save the results of succeeded tasks.

use super::exit::{Code, Failure};
use crate::api::TaskStatus;
use crate::context::Context;
use crate::destination::Destination;
use crate::store::Phase;
use std::path::{Path, PathBuf};

/// `download ID... [--out DEST]`. Files not saved yet are fetched into the destination; with
/// `--out` a folder, files saved before elsewhere are put into it too (a hard link, else a copy),
/// so the folder always ends up holding them.
pub(crate) async fn download(
    ctx: &Context,
    ids: &[String],
    out: Option<&Destination>,
) -> Result<Code, Failure> {
    if ids.is_empty() {
        return Err(Failure::usage("name at least one task to download"));
    }
    let dir = out.cloned().unwrap_or(ctx.output_dir.clone());
    let mut records = Vec::new();
    for id in ids {
        let record = ctx.engine.find(id).await?;
        if !matches!(record.phase, Phase::Remote(TaskStatus::Succeeded)) {
            return Err(Failure::task_failed(format!(
                "{} is {}, not succeeded: nothing to download",
                record.display_id(),
                record.phase
            )));
        }
        records.push(record);
    }
    let into_folder = out.and_then(Destination::folder);
    for record in records {
        let saved = crate::engine::task_results::save_results(
            &ctx.engine,
            &record,
            &dir,
            &ctx.config.download.template,
        )
        .await
        .map_err(|e| Failure::api(e.to_string()))?;
        for p in saved.files {
            let p = match into_folder {
                Some(folder) => place_in(&p, folder).map_err(|e| {
                    Failure::api(format!(
                        "cannot put {} into {}: {e}",
                        p.display(),
                        folder.display()
                    ))
                })?,
                None => p,
            };
            crate::outln!("{}", p.display());
        }
    }
    Ok(Code::Ok)
}

/// `file` inside `dir`: itself when it is already there, else a hard link (a copy across file
/// systems) under the same name, or a free variant of it when another file has that name.
fn place_in(file: &Path, dir: &Path) -> std::io::Result<PathBuf> {
    crate::store::create_private_dir(dir)?;
    let canon_dir = dir.canonicalize()?;
    if file.parent().and_then(|p| p.canonicalize().ok()).as_deref() == Some(canon_dir.as_path()) {
        return Ok(file.to_path_buf());
    }
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "video.mp4".into());
    let same = dir.join(&name);
    if same.is_file() && same.metadata()?.len() == file.metadata()?.len() {
        return Ok(same); // saved here before
    }
    let dest = crate::engine::naming::unique_path(dir, &name);
    if std::fs::hard_link(file, &dest).is_err() {
        // Another file system (or no links): copy through a temporary name, then rename, so a
        // cut copy never looks complete.
        let part = dest.with_extension("part-copy");
        std::fs::copy(file, &part)?;
        std::fs::rename(&part, &dest)?;
    }
    Ok(dest)
}

//! `gallery [FILTER] --out DIR|s3://BUCKET/PREFIX`: one static page to review tasks in a browser.
//!
//! The tasks are chosen with the dashboard's filter syntax (words, `status:`, `model:`,
//! `retried:`, `group:ID`). For each: its contact sheet (made or read from the cache next to the
//! saved video, `engine::sheet`), its last frame as the poster, a `<video>` of the saved file, and
//! the request's facts. Into a folder: `index.html` and `sheets/*.png`, the poster and video linked
//! by relative path (the page works from `file://`). Into a bucket: the same files uploaded, and
//! every link to an object presigned (the expiry is printed and shown on the page).

pub(crate) mod page;

use super::exit::{Code, Failure};
use crate::api::types::CreateRequest;
use crate::app::filter::Filter;
use crate::context::Context;
use crate::destination::Destination;
use crate::engine::sheet::{self, Limits};
use crate::s3::{S3Client, S3Location};
use crate::store::{TaskQuery, TaskRecord, TaskRow};
use futures::StreamExt;
use page::{Card, href_path, href_url};
use std::collections::{HashMap, HashSet};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// What `gallery` was asked.
#[derive(Debug, Clone)]
pub struct GalleryOptions {
    /// The dashboard's filter syntax; empty: every task.
    pub filter: String,
    pub out: Destination,
    /// Frames per contact sheet (0: no sheets).
    pub frames: usize,
    /// How long presigned links live (at most 7 days).
    pub link_ttl: Duration,
}

/// What was written.
#[derive(Debug, Clone)]
pub struct GalleryReport {
    pub tasks: usize,
    pub sheets: usize,
    /// `DIR/index.html` or `s3://BUCKET/PREFIX/index.html`.
    pub(crate) index: String,
    /// A link to open the page: `file://…` or a presigned https link.
    pub(crate) open: String,
    /// When the presigned links stop working (bucket only).
    pub(crate) expires: Option<String>,
    /// One line per task something is missing for.
    pub(crate) notes: Vec<String>,
}

/// `gallery`: write the page and print where it is.
pub(crate) async fn run(ctx: &Context, o: &GalleryOptions) -> Result<Code, Failure> {
    let r = generate(ctx, o).await?;
    for n in &r.notes {
        crate::errln!("  {n}");
    }
    crate::outln!(
        "gallery: {} ({} task(s), {} contact sheet(s))",
        r.index,
        r.tasks,
        r.sheets
    );
    // The link is printed as is: a presigned query must survive copy and paste.
    println!("open: {}", crate::sanitize::flat(&r.open));
    if let Some(e) = &r.expires {
        crate::outln!("the page's links expire {e}");
    }
    Ok(Code::Ok)
}

/// Where files go while the page is made, and how the page links to things.
#[allow(clippy::large_enum_variant)] // one per run
enum Target {
    Folder(PathBuf),
    Bucket {
        client: S3Client,
        location: S3Location,
        staging: Staging,
        ttl: Duration,
    },
}

impl Target {
    fn dir(&self) -> &Path {
        match self {
            Target::Folder(d) => d,
            Target::Bucket { staging, .. } => staging.path(),
        }
    }
}

/// A temporary folder for a bucket's files, removed when dropped.
struct Staging(PathBuf);

impl Staging {
    fn new() -> std::io::Result<Staging> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let dir =
            std::env::temp_dir().join(format!("seedance-gallery-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(dir.join("sheets"))?;
        Ok(Staging(dir))
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Make the page (and its sheets) for the tasks `o.filter` keeps.
pub async fn generate(ctx: &Context, o: &GalleryOptions) -> Result<GalleryReport, Failure> {
    let target = match &o.out {
        Destination::Folder(d) => {
            std::fs::create_dir_all(d.join("sheets")).map_err(|e| {
                Failure::usage(format!("cannot create the folder {}: {e}", d.display()))
            })?;
            Target::Folder(std::fs::canonicalize(d).unwrap_or_else(|_| d.clone()))
        }
        Destination::Bucket(location) => {
            let client = ctx
                .engine
                .s3_client(location)
                .map_err(|e| Failure::usage(e.to_string()))?;
            let staging = Staging::new()
                .map_err(|e| Failure::api(format!("cannot make a temporary folder: {e}")))?;
            Target::Bucket {
                client,
                location: location.clone(),
                staging,
                ttl: o
                    .link_ttl
                    .clamp(Duration::from_secs(60), crate::s3::MAX_PRESIGN),
            }
        }
    };
    let records = ctx
        .engine
        .with_store(|s| s.list(&TaskQuery::default()))
        .await?;
    let chosen = choose(&records, &o.filter);
    if chosen.is_empty() {
        return Err(Failure::task_failed(format!(
            "no task matches `{}`: nothing to show",
            o.filter
        )));
    }
    let by_id: HashMap<&str, &TaskRecord> =
        records.iter().map(|r| (r.local_id.as_str(), r)).collect();
    // Batch labels in one read (a store without them shows none).
    let mut labels = ctx
        .engine
        .with_store(|s| s.labels())
        .await
        .unwrap_or_default();
    let bucket = match &target {
        Target::Bucket { client, .. } => Some(client),
        Target::Folder(_) => None,
    };
    let sheets = make_sheets(&records, &chosen, o.frames, target.dir(), bucket).await;
    let cap = crate::engine::budget::SpendingCap::from_config(&ctx.config);
    let mut notes = Vec::new();
    let mut cards = Vec::with_capacity(chosen.len());
    let mut made = 0;
    for &i in &chosen {
        let r = &records[i];
        let mut card = facts(r, &by_id, &cap);
        card.label = labels.remove(&r.local_id);
        match sheets.get(&r.local_id) {
            Some(Ok((file, times))) => {
                made += 1;
                card.sheet = Some(format!("sheets/{}", href_path(file)));
                card.sheet_times = times.clone();
            }
            Some(Err(e)) => card.notes.push(format!("no contact sheet: {e}")),
            None => {}
        }
        links(&target, r, &mut card).await;
        for n in &card.notes {
            notes.push(format!("{}: {n}", r.display_id()));
        }
        cards.push(card);
    }
    let generated = chrono::Local::now().format("%Y-%m-%d %H:%M").to_string();
    let expires = match &target {
        Target::Bucket { ttl, .. } => Some(
            (chrono::Local::now() + chrono::Duration::seconds(ttl.as_secs() as i64))
                .format("%Y-%m-%d %H:%M %Z")
                .to_string(),
        ),
        Target::Folder(_) => None,
    };
    let title = if o.filter.trim().is_empty() {
        "seedance-tui gallery".to_string()
    } else {
        format!("seedance-tui gallery: {}", o.filter.trim())
    };
    let html = page::render(&title, &generated, expires.as_deref(), &cards);
    let index = target.dir().join("index.html");
    std::fs::write(&index, html.as_bytes())
        .map_err(|e| Failure::api(format!("cannot write {}: {e}", index.display())))?;
    let (index, open) = match &target {
        Target::Folder(d) => (
            index.display().to_string(),
            format!(
                "file://{}",
                href_path(&d.join("index.html").to_string_lossy())
            ),
        ),
        Target::Bucket {
            client,
            location,
            staging,
            ttl,
        } => {
            for entry in walk(staging.path()) {
                let rel = entry
                    .strip_prefix(staging.path())
                    .map(|p| p.to_string_lossy().replace('\\', "/"))
                    .unwrap_or_default();
                put_file(client, &location.key(&rel), &entry).await?;
            }
            let key = location.key("index.html");
            let link = client
                .presign_get(&key, *ttl)
                .map_err(|e| Failure::api(e.to_string()))?;
            (location.object_url(&key), link)
        }
    };
    Ok(GalleryReport {
        tasks: cards.len(),
        sheets: made,
        index,
        open,
        expires,
        notes,
    })
}

/// The indices of `records` the filter keeps, in the store's order (newest first).
fn choose(records: &[TaskRecord], filter: &str) -> Vec<usize> {
    let rows: Vec<TaskRow> = records.iter().map(TaskRow::from).collect();
    let mut f = Filter::parse(filter);
    if let Some(g) = f.group().map(str::to_string) {
        f.set_members(Arc::new(crate::app::variants::members_in(&rows, &g)));
    }
    let retried: HashSet<&str> = rows.iter().filter_map(|r| r.retry_of()).collect();
    (0..rows.len())
        .filter(|&i| f.matches(&rows[i], retried.contains(&*rows[i].local_id)))
        .collect()
}

/// A file name made of safe characters only.
fn file_name(local_id: &str) -> String {
    local_id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Where a task's video can be read for its sheet.
enum Source {
    Local(PathBuf),
    /// An object in the gallery's bucket: fetched (bounded) into the staging folder first.
    Object(String),
}

/// Sheets of the chosen tasks with a video on this disk (or in the gallery's own bucket), a few
/// at a time: file name in `dir/sheets` and frame times, or the one line saying why not.
async fn make_sheets(
    records: &[TaskRecord],
    chosen: &[usize],
    frames: usize,
    dir: &Path,
    bucket: Option<&S3Client>,
) -> HashMap<String, Result<(String, Vec<f64>), String>> {
    if frames == 0 {
        return HashMap::new();
    }
    let ffmpeg = sheet::ffmpeg::find();
    let limits = Limits::default();
    let jobs: Vec<(String, Source)> = chosen
        .iter()
        .map(|&i| &records[i])
        .filter_map(|r| {
            let p = r.video_path.as_deref()?;
            let source = match crate::s3::parse_object_url(p) {
                Some((loc, _)) if bucket.is_some_and(|b| b.location().bucket == loc.bucket) => {
                    Source::Object(p.to_string())
                }
                Some(_) => return None,
                None => Source::Local(PathBuf::from(p)),
            };
            Some((r.local_id.clone(), source))
        })
        .collect();
    let parallel = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
        .clamp(1, 4);
    let http = crate::file_download::http_client();
    futures::stream::iter(jobs)
        .map(|(id, source)| {
            let (ffmpeg, limits, http) = (ffmpeg.clone(), limits.clone(), http.clone());
            let name = file_name(&id);
            let out = dir.join("sheets").join(format!("{name}.png"));
            let fetched = dir.join(format!("video-{name}.mp4"));
            async move {
                let made = async {
                    let video = match source {
                        Source::Local(p) => p,
                        Source::Object(url) => {
                            fetch(bucket, &http, &url, &fetched).await?;
                            fetched.clone()
                        }
                    };
                    if !video.is_file() {
                        return Err(format!("the saved video {} is gone", video.display()));
                    }
                    let s = sheet::load_or_build(&video, frames, &limits, ffmpeg.as_deref())
                        .await
                        .map_err(|e| e.to_string())?;
                    let times = s.times();
                    let path = out.clone();
                    tokio::task::spawn_blocking(move || sheet::write_strip(&path, &s))
                        .await
                        .map_err(|e| e.to_string())?
                        .map_err(|e| format!("cannot write {}: {e}", out.display()))?;
                    let name = out
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    Ok((name, times))
                }
                .await;
                // A fetched copy (and its cached strip) is not part of the page.
                let _ = std::fs::remove_file(&fetched);
                let _ = std::fs::remove_file(crate::file_download::part_path(&fetched));
                let _ = std::fs::remove_file(sheet::cache_path(&fetched));
                (id, made)
            }
        })
        .buffer_unordered(parallel)
        .collect()
        .await
}

/// Fetch the object `url` (`s3://…` in `bucket`) to `dest` through a short presigned link, with
/// the downloader's size cap and stall cuts.
async fn fetch(
    bucket: Option<&S3Client>,
    http: &reqwest::Client,
    url: &str,
    dest: &Path,
) -> Result<(), String> {
    let client = bucket.ok_or("no bucket")?;
    let (_, key) = crate::s3::parse_object_url(url).ok_or("not an object URL")?;
    let link = client
        .presign_get(&key, Duration::from_secs(3600))
        .map_err(|e| e.to_string())?;
    crate::file_download::download(http, &link, dest, |_, _| {})
        .await
        .map(|_| ())
        .map_err(|e| format!("cannot fetch {url} for its sheet: {e}"))
}

/// The card's texts: status, prompt, parameters, tokens and cost, lineage.
fn facts(
    r: &TaskRecord,
    by_id: &HashMap<&str, &TaskRecord>,
    cap: &crate::engine::budget::SpendingCap,
) -> Card {
    let mut params = Vec::new();
    if let Ok(req) = CreateRequest::from_json(&r.request_json) {
        let mut put = |k: &str, v: Option<String>| {
            if let Some(v) = v {
                params.push((k.to_string(), v));
            }
        };
        put("resolution", req.resolution.clone());
        put("ratio", req.ratio.clone());
        put("duration", req.duration.map(|d| format!("{d} s")));
        put("seed", req.seed.map(|s| s.to_string()));
        put("camera fixed", req.camera_fixed.map(|b| b.to_string()));
        put("audio", req.generate_audio.map(|b| b.to_string()));
        put("watermark", req.watermark.map(|b| b.to_string()));
        put("service tier", req.service_tier.clone());
    }
    let lineage = r.retry_of.as_deref().map(|of| match by_id.get(of) {
        Some(o) if o.prompt == r.prompt => format!("retry of {}", o.display_id()),
        Some(o) => format!("edited from {}", o.display_id()),
        None => format!("retry of {of}"),
    });
    Card {
        local_id: r.local_id.clone(),
        display_id: r.display_id().to_string(),
        status: r.phase.as_str().to_string(),
        model: r.model.clone(),
        prompt: r.prompt.clone(),
        params,
        tokens: r.tokens,
        cost: r
            .tokens
            .and_then(|t| cap.money(&crate::engine::budget::PriceKey::of_task(r), t))
            .map(|m| cap.format_money(m)),
        created_at: r.created_at,
        lineage,
        ..Card::default()
    }
}

/// The poster and video links of `r` for `target`.
async fn links(target: &Target, r: &TaskRecord, card: &mut Card) {
    let presign = |url: &str| -> Result<String, String> {
        let Target::Bucket { client, ttl, .. } = target else {
            return Err("no bucket".into());
        };
        let (loc, key) = crate::s3::parse_object_url(url).ok_or("not an object URL")?;
        if loc.bucket != client.location().bucket {
            return Err(format!("{url} is in another bucket"));
        }
        client.presign_get(&key, *ttl).map_err(|e| e.to_string())
    };
    // The video.
    match r.video_path.as_deref() {
        Some(p) if p.starts_with("s3://") => match presign(p) {
            Ok(link) => card.video = Some(link),
            Err(_) => card
                .notes
                .push(format!("the video is {p}; make the gallery in that bucket to link it")),
        },
        Some(p) => match target {
            Target::Folder(dir) => card.video = Some(href_path(&relative(dir, Path::new(p)))),
            Target::Bucket { .. } => card.notes.push(format!(
                "the video is on this machine only ({p}); save results to the bucket (download --out s3://…) to play it here"
            )),
        },
        None => {
            if let Some(u) = r.video_url.as_deref().and_then(href_url) {
                card.video = Some(u);
                card.notes
                    .push("the video is the service's link, which expires 24 h after the task finished (d saves it)".into());
            }
        }
    }
    // The poster: the saved last frame (uploaded next to the page for a bucket).
    match (r.last_frame_path.as_deref(), target) {
        (Some(p), _) if p.starts_with("s3://") => card.poster = presign(p).ok(),
        (Some(p), Target::Folder(dir)) => {
            card.poster = Some(href_path(&relative(dir, Path::new(p))))
        }
        (Some(p), Target::Bucket { staging, .. }) => {
            let ext = Path::new(p)
                .extension()
                .map(|e| file_name(&e.to_string_lossy()))
                .unwrap_or_else(|| "png".into());
            let name = format!("posters/{}.{ext}", file_name(&r.local_id));
            let copied = std::fs::create_dir_all(staging.path().join("posters"))
                .and_then(|_| std::fs::copy(p, staging.path().join(&name)));
            if copied.is_ok()
                && let Target::Bucket {
                    client,
                    location,
                    ttl,
                    ..
                } = target
            {
                card.poster = client.presign_get(&location.key(&name), *ttl).ok();
            }
        }
        (None, _) => card.poster = r.last_frame_url.as_deref().and_then(href_url),
    }
    // In a bucket the sheet is an object too: its link is presigned.
    if let (
        Some(s),
        Target::Bucket {
            client,
            location,
            ttl,
            ..
        },
    ) = (card.sheet.clone(), target)
    {
        card.sheet = client.presign_get(&location.key(&s), *ttl).ok();
    }
}

/// `to` relative to the folder `from` (both made absolute; `..` where they part).
fn relative(from: &Path, to: &Path) -> String {
    let abs = |p: &Path| {
        std::fs::canonicalize(p).unwrap_or_else(|_| {
            std::env::current_dir()
                .map(|d| d.join(p))
                .unwrap_or_else(|_| p.to_path_buf())
        })
    };
    let (from, to) = (abs(from), abs(to));
    let a: Vec<Component> = from.components().collect();
    let b: Vec<Component> = to.components().collect();
    let common = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let mut parts: Vec<String> = vec!["..".into(); a.len() - common];
    parts.extend(
        b[common..]
            .iter()
            .map(|c| c.as_os_str().to_string_lossy().into_owned()),
    );
    parts.join("/")
}

/// Every file under `dir`.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

async fn put_file(client: &S3Client, key: &str, path: &Path) -> Result<(), Failure> {
    let bytes = tokio::fs::read(path)
        .await
        .map_err(|e| Failure::api(format!("cannot read {}: {e}", path.display())))?;
    let len = bytes.len() as u64;
    let content_type = match path.extension().and_then(|e| e.to_str()) {
        Some("html") => "text/html",
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("webp") => "image/webp",
        _ => "application/octet-stream",
    };
    let body = futures::stream::once(async move { Ok(bytes::Bytes::from(bytes)) });
    client
        .put_stream(key, body, Some(len), content_type, &[], &mut |_| {})
        .await
        .map(|_| ())
        .map_err(|e| Failure::api(format!("cannot upload {key}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_video_is_linked_relative_to_the_page() {
        assert_eq!(
            relative(Path::new("/r/gallery"), Path::new("/r/videos/a.mp4")),
            "../videos/a.mp4"
        );
        assert_eq!(
            relative(Path::new("/r"), Path::new("/r/a b.mp4")),
            "a b.mp4"
        );
        assert_eq!(file_name("ab/../c d"), "ab____c_d");
    }
}

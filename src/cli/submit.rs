//! `submit`: build a create request from flags (or a JSON file), validate it, send it once, and
//! optionally wait for the result and save it.

use super::args::SubmitArgs;
use super::exit::{Code, Failure};
use crate::api::types::{ContentItem, CreateRequest, MediaKind, Role, default_roles};
use crate::api::validate::{Target, validate_for, warnings};
use crate::config::RequestDefaults;
use crate::context::Context;
use crate::engine::SubmitError;
use crate::engine::asset_files::AssetFiles;
use crate::engine::assets::{self, PlannedUpload, ReferenceBucket};
use crate::runtime::headless::{self, Progress, WatchPlan};

/// Split `value@role` when the suffix is a known role; URLs may contain `@` themselves.
pub(crate) fn split_role(value: &str) -> (String, Option<Role>) {
    if let Some((head, tail)) = value.rsplit_once('@') {
        let role = Role::parse(tail);
        if !matches!(role, Role::Other(_)) {
            return (head.to_string(), Some(role));
        }
    }
    (value.to_string(), None)
}

/// [`split_role`], refusing a `@word` suffix that is not a role (`ref.png@bogus`) unless the
/// whole text names an existing file: the message names the role, not a file to read.
pub(crate) fn split_role_checked(value: &str) -> Result<(String, Option<Role>), Failure> {
    let (target, role) = split_role(value);
    if role.is_none()
        && !assets::is_url(value)
        && let Some((head, tail)) = value.rsplit_once('@')
        && !tail.is_empty()
        && tail
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && !std::path::Path::new(value).exists()
    {
        return Err(Failure::usage(format!(
            "`{}` is not a role (in `{}`): use first_frame or last_frame, or reference_image, reference_video, reference_audio",
            crate::sanitize::line(tail),
            crate::sanitize::line(head).into_owned() + "@" + &crate::sanitize::line(tail)
        )));
    }
    Ok((target, role))
}

/// The request body `args` describe, before validation. Local files become `data:` URLs (their
/// names returned with it), or with `bucket` set local references are planned for upload
/// (returned) and the request carries their presigned links.
pub(crate) fn build_request_with(
    args: &SubmitArgs,
    defaults: &RequestDefaults,
    bucket: Option<&dyn Fn(Option<i64>) -> ReferenceBucket>,
) -> Result<(CreateRequest, Vec<PlannedUpload>, AssetFiles), Failure> {
    let mut req = match &args.json {
        Some(path) => {
            // A regular file, read with a cap: a pipe or `/dev/zero` must neither hang nor fill
            // the memory.
            let bytes = assets::read_regular(path, assets::MAX_REQUEST_FILE_BYTES, "request")
                .map_err(|e| Failure::usage(e.to_string()))?;
            let text = String::from_utf8(bytes)
                .map_err(|_| Failure::usage(format!("{} is not UTF-8 text", path.display())))?;
            CreateRequest::from_json(&text).map_err(|e| {
                Failure::usage(format!(
                    "{} is not a create request: {e} (see `seedance-tui submit --dry-run` for the format)",
                    path.display()
                ))
            })?
        }
        // The ratio is decided once the content is known (`ratio_when_unset`).
        None => CreateRequest {
            model: defaults.model.clone(),
            duration: Some(defaults.duration),
            resolution: Some(defaults.resolution.clone()),
            watermark: Some(defaults.watermark),
            generate_audio: Some(defaults.generate_audio),
            return_last_frame: defaults.return_last_frame.then_some(true),
            ..CreateRequest::default()
        },
    };
    if let Some(p) = &args.prompt {
        match req
            .content
            .iter_mut()
            .find(|c| matches!(c, ContentItem::Text { .. }))
        {
            Some(ContentItem::Text { text }) => *text = p.clone(),
            _ => req.content.insert(0, ContentItem::text(p.clone())),
        }
    }
    if let Some(m) = &args.model {
        req.model = m.clone();
    }
    if let Some(r) = &args.ratio {
        req.ratio = Some(r.clone());
    }
    if let Some(d) = args.duration {
        req.duration = Some(d);
    }
    if let Some(r) = &args.resolution {
        req.resolution = Some(r.clone());
    }
    if let Some(s) = args.seed {
        req.seed = Some(s);
    }
    if args.watermark {
        req.watermark = Some(true);
    }
    if args.no_watermark {
        req.watermark = Some(false);
    }
    if args.audio_gen {
        req.generate_audio = Some(true);
    }
    if args.no_audio_gen {
        req.generate_audio = Some(false);
    }
    if args.last_frame {
        req.return_last_frame = Some(true);
    }
    if args.web_search {
        let tools = req.tools.get_or_insert_with(Vec::new);
        if !tools
            .iter()
            .any(|t| t.get("type").and_then(|v| v.as_str()) == Some("web_search"))
        {
            tools.push(serde_json::json!({"type": "web_search"}));
        }
    }
    if let Some(p) = args.priority {
        req.priority = Some(p);
    }
    if let Some(id) = &args.safety_identifier {
        req.safety_identifier = Some(id.clone());
    }
    if let Some(url) = &args.callback_url {
        req.callback_url = Some(url.clone());
    }
    if let Some(tier) = &args.service_tier {
        req.service_tier = Some(tier.clone());
    }
    if let Some(secs) = args.expires_after {
        req.execution_expires_after = Some(secs);
    }
    if args.camera_fixed {
        req.camera_fixed = Some(true);
    }
    if args.draft {
        req.draft = Some(true);
    }
    if let Some(n) = args.frames {
        // `frames` takes the place of `duration` (the default duration would contradict it).
        req.frames = Some(n);
        if args.duration.is_none() {
            req.duration = None;
        }
    }
    // The links must live as long as the task may wait and run.
    let bucket = bucket.map(|make| make(req.execution_expires_after));
    let mut uploads = Vec::new();
    let mut files = AssetFiles::default();
    // Every item's role, a missing one decided with the others in view.
    let given: Vec<(MediaKind, Option<Role>)> = [
        (MediaKind::Image, &args.image),
        (MediaKind::Video, &args.video),
        (MediaKind::Audio, &args.audio),
    ]
    .into_iter()
    .flat_map(|(kind, values)| values.iter().map(move |v| (kind, split_role(v).1)))
    .collect();
    let mut roles = default_roles(&given).into_iter();
    for (kind, values) in [
        (MediaKind::Image, &args.image),
        (MediaKind::Video, &args.video),
        (MediaKind::Audio, &args.audio),
    ] {
        // Local files are checked from their headers before anything is sent (and paid for).
        let mut seconds = Vec::new();
        for v in values {
            let (target, _) = split_role_checked(v)?;
            if !assets::is_url(&target) && kind != MediaKind::Video {
                let facts = assets::check_local_media(std::path::Path::new(target.trim()), kind)
                    .map_err(|e| Failure::usage(e.to_string()))?;
                seconds.extend(facts.seconds);
            }
        }
        assets::check_total_seconds(kind, &seconds).map_err(|e| Failure::usage(e.to_string()))?;
        for v in values {
            let (target, _) = split_role(v);
            let role = roles.next();
            let url = assets::resolve_reference(&target, kind, bucket.as_ref(), &mut uploads)
                .map_err(|e| match e {
                    assets::AssetError::Upload { .. } => Failure::api(e.to_string()),
                    _ => Failure::usage(e.to_string()),
                })?;
            if !assets::is_url(&target) {
                files.insert(&url, &target);
            }
            req.content.push(ContentItem::media(kind, url, role));
        }
    }
    if args.json.is_none() && req.ratio.is_none() {
        req.ratio = Some(req.ratio_when_unset(&defaults.ratio));
    }
    Ok((req, uploads, files))
}

/// The bucket for local references: `--upload-to`, else `[assets] upload_to`.
fn reference_bucket(
    ctx: &Context,
    args: &SubmitArgs,
) -> Result<Option<crate::s3::S3Location>, Failure> {
    Ok(args
        .upload_to
        .clone()
        .or_else(|| ctx.engine.reference_bucket.clone()))
}

/// Upload the planned reference files (each once: an object already under its content address
/// is kept); one line per file on stderr.
async fn upload_references(ctx: &Context, uploads: &[PlannedUpload]) -> Result<(), Failure> {
    let done = ctx
        .engine
        .upload_references(uploads)
        .await
        .map_err(Failure::api)?;
    for (u, uploaded) in uploads.iter().zip(done) {
        let how = if uploaded {
            "uploaded"
        } else {
            "already in the bucket:"
        };
        eprintln!(
            "{how} {} ({} bytes) -> {}",
            u.file.path.display(),
            u.file.size,
            u.object_url
        );
    }
    Ok(())
}

/// Run `submit`.
pub(crate) async fn run(ctx: &Context, args: &SubmitArgs) -> Result<Code, Failure> {
    if args.repeat > 1 || args.max_in_flight.is_some() || args.skip_invalid || args.detach {
        return Err(Failure::usage(
            "--repeat, --max-in-flight, --skip-invalid and --detach go with --batch FILE or --prompts FILE",
        ));
    }
    let location = reference_bucket(ctx, args)?;
    let make_bucket = location.map(|location| {
        move |expires: Option<i64>| ctx.engine.reference_bucket_for(&location, expires)
    });
    let bucket = make_bucket
        .as_ref()
        .map(|f| f as &dyn Fn(Option<i64>) -> ReferenceBucket);
    let (req, uploads, files) = build_request_with(args, &ctx.config.defaults, bucket)?;
    let target = Target::with_relay(ctx.engine.relay);
    let problems = validate_for(&req, &target);
    for w in warnings(&req, &target) {
        eprintln!("warning: {w}");
    }
    // Reference videos' seconds count in the estimate (and so against the cap).
    let videos = if args.dry_run || (ctx.engine.spending_cap().is_set() && !args.over_budget) {
        crate::engine::input_video::read(&req, &crate::file_download::http_client()).await
    } else {
        crate::engine::input_video::known(&req)
    };
    if args.dry_run {
        println!("{}", crate::sanitize::json_text(&req.to_json_pretty()));
        crate::errln!("{}", estimate_line(ctx, &req, &videos));
        for u in &uploads {
            crate::errln!(
                "would upload {} ({} bytes) to {}",
                u.file.path.display(),
                u.file.size,
                u.object_url
            );
        }
        for p in &problems {
            crate::errln!("problem: {p}");
        }
        return Ok(if problems.is_empty() {
            Code::Ok
        } else {
            Code::Usage
        });
    }
    if !problems.is_empty() {
        let lines: Vec<String> = problems.iter().map(|p| format!("  - {p}")).collect();
        return Err(Failure::usage(format!(
            "the request is not valid; nothing was sent:\n{}",
            lines.join("\n")
        )));
    }
    let out_dir = args.out.clone().unwrap_or_else(|| ctx.output_dir.clone());
    ctx.require_key()?;
    if !args.over_budget {
        let planned = [crate::engine::budget::Planned::request(&req)];
        check_budget(ctx, &planned)
            .await
            .map_err(|f| with_note(f, videos.note()))?;
    }
    super::preflight::check(ctx).await?;
    if args.wait {
        super::preflight::check_destination(ctx, &out_dir).await?;
    }
    upload_references(ctx, &uploads).await?;
    let engine = if args.over_budget {
        ctx.engine.without_spending_cap()
    } else {
        ctx.engine.clone()
    };
    let record = match engine.submit_with_files(req.to_json(), None, &files).await {
        Ok(r) => r,
        Err(SubmitError::OverBudget(o)) => return Err(with_note(over_budget(&o), videos.note())),
        Err(SubmitError::Api { record, error }) => {
            let unknown = error.create_outcome_unknown();
            let mut f = Failure::from_create(error);
            if unknown {
                f.message.push_str(&format!(
                    "\nthe task may have been created: it is stored as `submit_unknown` (local id {}); check before sending it again",
                    record.local_id
                ));
            }
            return Err(f);
        }
        Err(SubmitError::Invalid { problems }) => {
            let lines: Vec<String> = problems.iter().map(|p| format!("  - {p}")).collect();
            return Err(Failure::usage(lines.join("\n")));
        }
        Err(e) => return Err(Failure::usage(e.to_string())),
    };
    if !args.wait {
        print_record(&record, args.json_out);
        return Ok(Code::Ok);
    }
    let plan = WatchPlan {
        daemon: false,
        download_to: Some(out_dir),
        progress: Progress::Stderr,
        ..WatchPlan::default()
    };
    let done = headless::run(ctx, vec![record], plan).await?;
    for r in &done.records {
        // A followed record has its request's facts, not the request the JSON shows.
        let whole = match (args.json_out, &r.request_facts) {
            (true, Some(_)) => ctx.engine.find(&r.local_id).await.ok(),
            _ => None,
        };
        print_record(whole.as_ref().unwrap_or(r), args.json_out);
    }
    if !done.failed_downloads.is_empty() {
        return Err(Failure::api(format!(
            "the task finished but its results were not saved: {}\nsave them later with `seedance-tui download ID`",
            done.failed_downloads.join("; ")
        )));
    }
    Ok(super::watch::exit_code_for(&done.records))
}

/// `estimate: about N tokens (≈ ¥X)`, and what it leaves out.
fn estimate_line(
    ctx: &Context,
    req: &crate::api::types::CreateRequest,
    videos: &crate::engine::input_video::InputVideos,
) -> String {
    let planned = crate::engine::budget::Planned::request(req);
    let tokens = planned.tokens;
    let cap = ctx.engine.spending_cap();
    let money = cap
        .money(&planned.price, tokens)
        .map(|m| format!(" (≈ {})", cap.format_money(m)))
        .unwrap_or_default();
    let input = if videos.seconds > 0.0 {
        format!(", {:.1} s of input video included", videos.seconds)
    } else {
        String::new()
    };
    match videos.note() {
        Some(note) => format!("estimate: about {tokens} tokens{money}{input}; {note}"),
        None => format!("estimate: about {tokens} tokens{money}{input}"),
    }
}

/// A failure's message with `note` (what the estimate left out) on a line of its own.
fn with_note(mut f: Failure, note: Option<String>) -> Failure {
    if let Some(note) = note {
        f.message.push_str(&format!("\n{note}"));
    }
    f
}

/// Refuse (exit 2, nothing sent) when `planned` would pass today's spending cap.
pub(crate) async fn check_budget(
    ctx: &Context,
    planned: &[crate::engine::budget::Planned],
) -> Result<(), Failure> {
    use crate::engine::budget::BudgetError;
    match ctx.engine.may_spend(planned).await {
        Ok(_) => Ok(()),
        Err(BudgetError::Over(o)) => Err(over_budget(&o)),
        Err(e @ BudgetError::Store(_)) => Err(Failure::api(e.to_string())),
    }
}

/// The refusal of a request that would pass today's cap (exit 2, nothing sent).
pub(crate) fn over_budget(o: &crate::engine::budget::OverBudget) -> Failure {
    Failure::usage(format!(
        "{o}\nraise [budget] in the config, wait until tomorrow, or pass --over-budget to send it anyway"
    ))
}

/// Print a task's id, or its JSON with `json`.
pub(crate) fn print_record(r: &crate::store::TaskRecord, json: bool) {
    if json {
        println!(
            "{}",
            crate::sanitize::json_pretty(&super::task_json::record_json(r))
        );
    } else {
        crate::outln!("{}", r.display_id());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The request `args` describe, without a bucket.
    fn build_request(
        args: &SubmitArgs,
        defaults: &RequestDefaults,
    ) -> Result<CreateRequest, Failure> {
        build_request_with(args, defaults, None).map(|(req, _, _)| req)
    }

    #[test]
    fn role_suffix_is_split_only_for_known_roles() {
        assert_eq!(
            split_role("a.png@last_frame"),
            ("a.png".to_string(), Some(Role::LastFrame))
        );
        assert_eq!(
            split_role("https://u@host/x.png"),
            ("https://u@host/x.png".to_string(), None)
        );
        let bad = split_role_checked("ref.png@bogus").expect_err("not a role");
        assert!(
            bad.message.contains("`bogus` is not a role"),
            "{}",
            bad.message
        );
        assert!(split_role_checked("https://u@host/x.png").is_ok());
        assert!(split_role_checked("ref.png@first_frame").is_ok());
    }

    #[test]
    fn a_frame_image_without_a_chosen_ratio_sends_adaptive() {
        let defaults = RequestDefaults::default();
        assert_eq!(defaults.ratio, "16:9");
        let text = SubmitArgs {
            prompt: Some("a fox".into()),
            ..SubmitArgs::default()
        };
        let req = build_request(&text, &defaults).expect("builds");
        assert_eq!(req.ratio.as_deref(), Some("16:9"), "text: [defaults] ratio");
        for image in ["https://x/a.jpg", "https://x/a.jpg@first_frame"] {
            let framed = SubmitArgs {
                prompt: Some("a fox".into()),
                image: vec![image.into()],
                ..SubmitArgs::default()
            };
            let req = build_request(&framed, &defaults).expect("builds");
            assert_eq!(req.ratio.as_deref(), Some("adaptive"), "{image}");
        }
        let chosen = SubmitArgs {
            prompt: Some("a fox".into()),
            ratio: Some("9:16".into()),
            image: vec!["https://x/a.jpg".into()],
            ..SubmitArgs::default()
        };
        let req = build_request(&chosen, &defaults).expect("builds");
        assert_eq!(req.ratio.as_deref(), Some("9:16"), "a chosen ratio is kept");
        let references = SubmitArgs {
            prompt: Some("a fox".into()),
            image: vec![
                "https://x/a.jpg@reference_image".into(),
                "https://x/b.jpg@reference_image".into(),
            ],
            ..SubmitArgs::default()
        };
        let req = build_request(&references, &defaults).expect("builds");
        assert_eq!(
            req.ratio.as_deref(),
            Some("16:9"),
            "references: [defaults] ratio"
        );
    }

    #[test]
    fn every_documented_field_has_a_flag() {
        let args = SubmitArgs {
            prompt: Some("a fox".into()),
            model: Some("doubao-seedance-1-0-pro-250528".into()),
            callback_url: Some("https://hooks.example.com/seedance".into()),
            service_tier: Some("flex".into()),
            expires_after: Some(7200),
            camera_fixed: true,
            frames: Some(57),
            ..SubmitArgs::default()
        };
        let req = build_request(&args, &RequestDefaults::default()).expect("builds");
        assert_eq!(
            req.callback_url.as_deref(),
            Some("https://hooks.example.com/seedance")
        );
        assert_eq!(req.service_tier.as_deref(), Some("flex"));
        assert_eq!(req.execution_expires_after, Some(7200));
        assert_eq!(req.camera_fixed, Some(true));
        assert_eq!((req.frames, req.duration), (Some(57), None));
        let problems = crate::api::validate::validate_for(
            &req,
            &crate::api::validate::Target::with_relay(false),
        );
        assert!(problems.is_empty(), "{problems:?}");
        let draft = SubmitArgs {
            prompt: Some("a fox".into()),
            model: Some("doubao-seedance-1-5-pro-251215".into()),
            draft: true,
            ..SubmitArgs::default()
        };
        let req = build_request(&draft, &RequestDefaults::default()).expect("builds");
        assert_eq!(req.draft, Some(true));
    }

    #[test]
    fn an_image_without_a_role_gets_the_composers_role() {
        let roles = |image: &[&str], video: &[&str]| {
            let args = SubmitArgs {
                prompt: Some("a fox".into()),
                image: image.iter().map(|s| s.to_string()).collect(),
                video: video.iter().map(|s| s.to_string()).collect(),
                ..SubmitArgs::default()
            };
            let req = build_request(&args, &RequestDefaults::default()).expect("builds");
            req.content
                .iter()
                .filter_map(|c| c.as_media().and_then(|m| m.2.cloned()))
                .collect::<Vec<Role>>()
        };
        assert_eq!(
            roles(&["https://x/a.jpg", "https://x/b.jpg"], &[]),
            [Role::FirstFrame, Role::LastFrame]
        );
        assert_eq!(
            roles(&["https://x/a.jpg@first_frame", "https://x/b.jpg"], &[]),
            [Role::FirstFrame, Role::LastFrame]
        );
        assert_eq!(
            roles(&["https://x/a.jpg"], &["https://x/v.mp4"]),
            [Role::ReferenceImage, Role::ReferenceVideo],
            "beside a video the image is a reference, not a first frame"
        );
        assert_eq!(
            roles(
                &["https://x/a.jpg", "https://x/b.jpg", "https://x/c.jpg"],
                &[]
            ),
            [
                Role::ReferenceImage,
                Role::ReferenceImage,
                Role::ReferenceImage
            ]
        );
    }

    #[test]
    fn flags_override_defaults_and_prompt_becomes_the_text_item() {
        let args = SubmitArgs {
            prompt: Some("apple tea".into()),
            duration: Some(-1),
            image: vec![
                "https://x/a.jpg@first_frame".into(),
                "https://x/b.jpg@last_frame".into(),
            ],
            ..SubmitArgs::default()
        };
        let req = build_request(&args, &RequestDefaults::default()).expect("builds");
        assert_eq!(req.prompt(), Some("apple tea"));
        assert_eq!(req.duration, Some(-1));
        assert_eq!(req.content.len(), 3);
        assert_eq!(
            req.content[2].as_media().and_then(|m| m.2.cloned()),
            Some(Role::LastFrame)
        );
    }

    #[test]
    fn local_files_keep_their_base_names_and_links_have_none() {
        let dir = tempfile::tempdir().expect("tempdir");
        let png = crate::engine::media_probe::samples::png;
        std::fs::write(dir.path().join("harbour-ref.png"), png(400, 300)).expect("write");
        std::fs::write(dir.path().join("last.png"), png(420, 300)).expect("write");
        let first = dir.path().join("harbour-ref.png");
        let args = SubmitArgs {
            prompt: Some("boats".into()),
            image: vec![
                format!("{}@first_frame", first.display()),
                format!("{}/last.png@last_frame", dir.path().display()),
                "https://x/c.jpg@reference_image".into(),
            ],
            ..SubmitArgs::default()
        };
        let (req, _, files) =
            build_request_with(&args, &RequestDefaults::default(), None).expect("builds");
        let urls: Vec<&str> = req
            .content
            .iter()
            .filter_map(|c| c.as_media().map(|m| m.1))
            .collect();
        assert_eq!(urls.len(), 3);
        assert_eq!(files.name(urls[0]), Some("harbour-ref.png"));
        assert_eq!(files.name(urls[1]), Some("last.png"));
        assert_eq!(files.name(urls[2]), None);
        let json = files.to_json().expect("names");
        assert!(
            !json.contains(&*dir.path().to_string_lossy()),
            "no folders: {json}"
        );
    }
}

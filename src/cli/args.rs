//! Command-line arguments (clap): global options and the headless subcommands.

use super::candidates;
use crate::destination::Destination;
use clap::{Args, Parser, Subcommand, ValueEnum};
use clap_complete::engine::ArgValueCompleter;
use std::ffi::OsStr;
use std::path::PathBuf;

/// A terminal dashboard and headless CLI for Seedance 2.0 video generation (Volcengine Ark task API).
///
/// With no command it opens the dashboard. The API key comes from SEEDANCE_API_KEY (or ARK_API_KEY).
#[derive(Debug, Parser)]
#[command(name = "seedance-tui", version = crate::VERSION, about, long_about = None)]
pub struct Cli {
    #[command(flatten)]
    pub(crate) global: GlobalArgs,
    #[command(subcommand)]
    pub(crate) command: Option<Command>,
}

/// Options every command takes.
#[derive(Debug, Clone, Args, Default)]
pub struct GlobalArgs {
    /// Run against the embedded simulator with a throw-away store (no key needed).
    #[arg(long, global = true)]
    pub demo: bool,
    /// The config file (default: the XDG config path; see `config path`).
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// The task store: a SQLite file path or sqlite:PATH (default: `[store] url` in the
    /// config, else the data folder's store.sqlite3). A URL of another kind is refused.
    /// Checked when the context is resolved, not by the parser: the parser's error would
    /// repeat the value, and a database URL can carry a password.
    #[arg(long, global = true, value_name = "PATH", env = "SEEDANCE_STORE")]
    pub store: Option<PathBuf>,
    /// The profile (base URL + key variable) from the config.
    #[arg(long, global = true, value_name = "NAME", add = ArgValueCompleter::new(candidates::profiles))]
    pub profile: Option<String>,
    /// Override the profile's base URL, e.g. https://api.laozhang.ai/seedance/api/v3.
    #[arg(long, global = true, value_name = "URL")]
    pub base_url: Option<String>,
    /// Dashboard theme (default, dark, light, high-contrast, or a user theme); the dashboard only.
    #[arg(long, value_name = "NAME", add = ArgValueCompleter::new(candidates::themes))]
    pub theme: Option<String>,
    /// Enable mouse capture in the dashboard (the dashboard only).
    #[arg(long)]
    pub mouse: bool,
    /// Append every HTTP exchange with the API to FILE, one JSON line each (the key is never
    /// written); attach it to a bug report, or replay it with `sim --replay FILE`.
    #[arg(long, global = true, value_name = "FILE")]
    pub trace: Option<PathBuf>,
    /// Write the program's log to FILE (level from SEEDANCE_LOG: error, warn, info (default),
    /// debug, trace); never to the terminal.
    #[arg(long, global = true, value_name = "FILE")]
    pub log: Option<PathBuf>,
}

// Parsed once per run: the size of the largest variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Create a video task.
    Submit(SubmitArgs),
    /// Show one task (refreshed from the API when possible) as JSON.
    Get {
        /// Task id, short id, local id, or a unique prefix.
        #[arg(add = ArgValueCompleter::new(candidates::task_ids))]
        id: String,
    },
    /// List tasks in the store.
    Ls {
        /// Only tasks in this status (queued, running, succeeded, failed, expired, cancelled,
        /// pending, submitting, submit_unknown, rejected). Repeatable.
        #[arg(long, add = ArgValueCompleter::new(candidates::statuses))]
        status: Vec<String>,
        /// Print one JSON array instead of a table.
        #[arg(long, conflicts_with = "jsonl")]
        json: bool,
        /// Print one JSON object a line (for streaming).
        #[arg(long)]
        jsonl: bool,
    },
    /// Poll unfinished tasks until they finish; one line per change. Exits 1 if any failed.
    Watch {
        /// Tasks to watch (default: every unfinished task in the store).
        #[arg(add = ArgValueCompleter::new(candidates::task_ids))]
        ids: Vec<String>,
        /// Download results as tasks succeed.
        #[arg(long)]
        download: bool,
        /// Output folder (or s3://BUCKET/PREFIX) for --download.
        #[arg(long, value_name = "DIR|s3://BUCKET/PREFIX")]
        out: Option<Destination>,
        /// Keep running: poll every task that appears in the store (submitted by dashboards or
        /// other commands) until SIGINT/SIGTERM. Only one process per store polls at a time.
        #[arg(long)]
        daemon: bool,
    },
    /// Resubmit stored requests as new tasks linked to the old ones.
    Retry {
        /// Tasks to retry.
        #[arg(add = ArgValueCompleter::new(candidates::task_ids))]
        ids: Vec<String>,
        /// Retry every failed task (with --since, only recent ones).
        #[arg(long)]
        failed: bool,
        /// With --failed: only tasks created within this long, e.g. 30m, 1h, 2d.
        #[arg(long, value_name = "AGE")]
        since: Option<String>,
        /// Resubmit even tasks that were already retried (or are not failed).
        #[arg(long)]
        again: bool,
        /// Print how many would be sent and the estimated tokens (and money), send nothing.
        #[arg(long)]
        dry_run: bool,
        /// Send at most N in this run.
        #[arg(long, value_name = "N")]
        max: Option<usize>,
        /// Send even if it passes today's spending cap (`[budget]`).
        #[arg(long)]
        over_budget: bool,
    },
    /// Download a task's video (and last frame) to a folder or a bucket.
    Download {
        /// Tasks to download.
        #[arg(add = ArgValueCompleter::new(candidates::task_ids))]
        ids: Vec<String>,
        /// A folder, or s3://BUCKET/PREFIX (default: [download] output_dir).
        #[arg(long, value_name = "DIR|s3://BUCKET/PREFIX")]
        out: Option<Destination>,
    },
    /// Write one static page (index.html and contact-sheet PNGs) to review tasks in a browser:
    /// poster, contact sheet, video, prompt, parameters, tokens, status, lineage, batch label.
    Gallery(GalleryArgs),
    /// Cancel a queued task (a running or finished one cannot be cancelled; see `delete`).
    Cancel {
        /// The task to cancel.
        #[arg(add = ArgValueCompleter::new(candidates::task_ids))]
        id: String,
    },
    /// Delete finished tasks' records on the server, or with --local remove rows that never
    /// reached the server (refused creates). Asks first on a terminal; needs --yes otherwise.
    Delete {
        /// The tasks to delete.
        #[arg(required = true, add = ArgValueCompleter::new(candidates::task_ids))]
        ids: Vec<String>,
        /// Remove the local rows of creates the server refused (nothing was started or billed);
        /// nothing is sent.
        #[arg(long)]
        local: bool,
        /// Do not ask.
        #[arg(long, short = 'y')]
        yes: bool,
    },
    /// Take a server task as the outcome of an uncertain create (a `submit_unknown` row) that
    /// reconciliation found by its parameters only ("probable, not confirmed"). Asks y/N.
    Adopt {
        /// The uncertain row (local id or a unique prefix).
        #[arg(add = ArgValueCompleter::new(candidates::task_ids))]
        id: String,
        /// The server task it made, as the row's note names it.
        task_id: String,
        /// Do not ask.
        #[arg(long, short = 'y')]
        yes: bool,
    },
    /// Run the Ark simulator alone and print its base URLs.
    Sim(SimArgs),
    /// Configuration helpers.
    Config {
        #[command(subcommand)]
        what: ConfigCommand,
    },
    /// Store helpers: copy one store into another (SQLite to PostgreSQL, or back).
    Store {
        #[command(subcommand)]
        what: StoreCommand,
    },
    /// Check the set-up (key, base URL, store, output folder, terminal, config, clock): one line
    /// per check with what to do. Exits 0 when every check passes, 1 otherwise.
    Doctor(DoctorArgs),
    /// Print the shell completion script for SHELL (completes task ids, profiles, models, themes).
    Completions {
        /// The shell to complete for.
        shell: Shell,
    },
    /// Print the man page (or a subcommand's), or write every page into a folder.
    Man {
        /// A subcommand, e.g. `submit` (default: the main page).
        #[arg(add = ArgValueCompleter::new(subcommands))]
        command: Option<String>,
        /// Write seedance-tui.1 and a seedance-tui-COMMAND.1 per subcommand into this folder.
        #[arg(long, value_name = "DIR", conflicts_with = "command")]
        dir: Option<PathBuf>,
    },
}

/// Shells `completions` can write a script for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Shell {
    Bash,
    Zsh,
    Fish,
    Elvish,
    Powershell,
}

#[derive(Debug, Args, Default)]
pub(crate) struct DoctorArgs {
    /// Print the checks as JSON (`{"ok": bool, "checks": [...]}`) instead of lines.
    #[arg(long)]
    pub(crate) json: bool,
    /// Check this output folder instead of the configured one.
    #[arg(long, value_name = "DIR")]
    pub(crate) out: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum StoreCommand {
    /// Copy every task (with its request and status history), draft, template and removed
    /// queue line into another store. Tasks already there are left as they are, so running it
    /// again copies nothing new.
    Copy {
        /// The store to copy from: a file, sqlite:PATH or postgres://USER@HOST[:PORT]/DB.
        #[arg(long, value_name = "STORE")]
        from: PathBuf,
        /// The store to copy into (created when it does not exist).
        #[arg(long, value_name = "STORE")]
        to: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum ConfigCommand {
    /// Print the config file's path.
    Path,
    /// Print an example config with every setting at its default.
    Example,
}

#[derive(Debug, Args, Default)]
pub(crate) struct SubmitArgs {
    /// The prompt text.
    #[arg(long, short = 'p')]
    pub(crate) prompt: Option<String>,
    /// Model id (default from the config).
    #[arg(long, short = 'm', add = ArgValueCompleter::new(candidates::models))]
    pub(crate) model: Option<String>,
    /// 16:9, 4:3, 1:1, 3:4, 9:16, 21:9 or adaptive.
    #[arg(long)]
    pub(crate) ratio: Option<String>,
    /// Seconds (4-15 on 2.0) or -1 to let the model choose.
    #[arg(long, allow_hyphen_values = true)]
    pub(crate) duration: Option<i64>,
    /// 480p, 720p, 1080p (standard only) or 4k.
    #[arg(long)]
    pub(crate) resolution: Option<String>,
    /// An image: URL or local file, with an optional @role (first_frame, last_frame, reference_image).
    /// Without one: the first frame, a second image the last frame; a reference_image beside a
    /// video, an audio or a reference, or when there are more than two images.
    #[arg(long, value_name = "URL_OR_FILE[@ROLE]")]
    pub(crate) image: Vec<String>,
    /// A reference video: https:// or asset:// URL, or a local mp4/mov file with --upload-to.
    #[arg(long, value_name = "URL_OR_FILE[@ROLE]")]
    pub(crate) video: Vec<String>,
    /// A reference audio: URL or local mp3/wav file.
    #[arg(long, value_name = "URL_OR_FILE[@ROLE]")]
    pub(crate) audio: Vec<String>,
    /// Seed: -1 (random) or 0..4294967295.
    #[arg(long, allow_hyphen_values = true)]
    pub(crate) seed: Option<i64>,
    /// The service POSTs the task to this http(s) URL on each status change (`callback_url`).
    #[arg(long, value_name = "URL")]
    pub(crate) callback_url: Option<String>,
    /// `default` or `flex` (offline, half price; 1.x models only, not 2.x).
    #[arg(long, value_name = "TIER")]
    pub(crate) service_tier: Option<String>,
    /// Seconds from creation after which a queued or running task expires (3600..259200;
    /// `execution_expires_after`, default 172800).
    #[arg(long, value_name = "SECS")]
    pub(crate) expires_after: Option<i64>,
    /// Keep the camera still (`camera_fixed`; 1.x models only).
    #[arg(long)]
    pub(crate) camera_fixed: bool,
    /// A draft: a cheap 480p preview to build on later (`draft`; 1.5 pro only).
    #[arg(long)]
    pub(crate) draft: bool,
    /// The length in frames instead of seconds (`frames`, 25+4n in 29..289; 1.0 models only).
    #[arg(long, value_name = "N")]
    pub(crate) frames: Option<i64>,
    /// Let the model search the web for the prompt (`tools: [{"type": "web_search"}]`; 2.x).
    #[arg(long)]
    pub(crate) web_search: bool,
    /// Queue priority 0..9 (higher runs sooner among this account's queued tasks; never pre-empts; 2.x).
    #[arg(long, value_name = "0-9")]
    pub(crate) priority: Option<i64>,
    /// A fixed id of the end user this video is for (at most 64 ASCII characters; a hash of their
    /// user id works), so the service can tell users apart when it checks for abuse.
    #[arg(long, value_name = "ID")]
    pub(crate) safety_identifier: Option<String>,
    /// No watermark (the default unless the config says otherwise).
    #[arg(long)]
    pub(crate) no_watermark: bool,
    /// Add a watermark.
    #[arg(long, conflicts_with = "no_watermark")]
    pub(crate) watermark: bool,
    /// Generate audio with the video.
    #[arg(long)]
    pub(crate) audio_gen: bool,
    /// Do not generate audio.
    #[arg(long, conflicts_with = "audio_gen")]
    pub(crate) no_audio_gen: bool,
    /// Also return the last frame as an image.
    #[arg(long)]
    pub(crate) last_frame: bool,
    /// Read the whole request body from a JSON file (flags above override its fields).
    #[arg(long, value_name = "FILE")]
    pub(crate) json: Option<PathBuf>,
    /// Print the created task as JSON instead of its id.
    #[arg(long)]
    pub(crate) json_out: bool,
    /// Wait for the task to finish and download its results.
    #[arg(long)]
    pub(crate) wait: bool,
    /// Output folder or s3://BUCKET/PREFIX for --wait (default: [download] output_dir).
    #[arg(long, value_name = "DIR|s3://BUCKET/PREFIX")]
    pub(crate) out: Option<Destination>,
    /// Upload local video/audio references (and images too large to inline) to this bucket and
    /// send presigned links (default: [assets] upload_to).
    #[arg(long, value_name = "s3://BUCKET/PREFIX")]
    pub(crate) upload_to: Option<crate::s3::S3Location>,
    /// Print the request body and exit without sending.
    #[arg(long)]
    pub(crate) dry_run: bool,
    /// Queue every request of a JSON-lines file (`-`: stdin): one request per line in the
    /// --json format, with optional "key" (idempotency) and "label". Sent in file order under
    /// --max-in-flight; running the same file again sends nothing new.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["json", "prompt", "prompts", "dry_run"])]
    pub(crate) batch: Option<PathBuf>,
    /// Queue one request per line of a text file (`-`: stdin), each line the prompt, every
    /// other parameter from the flags and [defaults].
    #[arg(long, value_name = "FILE", conflicts_with_all = ["json", "prompt", "dry_run"])]
    pub(crate) prompts: Option<PathBuf>,
    /// With --batch/--prompts: N variants of every line, each with its own seed.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub(crate) repeat: u32,
    /// With --batch/--prompts: send only while fewer than N of this profile's tasks are in
    /// flight (default [submit] max_in_flight, 8).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=10_000))]
    pub(crate) max_in_flight: Option<u64>,
    /// With --batch/--prompts: queue the valid lines even when others are invalid.
    #[arg(long)]
    pub(crate) skip_invalid: bool,
    /// With --batch: let the file's local references leave its folder (`../`, absolute
    /// paths, symlinks out). Without it they are refused: a batch file from someone else must
    /// not send your files.
    #[arg(long)]
    pub(crate) allow_outside_refs: bool,
    /// With --batch/--prompts: queue and return at once; a dashboard or `watch --daemon` on
    /// this store sends the lines.
    #[arg(long, conflicts_with = "wait")]
    pub(crate) detach: bool,
    /// Send it even if it passes today's spending cap (`[budget]`).
    #[arg(long)]
    pub(crate) over_budget: bool,
}

#[derive(Debug, Args)]
pub(crate) struct SimArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub(crate) addr: String,
    /// Time compression (1.0 = real-world timings).
    #[arg(long, default_value_t = 1.0)]
    pub(crate) speed: f64,
    /// Seed for every random choice.
    #[arg(long, default_value_t = 1)]
    pub(crate) seed: u64,
    /// Probability that a task fails.
    #[arg(long, default_value_t = 0.1)]
    pub(crate) fail_rate: f64,
    /// Requests per second above which the API answers 429.
    #[arg(long)]
    pub(crate) rate_limit: Option<u32>,
    /// Require this Bearer key.
    #[arg(long)]
    pub(crate) api_key: Option<String>,
    /// Lifetime of result URLs in seconds.
    #[arg(long, default_value_t = 86_400)]
    pub(crate) url_ttl: u64,
    /// How many tasks may run at once.
    #[arg(long, default_value_t = 4)]
    pub(crate) max_running: usize,
    /// Serve videos of this many bytes (generated on the fly), for large-download tests.
    #[arg(long)]
    pub(crate) video_size: Option<u64>,
    /// The account's cap on queued tasks: creates beyond it get 429 QuotaExceeded.
    #[arg(long, value_name = "N")]
    pub(crate) max_queued: Option<usize>,
    /// Answer from a trace written by `--trace FILE` instead of simulating: each request gets the
    /// recorded answer for its method and path (task ids rewritten), in the recorded order.
    #[arg(long, value_name = "FILE")]
    pub(crate) replay: Option<PathBuf>,
}

/// `gallery`.
#[derive(Debug, Clone, Args)]
pub(crate) struct GalleryArgs {
    /// Which tasks, in the dashboard's filter syntax: words (prompt, id, model, status),
    /// status:succeeded, model:fast, retried:no, group:ID (a task's variants). Default: all.
    #[arg(value_name = "FILTER")]
    pub(crate) filter: Vec<String>,
    /// A folder (the page links the saved files by relative path), or s3://BUCKET/PREFIX (the
    /// page and sheets are uploaded; every link is presigned).
    #[arg(long, value_name = "DIR|s3://BUCKET/PREFIX")]
    pub(crate) out: Destination,
    /// Frames per contact sheet (default: [ui] contact_sheet_frames, else 6; 0: none).
    #[arg(long, value_name = "N")]
    pub(crate) frames: Option<usize>,
    /// Hours the presigned links of a bucket gallery stay valid (at most 168, 7 days).
    #[arg(long, value_name = "HOURS", default_value_t = 168)]
    pub(crate) link_hours: u64,
}

/// Subcommand names, for `man COMMAND`.
pub(crate) fn subcommands(current: &OsStr) -> Vec<clap_complete::engine::CompletionCandidate> {
    let current = current.to_str().unwrap_or_default();
    use clap::CommandFactory;
    Cli::command()
        .get_subcommands()
        .filter(|c| c.get_name().starts_with(current))
        .map(|c| {
            clap_complete::engine::CompletionCandidate::new(c.get_name().to_string())
                .help(c.get_about().map(|a| a.to_string().into()))
        })
        .collect()
}

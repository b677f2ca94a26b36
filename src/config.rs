//! Configuration: a TOML file at the XDG config path with named profiles (a base URL and the name
//! of the environment variable holding the key), draft defaults, polling, downloads and UI
//! settings. The file never holds an API key; keys come from the environment only.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The relay's base URL (the default profile).
pub(crate) const LAOZHANG_BASE_URL: &str = "https://api.laozhang.ai/seedance/api/v3";
/// The official Ark base URL (Beijing).
pub(crate) const ARK_BASE_URL: &str = "https://ark.cn-beijing.volces.com/api/v3";
/// BytePlus ModelArk, the overseas official service (its model ids are `dreamina-seedance-...`).
pub(crate) const BYTEPLUS_BASE_URL: &str = "https://ark.ap-southeast.bytepluses.com/api/v3";
/// Environment variables searched for the key, in order (after a profile's own `key_env`).
pub(crate) const KEY_ENV_VARS: [&str; 2] = ["SEEDANCE_API_KEY", "ARK_API_KEY"];

/// One API endpoint to talk to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    pub(crate) base_url: String,
    /// The environment variable that holds this profile's key (default: SEEDANCE_API_KEY, then ARK_API_KEY).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) key_env: Option<String>,
    /// True for relays: the list endpoint is not used (it answers a web page).
    #[serde(default)]
    pub(crate) relay: bool,
}

/// Defaults for new requests (composer and `submit`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RequestDefaults {
    pub(crate) model: String,
    pub(crate) ratio: String,
    pub(crate) duration: i64,
    pub(crate) resolution: String,
    pub(crate) watermark: bool,
    pub(crate) generate_audio: bool,
    pub(crate) return_last_frame: bool,
}

impl Default for RequestDefaults {
    fn default() -> Self {
        RequestDefaults {
            model: crate::api::models::DEFAULT_MODEL.to_string(),
            ratio: "16:9".to_string(),
            duration: 5,
            resolution: "720p".to_string(),
            watermark: false,
            generate_audio: false,
            return_last_frame: true,
        }
    }
}

/// Polling settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PollConfig {
    /// Seconds between polls of one task when nothing better is known.
    pub interval_secs: f64,
    /// At most this many requests in flight.
    pub concurrency: usize,
    /// At most this many requests per second, all tasks together.
    pub requests_per_second: f64,
    /// Seconds after which the poller lease of a silent process (killed, stalled) may be taken
    /// over by another dashboard or `watch` sharing the store.
    pub lease_secs: f64,
    /// Seconds between checks of the store for changes written by other processes (a
    /// dashboard or `watch` sharing it); this process's own poll results are shown at once.
    pub(crate) store_check_secs: f64,
}

impl Default for PollConfig {
    fn default() -> Self {
        PollConfig {
            interval_secs: 10.0,
            concurrency: 4,
            requests_per_second: 5.0,
            lease_secs: 15.0,
            store_check_secs: 0.5,
        }
    }
}

impl PollConfig {
    /// Numbers the scheduler can use: finite and positive (`nan`, `inf` and negatives are
    /// valid TOML but would stall or flood polling).
    fn check(&self) -> Result<(), String> {
        for (name, v) in [
            ("interval_secs", self.interval_secs),
            ("requests_per_second", self.requests_per_second),
            ("lease_secs", self.lease_secs),
            ("store_check_secs", self.store_check_secs),
        ] {
            if !v.is_finite() || v <= 0.0 {
                return Err(format!("[poll] {name} = {v}: use a positive number"));
            }
        }
        if self.concurrency == 0 {
            return Err("[poll] concurrency = 0: use 1 or more".into());
        }
        Ok(())
    }
}

/// The submission queue (`[submit]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct SubmitConfig {
    /// The queue sends a request only while this profile has fewer tasks in flight (being
    /// sent, queued or running at the server). 8: the service runs only a few tasks of an
    /// account at once, so more in flight only lengthens the server's queue (where tasks count
    /// against the account's queued-task cap and age towards `execution_expires_after`), while
    /// a few queued behind the running ones keep the server busy between our polls.
    pub(crate) max_in_flight: usize,
    /// A create of unknown outcome (`submit_unknown`: a timeout, a cut connection, a killed
    /// sender) counts as in flight for this many seconds from when it was sent, unless it is
    /// resolved first (found on the server, or concluded not created). It may have started a
    /// task, and filling its slot at once would run the account at the cap plus one. See
    /// [`DEFAULT_UNKNOWN_SLOT_SECS`] for the default; at most [`MAX_UNKNOWN_SLOT_SECS`].
    pub(crate) unknown_slot_secs: u64,
}

/// The default of `[submit] max_in_flight` (see [`SubmitConfig`]).
pub(crate) const DEFAULT_MAX_IN_FLIGHT: usize = 8;

/// The default of `[submit] unknown_slot_secs`: 30 minutes, six times the slowest typical task
/// (`typical_secs` in `api/models.toml`: 300 s, queue and run together). A create that passed
/// the claim had fewer than the cap (8) of ours ahead of it; run a few at a time, they and it
/// end within a few of those durations, and twice that is the margin. The certain end, the
/// task's `execution_expires_after` (48 h by default), would stall a relay's queue (which has no
/// reconciliation) for two days on one lost answer.
pub(crate) const DEFAULT_UNKNOWN_SLOT_SECS: u64 = 1800;

/// The longest `[submit] unknown_slot_secs`: the API's largest `execution_expires_after`
/// (72 h), past which no task created then can still be queued or running.
pub(crate) const MAX_UNKNOWN_SLOT_SECS: u64 = 259_200;

impl Default for SubmitConfig {
    fn default() -> Self {
        SubmitConfig {
            max_in_flight: DEFAULT_MAX_IN_FLIGHT,
            unknown_slot_secs: DEFAULT_UNKNOWN_SLOT_SECS,
        }
    }
}

/// Download settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DownloadConfig {
    /// Download every succeeded task's results automatically.
    pub auto: bool,
    /// Where results go: a folder or `s3://BUCKET/PREFIX`; default: the user's videos folder,
    /// else the data dir.
    pub(crate) output_dir: Option<PathBuf>,
    /// File-name template.
    pub(crate) template: String,
    /// How many downloads run at once in the dashboard.
    #[serde(default = "default_download_concurrency")]
    pub(crate) concurrency: usize,
    /// Unsaved results whose link dies within this many hours show in the warning colour.
    #[serde(default = "default_warn_hours")]
    pub(crate) warn_before_expiry_hours: f64,
    /// The largest result file accepted, in bytes (a Seedance video is tens of MB); a body that
    /// goes past it is stopped and its `.part` removed.
    pub(crate) max_bytes: u64,
    /// A transfer that receives nothing for this many seconds is cut (and resumed).
    pub(crate) stall_secs: f64,
    /// A transfer slower than `min_bytes_per_sec` over `slow_window_secs` is cut (and resumed).
    pub(crate) min_bytes_per_sec: u64,
    pub(crate) slow_window_secs: f64,
}

impl DownloadConfig {
    /// The transfer limits, with each value kept in a sane range.
    pub(crate) fn limits(&self) -> crate::file_download::Limits {
        let secs = |s: f64, default: f64| {
            std::time::Duration::from_secs_f64(if s.is_finite() && s > 0.0 {
                s.min(86_400.0)
            } else {
                default
            })
        };
        crate::file_download::Limits {
            max_bytes: self.max_bytes.max(1),
            stall: secs(self.stall_secs, 60.0),
            min_bytes_per_sec: self.min_bytes_per_sec,
            slow_window: secs(self.slow_window_secs, 120.0),
        }
    }
}

fn default_download_concurrency() -> usize {
    2
}

fn default_warn_hours() -> f64 {
    2.0
}

/// Desktop notifications when tasks finish (`[notify]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct NotifyConfig {
    /// Ring the terminal bell.
    pub(crate) bell: bool,
    /// `none`, `osc9`, `osc777` or `osc99`.
    pub(crate) protocol: String,
    pub(crate) on_success: bool,
    pub(crate) on_failure: bool,
    /// Finishes within this many seconds make one notification.
    pub(crate) batch_secs: u64,
}

impl Default for NotifyConfig {
    fn default() -> Self {
        NotifyConfig {
            bell: true,
            protocol: "osc777".to_string(),
            on_success: true,
            on_failure: true,
            batch_secs: 3,
        }
    }
}

/// Prices that turn tokens into money (`[pricing]`), all optional.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PricingConfig {
    /// Price of one million tokens, any model.
    pub per_million_tokens: Option<Price>,
    /// Per-model prices (model id -> price per million tokens), overriding the default.
    pub models: BTreeMap<String, Price>,
    /// Shown before amounts, e.g. "¥" or "$".
    pub currency: String,
}

/// The price of a million tokens: one number, or one per resolution tier (`"720p" = 46.0`), with
/// other prices for a request with a video input (`with_video`, a number or per tier): the 2.0
/// series is priced that way.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Price {
    Flat(f64),
    Tiered(PriceTiers),
}

/// Prices per resolution tier (see [`Price`]).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct PriceTiers {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) with_video: Option<Box<Price>>,
    /// Resolution (`480p`, `720p`, `1080p`, `4k`) -> price.
    #[serde(flatten)]
    pub(crate) by_resolution: BTreeMap<String, f64>,
}

impl Price {
    /// The price of a million tokens at `resolution`, for a request with or without a video
    /// input; `None` when the tiers name neither this resolution nor a flat price. Without a
    /// `with_video` price a request with a video input takes the price without.
    pub(crate) fn per_million(&self, resolution: &str, with_video: bool) -> Option<f64> {
        match self {
            Price::Flat(p) => Some(*p),
            Price::Tiered(t) => t
                .with_video
                .as_ref()
                .filter(|_| with_video)
                .and_then(|v| v.per_million(resolution, false))
                .or_else(|| {
                    t.by_resolution
                        .iter()
                        .find(|(k, _)| k.eq_ignore_ascii_case(resolution))
                        .map(|(_, p)| *p)
                }),
        }
    }

    /// Every price a positive number, every tier a resolution.
    fn check(&self, at: &str) -> Result<(), String> {
        let number = |p: f64, what: &str| {
            if p.is_finite() && p >= 0.0 {
                Ok(())
            } else {
                Err(format!("{what} must be a number of at least 0, not {p}"))
            }
        };
        match self {
            Price::Flat(p) => number(*p, at),
            Price::Tiered(t) => {
                for (tier, p) in &t.by_resolution {
                    if !is_resolution_tier(tier) {
                        return Err(format!(
                            "{at}: `{tier}` is not a resolution (use 480p, 720p, 1080p, 4k, or with_video)"
                        ));
                    }
                    number(*p, &format!("{at}.\"{tier}\""))?;
                }
                if let Some(v) = &t.with_video {
                    if matches!(**v, Price::Tiered(ref w) if w.with_video.is_some()) {
                        return Err(format!(
                            "{at}.with_video cannot have a with_video of its own"
                        ));
                    }
                    v.check(&format!("{at}.with_video"))?;
                }
                Ok(())
            }
        }
    }
}

/// `480p`, `1080p`, `4k`, `2K`: digits and `p` or `k`.
fn is_resolution_tier(s: &str) -> bool {
    let l = s.to_ascii_lowercase();
    l.strip_suffix('p')
        .or_else(|| l.strip_suffix('k'))
        .is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
}

impl PricingConfig {
    /// Whether any price is configured.
    pub(crate) fn is_set(&self) -> bool {
        self.per_million_tokens.is_some() || !self.models.is_empty()
    }

    /// The price of a million tokens of `model` at `resolution`, with or without a video
    /// input: the model's own price, else the default (`per_million_tokens`).
    pub(crate) fn per_million(
        &self,
        model: &str,
        resolution: &str,
        with_video: bool,
    ) -> Option<f64> {
        self.models
            .get(model)
            .and_then(|p| p.per_million(resolution, with_video))
            .or_else(|| {
                self.per_million_tokens
                    .as_ref()?
                    .per_million(resolution, with_video)
            })
    }

    /// An amount with the configured currency, e.g. `¥1.08`.
    pub(crate) fn format(&self, amount: f64) -> String {
        format!("{}{amount:.2}", self.currency)
    }

    fn check(&self) -> Result<(), String> {
        if let Some(p) = &self.per_million_tokens {
            p.check("[pricing] per_million_tokens")?;
        }
        for (model, p) in &self.models {
            p.check(&format!("[pricing.models] \"{model}\""))?;
        }
        Ok(())
    }
}

impl Default for DownloadConfig {
    fn default() -> Self {
        DownloadConfig {
            auto: true,
            output_dir: None,
            template: "{created:%Y%m%d-%H%M%S}_{id}_{prompt_slug}.mp4".to_string(),
            concurrency: default_download_concurrency(),
            warn_before_expiry_hours: default_warn_hours(),
            max_bytes: crate::file_download::Limits::default().max_bytes,
            stall_secs: 60.0,
            min_bytes_per_sec: 1024,
            slow_window_secs: 120.0,
        }
    }
}

/// A daily spending cap (`[budget]`), counted from the store: the tokens of tasks created today,
/// estimated for those not finished. A submission, retry or batch that would pass it is refused
/// before anything is sent (`--over-budget`, or a confirmation in the dashboard, lets one through).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BudgetConfig {
    /// Most tokens per local day.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub daily_tokens: Option<u64>,
    /// Most money per local day, in `[pricing]`'s currency (needs `[pricing]`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub daily_money: Option<f64>,
}

impl BudgetConfig {
    /// A money cap must be a positive number and needs prices to turn tokens into money.
    fn check(&self, pricing: &PricingConfig) -> Result<(), String> {
        if let Some(m) = self.daily_money {
            if !(m.is_finite() && m > 0.0) {
                return Err(format!(
                    "[budget] daily_money must be a positive number, not {m}"
                ));
            }
            if !pricing.is_set() {
                return Err("[budget] daily_money needs prices: set [pricing] per_million_tokens (or models)".into());
            }
        }
        Ok(())
    }
}

/// `[storage]`: the object storage's settings live with the object storage.
pub(crate) use crate::s3::StorageConfig;

/// Local reference files (`[assets]`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct AssetsConfig {
    /// `s3://BUCKET/PREFIX`: local videos, audios and images too large to inline are uploaded
    /// here and sent as presigned links (as `submit --upload-to` does).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) upload_to: Option<String>,
}

/// Where the task store lives.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct StoreConfig {
    /// A SQLite file path or `sqlite:PATH` (default: `store.sqlite3` in the data folder).
    /// `--store` and `SEEDANCE_STORE` take precedence.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) url: Option<String>,
}

/// Dashboard settings.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct UiConfig {
    pub(crate) theme: Option<String>,
    pub(crate) mouse: bool,
    /// Key overrides: intent name -> keys, e.g. `move_down = ["j", "down"]`.
    pub(crate) keys: BTreeMap<String, Vec<String>>,
    /// Last-frame previews: `auto` (kitty/sixel/iTerm2 only on a local terminal that answers,
    /// else halfblocks), `halfblocks`, or `off`.
    #[serde(default)]
    pub(crate) images: Option<String>,
    /// Frames on a saved video's contact sheet in the detail pane and `gallery` (default 6,
    /// at most 24; 0: no sheets).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) contact_sheet_frames: Option<usize>,
    /// Copies: `auto` (inside tmux its buffer; elsewhere OSC 52, said to be "copied" only in a
    /// terminal known to take it, else the text is shown to select by hand) or `osc52` (this
    /// terminal takes OSC 52: say "copied").
    #[serde(default)]
    pub(crate) clipboard: Option<String>,
    /// The table's columns, in order (the chooser `c` writes this): status, id, model, prompt,
    /// ratio, resolution, duration, age, time, tokens, error, saved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) columns: Option<Vec<String>>,
}

/// A saved view (`[views.NAME]`): a filter, a sort and the table's columns under one key.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ViewConfig {
    /// The key that applies it in the table (`"F"`, `"f5"`, `"alt-1"`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) key: Option<String>,
    /// The filter line's text (`status:failed model:fast`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) filter: Option<String>,
    /// age, status, model, tokens, duration, updated or queue; `tokens asc` reverses.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) sort: Option<String>,
    /// The columns, as `[ui] columns`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) columns: Option<Vec<String>>,
}

/// The whole configuration file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// The profile used when none is named.
    pub profile: String,
    pub profiles: BTreeMap<String, Profile>,
    pub(crate) defaults: RequestDefaults,
    pub poll: PollConfig,
    pub(crate) submit: SubmitConfig,
    pub download: DownloadConfig,
    pub(crate) ui: UiConfig,
    pub(crate) notify: NotifyConfig,
    pub(crate) pricing: PricingConfig,
    pub(crate) budget: BudgetConfig,
    pub(crate) storage: StorageConfig,
    pub(crate) assets: AssetsConfig,
    pub(crate) store: StoreConfig,
    /// Saved views of the table, by name.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) views: BTreeMap<String, ViewConfig>,
    pub(crate) debug: DebugConfig,
    /// Additions and changes to the shipped model table: `[models."ID"]` with any of the fields
    /// of `src/api/models.toml` (and `like = "ID"` to start from another model).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) models: BTreeMap<String, crate::api::models::ModelOverride>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            profile: "laozhang".to_string(),
            profiles: builtin_profiles(),
            defaults: RequestDefaults::default(),
            poll: PollConfig::default(),
            submit: SubmitConfig::default(),
            download: DownloadConfig::default(),
            ui: UiConfig::default(),
            notify: NotifyConfig::default(),
            pricing: PricingConfig::default(),
            budget: BudgetConfig::default(),
            storage: StorageConfig::default(),
            assets: AssetsConfig::default(),
            store: StoreConfig::default(),
            views: BTreeMap::new(),
            debug: DebugConfig::default(),
            models: BTreeMap::new(),
        }
    }
}

fn builtin_profiles() -> BTreeMap<String, Profile> {
    let mut p = BTreeMap::new();
    p.insert(
        "laozhang".to_string(),
        Profile {
            base_url: LAOZHANG_BASE_URL.to_string(),
            key_env: None,
            relay: true,
        },
    );
    p.insert(
        "ark".to_string(),
        Profile {
            base_url: ARK_BASE_URL.to_string(),
            key_env: None,
            relay: false,
        },
    );
    p.insert(
        "byteplus".to_string(),
        Profile {
            base_url: BYTEPLUS_BASE_URL.to_string(),
            key_env: None,
            relay: false,
        },
    );
    p
}

/// Diagnostics (`[debug]`): where the HTTP trace and the log go.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct DebugConfig {
    /// Append every HTTP exchange to this file as one JSON line (like `--trace FILE`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) trace: Option<PathBuf>,
    /// Write the program's log to this file (like `--log FILE`); never to the terminal.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) log: Option<PathBuf>,
}

/// A configuration problem, with what to do.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the config file {path}: {message}")]
    Read { path: PathBuf, message: String },
    #[error(
        "the config file {path} is not valid: {message} (fix it, or move it aside to use the defaults)"
    )]
    Parse { path: PathBuf, message: String },
    #[error("no profile named `{name}` (known: {known}); add [profiles.{name}] to the config file")]
    UnknownProfile { name: String, known: String },
}

/// Standard locations.
pub(crate) struct Paths;

impl Paths {
    fn project() -> Option<directories::ProjectDirs> {
        directories::ProjectDirs::from("", "", "seedance-tui")
    }

    /// `$XDG_CONFIG_HOME/seedance-tui/config.toml`.
    pub(crate) fn config_file() -> PathBuf {
        Self::project()
            .map(|p| p.config_dir().join("config.toml"))
            .unwrap_or_else(|| PathBuf::from("seedance-tui.toml"))
    }

    /// Where user themes live: `$XDG_CONFIG_HOME/seedance-tui/themes`.
    pub(crate) fn themes_dir() -> Option<PathBuf> {
        Self::project().map(|p| p.config_dir().join("themes"))
    }

    /// `$XDG_DATA_HOME/seedance-tui`.
    pub(crate) fn data_dir() -> PathBuf {
        Self::project()
            .map(|p| p.data_dir().to_path_buf())
            .unwrap_or_else(|| PathBuf::from(".seedance-tui"))
    }

    /// The default store file.
    pub(crate) fn store_file() -> PathBuf {
        Self::data_dir().join("store.sqlite3")
    }

    /// The default output folder: the user's videos folder, else the data dir.
    pub(crate) fn default_output_dir() -> PathBuf {
        directories::UserDirs::new()
            .and_then(|u| u.video_dir().map(|v| v.join("seedance")))
            .unwrap_or_else(|| Self::data_dir().join("videos"))
    }
}

impl Config {
    /// Load the config at `path`; a missing file gives the defaults. Built-in profiles are always
    /// present unless the file redefines them.
    pub(crate) fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Config::default()),
            Err(e) => {
                return Err(ConfigError::Read {
                    path: path.to_path_buf(),
                    message: e.to_string(),
                });
            }
        };
        Self::parse(&text).map_err(|message| ConfigError::Parse {
            path: path.to_path_buf(),
            message,
        })
    }

    /// Keep `[ui] columns = [...]` in the config file's `text`, changing nothing else (comments
    /// and order stay): the line is replaced where it is, else added under `[ui]`, else a `[ui]`
    /// table is added at the end.
    pub(crate) fn with_ui_columns(text: &str, columns: &[String]) -> String {
        let value: Vec<String> = columns
            .iter()
            .map(|c| format!("\"{}\"", c.replace(['"', '\\'], "")))
            .collect();
        let line = format!("columns = [{}]", value.join(", "));
        let mut out: Vec<String> = Vec::new();
        let mut in_ui = false;
        let mut done = false;
        for l in text.lines() {
            let t = l.trim();
            if t.starts_with('[') {
                if in_ui && !done {
                    out.push(line.clone());
                    done = true;
                }
                in_ui = t.split('#').next().map(str::trim) == Some("[ui]");
            } else if in_ui && !done && t.split('=').next().is_some_and(|k| k.trim() == "columns") {
                out.push(line.clone());
                done = true;
                continue;
            }
            out.push(l.to_string());
        }
        if in_ui && !done {
            out.push(line.clone());
            done = true;
        }
        if !done {
            if out.last().is_some_and(|l| !l.trim().is_empty()) {
                out.push(String::new());
            }
            out.push("[ui]".into());
            out.push(line);
        }
        let mut s = out.join("\n");
        s.push('\n');
        s
    }

    /// Parse config text (used by `load` and the tests).
    pub fn parse(text: &str) -> Result<Config, String> {
        let mut cfg: Config = toml::from_str(text).map_err(|e| e.to_string())?;
        cfg.poll.check()?;
        if cfg.submit.max_in_flight == 0 {
            return Err("[submit] max_in_flight = 0: use 1 or more".into());
        }
        if cfg.submit.unknown_slot_secs > MAX_UNKNOWN_SLOT_SECS {
            return Err(format!(
                "[submit] unknown_slot_secs = {}: use at most {MAX_UNKNOWN_SLOT_SECS} (72 h, the \
                 longest a task may run before the server expires it)",
                cfg.submit.unknown_slot_secs
            ));
        }
        cfg.pricing.check()?;
        cfg.budget.check(&cfg.pricing)?;
        if let Some(dir) = &cfg.download.output_dir {
            crate::destination::Destination::parse(&dir.to_string_lossy())
                .map_err(|e| format!("[download] output_dir: {e}"))?;
        }
        if let Some(to) = &cfg.assets.upload_to {
            crate::s3::S3Location::parse(to).map_err(|e| format!("[assets] upload_to: {e}"))?;
        }
        cfg.model_table()?;
        for (name, p) in builtin_profiles() {
            cfg.profiles.entry(name).or_insert(p);
        }
        Ok(cfg)
    }

    /// The profile called `name` (or the configured default).
    pub fn profile(&self, name: Option<&str>) -> Result<(String, Profile), ConfigError> {
        let name = name.unwrap_or(&self.profile).to_string();
        match self.profiles.get(&name) {
            Some(p) => Ok((name, p.clone())),
            None => Err(ConfigError::UnknownProfile {
                known: self.profiles.keys().cloned().collect::<Vec<_>>().join(", "),
                name,
            }),
        }
    }

    /// The shipped model table with this config's `[models."ID"]` tables laid over it.
    pub(crate) fn model_table(&self) -> Result<crate::api::models::ModelTable, String> {
        crate::api::models::with_overrides(&self.models)
    }

    /// The output folder for results.
    pub(crate) fn output_dir(&self) -> PathBuf {
        self.download
            .output_dir
            .clone()
            .unwrap_or_else(Paths::default_output_dir)
    }

    /// Where the store lives: `--store` / `SEEDANCE_STORE`, else `[store] url` (refused with a
    /// password in it), else the default file in the data folder.
    pub(crate) fn store_location(
        &self,
        flag: Option<&Path>,
    ) -> Result<crate::store::location::StoreLocation, crate::store::location::LocationError> {
        use crate::store::location;
        match (flag, &self.store.url) {
            (Some(path), _) => location::parse_path(path),
            (None, Some(url)) => location::parse_config_url(url),
            (None, None) => Ok(location::StoreLocation::Sqlite(Paths::store_file())),
        }
    }

    /// Where results go: the output folder, or a bucket when `output_dir` is an `s3://` URL.
    pub(crate) fn output(&self) -> crate::destination::Destination {
        crate::destination::Destination::from_path(self.output_dir())
    }

    /// A commented example config, printed by `seedance-tui config example`.
    pub(crate) fn example() -> String {
        let body = toml::to_string_pretty(&Config::default()).unwrap_or_default();
        format!(
            "# seedance-tui configuration. Keys never go here: set SEEDANCE_API_KEY (or ARK_API_KEY),\n\
             # or name another variable with `key_env` in a profile.\n{body}"
        )
    }
}

/// A warning when the config file at `path` can be read or written by other users (any group or
/// other permission bits). It holds no key, but it names where keys come from and which
/// endpoints are used, and a writable one could redirect requests.
pub(crate) fn permission_warning(path: &Path) -> Option<String> {
    permission_problem(path).map(|(w, _)| w)
}

/// [`permission_warning`] with the command that fixes it. The file's folder counts too: one
/// others may write to (without the sticky bit that keeps them from replacing our file, as on
/// `/tmp`) lets them swap the config for theirs.
pub(crate) fn permission_problem(path: &Path) -> Option<(String, String)> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path).ok()?.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        let fix = format!("chmod 600 {}", path.display());
        return Some((
            format!(
                "the config file {} is accessible to other users (mode {mode:03o}); run `{fix}`",
                path.display()
            ),
            fix,
        ));
    }
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty())?;
    let dir_mode = std::fs::metadata(dir).ok()?.permissions().mode() & 0o7777;
    (dir_mode & 0o022 != 0 && dir_mode & 0o1000 == 0).then(|| {
        let fix = format!("chmod 700 {}", dir.display());
        (
            format!(
                "the config folder {} can be written by other users (mode {:03o}): they could replace the config; run `{fix}`",
                dir.display(),
                dir_mode & 0o777
            ),
            fix,
        )
    })
}

/// Find the API key for `profile` in `env` (a lookup function, so tests need not touch the
/// process environment). Returns the variable it came from and the key.
pub(crate) fn find_key(
    profile: &Profile,
    env: impl Fn(&str) -> Option<String>,
) -> Option<(String, crate::api::ApiKey)> {
    let mut names: Vec<&str> = Vec::new();
    if let Some(k) = &profile.key_env {
        names.push(k);
    }
    names.extend(KEY_ENV_VARS);
    names.into_iter().find_map(|name| {
        env(name)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
            .map(|v| (name.to_string(), crate::api::ApiKey::new(v)))
    })
}

/// True when requests go through a relay: the profile says so, unless `--base-url` points
/// elsewhere (then a relay is recognised by its `/seedance/` prefix or the relay's host).
pub(crate) fn is_relay(profile: &Profile, base_url_override: Option<&str>) -> bool {
    match base_url_override {
        None => profile.relay,
        Some(url) => {
            let lower = url.to_ascii_lowercase();
            lower.contains("/seedance/") || lower.contains("laozhang")
        }
    }
}

/// Problems with a base URL, each with the fix. Empty when it looks right.
pub(crate) fn check_base_url(url: &str) -> Vec<String> {
    let mut out = Vec::new();
    let trimmed = url.trim_end_matches('/');
    let Some(rest) = trimmed
        .strip_prefix("https://")
        .or_else(|| trimmed.strip_prefix("http://"))
    else {
        out.push(format!(
            "base URL `{url}` must start with https:// (or http:// for a local simulator)"
        ));
        return out;
    };
    let (host, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    if host.is_empty() {
        out.push(format!("base URL `{url}` has no host"));
        return out;
    }
    if path.ends_with("/tasks") || path.contains("/contents/generations") {
        out.push(format!(
            "base URL `{url}` includes the endpoint path; end it at /api/v3 (the client adds /contents/generations/tasks)"
        ));
    }
    if host.contains("laozhang") && !path.starts_with("/seedance/api/v3") {
        out.push(format!(
            "the relay needs the /seedance/api/v3 prefix: use {LAOZHANG_BASE_URL}"
        ));
    } else if !path.contains("/api/v3") {
        out.push(format!(
            "base URL `{url}` does not end in /api/v3; Ark paths live under /api/v3 (relays add their own prefix, e.g. /seedance/api/v3)"
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const TIERED: &str = r#"
[pricing]
currency = "¥"
per_million_tokens = 40
[pricing.models]
"flat-model" = 12.5
[pricing.models."doubao-seedance-2-0-260128"]
"480p" = 46.0
"720p" = 46.0
"1080p" = 51.0
"4k" = 26.0
with_video = { "480p" = 28.0, "720p" = 28.0, "1080p" = 31.0, "4k" = 16.0 }
[pricing.models."tier-no-video"]
"720p" = 10.0
"#;

    #[test]
    fn prices_are_per_resolution_tier_and_video_input() {
        let p = Config::parse(TIERED)
            .expect("tiered pricing parses")
            .pricing;
        let m = "doubao-seedance-2-0-260128";
        assert_eq!(p.per_million(m, "720p", false), Some(46.0));
        assert_eq!(p.per_million(m, "720p", true), Some(28.0));
        assert_eq!(p.per_million(m, "1080p", false), Some(51.0));
        assert_eq!(p.per_million(m, "1080p", true), Some(31.0));
        assert_eq!(
            p.per_million(m, "4K", true),
            Some(16.0),
            "tiers ignore case"
        );
        // A tier the model's table does not name: the default price.
        assert_eq!(p.per_million(m, "360p", false), Some(40.0));
        // The flat forms are still accepted: any resolution, with or without a video.
        assert_eq!(p.per_million("flat-model", "1080p", true), Some(12.5));
        assert_eq!(p.per_million("other", "480p", false), Some(40.0));
        // No `with_video` price: a video input takes the price without.
        assert_eq!(p.per_million("tier-no-video", "720p", true), Some(10.0));
        assert_eq!(p.format(1.5), "¥1.50");
        let flat = Config::parse("[pricing]\nper_million_tokens = 1.5\n").expect("flat");
        assert_eq!(flat.pricing.per_million_tokens, Some(Price::Flat(1.5)));
    }

    #[test]
    fn bad_prices_are_refused_with_where_they_are() {
        let err = Config::parse("[pricing.models.m]\n\"720x\" = 1.0\n").expect_err("tier");
        assert!(err.contains("`720x` is not a resolution"), "{err}");
        let err = Config::parse("[pricing.models.m]\n\"720p\" = -1.0\n").expect_err("negative");
        assert!(err.contains("[pricing.models] \"m\".\"720p\""), "{err}");
        let err = Config::parse("[pricing]\nper_million_tokens = nan\n").expect_err("nan");
        assert!(err.contains("per_million_tokens"), "{err}");
        let err =
            Config::parse("[pricing.models.m.with_video]\n\"720p\" = 1.0\nwith_video = 2.0\n")
                .expect_err("nested");
        assert!(err.contains("with_video cannot have a with_video"), "{err}");
        let ok = Config::parse("[budget]\ndaily_money = 5.0\n[pricing.models.m]\n\"720p\" = 1.0\n");
        assert!(
            ok.is_ok(),
            "a tiered price is a price for [budget] daily_money: {ok:?}"
        );
    }

    #[test]
    fn defaults_have_both_builtin_profiles() {
        let cfg = Config::parse("").expect("empty config parses");
        assert_eq!(cfg.profile, "laozhang");
        assert_eq!(cfg.profiles["laozhang"].base_url, LAOZHANG_BASE_URL);
        assert_eq!(cfg.profiles["ark"].base_url, ARK_BASE_URL);
    }

    #[test]
    fn an_unknown_creates_slot_is_held_for_a_bounded_time() {
        let cfg = Config::parse("").expect("empty config parses");
        assert_eq!(cfg.submit.unknown_slot_secs, 1800);
        let cfg = Config::parse("[submit]\nunknown_slot_secs = 0\n").expect("parses");
        assert_eq!(cfg.submit.unknown_slot_secs, 0);
        let err = Config::parse("[submit]\nunknown_slot_secs = 259201\n").expect_err("too long");
        assert!(err.contains("unknown_slot_secs"), "{err}");
        assert!(Config::parse("[submit]\nunknown_slot_secs = 259200\n").is_ok());
    }

    #[test]
    fn user_profiles_extend_builtins() {
        let cfg = Config::parse(
            "profile = \"mine\"\n[profiles.mine]\nbase_url = \"https://example.com/api/v3\"\nkey_env = \"MY_KEY\"\n",
        )
        .expect("parses");
        let (name, p) = cfg.profile(None).expect("profile");
        assert_eq!(name, "mine");
        assert_eq!(p.key_env.as_deref(), Some("MY_KEY"));
        assert!(cfg.profiles.contains_key("laozhang"));
        assert!(matches!(
            cfg.profile(Some("nope")),
            Err(ConfigError::UnknownProfile { .. })
        ));
    }

    #[test]
    fn model_tables_extend_the_shipped_one_and_bad_ones_are_refused() {
        let cfg = Config::parse(
            "[models.\"doubao-seedance-2-5-260628\"]\nlike = \"doubao-seedance-2-0-260128\"\nmax_duration = 30\n",
        )
        .expect("parses");
        let table = cfg.model_table().expect("table");
        let m = table.find("doubao-seedance-2-5-260628").expect("added");
        assert_eq!(m.max_duration, Some(30));
        assert!(table.find("doubao-seedance-2-0-mini-260615").is_some());
        let err = Config::parse("[models.x]\nlike = \"nope\"\n").expect_err("bad like");
        assert!(err.contains("nope"), "{err}");
        let err = Config::parse("[models.x]\nmax_durration = 3\n").expect_err("typo");
        assert!(err.contains("max_durration"), "{err}");
    }

    #[test]
    fn relay_is_the_profile_unless_the_base_url_says_otherwise() {
        let relay = &builtin_profiles()["laozhang"];
        assert!(is_relay(relay, None));
        assert!(!is_relay(relay, Some(ARK_BASE_URL)));
        assert!(is_relay(
            &builtin_profiles()["ark"],
            Some(LAOZHANG_BASE_URL)
        ));
    }

    #[test]
    fn unknown_keys_are_errors_not_silently_ignored() {
        let err = Config::parse("[poll]\nintervall = 3\n").expect_err("typo is an error");
        assert!(err.contains("intervall"), "{err}");
    }

    #[test]
    fn store_check_is_configurable_and_must_be_positive() {
        assert_eq!(Config::parse("").expect("empty").poll.store_check_secs, 0.5);
        let cfg = Config::parse("[poll]\nstore_check_secs = 3600\n").expect("parses");
        assert_eq!(cfg.poll.store_check_secs, 3600.0);
        for bad in ["0", "-1", "nan", "inf"] {
            let err =
                Config::parse(&format!("[poll]\nstore_check_secs = {bad}\n")).expect_err("refused");
            assert!(err.contains("store_check_secs"), "{err}");
        }
    }

    #[test]
    fn key_lookup_order() {
        let p = Profile {
            base_url: ARK_BASE_URL.into(),
            key_env: Some("MINE".into()),
            relay: false,
        };
        let env = |n: &str| match n {
            "ARK_API_KEY" => Some("ark".to_string()),
            "SEEDANCE_API_KEY" => Some("  ".to_string()),
            _ => None,
        };
        let (var, key) = find_key(&p, env).expect("falls back to ARK_API_KEY");
        assert_eq!(var, "ARK_API_KEY");
        assert_eq!(key.expose(), "ark");
        let env2 = |n: &str| (n == "MINE").then(|| "m".to_string());
        assert_eq!(find_key(&p, env2).expect("own var").0, "MINE");
        assert!(find_key(&p, |_| None).is_none());
    }

    #[test]
    fn base_url_checks() {
        assert!(check_base_url(LAOZHANG_BASE_URL).is_empty());
        assert!(check_base_url(ARK_BASE_URL).is_empty());
        assert!(check_base_url("http://127.0.0.1:8080/api/v3").is_empty());
        let relay_bare = check_base_url("https://api.laozhang.ai/api/v3");
        assert!(relay_bare[0].contains("/seedance/api/v3"), "{relay_bare:?}");
        let with_tasks =
            check_base_url("https://ark.cn-beijing.volces.com/api/v3/contents/generations/tasks");
        assert!(with_tasks[0].contains("endpoint path"), "{with_tasks:?}");
        assert!(!check_base_url("ftp://x").is_empty());
    }
}

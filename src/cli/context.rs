//! Resolving the `Context` (see `crate::context`) once from the global options: config, profile,
//! base URL, key, store and output folder — or, with `--demo`, an in-process simulator and a
//! throw-away store. Errors here are usage errors (exit 2) or API errors (exit 3).

use super::args::GlobalArgs;
use super::exit::Failure;
use crate::api::{ApiKey, ArkClient, ClientConfig};
use crate::config::{Config, Paths, check_base_url, find_key};
use crate::context::{Context, DEMO_KEY, DEMO_SPEED};
use crate::destination::Destination;
use crate::engine::Engine;
use crate::engine::budget::SpendingCap;
use crate::sim::SimConfig;
use crate::store::location::LocationError;
use crate::store::{Store, StoreLocation};
use std::path::PathBuf;

impl Context {
    /// Resolve the context; errors are usage/config problems (exit code 2).
    pub async fn resolve(g: &GlobalArgs) -> Result<Context, Failure> {
        let config_path = g.config.clone().unwrap_or_else(Paths::config_file);
        let config = Config::load(&config_path).map_err(|e| Failure::usage(e.to_string()))?;
        if let Some(w) = crate::config::permission_warning(&config_path) {
            crate::errln!("warning: {w}");
        }
        // `Config::load` checked the `[models]` tables; this cannot fail after it.
        let table = config.model_table().map_err(Failure::usage)?;
        crate::api::models::install(table);
        start_log(g, &config)?;
        if g.demo {
            let mut ctx = Self::demo(g, config).await?;
            ctx.config_path = config_path;
            return Ok(ctx);
        }
        let (profile_name, profile) = config
            .profile(g.profile.as_deref())
            .map_err(|e| Failure::usage(e.to_string()))?;
        let base_url = g
            .base_url
            .clone()
            .unwrap_or_else(|| profile.base_url.clone());
        for warning in check_base_url(&base_url) {
            crate::errln!("warning: {warning}");
        }
        let found = find_key(&profile, |n| std::env::var(n).ok());
        let key_var = found.as_ref().map(|(var, _)| var.clone());
        let key = found.map(|(_, k)| k);
        let (store, location) = open_location(config.store_location(g.store.as_deref()))?;
        let mut client_cfg = ClientConfig::new(base_url.clone(), key);
        client_cfg.trace = open_trace(g, &config)?;
        let client = ArkClient::new(client_cfg).map_err(|e| Failure::api(e.to_string()))?;
        let output_dir = config.output();
        let relay = crate::config::is_relay(&profile, g.base_url.as_deref());
        // The composer's live checks follow the same rules as the engine's.
        crate::api::validate::set_process_relay(relay);
        let mut engine = Engine::new(client, store, profile_name.clone()).with_relay(relay);
        engine.download_limits = config.download.limits();
        engine.unknown_slot_secs = config.submit.unknown_slot_secs;
        engine.storage = std::sync::Arc::new(config.storage.clone());
        engine.reference_bucket = reference_bucket(&config)?;
        Ok(Context {
            engine: engine.with_spending_cap(SpendingCap::from_config(&config)),
            config,
            profile_name,
            base_url,
            store: location,
            output_dir,
            demo: false,
            sim: None,
            key_var,
            demo_dir: None,
            config_path,
        })
    }

    async fn demo(g: &GlobalArgs, config: Config) -> Result<Context, Failure> {
        let sim_cfg = SimConfig {
            speed: DEMO_SPEED,
            seed: std::process::id() as u64,
            fail_rate: 0.15,
            api_key: Some(DEMO_KEY.to_string()),
            ..SimConfig::default()
        };
        let addr = "127.0.0.1:0"
            .parse()
            .map_err(|_| Failure::usage("bad address"))?;
        let sim = crate::sim::start(addr, sim_cfg)
            .await
            .map_err(|e| Failure::api(format!("cannot start the demo simulator: {e}")))?;
        let base_url = sim.base_url();
        let dir = demo_dir();
        // The demo's store is its own unless one is named on the line; `[store] url` is the
        // user's real store and never the demo's.
        let location = match &g.store {
            Some(path) => crate::store::location::parse_path(path),
            None => Ok(StoreLocation::Sqlite(dir.join("store.sqlite3"))),
        };
        let (store, location) = open_location(location)?;
        let mut client_cfg = ClientConfig::new(base_url.clone(), Some(ApiKey::new(DEMO_KEY)));
        client_cfg.trace = open_trace(g, &config)?;
        let client = ArkClient::new(client_cfg).map_err(|e| Failure::api(e.to_string()))?;
        let mut engine = Engine::new(client, store, "demo");
        engine.unknown_slot_secs = config.submit.unknown_slot_secs;
        engine.storage = std::sync::Arc::new(config.storage.clone());
        engine.reference_bucket = reference_bucket(&config)?;
        // `--out s3://...` works in the demo too; a bucket in the config is the user's own.
        let output_dir = match config.output() {
            Destination::Bucket(b) => Destination::Bucket(b),
            Destination::Folder(_) => Destination::Folder(dir.join("videos")),
        };
        Ok(Context {
            engine: engine.with_spending_cap(SpendingCap::from_config(&config)),
            config,
            profile_name: "demo".to_string(),
            base_url,
            store: location,
            output_dir,
            demo: true,
            sim: Some(sim),
            key_var: Some("(demo)".to_string()),
            demo_dir: Some(crate::context::DemoDir(dir)),
            config_path: PathBuf::new(),
        })
    }
}

impl Context {
    /// Fail with a clear message, naming every variable looked in, when no API key was found.
    pub(crate) fn require_key(&self) -> Result<(), Failure> {
        if self.key_var.is_some() {
            return Ok(());
        }
        let mut vars: Vec<String> = self
            .config
            .profile(Some(&self.profile_name))
            .ok()
            .and_then(|(_, p)| p.key_env)
            .into_iter()
            .collect();
        vars.extend(crate::config::KEY_ENV_VARS.iter().map(|v| v.to_string()));
        Err(Failure::usage(format!(
            "no API key: none of {} is set (profile `{}`); export {}=..., or try the simulator with --demo",
            vars.join(", "),
            self.profile_name,
            vars[0]
        )))
    }
}

/// Open the store a location names; a location that cannot be used is a usage error (exit 2).
fn open_location(
    location: Result<StoreLocation, LocationError>,
) -> Result<(Store, StoreLocation), Failure> {
    let usage = |e: &dyn std::fmt::Display| Failure::usage(e.to_string());
    let location = location.map_err(|e| usage(&e))?;
    let store = Store::open_location(&location).map_err(|e| usage(&e))?;
    Ok((store, location))
}

/// The log file of `--log FILE`, `[debug] log` or `SEEDANCE_LOG` (see `crate::logging`).
fn start_log(g: &GlobalArgs, config: &Config) -> Result<(), Failure> {
    let env = std::env::var("SEEDANCE_LOG").ok();
    let Some((path, level)) = crate::logging::choose(
        g.log.as_deref(),
        config.debug.log.as_deref(),
        env.as_deref(),
        &Paths::data_dir(),
    ) else {
        return Ok(());
    };
    let log = crate::logging::FileLog::open(&path, level)
        .map_err(|e| Failure::usage(format!("cannot open the log file {}: {e}", path.display())))?;
    log.install();
    tracing::info!(version = env!("CARGO_PKG_VERSION"), "seedance-tui started");
    Ok(())
}

/// The HTTP trace of `--trace FILE` (or `[debug] trace`), opened for appending.
fn open_trace(
    g: &GlobalArgs,
    config: &Config,
) -> Result<Option<std::sync::Arc<crate::api::trace::Trace>>, Failure> {
    let Some(path) = g.trace.clone().or_else(|| config.debug.trace.clone()) else {
        return Ok(None);
    };
    crate::api::trace::Trace::open(&path)
        .map(|t| Some(std::sync::Arc::new(t)))
        .map_err(|e| {
            Failure::usage(format!(
                "cannot open the trace file {}: {e}",
                path.display()
            ))
        })
}

/// `[assets] upload_to`, checked.
fn reference_bucket(config: &Config) -> Result<Option<crate::s3::S3Location>, Failure> {
    config
        .assets
        .upload_to
        .as_deref()
        .map(crate::s3::S3Location::parse)
        .transpose()
        .map_err(|e| Failure::usage(format!("[assets] upload_to: {e}")))
}

/// A fresh folder for one demo run, so demo tasks never mix with real ones (removed when the
/// run ends; folders left by demo runs that were killed are removed here).
fn demo_dir() -> PathBuf {
    remove_dead_demo_dirs(&std::env::temp_dir());
    let stamp = chrono::Utc::now().format("%Y%m%d-%H%M%S");
    std::env::temp_dir().join(format!("{DEMO_PREFIX}{stamp}-{}", std::process::id()))
}

const DEMO_PREFIX: &str = "seedance-tui-demo-";

/// Remove `seedance-tui-demo-STAMP-PID` folders in `tmp` whose process is gone.
fn remove_dead_demo_dirs(tmp: &std::path::Path) {
    let Ok(entries) = std::fs::read_dir(tmp) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name();
        let Some(rest) = name.to_str().and_then(|n| n.strip_prefix(DEMO_PREFIX)) else {
            continue;
        };
        let Some(pid) = rest.rsplit('-').next().and_then(|p| p.parse::<i32>().ok()) else {
            continue;
        };
        if pid <= 0 {
            continue;
        }
        // SAFETY: signal 0 only asks whether the process exists (EPERM: it does).
        let alive = unsafe { libc::kill(pid, 0) } == 0
            || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM);
        let ours = e.metadata().is_ok_and(|m| {
            use std::os::unix::fs::MetadataExt;
            m.is_dir() && m.uid() == unsafe { libc::getuid() }
        });
        if !alive && ours {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

//! The resolved environment a command or the dashboard runs in: config, profile, base URL, the
//! engine (client + store), the output folder, and with `--demo` the embedded simulator. Built
//! from the command line by `cli::context`; used by `runtime` and the commands alike.

use crate::config::Config;
use crate::engine::Engine;
use crate::sim::SimHandle;
use crate::store::StoreLocation;
use std::path::PathBuf;

/// The key the demo's simulator expects.
pub(crate) const DEMO_KEY: &str = "demo-key-not-secret";

/// How fast the demo's simulated tasks run (1.0 = real time).
pub(crate) const DEMO_SPEED: f64 = 40.0;

/// A resolved environment for one command.
pub struct Context {
    pub config: Config,
    pub engine: Engine,
    pub profile_name: String,
    pub base_url: String,
    /// Where the store lives (a PostgreSQL target keeps its password, to open it again).
    pub store: StoreLocation,
    /// Where results go by default: a folder, or a bucket (`[download] output_dir = "s3://..."`).
    pub output_dir: crate::destination::Destination,
    /// True when running against the embedded simulator.
    pub demo: bool,
    /// Keeps the demo simulator alive for the life of the command.
    pub sim: Option<SimHandle>,
    /// The environment variable the key came from; `None` when no key was found.
    pub key_var: Option<String>,
    /// The demo's throw-away folder, removed when the command ends.
    pub demo_dir: Option<DemoDir>,
    /// The config file (what the dashboard saves the table's columns into).
    pub config_path: PathBuf,
}

/// A demo run's own folder (its store, its videos): removed when the run ends, so runs leave
/// nothing behind in the temporary folder.
#[derive(Debug)]
pub struct DemoDir(pub PathBuf);

impl Drop for DemoDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl Context {
    /// The store's location as shown to people: the file, or the server without its password.
    pub(crate) fn store_shown(&self) -> String {
        match &self.store {
            StoreLocation::Sqlite(path) => path.display().to_string(),
            StoreLocation::Postgres(target) => target.to_string(),
        }
    }
}

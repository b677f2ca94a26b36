//! `seedance-tui doctor`: check the set-up and say what to do, one line per check.
//!
//! Resolves the config, profile, key, store and output folder itself, tolerantly (a broken config
//! is a finding, not an abort), never creates or changes the store, and talks to the API once:
//! the base-URL probe ([`ArkClient::probe`]), whose answer also judges the key and, through its
//! `Date` header, the clock.

use super::args::{DoctorArgs, GlobalArgs};
use super::exit::{Code, Failure};
use crate::api::client::{Probe, ProbeVerdict};
use crate::api::{ApiError, ArkClient, ClientConfig};
use crate::config::{Config, KEY_ENV_VARS, Paths, Profile, check_base_url, find_key};
use crate::store::inspect::{Ownership, inspect};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// A clock further than this from the server's shows wrong times left before links and tasks
/// expire, and wrong ages and ETAs.
pub(crate) const MAX_CLOCK_SKEW_SECS: i64 = 60;
/// Less free space than this in the output folder fails: a few videos' worth.
pub(crate) const MIN_FREE_BYTES: u64 = 1 << 30;

/// The outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Fail,
    /// Not applicable or not checkable here (no terminal, object storage); never fails.
    Skip,
    /// Works, with something to know (an answer of unknown shape); never fails.
    Warn,
}

/// One line of the report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Check {
    pub(crate) name: &'static str,
    pub status: Status,
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

impl Check {
    fn pass(name: &'static str, detail: impl Into<String>) -> Check {
        Check {
            name,
            status: Status::Pass,
            detail: detail.into(),
            fix: None,
        }
    }

    fn fail(name: &'static str, detail: impl Into<String>, fix: impl Into<String>) -> Check {
        Check {
            name,
            status: Status::Fail,
            detail: detail.into(),
            fix: Some(fix.into()),
        }
    }

    fn warn(name: &'static str, detail: impl Into<String>) -> Check {
        Check {
            name,
            status: Status::Warn,
            detail: detail.into(),
            fix: None,
        }
    }

    fn skip(name: &'static str, detail: impl Into<String>) -> Check {
        Check {
            name,
            status: Status::Skip,
            detail: detail.into(),
            fix: None,
        }
    }

    /// `✓ name: detail`, or `✗ name: detail — fix: what to do`; control characters (from a
    /// server's message, a file name) become spaces.
    pub(crate) fn line(&self) -> String {
        let mark = match self.status {
            Status::Pass => "✓",
            Status::Fail => "✗",
            Status::Skip => "-",
            Status::Warn => "!",
        };
        let mut s = format!("{mark} {}: {}", self.name, self.detail);
        if let Some(fix) = &self.fix {
            s.push_str(" — fix: ");
            s.push_str(fix);
        }
        s.chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect()
    }
}

/// Run every check and print the report. Exit code 0 when nothing failed, 1 otherwise.
pub(crate) async fn run(g: &GlobalArgs, a: &DoctorArgs) -> Result<Code, Failure> {
    if g.demo {
        return Err(Failure::usage(
            "doctor checks the real set-up; run it without --demo",
        ));
    }
    let checks = checks(g, a, |name| std::env::var(name).ok()).await;
    let ok = !checks.iter().any(|c| c.status == Status::Fail);
    if a.json {
        let doc = serde_json::json!({ "ok": ok, "checks": checks });
        println!("{doc}");
    } else {
        for c in &checks {
            println!("{}", c.line());
        }
    }
    Ok(if ok { Code::Ok } else { Code::TaskFailed })
}

/// Every check, in report order. `env` reads environment variables (keys, terminal, tmux).
pub(crate) async fn checks(
    g: &GlobalArgs,
    a: &DoctorArgs,
    env: impl Fn(&str) -> Option<String>,
) -> Vec<Check> {
    let mut out = Vec::new();
    let config_path = g.config.clone().unwrap_or_else(Paths::config_file);
    let (config_check, config) = config_check(&config_path);
    out.push(config_check);

    let profile = match config.profile(g.profile.as_deref()) {
        Ok(p) => Some(p),
        Err(e) => {
            out.push(Check::fail(
                "profile",
                e.to_string(),
                "pass --profile with a known name, or add the profile to the config",
            ));
            None
        }
    };
    if let Some((profile_name, profile)) = profile {
        let base_url = g
            .base_url
            .clone()
            .unwrap_or_else(|| profile.base_url.clone());
        let trace = g.trace.clone().or_else(|| config.debug.trace.clone());
        out.extend(api_checks(&profile_name, &profile, &base_url, trace.as_deref(), &env).await);
    }

    use crate::store::location::{LocationError, StoreLocation};
    match config.store_location(g.store.as_deref()) {
        Ok(StoreLocation::Sqlite(store_path)) => out.push(store_check(&store_path, now_ms())),
        Ok(StoreLocation::Postgres(target)) => {
            let checks = tokio::task::spawn_blocking(move || postgres_checks(&target)).await;
            out.extend(checks.unwrap_or_else(|e| {
                vec![Check::fail(
                    "store",
                    format!("the PostgreSQL check stopped: {e}"),
                    "run doctor again",
                )]
            }));
        }
        Err(e @ LocationError::PasswordInConfig) => out.push(Check::fail(
            "store",
            e.to_string(),
            "remove the password from [store] url; set PGPASSWORD or use ~/.pgpass",
        )),
        Err(e) => out.push(Check::fail(
            "store",
            e.to_string(),
            "set [store] url (or --store / SEEDANCE_STORE) to a SQLite file path or a postgres:// URL",
        )),
    }
    let output = a.out.clone().unwrap_or_else(|| config.output_dir());
    if output.to_string_lossy().starts_with("s3://") {
        out.push(bucket_check(&output.to_string_lossy(), &config.storage).await);
    } else {
        out.push(output_check(&output));
    }
    out.extend(terminal_checks(&config, &env));
    out
}

/// A store clock further than this from the server's is worth a warning: rows carry each
/// writer's clock (ages, "today's" spend), while the lease trusts none.
pub(crate) const MAX_STORE_CLOCK_SKEW_MS: i64 = 5_000;

/// A PostgreSQL store (shown without its password): the connection and the server's version,
/// the password lookup's warnings, and this host's clock against the server's `now()`.
fn postgres_checks(target: &crate::store::pg::target::PgTarget) -> Vec<Check> {
    use crate::store::pg::conn::PgConn;
    let conn = match PgConn::connect(target) {
        Ok(c) => c,
        Err(e) => {
            return vec![Check::fail(
                "store",
                e.to_string(),
                "check the URL, the password (PGPASSWORD or ~/.pgpass) and that the server lets this host in",
            )];
        }
    };
    let mut out = Vec::new();
    let asked = now_ms();
    let answer = conn.run(|c| {
        let row = c.query_one(
            "SELECT current_setting('server_version'), \
             (extract(epoch FROM clock_timestamp()) * 1000)::bigint",
            &[],
        )?;
        Ok::<_, postgres::Error>((row.try_get::<_, String>(0)?, row.try_get::<_, i64>(1)?))
    });
    let answered = now_ms();
    let (version, server_ms) = match answer {
        Ok(Ok(v)) => v,
        Ok(Err(e)) => {
            let e = crate::sanitize::error_chain(&e);
            return vec![Check::fail(
                "store",
                format!(
                    "{}: connected, but the server's version cannot be read: {e}",
                    conn.target()
                ),
                "check that the user may run queries in this database",
            )];
        }
        Err(e) => return vec![Check::fail("store", e.to_string(), "run doctor again")],
    };
    let version = crate::sanitize::flat(&version).into_owned();
    let encrypted = if conn.tls() { "TLS" } else { "not encrypted" };
    out.push(Check::pass(
        "store",
        format!("{} (PostgreSQL {version}, {encrypted})", conn.target()),
    ));
    for w in conn.warnings() {
        out.push(Check::warn("store password", w.clone()));
    }
    out.push(postgres_schema_check(&conn, server_ms));
    out.push(budget_day_check(&conn));
    let local = asked + (answered - asked) / 2;
    let skew = local - server_ms;
    let within = (answered - asked) / 2 + 1;
    out.push(if skew.abs() > MAX_STORE_CLOCK_SKEW_MS + within {
        Check::warn(
            "store clock",
            format!(
                "this host's clock is {:.1} s {} the database server's: ages and today's spend read differently on each host; sync the clocks (chrony, timedatectl set-ntp true)",
                skew.abs() as f64 / 1000.0,
                if skew > 0 { "ahead of" } else { "behind" }
            ),
        )
    } else {
        Check::pass(
            "store clock",
            format!("within {:.1} s of the database server's", skew.abs() as f64 / 1000.0),
        )
    });
    out
}

/// Whose midnight the daily cap's day starts at on a PostgreSQL store: the database's
/// `TimeZone`, the same for every host (`store::SharedDay`).
fn budget_day_check(conn: &crate::store::pg::conn::PgConn) -> Check {
    const NAME: &str = "budget day";
    let zone = conn.run(|c| {
        c.query_one("SELECT current_setting('TimeZone')", &[])
            .and_then(|r| r.try_get::<_, String>(0))
    });
    match zone {
        Ok(Ok(zone)) => Check::pass(
            NAME,
            format!(
                "midnight to midnight in {} (the database's TimeZone), one day for every host",
                crate::sanitize::line(&zone)
            ),
        ),
        Ok(Err(e)) => Check::warn(
            NAME,
            format!(
                "the database's TimeZone cannot be read: {}",
                crate::sanitize::error_chain(&e)
            ),
        ),
        Err(e) => Check::warn(NAME, e.to_string()),
    }
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// A PostgreSQL store's schema version and its poller, read without writing (an empty
/// database is left empty). The lease is judged by the server's clock (`server_ms`), as the
/// hosts sharing the store judge it.
fn postgres_schema_check(conn: &crate::store::pg::conn::PgConn, server_ms: i64) -> Check {
    const NAME: &str = "store schema";
    type Found = (Option<(String, i64)>, Option<(String, i64, i64)>);
    let read = conn.run(|c| -> Result<Found, postgres::Error> {
        let row = c.query_one(
            "SELECT to_regclass('seedance_schema') IS NOT NULL, to_regclass('leases') IS NOT NULL",
            &[],
        )?;
        let (marked, leases): (bool, bool) = (row.try_get(0)?, row.try_get(1)?);
        let mark = if marked {
            c.query_opt("SELECT app, version FROM seedance_schema", &[])?
                .map(|r| Ok::<_, postgres::Error>((r.try_get(0)?, r.try_get(1)?)))
                .transpose()?
        } else {
            None
        };
        let lease = if leases {
            c.query_opt(
                "SELECT holder, heartbeat_at, expires_at FROM leases WHERE name = 'poller'",
                &[],
            )?
            .map(|r| Ok::<_, postgres::Error>((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
            .transpose()?
        } else {
            None
        };
        Ok((mark, lease))
    });
    let (mark, lease) = match read {
        Ok(Ok(found)) => found,
        Ok(Err(e)) => {
            return Check::fail(
                NAME,
                format!("cannot be read: {}", crate::sanitize::error_chain(&e)),
                "check that the user may read this database's tables",
            );
        }
        Err(e) => return Check::fail(NAME, e.to_string(), "run doctor again"),
    };
    let known = crate::store::schema::CURRENT;
    let schema = match mark {
        None => {
            return Check::skip(
                NAME,
                "no seedance-tui schema in this database yet: made on first use (a database holding other tables is refused)",
            );
        }
        Some((_, v)) if v > known => {
            return Check::fail(
                NAME,
                format!("schema {v}, written by a newer seedance-tui (this build knows {known})"),
                "upgrade seedance-tui on this host",
            );
        }
        Some((_, v)) if v < known => format!("schema {v} (migrated to {known} on next use)"),
        Some(_) => format!("schema {known}"),
    };
    let shown = crate::runtime::lease::shown_holder;
    let poller = match lease {
        Some((holder, beat, expires)) if expires > server_ms => format!(
            "poller: {} (renewed {}s ago by the server's clock)",
            shown(&holder),
            (server_ms - beat).max(0) / 1000
        ),
        Some((holder, ..)) => format!(
            "poller: none (the last, {}, stopped renewing)",
            shown(&holder)
        ),
        None => "poller: none".to_string(),
    };
    Check::pass(NAME, format!("{schema}; {poller}"))
}

/// The config file: readable, valid (unknown keys are named by the parser), not open to others.
pub(crate) fn config_check(path: &Path) -> (Check, Config) {
    const NAME: &str = "config";
    if !path.exists() {
        return (
            Check::pass(
                NAME,
                format!(
                    "no file at {} (the defaults are used; `seedance-tui config example` prints one)",
                    path.display()
                ),
            ),
            Config::default(),
        );
    }
    match Config::load(path) {
        Err(e @ crate::config::ConfigError::Read { .. }) => (
            Check::fail(
                NAME,
                e.to_string(),
                format!(
                    "make it readable for this user (chown it, chmod 600 {})",
                    path.display()
                ),
            ),
            Config::default(),
        ),
        Err(e) => (
            Check::fail(
                NAME,
                e.to_string(),
                "correct or remove the named key (`seedance-tui config example` lists every key)",
            ),
            Config::default(),
        ),
        Ok(config) => {
            let check = match crate::config::permission_problem(path) {
                Some((w, fix)) => Check::fail(NAME, w, fix),
                None => Check::pass(
                    NAME,
                    format!("{} (valid, mode {})", path.display(), mode_text(path)),
                ),
            };
            (check, config)
        }
    }
}

fn mode_text(path: &Path) -> String {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .map(|m| format!("{:03o}", m.permissions().mode() & 0o777))
        .unwrap_or_else(|_| "unknown".into())
}

/// The key, the base URL and the clock, from one probe of the API.
async fn api_checks(
    profile_name: &str,
    profile: &Profile,
    base_url: &str,
    trace: Option<&Path>,
    env: &impl Fn(&str) -> Option<String>,
) -> Vec<Check> {
    let found = find_key(profile, env);
    let mut names: Vec<String> = profile.key_env.iter().cloned().collect();
    names.extend(KEY_ENV_VARS.iter().map(|s| s.to_string()));
    let key_var = found.as_ref().map(|(var, _)| var.clone());
    let url_problems = check_base_url(base_url);
    let mut client_cfg = ClientConfig::new(base_url.to_string(), found.map(|(_, k)| k));
    // The probe goes into the trace too: what a relay answers it is what a bug report needs.
    client_cfg.trace = trace
        .and_then(|p| crate::api::trace::Trace::open(p).ok())
        .map(std::sync::Arc::new);
    let client = ArkClient::new(client_cfg);
    let probe = match &client {
        Ok(c) => Some(c.probe().await),
        Err(_) => None,
    };
    vec![
        key_check(
            profile_name,
            key_var.as_deref(),
            &names,
            client.as_ref().err(),
            probe.as_ref(),
        ),
        url_check(base_url, &url_problems, probe.as_ref()),
        clock_check(
            probe.as_ref().and_then(|p| p.server_date),
            chrono::Utc::now().timestamp(),
            probe.as_ref().map_or(0, |p| p.elapsed.as_secs() as i64),
        ),
    ]
}

/// The key: which variable it came from (never the key), and what the server said of it.
fn key_check(
    profile: &str,
    var: Option<&str>,
    searched: &[String],
    client_error: Option<&ApiError>,
    probe: Option<&Probe>,
) -> Check {
    const NAME: &str = "key";
    let Some(var) = var else {
        return Check::fail(
            NAME,
            format!("no API key in {} (profile {profile})", searched.join(", ")),
            format!(
                "export {}=<your key> (relay tokens must be in the SeeDance2 group), or try --demo",
                searched.first().map_or("SEEDANCE_API_KEY", |s| s.as_str())
            ),
        );
    };
    if let Some(e) = client_error {
        return Check::fail(
            NAME,
            format!("the key in {var} cannot be used: {e}"),
            format!("set {var} again without quotes or line breaks"),
        );
    }
    match probe.map(|p| &p.verdict) {
        Some(ProbeVerdict::Ok) => Check::pass(
            NAME,
            format!("read from {var} (profile {profile}); the server accepted it"),
        ),
        Some(ProbeVerdict::KeyRefused(e)) => Check::fail(
            NAME,
            format!("read from {var} (profile {profile}), but the server refused it: {e}"),
            e.hint(),
        ),
        _ => Check::pass(
            NAME,
            format!("read from {var} (profile {profile}); not confirmed (the server did not say)"),
        ),
    }
}

/// The base URL: its shape, and the probe's verdict.
fn url_check(base_url: &str, problems: &[String], probe: Option<&Probe>) -> Check {
    const NAME: &str = "base URL";
    let Some(probe) = probe else {
        return Check::fail(
            NAME,
            format!("{base_url} was not probed (no usable key)"),
            "fix the key first",
        );
    };
    let ms = probe.elapsed.as_millis();
    match &probe.verdict {
        v @ ProbeVerdict::UnknownShape { .. } => Check::warn(
            NAME,
            format!(
                "{base_url} {}{}",
                v.shape_warning().unwrap_or_default(),
                if problems.is_empty() {
                    String::new()
                } else {
                    format!("; also: {}", problems.join("; "))
                }
            ),
        ),
        ProbeVerdict::ServerTrouble(e) => Check::fail(
            NAME,
            format!("{base_url} is having trouble: {e}"),
            "a gateway or server error, not a wrong URL: try again in a minute",
        ),
        v if v.url_is_right() && problems.is_empty() => {
            Check::pass(NAME, format!("{base_url} answers as the Ark API ({ms} ms)"))
        }
        v if v.url_is_right() => Check::fail(
            NAME,
            format!(
                "{base_url} answers as the Ark API, but: {}",
                problems.join("; ")
            ),
            "use the URL the warning names",
        ),
        ProbeVerdict::WrongUrl(e) => Check::fail(
            NAME,
            format!("{base_url} is not the Ark API: {e}"),
            problems.first().cloned().unwrap_or_else(|| e.hint()),
        ),
        ProbeVerdict::Unreachable(e) => Check::fail(
            NAME,
            format!("cannot reach {base_url}: {e}"),
            "check the host and port in the base URL (--base-url or the profile), the network and any proxy",
        ),
        _ => Check::fail(
            NAME,
            format!("{base_url}: unexpected answer"),
            "check the base URL",
        ),
    }
}

/// The clock against the server's `Date` (1 s resolution, plus the exchange's duration).
pub fn clock_check(server: Option<i64>, local: i64, elapsed_secs: i64) -> Check {
    const NAME: &str = "clock";
    let Some(server) = server else {
        return Check::skip(NAME, "not checked (no Date header from the server)");
    };
    let skew = local - server;
    let tolerance = MAX_CLOCK_SKEW_SECS + elapsed_secs.max(0);
    let how = if skew >= 0 { "ahead of" } else { "behind" };
    if skew.abs() <= tolerance {
        Check::pass(
            NAME,
            format!("within {}s of the server's", skew.abs().max(1)),
        )
    } else {
        Check::fail(
            NAME,
            format!(
                "{} {how} the server's: times left before links and tasks expire will be wrong",
                human_secs(skew.abs())
            ),
            "sync the system clock (e.g. `timedatectl set-ntp true`, or chrony/ntpd)",
        )
    }
}

fn human_secs(s: i64) -> String {
    match s {
        0..=119 => format!("{s}s"),
        120..=7199 => format!("{} min", s / 60),
        _ => format!("{:.1} h", s as f64 / 3600.0),
    }
}

fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

/// Whether `dir` (an existing folder) takes a new file: create and remove one.
fn dir_writable(dir: &Path) -> Result<(), String> {
    let probe = dir.join(format!(".seedance-tui-doctor-{}", std::process::id()));
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
        .map_err(|e| e.to_string())?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

/// The nearest folder that exists at or above `path`, and whether `path` itself exists.
/// Fails when something on the way is not a folder.
fn nearest_dir(path: &Path) -> Result<PathBuf, String> {
    let mut p = path.to_path_buf();
    loop {
        match std::fs::metadata(&p) {
            Ok(m) if m.is_dir() => return Ok(p),
            Ok(_) => return Err(format!("{} is not a folder", p.display())),
            Err(_) => {}
        }
        if !p.pop() || p.as_os_str().is_empty() {
            return Ok(PathBuf::from("."));
        }
    }
}

/// The store: ours (or new), the schema this build knows, writable, not open to others' writes;
/// size and the poller lease. Looked at read-only: never created, migrated or marked here.
pub(crate) fn store_check(path: &Path, now_ms: i64) -> Check {
    const NAME: &str = "store";
    let shown = path.display();
    let fix_path = "pass --store PATH to use another file";
    if std::fs::symlink_metadata(path).is_err() {
        let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
        return match dir.map_or(Ok(PathBuf::from(".")), nearest_dir) {
            Ok(d) => match dir_writable(&d) {
                Ok(()) => Check::pass(
                    NAME,
                    format!("{shown} does not exist yet; it is created on first use"),
                ),
                Err(e) => Check::fail(
                    NAME,
                    format!(
                        "{shown} cannot be created: {} is not writable ({e})",
                        d.display()
                    ),
                    format!("make {} writable, or {fix_path}", d.display()),
                ),
            },
            Err(e) => Check::fail(
                NAME,
                format!("{shown} cannot be created: {e}"),
                fix_path.to_string(),
            ),
        };
    }
    let writable = std::fs::OpenOptions::new()
        .append(true)
        .open(path)
        .map_err(|e| e.to_string())
        .and_then(|_| dir_writable(path.parent().unwrap_or(Path::new("."))));
    let not_writable = |e: &str| {
        Check::fail(
            NAME,
            format!("{shown} is not writable: {e}"),
            format!("make the file and its folder writable for this user, or {fix_path}"),
        )
    };
    let report = match inspect(path) {
        Ok(r) => r,
        // SQLite cannot even read a WAL store without write access to it and its folder.
        Err(_) if writable.is_err() => {
            return not_writable(writable.as_ref().err().map_or("", |e| e.as_str()));
        }
        Err(e) => {
            return Check::fail(
                NAME,
                format!("{shown} cannot be read as a store: {e}"),
                format!("move it aside (a new store is created), or {fix_path}"),
            );
        }
    };
    match report.ownership {
        Ownership::Foreign => {
            return Check::fail(
                NAME,
                format!("{shown} is another program's SQLite database (it was not changed)"),
                format!("{fix_path}, or move that file elsewhere"),
            );
        }
        Ownership::Ours | Ownership::OursUnmarked | Ownership::Empty => {}
    }
    let known = crate::store::schema::CURRENT;
    if report.schema_version > known {
        return Check::fail(
            NAME,
            format!(
                "{shown} has schema {} but this build knows {known}",
                report.schema_version
            ),
            "upgrade seedance-tui (see README: cargo install)",
        );
    }
    if let Err(e) = &writable {
        return not_writable(e);
    }
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path)
        .map(|m| m.permissions().mode() & 0o777)
        .unwrap_or(0);
    if mode & 0o022 != 0 {
        return Check::fail(
            NAME,
            format!("{shown} can be written by other users (mode {mode:03o})"),
            format!("chmod 600 {shown}"),
        );
    }
    let schema = if report.schema_version < known {
        format!(
            "schema {} (migrated to {known} on next use)",
            report.schema_version
        )
    } else {
        format!("schema {known}")
    };
    let poller = match &report.poller {
        Some(l) if l.expires_at > now_ms && !crate::runtime::lease::holder_gone(&l.holder) => {
            format!(
                "poller: {} (renewed {}s ago)",
                l.holder,
                ((now_ms - l.heartbeat_at).max(0) / 1000)
            )
        }
        Some(l) => format!("poller: none (the last, {}, stopped renewing)", l.holder),
        None => "poller: none".to_string(),
    };
    Check::pass(
        NAME,
        format!(
            "{shown} ({schema}, {}, mode {mode:03o}); {poller}",
            human_bytes(report.size)
        ),
    )
}

/// An `s3://` results destination: the bucket answers, the credentials are accepted and a
/// write is allowed (a tiny object put under the prefix and deleted), as before a submit.
pub(crate) async fn bucket_check(text: &str, storage: &crate::config::StorageConfig) -> Check {
    const NAME: &str = "object storage";
    let dest = match crate::destination::Destination::parse(text) {
        Ok(d) => d,
        Err(e) => {
            return Check::fail(
                NAME,
                e,
                "set [download] output_dir (or --out) to s3://BUCKET/PREFIX or a folder",
            );
        }
    };
    match dest.check_writable(storage).await {
        Ok(()) => Check::pass(
            NAME,
            format!("{dest} (the bucket answers, the credentials are accepted, writes allowed)"),
        ),
        Err(e) => Check::fail(
            NAME,
            e.message.clone(),
            "fix the bucket, the AWS_* credentials or the endpoint as the message says (README: Results into your own bucket)",
        ),
    }
}

/// The output folder: a folder (or creatable), writable, with room for videos.
pub(crate) fn output_check(dir: &Path) -> Check {
    const NAME: &str = "output";
    let shown = dir.display();
    let existing = match nearest_dir(dir) {
        Ok(d) => d,
        Err(e) => {
            return Check::fail(
                NAME,
                format!("{shown} cannot be used: {e}"),
                "set [download] output_dir in the config (or --out) to a folder",
            );
        }
    };
    if let Err(e) = dir_writable(&existing) {
        return Check::fail(
            NAME,
            format!("{shown} is not writable ({}: {e})", existing.display()),
            format!(
                "make {} writable, or set [download] output_dir (or --out) to another folder",
                existing.display()
            ),
        );
    }
    let created = if existing == dir {
        ""
    } else {
        ", created on first download"
    };
    match free_bytes(&existing) {
        Some(free) if free < MIN_FREE_BYTES => Check::fail(
            NAME,
            format!("{shown}: only {} free", human_bytes(free)),
            "free some space, or set [download] output_dir (or --out) to a larger disk",
        ),
        Some(free) => Check::pass(
            NAME,
            format!("{shown} (writable{created}, {} free)", human_bytes(free)),
        ),
        None => Check::pass(NAME, format!("{shown} (writable{created})")),
    }
}

/// Free bytes for this user on the file system holding `dir`.
fn free_bytes(dir: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(dir.as_os_str().as_bytes()).ok()?;
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: `c` is a valid NUL-terminated path and `st` a valid out-pointer.
    let rc = unsafe { libc::statvfs(c.as_ptr(), &mut st) };
    (rc == 0).then(|| (st.f_bavail as u64).saturating_mul(st.f_frsize as u64))
}

/// The terminal: size and colours, the clipboard (OSC 52), images, and tmux's options.
pub(crate) fn terminal_checks(
    config: &Config,
    env: &impl Fn(&str) -> Option<String>,
) -> Vec<Check> {
    let set = |k: &str| env(k).is_some_and(|v| !v.is_empty());
    let mut out = Vec::new();
    let term = env("TERM").unwrap_or_default();
    let colours = if set("NO_COLOR") {
        "no colour (NO_COLOR)"
    } else if env("COLORTERM").is_some_and(|v| v == "truecolor" || v == "24bit") {
        "24-bit colour"
    } else if term.contains("256color") {
        "256 colours"
    } else {
        "16 colours"
    };
    let size = if std::io::IsTerminal::is_terminal(&std::io::stdout()) {
        crossterm::terminal::size().ok()
    } else {
        None
    };
    out.push(match size {
        _ if term == "dumb" => Check::fail(
            "terminal",
            "TERM=dumb: the dashboard needs a terminal that draws",
            "run it in a real terminal (TERM=xterm-256color or similar)",
        ),
        None => Check::skip(
            "terminal",
            format!(
                "not a terminal (output redirected); TERM={}, {colours}",
                if term.is_empty() { "unset" } else { &term }
            ),
        ),
        Some((w, h)) if w < 80 || h < 24 => Check::fail(
            "terminal",
            format!("{w}x{h}, {colours}: smaller than 80x24"),
            "enlarge the window to at least 80x24 (below 50x12 the dashboard shows only a note)",
        ),
        Some((w, h)) => Check::pass("terminal", format!("{w}x{h}, TERM={term}, {colours}")),
    });

    let ssh = set("SSH_CONNECTION") || set("SSH_TTY");
    let via = match (set("TMUX"), set("STY"), ssh) {
        (true, _, _) => "through tmux",
        (_, true, _) => "through GNU screen",
        (_, _, true) => "over SSH",
        _ => "locally",
    };
    out.push(Check::pass(
        "clipboard",
        format!(
            "copies use OSC 52 {via}; they reach the clipboard when the terminal allows OSC 52 (kitty, WezTerm, iTerm2, Windows Terminal, foot, Alacritty do)"
        ),
    ));

    let mode = config.ui.images.as_deref().unwrap_or("halfblocks");
    out.push(Check::pass(
        "images",
        match mode {
            "off" => "previews off ([ui] images = \"off\")".to_string(),
            "auto" if crate::runtime::preview::may_query(mode, env) => {
                "auto: kitty/sixel/iTerm2 when the terminal answers the query, else halfblocks"
                    .to_string()
            }
            "auto" => format!("auto: halfblocks {via} (richer protocols only on a local terminal)"),
            _ => "halfblocks (coloured cells; work everywhere, also over SSH and in tmux)"
                .to_string(),
        },
    ));

    if set("TMUX") {
        out.push(tmux_check(
            tmux_option("set-clipboard").as_deref(),
            tmux_option("allow-passthrough").as_deref(),
        ));
    }
    out
}

/// A global tmux option's value (`tmux show-options -gv NAME`), if tmux answers.
fn tmux_option(name: &str) -> Option<String> {
    let out = std::process::Command::new("tmux")
        .args(["show-options", "-gv", name])
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// tmux passes our OSC 52 copies and notifications on only with `allow-passthrough` on (they
/// are wrapped for passthrough) and `set-clipboard` not off.
pub fn tmux_check(set_clipboard: Option<&str>, allow_passthrough: Option<&str>) -> Check {
    const NAME: &str = "tmux";
    let (Some(clip), Some(pass)) = (set_clipboard, allow_passthrough) else {
        return Check::skip(
            NAME,
            "could not read set-clipboard / allow-passthrough (tmux older than 3.3, or not on PATH)",
        );
    };
    // Judged by the routes used: copies go through `tmux load-buffer -w`, which reaches the
    // outer clipboard unless set-clipboard is off (tmux 3.3's default, external, is fine);
    // only desktop notifications need passthrough (the bell rings without it).
    let detail = format!("set-clipboard {clip}, allow-passthrough {pass}");
    if clip == "off" {
        let mut fixes = vec!["tmux set -g set-clipboard on"];
        if pass == "off" {
            fixes.push("tmux set -g allow-passthrough on");
        }
        return Check::fail(
            NAME,
            format!(
                "{detail}: copies stay in tmux's buffer and never reach the terminal's clipboard"
            ),
            format!("{} (and add it to ~/.tmux.conf)", fixes.join("; ")),
        );
    }
    if pass == "off" {
        return Check::pass(
            NAME,
            format!(
                "{detail}: copies reach the clipboard through tmux's buffer; desktop notifications need `tmux set -g allow-passthrough on` (the bell rings without it)"
            ),
        );
    }
    Check::pass(NAME, detail)
}

#[cfg(test)]
mod postgres_tests {
    use super::*;
    use crate::store::pg::conn::PgConn;
    use crate::store::pg::target::PgTarget;
    use crate::store::pg::test_db::TestDb;

    /// The lease line of a PostgreSQL store: the live holder as `KIND pid N@HOST`, then none
    /// once it stopped renewing by the server's clock; an empty database is left empty.
    #[test]
    fn the_schema_and_the_poller_of_a_postgres_store() {
        let Some(db) = TestDb::create("doctor_lease") else {
            return;
        };
        let target = PgTarget::parse(&db.url).expect("url");
        let conn = PgConn::connect(&target).expect("connect");
        let check = postgres_schema_check(&conn, 0);
        assert_eq!(check.status, Status::Skip, "{check:?}");
        let tables: i64 = conn
            .run(|c| {
                c.query_one(
                    "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()",
                    &[],
                )
                .map(|r| r.get(0))
            })
            .expect("run")
            .expect("count");
        assert_eq!(tables, 0, "looking made nothing");

        let store = crate::store::Store::open_postgres(&target).expect("store");
        let lease = match store.lease_acquire_judged(
            "poller",
            "watch --daemon pid 4242@host-b #0a0b0c",
            0,
            60_000,
            None,
            |_, _| true,
        ) {
            Ok(crate::store::LeaseOutcome::Held(l)) => l,
            other => panic!("{other:?}"),
        };
        let now = store.server_clock_ms().expect("clock").expect("server");
        let check = postgres_schema_check(&conn, now);
        assert_eq!(check.status, Status::Pass, "{check:?}");
        let schema = crate::store::schema::CURRENT;
        assert_eq!(
            check.detail,
            format!(
                "schema {schema}; poller: watch --daemon pid 4242@host-b (renewed 0s ago by the server's clock)"
            )
        );
        let after = lease.expires_at;
        let check = postgres_schema_check(&conn, after);
        assert_eq!(
            check.detail,
            format!(
                "schema {schema}; poller: none (the last, watch --daemon pid 4242@host-b, stopped renewing)"
            )
        );
    }
}

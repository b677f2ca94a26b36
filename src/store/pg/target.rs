//! A PostgreSQL store's address, read the way libpq reads a connection URI
//! (`postgres://[user[:password]@][host][:port][/dbname][?param=value&…]`), with libpq's
//! environment defaults (`PGHOST`, `PGPORT`, `PGUSER`, `PGDATABASE`, `PGSSLMODE`,
//! `PGSSLROOTCERT`, `PGCONNECT_TIMEOUT`, `PGAPPNAME`) and its password lookup: the URL, else
//! `PGPASSWORD`, else `PGPASSFILE` or `~/.pgpass`.
//!
//! A target shows itself only redacted (`postgres://alice@db:5432/video`): neither `Display` nor
//! `Debug` nor any error here carries the password.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// libpq's port when none is given.
pub(crate) const DEFAULT_PORT: u16 = 5432;
/// The connect timeout when none is given (libpq waits forever; a store open must not).
pub(crate) const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Where Debian's (and most distributions') server puts its socket; libpq's built-in default
/// elsewhere is `/tmp`.
const SOCKET_DIRS: [&str; 2] = ["/var/run/postgresql", "/tmp"];
/// The most of a password file read: a bigger one is not a password file.
const PGPASS_MAX_BYTES: u64 = 1 << 20;

/// A password, never shown.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Password(Vec<u8>);

impl Password {
    /// The password's bytes, for the driver (and nothing that prints).
    pub(crate) fn secret_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(…)")
    }
}

/// libpq's `sslmode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SslMode {
    /// Plain only.
    Disable,
    /// Plain first; TLS (unchecked) when the server refuses plain.
    Allow,
    /// TLS (unchecked) first; plain when the server has no TLS. libpq's default.
    Prefer,
    /// TLS, its certificate unchecked — unless a root certificate is named, then as `VerifyCa`.
    Require,
    /// TLS with a certificate chain to the root certificate.
    VerifyCa,
    /// `VerifyCa`, and the certificate names the host.
    VerifyFull,
}

impl SslMode {
    fn parse(text: &str) -> Result<SslMode, TargetError> {
        Ok(match text {
            "disable" => SslMode::Disable,
            "allow" => SslMode::Allow,
            "prefer" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            _ => return Err(TargetError::SslMode(text.chars().take(40).collect())),
        })
    }

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Allow => "allow",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyCa => "verify-ca",
            SslMode::VerifyFull => "verify-full",
        }
    }
}

/// Where the server listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PgHost {
    /// A host name or an IP address (IPv6 without its brackets).
    Tcp(String),
    /// The folder of a Unix socket (`/var/run/postgresql`).
    Socket(PathBuf),
}

/// Why a PostgreSQL URL was refused. No variant carries the URL or any part of the password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum TargetError {
    #[error("not a PostgreSQL URL: it must start with postgres:// or postgresql://")]
    Scheme,
    #[error(
        "the PostgreSQL URL has a bad %-escape (a % must be followed by two hex digits, and %00 is not allowed)"
    )]
    Escape,
    #[error("the PostgreSQL URL's {0} is not UTF-8 text")]
    NotText(&'static str),
    #[error("the PostgreSQL URL's port `{0}` is not a number from 1 to 65535")]
    Port(String),
    #[error("the PostgreSQL URL has an unclosed `[` around an IPv6 address")]
    Bracket,
    #[error(
        "the PostgreSQL URL names several hosts; seedance-tui connects to one (give the primary's address)"
    )]
    SeveralHosts,
    #[error("sslmode `{0}` is not one of disable, allow, prefer, require, verify-ca, verify-full")]
    SslMode(String),
    #[error("connect_timeout `{0}` is not a whole number of seconds")]
    Timeout(String),
    #[error(
        "the PostgreSQL URL's parameter `{0}` is not supported (supported: host, port, user, dbname, sslmode, sslrootcert, connect_timeout, application_name)"
    )]
    Param(String),
    #[error("the PostgreSQL URL's parameter `{0}` has no `=value`")]
    ParamValue(String),
    #[error(
        "the PostgreSQL URL has no user and none could be found (set PGUSER or put USER@ in the URL)"
    )]
    NoUser,
}

/// Where a PostgreSQL store lives and how to reach it. The password given in the URL is kept
/// apart and never shown; [`PgTarget::password`] finds the one to use.
#[derive(Clone, PartialEq, Eq)]
pub struct PgTarget {
    pub(crate) host: PgHost,
    pub(crate) port: u16,
    pub(crate) user: String,
    pub(crate) dbname: String,
    pub(crate) sslmode: SslMode,
    pub(crate) sslrootcert: Option<PathBuf>,
    /// Always bounded: the URL's `connect_timeout` (at least 2 s, as libpq), else
    /// [`DEFAULT_CONNECT_TIMEOUT`].
    pub(crate) connect_timeout: Duration,
    pub(crate) application_name: Option<String>,
    url_password: Option<Password>,
}

/// Where a password came from: the words an error uses to say which one the server refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PasswordSource {
    Url,
    Env,
    File(PathBuf),
}

impl fmt::Display for PasswordSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PasswordSource::Url => f.write_str("the password in the store URL"),
            PasswordSource::Env => f.write_str("the password in PGPASSWORD"),
            PasswordSource::File(p) => write!(f, "the password from {}", p.display()),
        }
    }
}

/// The password to send (if any), where it came from, and what the user should be told about
/// password files that were skipped.
#[derive(Debug, Clone, Default)]
pub(crate) struct PasswordLookup {
    pub(crate) password: Option<(Password, PasswordSource)>,
    pub(crate) warnings: Vec<String>,
}

/// The environment a target is read under (the process's, or a test's).
pub(crate) type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

/// The process's environment; an empty variable counts as unset.
pub(crate) fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// Whether `text` is written as a PostgreSQL URL (the scheme in any case).
pub(crate) fn is_postgres_url(text: &str) -> bool {
    scheme_rest(text).is_some()
}

fn scheme_rest(text: &str) -> Option<&str> {
    ["postgresql://", "postgres://"].iter().find_map(|p| {
        text.get(..p.len())
            .filter(|head| head.eq_ignore_ascii_case(p))
            .map(|_| &text[p.len()..])
    })
}

/// `%XX` decoded, as libpq: a bad escape or `%00` is an error.
fn decode(text: &str) -> Result<Vec<u8>, TargetError> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3).ok_or(TargetError::Escape)?;
            let hex = std::str::from_utf8(hex).map_err(|_| TargetError::Escape)?;
            let b = u8::from_str_radix(hex, 16).map_err(|_| TargetError::Escape)?;
            if b == 0 || !hex.bytes().all(|c| c.is_ascii_hexdigit()) {
                return Err(TargetError::Escape);
            }
            out.push(b);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Ok(out)
}

fn decode_text(text: &str, what: &'static str) -> Result<String, TargetError> {
    String::from_utf8(decode(text)?).map_err(|_| TargetError::NotText(what))
}

fn parse_port(text: &str) -> Result<u16, TargetError> {
    match text.parse::<u16>() {
        Ok(p) if p > 0 => Ok(p),
        _ => Err(TargetError::Port(text.chars().take(20).collect())),
    }
}

fn parse_timeout(text: &str) -> Result<Duration, TargetError> {
    let secs: i64 = text
        .trim()
        .parse()
        .map_err(|_| TargetError::Timeout(text.chars().take(20).collect()))?;
    // libpq: zero or negative is "wait forever", which a store never does; under 2 s is 2 s.
    Ok(match secs {
        s if s <= 0 => DEFAULT_CONNECT_TIMEOUT,
        s => Duration::from_secs(s.max(2) as u64),
    })
}

/// The login name of the effective user (libpq's default user).
fn os_user() -> Option<String> {
    let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
    let mut buf = vec![0 as libc::c_char; 4096];
    let mut result: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: every pointer is to a live local of the size given; `getpwuid_r` writes only
    // into them, and `pw_name` points into `buf`, read before it is dropped.
    let rc = unsafe {
        libc::getpwuid_r(
            libc::geteuid(),
            &mut pwd,
            buf.as_mut_ptr(),
            buf.len(),
            &mut result,
        )
    };
    if rc != 0 || result.is_null() || pwd.pw_name.is_null() {
        return None;
    }
    // SAFETY: a non-null `pw_name` from a successful call is a NUL-terminated string in `buf`.
    let name = unsafe { std::ffi::CStr::from_ptr(pwd.pw_name) };
    name.to_str()
        .ok()
        .filter(|n| !n.is_empty())
        .map(str::to_string)
}

fn host_from(text: &str) -> PgHost {
    if text.starts_with('/') {
        PgHost::Socket(PathBuf::from(text))
    } else {
        PgHost::Tcp(text.to_string())
    }
}

/// libpq's default host: the server's socket folder when there is one, else `localhost`.
fn default_host() -> PgHost {
    SOCKET_DIRS
        .iter()
        .map(Path::new)
        .find(|d| d.is_dir())
        .map_or_else(
            || PgHost::Tcp("localhost".into()),
            |d| PgHost::Socket(d.to_path_buf()),
        )
}

impl PgTarget {
    /// Read `url` under the process's environment.
    pub(crate) fn parse(url: &str) -> Result<PgTarget, TargetError> {
        PgTarget::parse_with(url, &process_env)
    }

    /// Read `url`; what it leaves out comes from `env` (the `PG…` variables), then libpq's
    /// defaults.
    pub(crate) fn parse_with(url: &str, env: Env<'_>) -> Result<PgTarget, TargetError> {
        let rest = scheme_rest(url).ok_or(TargetError::Scheme)?;
        let (before_query, query) = match rest.split_once('?') {
            Some((a, q)) => (a, Some(q)),
            None => (rest, None),
        };
        let (authority, path) = match before_query.find('/') {
            Some(i) => (&before_query[..i], Some(&before_query[i + 1..])),
            None => (before_query, None),
        };
        let (userinfo, hostport) = match authority.rfind('@') {
            Some(i) => (Some(&authority[..i]), &authority[i + 1..]),
            None => (None, authority),
        };
        let mut user = None;
        let mut url_password = None;
        if let Some(info) = userinfo {
            let (u, p) = match info.split_once(':') {
                Some((u, p)) => (u, Some(p)),
                None => (info, None),
            };
            if !u.is_empty() {
                user = Some(decode_text(u, "user name")?);
            }
            if let Some(p) = p {
                url_password = Some(Password(decode(p)?));
            }
        }
        let (mut host, mut port) = (None, None);
        if !hostport.is_empty() {
            let (h, p) = if let Some(inner) = hostport.strip_prefix('[') {
                let end = inner.find(']').ok_or(TargetError::Bracket)?;
                let after = &inner[end + 1..];
                if after.starts_with(',') {
                    return Err(TargetError::SeveralHosts);
                }
                (&inner[..end], after.strip_prefix(':'))
            } else {
                if hostport.contains(',') {
                    return Err(TargetError::SeveralHosts);
                }
                match hostport.rsplit_once(':') {
                    Some((h, p)) => (h, Some(p)),
                    None => (hostport, None),
                }
            };
            if !h.is_empty() {
                host = Some(host_from(&decode_text(h, "host")?));
            }
            if let Some(p) = p.filter(|p| !p.is_empty()) {
                port = Some(parse_port(p)?);
            }
        }
        let mut dbname = path
            .filter(|p| !p.is_empty())
            .map(|p| decode_text(p, "database name"))
            .transpose()?;
        let (mut sslmode, mut sslrootcert, mut timeout, mut app) = (None, None, None, None);
        for pair in query.into_iter().flat_map(|q| q.split('&')) {
            if pair.is_empty() {
                continue;
            }
            let (k, v) = pair
                .split_once('=')
                .ok_or_else(|| TargetError::ParamValue(pair.chars().take(40).collect()))?;
            let key = decode_text(k, "parameter name")?;
            let value = decode_text(v, "parameter value")?;
            match key.as_str() {
                "host" => host = Some(host_from(&value)),
                "port" => port = Some(parse_port(&value)?),
                "user" => user = Some(value),
                "dbname" => dbname = Some(value),
                "sslmode" => sslmode = Some(SslMode::parse(&value)?),
                // JDBC's spelling, which libpq accepts as sslmode=require.
                "ssl" if value == "true" => sslmode = Some(SslMode::Require),
                "sslrootcert" => sslrootcert = Some(PathBuf::from(value)),
                "connect_timeout" => timeout = Some(parse_timeout(&value)?),
                "application_name" => app = Some(value),
                // A password is a password wherever it is written: kept apart like the URL's.
                "password" => url_password = Some(Password(value.into_bytes())),
                other => return Err(TargetError::Param(other.chars().take(40).collect())),
            }
        }
        let host = match host {
            Some(h) => h,
            None => env("PGHOST").map_or_else(default_host, |h| host_from(&h)),
        };
        let port = match port {
            Some(p) => p,
            None => env("PGPORT").map_or(Ok(DEFAULT_PORT), |p| parse_port(&p))?,
        };
        let user = match user {
            Some(u) => u,
            None => env("PGUSER").or_else(os_user).ok_or(TargetError::NoUser)?,
        };
        let dbname = dbname
            .or_else(|| env("PGDATABASE"))
            .unwrap_or_else(|| user.clone());
        let sslmode = match sslmode {
            Some(m) => m,
            None => env("PGSSLMODE").map_or(Ok(SslMode::Prefer), |m| SslMode::parse(&m))?,
        };
        let connect_timeout = match timeout {
            Some(t) => t,
            None => env("PGCONNECT_TIMEOUT")
                .map_or(Ok(DEFAULT_CONNECT_TIMEOUT), |t| parse_timeout(&t))?,
        };
        Ok(PgTarget {
            host,
            port,
            user,
            dbname,
            sslmode,
            sslrootcert: sslrootcert.or_else(|| env("PGSSLROOTCERT").map(PathBuf::from)),
            connect_timeout,
            application_name: app.or_else(|| env("PGAPPNAME")),
            url_password,
        })
    }

    /// Whether the URL itself carried a password (refused in the config file).
    pub(crate) fn has_url_password(&self) -> bool {
        self.url_password.is_some()
    }

    /// The password to send, libpq's way: the URL's, else `PGPASSWORD`, else the first matching
    /// line of `PGPASSFILE` or `~/.pgpass` (a file others can read is skipped with a warning).
    pub(crate) fn password(&self, env: Env<'_>) -> PasswordLookup {
        if let Some(p) = &self.url_password {
            return PasswordLookup {
                password: Some((p.clone(), PasswordSource::Url)),
                warnings: Vec::new(),
            };
        }
        if let Some(p) = env("PGPASSWORD") {
            return PasswordLookup {
                password: Some((Password(p.into_bytes()), PasswordSource::Env)),
                warnings: Vec::new(),
            };
        }
        let file = env("PGPASSFILE")
            .map(PathBuf::from)
            .or_else(|| env("HOME").map(|h| Path::new(&h).join(".pgpass")));
        let Some(file) = file else {
            return PasswordLookup::default();
        };
        let mut warnings = Vec::new();
        let password = pgpass_lookup(
            &file,
            &self.pgpass_host(),
            self.port,
            &self.dbname,
            &self.user,
        )
        .unwrap_or_else(|w| {
            warnings.push(w);
            None
        })
        .map(|p| (p, PasswordSource::File(file)));
        PasswordLookup { password, warnings }
    }

    /// The host a password-file line is matched against: `localhost` for the default socket
    /// folder, as libpq.
    fn pgpass_host(&self) -> String {
        match &self.host {
            PgHost::Tcp(h) => h.clone(),
            PgHost::Socket(d) if SOCKET_DIRS.iter().any(|s| Path::new(s) == d) => {
                "localhost".into()
            }
            PgHost::Socket(d) => d.display().to_string(),
        }
    }
}

/// The password of the first line of the password file at `path` matching the four fields
/// (libpq's format: `host:port:database:user:password`, `*` matching any one field, `\` escaping
/// `:` and `\`, `#` starting a comment line). `Err` is a warning: the file was skipped.
pub(crate) fn pgpass_lookup(
    path: &Path,
    host: &str,
    port: u16,
    dbname: &str,
    user: &str,
) -> Result<Option<Password>, String> {
    use std::io::Read;
    use std::os::unix::fs::PermissionsExt;
    // libpq never uses the file for replication connections; nor do we (no such database here).
    let Ok(meta) = std::fs::metadata(path) else {
        return Ok(None);
    };
    if !meta.is_file() {
        return Err(format!(
            "password file {} is not a plain file; it was not read",
            path.display()
        ));
    }
    let mode = meta.permissions().mode();
    if mode & 0o077 != 0 {
        return Err(format!(
            "password file {} has group or world access (mode {:03o}); it was not read: run `chmod 600 {}`",
            path.display(),
            mode & 0o777,
            path.display()
        ));
    }
    let mut text = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(PGPASS_MAX_BYTES + 1).read_to_end(&mut text))
        .map_err(|e| format!("password file {} cannot be read: {e}", path.display()))?;
    if text.len() as u64 > PGPASS_MAX_BYTES {
        return Err(format!(
            "password file {} is over {} bytes; it was not read",
            path.display(),
            PGPASS_MAX_BYTES
        ));
    }
    let port = port.to_string();
    for line in text.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() || line[0] == b'#' {
            continue;
        }
        let mut rest = line;
        let mut matched = true;
        for want in [host, port.as_str(), dbname, user] {
            match field_matches(rest, want.as_bytes()) {
                Some(after) => rest = after,
                None => {
                    matched = false;
                    break;
                }
            }
        }
        if matched {
            // The password runs to the next unescaped `:` (or the end), escapes removed.
            let mut out = Vec::with_capacity(rest.len());
            let mut i = 0;
            while i < rest.len() && rest[i] != b':' {
                if rest[i] == b'\\' && i + 1 < rest.len() {
                    i += 1;
                }
                out.push(rest[i]);
                i += 1;
            }
            return Ok(Some(Password(out)));
        }
    }
    Ok(None)
}

/// libpq's `pwdfMatchesString`: whether the field at the start of `line` is `*` or equals
/// `want` (escapes removed); the text after its `:` if so.
fn field_matches<'a>(line: &'a [u8], want: &[u8]) -> Option<&'a [u8]> {
    if line.starts_with(b"*:") {
        return Some(&line[2..]);
    }
    let mut i = 0;
    let mut w = 0;
    while i < line.len() {
        let mut escaped = false;
        if line[i] == b'\\' {
            i += 1;
            escaped = true;
            if i == line.len() {
                return None;
            }
        }
        if line[i] == b':' && !escaped {
            return (w == want.len()).then(|| &line[i + 1..]);
        }
        if want.get(w) != Some(&line[i]) {
            return None;
        }
        i += 1;
        w += 1;
    }
    None
}

/// `text` with everything but URL-safe characters %-escaped, so a shown URL reads back the same
/// and no control character reaches a terminal.
fn escape(text: &str, out: &mut String) {
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
}

impl fmt::Display for PgTarget {
    /// `postgres://USER@HOST:PORT/DB`: never the password, nor the parameters.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = String::from("postgres://");
        escape(&self.user, &mut s);
        s.push('@');
        match &self.host {
            PgHost::Tcp(h) if h.contains(':') => {
                s.push('[');
                s.push_str(&h.replace(
                    |c: char| !(c.is_ascii_hexdigit() || c == ':' || c == '.'),
                    "",
                ));
                s.push(']');
            }
            PgHost::Tcp(h) => escape(h, &mut s),
            PgHost::Socket(_) => {}
        }
        s.push_str(&format!(":{}/", self.port));
        escape(&self.dbname, &mut s);
        if let PgHost::Socket(d) = &self.host {
            s.push_str("?host=");
            escape(&d.to_string_lossy(), &mut s);
        }
        f.write_str(&s)
    }
}

impl fmt::Debug for PgTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgTarget")
            .field("url", &format_args!("{self}"))
            .field("sslmode", &self.sslmode)
            .field("sslrootcert", &self.sslrootcert)
            .field("connect_timeout", &self.connect_timeout)
            .field("application_name", &self.application_name)
            .field("password_in_url", &self.url_password.is_some())
            .finish()
    }
}

#[cfg(test)]
mod tests;

//! One connection to a PostgreSQL server, honouring the target's `sslmode` the libpq way, with
//! TLS through rustls (the aws-lc-rs provider reqwest already uses: one TLS stack).
//!
//! The `postgres` crate is synchronous: each call blocks on a runtime of its own, which panics
//! when called from inside a tokio runtime — where the store is called from. So the client
//! lives on a thread of its own and [`PgConn::run`] hands it closures: the caller blocks (as it
//! does on SQLite) and the client never sees the caller's runtime.

use super::target::{Env, PasswordSource, PgHost, PgTarget, SslMode, process_env};
use crate::store::StoreError;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, SignatureScheme};
use std::path::{Path, PathBuf};
use std::sync::{Arc, mpsc};
use std::time::Duration;

/// A call for the connection's thread; `false` when it panicked (the thread then ends, closing
/// the connection: a client left mid-call is not trusted with the next one).
type Job = Box<dyn FnOnce(&mut postgres::Client) -> bool + Send>;

/// A live connection, its client on a thread of its own. Dropping it closes the connection.
pub(crate) struct PgConn {
    jobs: mpsc::Sender<Job>,
    target: String,
    tls: bool,
    warnings: Vec<String>,
}

impl std::fmt::Debug for PgConn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgConn")
            .field("target", &self.target)
            .field("tls", &self.tls)
            .finish()
    }
}

/// What the connection thread is given: the target and the password found for it.
struct Plan {
    target: PgTarget,
    password: Option<(super::target::Password, PasswordSource)>,
    /// The root certificates' file when the mode checks the server's certificate.
    roots: Option<PathBuf>,
}

impl PgConn {
    /// Connect to `target` under the process's environment (`PGPASSWORD`, `PGPASSFILE`, `HOME`).
    pub(crate) fn connect(target: &PgTarget) -> Result<PgConn, StoreError> {
        PgConn::connect_with(target, &process_env)
    }

    /// Connect to `target`, the password and the default files found through `env`.
    pub(crate) fn connect_with(target: &PgTarget, env: Env<'_>) -> Result<PgConn, StoreError> {
        let shown = target.to_string();
        let fail = |message: String| StoreError::Connect {
            target: shown.clone(),
            message,
        };
        let lookup = target.password(env);
        for w in &lookup.warnings {
            tracing::warn!("{w}");
        }
        let plan = Plan {
            target: target.clone(),
            password: lookup.password,
            roots: root_file(target, env).map_err(&fail)?,
        };
        // At most two attempts (prefer, allow) of one timeout each, and the start-up after them.
        let wait = plan.target.connect_timeout * 2 + Duration::from_secs(5);
        let (ready_tx, ready_rx) = mpsc::sync_channel::<Result<bool, String>>(1);
        let (jobs, jobs_rx) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("postgres".into())
            .spawn(move || {
                let (mut client, tls) = match open(&plan) {
                    Ok(c) => c,
                    Err(message) => {
                        let _ = ready_tx.send(Err(message));
                        return;
                    }
                };
                if ready_tx.send(Ok(tls)).is_err() {
                    return; // the caller gave up waiting
                }
                while let Ok(job) = jobs_rx.recv() {
                    if !job(&mut client) {
                        break;
                    }
                }
            })
            .map_err(|e| fail(format!("cannot start the connection thread: {e}")))?;
        let tls = match ready_rx.recv_timeout(wait) {
            Ok(Ok(tls)) => tls,
            Ok(Err(message)) => return Err(fail(message)),
            Err(_) => {
                return Err(fail(format!(
                    "no answer within {} s: is the server up and reachable from here? (connect_timeout=N in the URL sets the wait)",
                    wait.as_secs()
                )));
            }
        };
        Ok(PgConn {
            jobs,
            target: shown,
            tls,
            warnings: lookup.warnings,
        })
    }

    /// Run `f` with the client on the connection's thread and hand back its result. The caller
    /// blocks until `f` is done (call it off an async task's thread, as every store call is).
    /// A panic in `f` is resumed in the caller and closes the connection; `Err` means the
    /// connection is closed.
    pub(crate) fn run<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut postgres::Client) -> R + Send + 'static,
    ) -> Result<R, StoreError> {
        let (tx, rx) = mpsc::sync_channel(1);
        let job: Job = Box::new(move |client| {
            let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(client)));
            let fine = out.is_ok();
            let _ = tx.send(out);
            fine
        });
        let closed = || StoreError::Connect {
            target: self.target.clone(),
            message: "the connection's thread has ended; open the store again".into(),
        };
        self.jobs.send(job).map_err(|_| closed())?;
        match rx.recv() {
            Ok(Ok(out)) => Ok(out),
            Ok(Err(panic)) => std::panic::resume_unwind(panic),
            Err(_) => Err(closed()),
        }
    }

    /// Whether the connection is encrypted.
    pub(crate) fn tls(&self) -> bool {
        self.tls
    }

    /// What the user should be told about the password lookup (a skipped password file).
    pub(crate) fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// The server, redacted (`postgres://alice@db:5432/video`).
    pub(crate) fn target(&self) -> &str {
        &self.target
    }
}

/// The root certificates' file the mode needs: `sslrootcert`, else `~/.postgresql/root.crt`.
/// `verify-ca` and `verify-full` need one (libpq's message when it is missing); `require` turns
/// into `verify-ca` when one exists, as libpq.
fn root_file(target: &PgTarget, env: Env<'_>) -> Result<Option<PathBuf>, String> {
    let named = target.sslrootcert.clone();
    let default = env("HOME").map(|h| Path::new(&h).join(".postgresql/root.crt"));
    match target.sslmode {
        SslMode::VerifyCa | SslMode::VerifyFull => {
            let file = named.or(default).ok_or_else(|| {
                "no root certificate file (set sslrootcert=PATH in the URL)".to_string()
            })?;
            if !file.is_file() {
                return Err(format!(
                    "root certificate file \"{}\" does not exist: either provide the file or change sslmode to disable server certificate verification",
                    file.display()
                ));
            }
            Ok(Some(file))
        }
        SslMode::Require => Ok(named.or(default).filter(|f| f.is_file())),
        _ => Ok(None),
    }
}

/// Open the connection as the plan's mode says; whether it is encrypted.
fn open(plan: &Plan) -> Result<(postgres::Client, bool), String> {
    use postgres::config::SslMode as Wire;
    let t = &plan.target;
    if matches!(t.host, PgHost::Socket(_)) {
        // libpq never encrypts a Unix socket.
        return attempt(plan, Wire::Disable).map(|c| (c, false));
    }
    match t.sslmode {
        SslMode::Disable => attempt(plan, Wire::Disable).map(|c| (c, false)),
        SslMode::Allow => match attempt(plan, Wire::Disable) {
            Ok(c) => Ok((c, false)),
            // The server refused the plain session (`hostssl` only): try again encrypted.
            Err(e) if e.starts_with(REFUSED) => attempt(plan, Wire::Require).map(|c| (c, true)),
            Err(e) => Err(e),
        },
        SslMode::Prefer => match attempt(plan, Wire::Prefer) {
            Ok(mut c) => {
                let tls = encrypted(&mut c);
                Ok((c, tls))
            }
            // The TLS handshake failed: libpq tries again in plain text.
            Err(e) if e.starts_with(TLS_FAILED) => attempt(plan, Wire::Disable).map(|c| (c, false)),
            Err(e) => Err(e),
        },
        SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => {
            attempt(plan, Wire::Require).map(|c| (c, true))
        }
    }
}

/// Whether the server sees this session as encrypted (`prefer` may have fallen back to plain).
fn encrypted(client: &mut postgres::Client) -> bool {
    client
        .query_one(
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            &[],
        )
        .and_then(|row| row.try_get::<_, bool>(0))
        .unwrap_or(false)
}

/// The start of a message for a session the server refused (not a network failure).
const REFUSED: &str = "the server refused";
/// The start of a message for a failed TLS handshake.
const TLS_FAILED: &str = "the TLS handshake failed";

fn attempt(plan: &Plan, mode: postgres::config::SslMode) -> Result<postgres::Client, String> {
    let t = &plan.target;
    let mut cfg = postgres::Config::new();
    cfg.user(&t.user)
        .dbname(&t.dbname)
        .port(t.port)
        .ssl_mode(mode)
        .connect_timeout(t.connect_timeout)
        // A dead peer is noticed in about half a minute, not the kernel's two hours.
        .keepalives(true)
        .keepalives_idle(Duration::from_secs(15))
        .keepalives_interval(Duration::from_secs(5))
        .keepalives_retries(3)
        .application_name(t.application_name.as_deref().unwrap_or("seedance-tui"));
    match &t.host {
        PgHost::Tcp(h) => cfg.host(h),
        PgHost::Socket(d) => cfg.host_path(d),
    };
    if let Some((p, _)) = &plan.password {
        cfg.password(p.secret_bytes());
    }
    let result = if mode == postgres::config::SslMode::Disable {
        cfg.connect(postgres::NoTls)
    } else {
        let tls = tls_config(plan)?;
        cfg.connect(tokio_postgres_rustls::MakeRustlsConnect::new(tls))
    };
    result.map_err(|e| explain(&e, plan))
}

/// The rustls set-up for the plan's mode: the chain (and for `verify-full` the name) checked
/// against the root file, or — for `prefer`, `allow` and a `require` without roots — encrypted
/// without checking who answers, as libpq.
fn tls_config(plan: &Plan) -> Result<rustls::ClientConfig, String> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS set-up failed: {e}"))?;
    let check = match (plan.target.sslmode, &plan.roots) {
        (SslMode::VerifyFull, Some(f)) => Some((f, true)),
        (SslMode::VerifyCa | SslMode::Require, Some(f)) => Some((f, false)),
        _ => None,
    };
    let (chain, names) = match check {
        Some((file, names)) => {
            let mut roots = rustls::RootCertStore::empty();
            let certs = CertificateDer::pem_file_iter(file).map_err(|e| {
                format!(
                    "cannot read the root certificate file {}: {e}",
                    file.display()
                )
            })?;
            for cert in certs {
                let cert = cert.map_err(|e| {
                    format!(
                        "the root certificate file {} is not PEM certificates: {e}",
                        file.display()
                    )
                })?;
                roots.add(cert).map_err(|e| {
                    format!("a certificate in {} is not usable: {e}", file.display())
                })?;
            }
            if roots.is_empty() {
                return Err(format!(
                    "the root certificate file {} holds no certificate",
                    file.display()
                ));
            }
            let webpki = rustls::client::WebPkiServerVerifier::builder_with_provider(
                Arc::new(roots),
                provider.clone(),
            )
            .build()
            .map_err(|e| format!("TLS set-up failed: {e}"))?;
            (Some(webpki), names)
        }
        None => (None, false),
    };
    Ok(builder
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(CertCheck {
            chain,
            names,
            provider,
        }))
        .with_no_client_auth())
}

/// How the server's certificate is judged. With `chain` (`verify-full`, `verify-ca`, and
/// `require` with roots) the chain to the roots, and the name only when `names` (full);
/// without (`prefer`, `allow`, `require` without roots) any certificate, encryption against a
/// passive listener as libpq. The handshake's signatures are checked either way.
#[derive(Debug)]
struct CertCheck {
    chain: Option<Arc<rustls::client::WebPkiServerVerifier>>,
    names: bool,
    provider: Arc<rustls::crypto::CryptoProvider>,
}

impl ServerCertVerifier for CertCheck {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let Some(webpki) = &self.chain else {
            return Ok(ServerCertVerified::assertion());
        };
        match webpki.verify_server_cert(end_entity, intermediates, server_name, ocsp, now) {
            // The chain was checked before the name: for verify-ca a wrong name is fine.
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) if !self.names => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// A connection error as one line saying what to do. Server text is cleaned for a terminal, and
/// the password, should anything echo it, is cut out.
fn explain(e: &postgres::Error, plan: &Plan) -> String {
    use postgres::error::SqlState;
    let t = &plan.target;
    let message = if let Some(db) = e.as_db_error() {
        let server = crate::sanitize::flat(db.message()).into_owned();
        match db.code() {
            c if *c == SqlState::INVALID_PASSWORD => match &plan.password {
                Some((_, source)) => format!(
                    "{REFUSED} {source} for user {}: fix it (PGPASSWORD, PGPASSFILE or ~/.pgpass) and try again",
                    t.user
                ),
                None => format!("{REFUSED} the login of user {}: {server}", t.user),
            },
            c if *c == SqlState::INVALID_CATALOG_NAME => format!(
                "the database {} does not exist on the server: create it (`createdb {}`) or name another in the URL",
                t.dbname, t.dbname
            ),
            c if *c == SqlState::INVALID_AUTHORIZATION_SPECIFICATION => format!(
                "{REFUSED} the session: {server} (the server's pg_hba.conf must let user {} reach database {} from this host)",
                t.user, t.dbname
            ),
            c if *c == SqlState::TOO_MANY_CONNECTIONS => {
                format!("the server is out of connections: {server}; try again later")
            }
            _ => format!("{REFUSED} the session: {server}"),
        }
    } else {
        let chain = crate::sanitize::error_chain(e);
        if chain.contains("password missing") {
            "the server asks for a password and none was found: set PGPASSWORD, or add a line \
             `host:port:database:user:password` to ~/.pgpass (chmod 600) or the file PGPASSFILE names"
                .to_string()
        } else if chain.contains("server does not support TLS") {
            format!(
                "the server does not offer TLS and sslmode={} asks for it: turn ssl on in the server's postgresql.conf, or use sslmode=prefer on a network you trust",
                t.sslmode.as_str()
            )
        } else if chain.starts_with("error performing TLS handshake") {
            format!("{TLS_FAILED}: {chain} (sslmode={})", t.sslmode.as_str())
        } else if chain.contains("timeout") || chain.contains("timed out") {
            format!(
                "no answer within {} s: is the server up and reachable from here? (connect_timeout=N in the URL sets the wait)",
                t.connect_timeout.as_secs()
            )
        } else if chain.contains("Connection refused") {
            "the connection was refused: is the server running and listening on that host and port (listen_addresses, port)?".to_string()
        } else {
            chain
        }
    };
    match &plan.password {
        Some((p, _)) => match std::str::from_utf8(p.secret_bytes()) {
            Ok(pw) if !pw.is_empty() => message.replace(pw, "…"),
            _ => message,
        },
        None => message,
    }
}

#[cfg(test)]
mod tests;

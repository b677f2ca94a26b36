//! Against the real test server (tests/support/pg_cluster.sh: password login, TLS with a
//! certificate for `localhost`), and the same server behind a stand-in without TLS. Every
//! environment is the test's own, so the developer's `~/.pgpass` and `PG…` variables play no
//! part.

use super::*;
use crate::store::pg::target::PgTarget;
use crate::store::pg::test_db::TestDb;
use std::collections::HashMap;
use std::os::unix::fs::PermissionsExt;

const WRONG: &str = "Zq9-not-the-password";

fn env_of(pairs: Vec<(&str, String)>) -> impl Fn(&str) -> Option<String> + use<> {
    let map: HashMap<String, String> = pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
    move |name: &str| map.get(name).cloned()
}

fn real_password() -> String {
    std::env::var("PGPASSWORD").expect("the fixture checked PGPASSWORD")
}

/// A database of its own for `test` and an environment holding only the right password in
/// `PGPASSWORD`; `None` when there is no server outside CI.
fn with_password(test: &str) -> Option<(TestDb, impl Fn(&str) -> Option<String> + use<>)> {
    let db = TestDb::create(test)?;
    Some((db, env_of(vec![("PGPASSWORD", real_password())])))
}

/// The test database's URL with `query` added.
fn target(db: &TestDb, query: &str, env: Env<'_>) -> PgTarget {
    let url = if query.is_empty() {
        db.url.clone()
    } else {
        format!("{}?{query}", db.url)
    };
    PgTarget::parse_with(&url, env).expect("the test URL parses")
}

fn current_db(conn: &PgConn) -> String {
    conn.run(|c| {
        c.query_one("SELECT current_database()", &[])
            .map(|r| r.get::<_, String>(0))
    })
    .expect("connection open")
    .expect("query")
}

#[test]
fn a_password_from_pgpassword_opens_a_session_on_the_right_database() {
    let Some((db, env)) = with_password("conn_pgpassword") else {
        return;
    };
    let conn = PgConn::connect_with(&target(&db, "", &env), &env).expect("connects");
    assert_eq!(current_db(&conn), db.name);
    assert!(
        conn.tls(),
        "prefer (the default) encrypts when the server offers TLS"
    );
    assert!(conn.warnings().is_empty());
    assert_eq!(
        conn.target(),
        db.url,
        "shown as the fixture wrote it, no password"
    );
}

#[test]
fn a_password_from_a_pgpass_file_opens_a_session() {
    let Some(db) = TestDb::create("conn_pgpass") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let t = target(&db, "", &env_of(vec![]));
    let host = match &t.host {
        PgHost::Tcp(h) => h.clone(),
        PgHost::Socket(_) => panic!("the test server is on TCP"),
    };
    let file = dir.path().join("pgpass");
    std::fs::write(
        &file,
        format!(
            "# the test server\n{host}:{}:{}:{}:{}\n",
            t.port,
            db.name,
            t.user,
            real_password()
        ),
    )
    .expect("write");
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    let env = env_of(vec![("PGPASSFILE", file.display().to_string())]);
    let conn = PgConn::connect_with(&t, &env).expect("connects with the file's password");
    assert_eq!(current_db(&conn), db.name);
    // The same file readable by others is skipped: no password, a warning, and a message that
    // says where passwords come from.
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let err = PgConn::connect_with(&t, &env)
        .expect_err("no password")
        .to_string();
    assert!(
        err.contains("asks for a password and none was found"),
        "{err}"
    );
    assert!(
        err.contains("PGPASSWORD") && err.contains("~/.pgpass"),
        "{err}"
    );
}

#[test]
fn a_wrong_password_fails_clearly_and_is_never_shown() {
    let Some(db) = TestDb::create("conn_wrong_password") else {
        return;
    };
    let env = env_of(vec![("PGPASSWORD", WRONG.to_string())]);
    let err = PgConn::connect_with(&target(&db, "", &env), &env).expect_err("refused");
    let text = err.to_string();
    assert!(
        text.contains("refused the password in PGPASSWORD for user seedance"),
        "{text}"
    );
    assert!(text.starts_with("cannot connect to the PostgreSQL store postgres://seedance@"));
    assert!(
        !text.contains(WRONG) && !format!("{err:?}").contains(WRONG),
        "{text}"
    );
    // The URL's own password, wrong, is named as such and not shown either.
    let url = db.url.replace("seedance@", &format!("seedance:{WRONG}@"));
    let t = PgTarget::parse_with(&url, &env_of(vec![])).expect("parses");
    assert!(!format!("{t} {t:?}").contains(WRONG));
    let err = PgConn::connect_with(&t, &env_of(vec![])).expect_err("refused");
    let text = format!("{err} {err:?}");
    assert!(text.contains("the password in the store URL"), "{text}");
    assert!(!text.contains(WRONG), "{text}");
}

#[test]
fn tls_modes_against_a_server_without_tls() {
    let Some((db, env)) = with_password("conn_tls_modes") else {
        return;
    };
    let plain = plain_only(target(&db, "", &env).port);
    let at = |query: &str| {
        let mut t = target(&db, query, &env);
        t.port = plain;
        t
    };
    for mode in ["disable", "allow", "prefer"] {
        let conn = PgConn::connect_with(&at(&format!("sslmode={mode}")), &env)
            .unwrap_or_else(|e| panic!("{mode}: {e}"));
        assert!(!conn.tls(), "{mode}");
        assert_eq!(current_db(&conn), db.name, "{mode}");
    }
    let err = PgConn::connect_with(&at("sslmode=require"), &env)
        .expect_err("require needs TLS")
        .to_string();
    assert!(
        err.contains("does not offer TLS") && err.contains("sslmode=require"),
        "{err}"
    );
    // verify-ca/verify-full need a root certificate file before anything is sent.
    let err = PgConn::connect_with(
        &at("sslmode=verify-full&sslrootcert=/nonexistent/root.crt"),
        &env,
    )
    .expect_err("no root file")
    .to_string();
    assert!(
        err.contains("root certificate file") && err.contains("does not exist"),
        "{err}"
    );
    // With a root file, the server's lack of TLS is the failure.
    let dir = tempfile::tempdir().expect("tempdir");
    let ca = dir.path().join("root.crt");
    std::fs::write(&ca, TEST_CA).expect("write");
    let err = PgConn::connect_with(
        &at(&format!("sslmode=verify-ca&sslrootcert={}", ca.display())),
        &env,
    )
    .expect_err("no TLS")
    .to_string();
    assert!(err.contains("does not offer TLS"), "{err}");
}

#[test]
fn a_missing_database_and_a_closed_port_say_what_to_do() {
    let Some((db, env)) = with_password("conn_missing") else {
        return;
    };
    let t = target(&db, "", &env);
    let mut absent = t.clone();
    absent.dbname = format!("{}_absent", db.name);
    let err = PgConn::connect_with(&absent, &env)
        .expect_err("absent")
        .to_string();
    assert!(
        err.contains("does not exist on the server") && err.contains("createdb"),
        "{err}"
    );
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = closed.local_addr().expect("addr").port();
    drop(closed);
    let mut gone = t;
    gone.port = port;
    let err = PgConn::connect_with(&gone, &env)
        .expect_err("closed")
        .to_string();
    assert!(
        err.contains("refused") && err.contains("listening"),
        "{err}"
    );
}

#[test]
fn the_connection_serves_callers_inside_a_tokio_runtime() {
    let Some((db, env)) = with_password("conn_in_runtime") else {
        return;
    };
    let t = target(&db, "", &env);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .expect("runtime");
    // Both the connect and the calls happen on a runtime's thread, where the postgres crate's
    // own calls would panic.
    let (name, answer) = rt.block_on(async move {
        let conn = PgConn::connect_with(&t, &env).expect("connects");
        let name = current_db(&conn);
        let answer = conn
            .run(|c| c.query_one("SELECT 6 * 7", &[]).map(|r| r.get::<_, i32>(0)))
            .expect("open")
            .expect("query");
        (name, answer)
    });
    assert_eq!((name, answer), (db.name.clone(), 42));
    // A panic inside a call comes back to the caller; the connection is then closed.
    let conn = PgConn::connect_with(
        &target(&db, "", &env_of(vec![])),
        &env_of(vec![("PGPASSWORD", real_password())]),
    )
    .expect("connects");
    let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        conn.run(|_| panic!("inside the call"))
    }));
    assert!(panicked.is_err());
    assert!(matches!(conn.run(|_| ()), Err(StoreError::Connect { .. })));
    // The fixture's own client reaches the same database.
    let mut plain = db.client();
    let n: i64 = plain
        .query_one(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()",
            &[],
        )
        .expect("query")
        .get(0);
    assert!(n >= 1);
}

/// The test server's CA (its certificate names `localhost` only), or `None` after saying the TLS
/// half is skipped; under `CI=true` a missing CA fails.
fn test_ca() -> Option<PathBuf> {
    match std::env::var("SEEDANCE_TEST_POSTGRES_CA") {
        Ok(p) if !p.is_empty() => Some(PathBuf::from(p)),
        _ if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!(
                "SEEDANCE_TEST_POSTGRES_CA is required under CI=true (tests/support/pg_cluster.sh sets it; it needs openssl)"
            )
        }
        _ => {
            eprintln!(
                "SKIPPED the TLS checks: SEEDANCE_TEST_POSTGRES_CA is not set (tests/support/pg_cluster.sh sets it)"
            );
            None
        }
    }
}

/// A server without TLS in front of the test server: it answers a client's TLS request with
/// `N`, as a server with `ssl = off` does, and passes everything else through both ways.
fn plain_only(real_port: u16) -> u16 {
    use std::io::{Read, Write};
    use std::net::{Shutdown, TcpListener, TcpStream};
    /// The startup packet asking for TLS: length 8, code 80877103.
    const SSL_REQUEST: [u8; 8] = [0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f];
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(mut client) = client else { return };
            std::thread::spawn(move || {
                let mut head = [0u8; 8];
                if client.read_exact(&mut head).is_err() {
                    return;
                }
                let Ok(mut server) = TcpStream::connect(("127.0.0.1", real_port)) else {
                    return;
                };
                if head == SSL_REQUEST {
                    if client.write_all(b"N").is_err() {
                        return;
                    }
                } else if server.write_all(&head).is_err() {
                    return;
                }
                let (Ok(mut c2), Ok(mut s2)) = (client.try_clone(), server.try_clone()) else {
                    return;
                };
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut c2, &mut s2);
                    let _ = s2.shutdown(Shutdown::Write);
                });
                let _ = std::io::copy(&mut server, &mut client);
                let _ = client.shutdown(Shutdown::Write);
            });
        }
    });
    port
}

#[test]
fn tls_checks_the_chain_and_for_verify_full_the_name() {
    let Some((db, env)) = with_password("conn_tls_checks") else {
        return;
    };
    let Some(ca) = test_ca() else {
        return;
    };
    let ca = ca.display().to_string();
    let on = |host: &str, query: &str| {
        let mut t = target(&db, query, &env);
        t.host = PgHost::Tcp(host.into());
        PgConn::connect_with(&t, &env)
    };
    // prefer and require encrypt without asking who answers.
    for mode in ["prefer", "require"] {
        let conn =
            on("127.0.0.1", &format!("sslmode={mode}")).unwrap_or_else(|e| panic!("{mode}: {e}"));
        assert!(conn.tls(), "{mode}");
        assert_eq!(current_db(&conn), db.name);
    }
    // verify-full: the chain and the name (the certificate names localhost only).
    let conn = on(
        "localhost",
        &format!("sslmode=verify-full&sslrootcert={ca}"),
    )
    .expect("localhost");
    assert!(conn.tls());
    let err = on(
        "127.0.0.1",
        &format!("sslmode=verify-full&sslrootcert={ca}"),
    )
    .expect_err("the name does not match")
    .to_string();
    assert!(
        err.contains("TLS handshake failed") && err.contains("not valid for name"),
        "{err}"
    );
    // verify-ca: the chain only, so the address works too.
    let conn = on("127.0.0.1", &format!("sslmode=verify-ca&sslrootcert={ca}")).expect("chain");
    assert!(conn.tls());
    assert_eq!(current_db(&conn), db.name);
    // Another CA: the chain fails, for verify-ca and for require with a root file (libpq's rule).
    let dir = tempfile::tempdir().expect("tempdir");
    let other = dir.path().join("other.pem");
    std::fs::write(&other, TEST_CA).expect("write");
    for mode in ["verify-ca", "require"] {
        let err = on(
            "localhost",
            &format!("sslmode={mode}&sslrootcert={}", other.display()),
        )
        .expect_err("unknown issuer")
        .to_string();
        assert!(
            err.contains("TLS handshake failed") && err.contains(&format!("sslmode={mode}")),
            "{mode}: {err}"
        );
    }
}

/// A self-signed CA certificate (any will do: the server never gets as far as showing its own).
const TEST_CA: &str = "-----BEGIN CERTIFICATE-----
MIIBjzCCATWgAwIBAgIUVyX8PRgRXt8GImjG9JGjcR1sd2IwCgYIKoZIzj0EAwIw
HTEbMBkGA1UEAwwSc2VlZGFuY2UgdGVzdCByb290MB4XDTI2MTIwNzE1NDY0NloX
DTM2MTIwNDE1NDY0NlowHTEbMBkGA1UEAwwSc2VlZGFuY2UgdGVzdCByb290MFkw
EwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEmiecAANz74X7JprTaDx1s+ygxxe1+Aed
A/+rkfqpiR75avhr4Xtm+B/bXad8w4J3s2qy1nHwfUdSjLGUZgKgjqNTMFEwHQYD
VR0OBBYEFEBSMH47w7GNki2qoBbhLHVMJF5WMB8GA1UdIwQYMBaAFEBSMH47w7GN
ki2qoBbhLHVMJF5WMA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZIzj0EAwIDSAAwRQIh
AOanO1RSoG5JbJzUuVb3KxhnBHpBlF9ZyfNQ97E9oteKAiABvzUCuxnPgdlOgpq9
Q3CHAP6yUgR//E8jtFkED2z15Q==
-----END CERTIFICATE-----
";

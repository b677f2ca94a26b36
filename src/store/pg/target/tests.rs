use super::*;
use std::collections::HashMap;
use std::os::unix::fs::PermissionsExt;

fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |name: &str| map.get(name).cloned()
}

fn parse(url: &str, env: &[(&str, &str)]) -> Result<PgTarget, TargetError> {
    PgTarget::parse_with(url, &env_of(env))
}

#[test]
fn a_full_url_gives_every_part() {
    let t = parse(
        "postgresql://alice:s3cret@db.example:6543/video?sslmode=verify-full&sslrootcert=/etc/ca.pem&connect_timeout=7&application_name=dash",
        &[],
    )
    .expect("parses");
    assert_eq!(t.host, PgHost::Tcp("db.example".into()));
    assert_eq!(t.port, 6543);
    assert_eq!(t.user, "alice");
    assert_eq!(t.dbname, "video");
    assert_eq!(t.sslmode, SslMode::VerifyFull);
    assert_eq!(t.sslrootcert, Some(PathBuf::from("/etc/ca.pem")));
    assert_eq!(t.connect_timeout, Duration::from_secs(7));
    assert_eq!(t.application_name.as_deref(), Some("dash"));
    assert!(t.has_url_password());
    let found = t.password(&env_of(&[("PGPASSWORD", "from-env")]));
    let (pw, source) = found.password.expect("a password");
    assert_eq!(
        pw.secret_bytes(),
        b"s3cret",
        "the URL's password comes first"
    );
    assert_eq!(source, PasswordSource::Url);
}

#[test]
fn percent_escapes_are_decoded_everywhere() {
    let t = parse(
        "postgres://al%40ice:p%3Aw%2Fd%25@db/my%20db?application_name=a%26b",
        &[],
    )
    .expect("parses");
    assert_eq!(t.user, "al@ice");
    assert_eq!(t.dbname, "my db");
    assert_eq!(t.application_name.as_deref(), Some("a&b"));
    let (pw, _) = t.password(&env_of(&[])).password.expect("password");
    assert_eq!(pw.secret_bytes(), b"p:w/d%");
    for bad in [
        "postgres://u@h/d%2",
        "postgres://u@h/d%zz",
        "postgres://u@h/d%00x",
        "postgres://u:%+1@h/d",
    ] {
        assert_eq!(parse(bad, &[]), Err(TargetError::Escape), "{bad}");
    }
}

#[test]
fn missing_parts_come_from_the_pg_variables_then_libpq_defaults() {
    let env = [
        ("PGHOST", "pg.internal"),
        ("PGPORT", "6000"),
        ("PGUSER", "bob"),
        ("PGDATABASE", "team"),
        ("PGSSLMODE", "require"),
        ("PGCONNECT_TIMEOUT", "1"),
        ("PGAPPNAME", "x"),
        ("PGSSLROOTCERT", "/ca.pem"),
    ];
    let t = parse("postgres://", &env).expect("parses");
    assert_eq!(t.host, PgHost::Tcp("pg.internal".into()));
    assert_eq!((t.port, t.user.as_str()), (6000, "bob"));
    assert_eq!(t.dbname, "team");
    assert_eq!(t.sslmode, SslMode::Require);
    assert_eq!(
        t.connect_timeout,
        Duration::from_secs(2),
        "under 2 s is 2 s, as libpq"
    );
    assert_eq!(t.application_name.as_deref(), Some("x"));
    assert_eq!(t.sslrootcert, Some(PathBuf::from("/ca.pem")));
    // The URL wins over the variables.
    let t = parse("postgres://carol@h:7000/own?sslmode=disable", &env).expect("parses");
    assert_eq!(t.host, PgHost::Tcp("h".into()));
    assert_eq!(
        (t.port, t.user.as_str(), t.dbname.as_str()),
        (7000, "carol", "own")
    );
    assert_eq!(t.sslmode, SslMode::Disable);
    // Without variables: port 5432, sslmode prefer, the database named after the user, a
    // bounded timeout even for libpq's "forever" (0).
    let t = parse("postgres://dave@h?connect_timeout=0", &[]).expect("parses");
    assert_eq!((t.port, t.dbname.as_str()), (5432, "dave"));
    assert_eq!(t.sslmode, SslMode::Prefer);
    assert_eq!(t.connect_timeout, DEFAULT_CONNECT_TIMEOUT);
    assert!(!t.has_url_password());
}

#[test]
fn hosts_sockets_and_ipv6_are_read_as_libpq_does() {
    let t = parse("postgres://u@[::1]:5433/d", &[]).expect("ipv6");
    assert_eq!((t.host.clone(), t.port), (PgHost::Tcp("::1".into()), 5433));
    assert_eq!(t.to_string(), "postgres://u@[::1]:5433/d");
    let t = parse("postgres://u@%2Fvar%2Flib%2Fpg/d", &[]).expect("socket");
    assert_eq!(t.host, PgHost::Socket(PathBuf::from("/var/lib/pg")));
    let t = parse("postgres:///d?host=/run/pg&user=u&port=5999", &[]).expect("query host");
    assert_eq!(t.host, PgHost::Socket(PathBuf::from("/run/pg")));
    assert_eq!((t.user.as_str(), t.port), ("u", 5999));
    assert_eq!(t.to_string(), "postgres://u@:5999/d?host=%2Frun%2Fpg");
    assert_eq!(
        parse("postgres://u@h1,h2/d", &[]),
        Err(TargetError::SeveralHosts)
    );
    assert_eq!(
        parse("postgres://u@[::1],[::2]/d", &[]),
        Err(TargetError::SeveralHosts)
    );
    assert_eq!(parse("postgres://u@[::1/d", &[]), Err(TargetError::Bracket));
    assert!(matches!(
        parse("postgres://u@h:0/d", &[]),
        Err(TargetError::Port(_))
    ));
    assert!(matches!(
        parse("postgres://u@h:99999/d", &[]),
        Err(TargetError::Port(_))
    ));
    assert!(is_postgres_url("PostgreSQL://h/d") && is_postgres_url("postgres://"));
    assert!(!is_postgres_url("postgresx://h") && !is_postgres_url("sqlite:x"));
}

#[test]
fn parameters_are_checked() {
    assert_eq!(
        parse("postgres://u@h/d?sslmode=sometimes", &[]),
        Err(TargetError::SslMode("sometimes".into()))
    );
    for mode in [
        "disable",
        "allow",
        "prefer",
        "require",
        "verify-ca",
        "verify-full",
    ] {
        let t = parse(&format!("postgres://u@h/d?sslmode={mode}"), &[]).expect(mode);
        assert_eq!(t.sslmode.as_str(), mode);
    }
    assert_eq!(
        parse("postgres://u@h/d?ssl=true", &[]).map(|t| t.sslmode),
        Ok(SslMode::Require)
    );
    assert_eq!(
        parse("postgres://u@h/d?options=-c%20x", &[]),
        Err(TargetError::Param("options".into()))
    );
    assert_eq!(
        parse("postgres://u@h/d?sslmode", &[]),
        Err(TargetError::ParamValue("sslmode".into()))
    );
    assert!(matches!(
        parse("postgres://u@h/d?connect_timeout=soon", &[]),
        Err(TargetError::Timeout(_))
    ));
    // A `password=` parameter is a password like the URL's: kept apart, never shown.
    let t = parse("postgres://u@h/d?password=zz9", &[]).expect("parses");
    assert!(t.has_url_password());
    assert!(!t.to_string().contains("zz9") && !format!("{t:?}").contains("zz9"));
    assert_eq!(parse("mysql://h/d", &[]), Err(TargetError::Scheme));
}

#[test]
fn the_target_shows_itself_without_the_password() {
    let t = parse(
        "postgres://alice:hunter2@db:5432/video?sslmode=require",
        &[],
    )
    .expect("parses");
    assert_eq!(t.to_string(), "postgres://alice@db:5432/video");
    let debug = format!("{t:?}");
    assert!(debug.contains("postgres://alice@db:5432/video"), "{debug}");
    assert!(!debug.contains("hunter2"), "{debug}");
    let lookup = format!("{:?}", t.password(&env_of(&[])));
    assert!(!lookup.contains("hunter2"), "{lookup}");
    // Odd characters are escaped, so a shown URL has no control characters and reads back.
    let t = parse("postgres://a%1Bb@h/x%0Ay", &[]).expect("parses");
    assert_eq!(t.to_string(), "postgres://a%1Bb@h:5432/x%0Ay");
    let back = parse(&t.to_string(), &[]).expect("reads back");
    assert_eq!((back.user, back.dbname), (t.user, t.dbname));
    // No parse error repeats the URL or its password.
    for bad in [
        "postgres://u:hunter2@h:port/d",
        "postgres://u:hunter2@h/d?sslmode=hunter2x",
        "postgres://u:hunter2@h/d?weird=1",
    ] {
        let msg = parse(bad, &[]).expect_err(bad).to_string();
        assert!(
            !msg.contains("hunter2@") && !msg.contains("u:hunter2"),
            "{msg}"
        );
    }
}

fn pgpass(dir: &Path, text: &str, mode: u32) -> PathBuf {
    let path = dir.join("pgpass");
    std::fs::write(&path, text).expect("write");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).expect("chmod");
    path
}

#[test]
fn the_password_file_is_read_with_libpqs_rules() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = pgpass(
        dir.path(),
        "# a comment:*:*:*:nope\n\
         other:5432:video:alice:wrong-host\n\
         db:5432:video:bob:wrong-user\n\
         db:*:video:alice:p\\:a\\\\ss:trailing\r\n\
         *:*:*:*:catch-all\n",
        0o600,
    );
    let find = |host: &str, port: u16, db: &str, user: &str| {
        pgpass_lookup(&file, host, port, db, user)
            .expect("read")
            .map(|p| String::from_utf8(p.secret_bytes().to_vec()).expect("utf8"))
    };
    assert_eq!(
        find("db", 5432, "video", "alice").as_deref(),
        Some("p:a\\ss"),
        "wildcard port, escapes, the password ends at an unescaped colon"
    );
    assert_eq!(
        find("db", 5432, "video", "bob").as_deref(),
        Some("wrong-user")
    );
    assert_eq!(
        find("elsewhere", 1, "x", "y").as_deref(),
        Some("catch-all"),
        "first match wins, * matches anything"
    );
    // `*` is a wildcard only as a whole field; escaped colons match literal ones.
    let file2 = pgpass(
        dir.path(),
        "d*:5432:video:alice:star\nh\\:x:5432:video:alice:colon\n",
        0o600,
    );
    let got = |host: &str| {
        pgpass_lookup(&file2, host, 5432, "video", "alice")
            .expect("read")
            .map(|p| p.secret_bytes().to_vec())
    };
    assert_eq!(got("db"), None);
    assert_eq!(got("d*"), Some(b"star".to_vec()));
    assert_eq!(got("h:x"), Some(b"colon".to_vec()));
    assert_eq!(
        pgpass_lookup(&dir.path().join("absent"), "h", 1, "d", "u"),
        Ok(None)
    );
}

#[test]
fn a_password_file_others_can_read_is_skipped_with_a_warning() {
    let dir = tempfile::tempdir().expect("tempdir");
    for mode in [0o640, 0o604, 0o660] {
        let file = pgpass(dir.path(), "*:*:*:*:open\n", mode);
        let warning = pgpass_lookup(&file, "h", 5432, "d", "u").expect_err("skipped");
        assert!(
            warning.contains("group or world access") && warning.contains("chmod 600"),
            "{warning}"
        );
        assert!(!warning.contains("open"), "{warning}");
    }
    let folder = dir.path().join("sub");
    std::fs::create_dir(&folder).expect("dir");
    assert!(
        pgpass_lookup(&folder, "h", 5432, "d", "u")
            .expect_err("not a file")
            .contains("not a plain file")
    );
}

#[test]
fn the_password_comes_from_the_url_then_pgpassword_then_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = pgpass(dir.path(), "db:5432:video:alice:from-file\n", 0o600);
    let file_s = file.to_str().expect("utf8");
    let t = parse("postgres://alice@db/video", &[]).expect("parses");
    let found = t.password(&env_of(&[
        ("PGPASSWORD", "from-env"),
        ("PGPASSFILE", file_s),
    ]));
    let (pw, src) = found.password.expect("env");
    assert_eq!(
        (pw.secret_bytes(), src),
        (&b"from-env"[..], PasswordSource::Env)
    );
    let found = t.password(&env_of(&[("PGPASSFILE", file_s)]));
    let (pw, src) = found.password.expect("file");
    assert_eq!(pw.secret_bytes(), b"from-file");
    assert_eq!(src, PasswordSource::File(file.clone()));
    // ~/.pgpass when PGPASSFILE is unset.
    std::fs::rename(&file, dir.path().join(".pgpass")).expect("move");
    let home = dir.path().to_str().expect("utf8");
    let found = t.password(&env_of(&[("HOME", home)]));
    assert_eq!(
        found.password.map(|(p, _)| p.secret_bytes().to_vec()),
        Some(b"from-file".to_vec())
    );
    // An open file: no password, one warning for the user.
    std::fs::set_permissions(
        dir.path().join(".pgpass"),
        std::fs::Permissions::from_mode(0o644),
    )
    .expect("chmod");
    let found = t.password(&env_of(&[("HOME", home)]));
    assert!(found.password.is_none());
    assert_eq!(found.warnings.len(), 1, "{:?}", found.warnings);
    // The default socket folder is `localhost` to the password file.
    let t = parse("postgres:///video?host=/var/run/postgresql&user=alice", &[]).expect("parses");
    assert_eq!(t.pgpass_host(), "localhost");
    let t = parse("postgres:///video?host=/srv/pg&user=alice", &[]).expect("parses");
    assert_eq!(t.pgpass_host(), "/srv/pg");
}

//! The PostgreSQL fixture every suite of the team store stands on: each test gets a database of
//! its own, empty, apart from every other, and gone afterwards.

use crate::support::postgres::{TestDb, client, server};

fn exists(admin: &str, name: &str) -> bool {
    let (admin, name) = (admin.to_string(), name.to_string());
    std::thread::spawn(move || {
        client(&admin)
            .query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&name])
            .expect("query")
            .is_some()
    })
    .join()
    .expect("thread")
}

#[test]
fn each_test_database_is_fresh_separate_and_dropped() {
    let Some(admin) = server("postgres_test_db") else {
        return;
    };
    let (a, b) = match (TestDb::create("fixture a"), TestDb::create("fixture a")) {
        (Some(a), Some(b)) => (a, b),
        _ => panic!("the server answered once, so it answers again"),
    };
    assert_ne!(
        a.name, b.name,
        "one name per database, even for one test name"
    );
    assert!(a.url.ends_with(&format!("/{}", a.name)), "{}", a.url);
    assert!(
        !a.url.contains(&std::env::var("PGPASSWORD").expect("set")),
        "the URL carries no password"
    );
    let mut ca = a.client();
    ca.batch_execute("CREATE TABLE only_here (x int); INSERT INTO only_here VALUES (1)")
        .expect("create");
    let in_b: i64 = b
        .client()
        .query_one(
            "SELECT count(*) FROM pg_tables WHERE tablename = 'only_here'",
            &[],
        )
        .expect("query")
        .get(0);
    assert_eq!(in_b, 0, "a table made in one database is not in another");
    let (name_a, name_b) = (a.name.clone(), b.name.clone());
    assert!(exists(&admin, &name_a) && exists(&admin, &name_b));
    // Dropped even with a session still open in it.
    drop(a);
    assert!(!exists(&admin, &name_a), "dropped with its session open");
    drop(ca);
    drop(b);
    assert!(!exists(&admin, &name_b));
}

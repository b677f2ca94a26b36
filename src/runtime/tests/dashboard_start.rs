//! The dashboard's start on a real store: the newest page is the first table, and the rest of
//! the store, read behind it in one pass, completes it in the store's order.

use crate::api::{ArkClient, ClientConfig};
use crate::app::{Msg, State, update};
use crate::config::Config;
use crate::context::Context;
use crate::destination::Destination;
use crate::engine::Engine;
use crate::runtime::dashboard::{self, DashboardOptions, FIRST_PAGE};
use crate::store::{Store, TaskQuery, TaskRow};
use std::time::Duration;

/// `n` succeeded tasks written in one transaction, not in creation order (the order a store
/// has after tasks were adopted), several sharing a creation time.
fn fill(path: &std::path::Path, n: usize) {
    drop(Store::open(path).expect("create the store"));
    let mut c = rusqlite::Connection::open(path).expect("open");
    let tx = c.transaction().expect("tx");
    {
        let mut insert = tx
            .prepare(
                "INSERT INTO tasks (local_id, task_id, status, profile, model, prompt, \
                 created_at, updated_at, started_at, finished_at, tokens) \
                 VALUES (?1, ?2, 'succeeded', 'p', ?3, ?4, ?6, ?6 + 90, ?6 + 10, ?6 + 90, ?7)",
            )
            .expect("prepare");
        let mut request = tx
            .prepare("INSERT INTO task_requests (local_id, body) VALUES (?1, CAST(?2 AS BLOB))")
            .expect("prepare");
        for k in 0..n {
            // 7919 is coprime with n below: every id once, in a shuffled order.
            let m = (k * 7919) % n;
            let model = [
                "doubao-seedance-2-0-fast-260128",
                "doubao-seedance-2-0-260128",
            ][m % 2];
            let prompt = format!("harbour at dawn {m}");
            let request_body = format!(
                r#"{{"model":"{model}","content":[{{"type":"text","text":"{prompt}"}}],"duration":{}}}"#,
                4 + m % 3
            );
            insert
                .execute(rusqlite::params![
                    format!("l{m:05}"),
                    format!("cgt-{m:05}"),
                    model,
                    prompt,
                    &request_body,
                    1_700_000_000 + (m as i64 * 13) % 997,
                    1_000 + m as i64,
                ])
                .expect("row");
            request
                .execute(rusqlite::params![format!("l{m:05}"), request_body])
                .expect("request");
        }
    }
    tx.commit().expect("commit");
}

/// The dashboard's context on `store`, its server an address nothing answers (the start reads
/// the store only), automatic downloads off.
fn offline_context(
    store: Store,
    location: crate::store::StoreLocation,
    dir: &std::path::Path,
) -> Context {
    let client = ArkClient::new(ClientConfig::new(
        "http://127.0.0.1:9/api/v3".to_string(),
        None::<crate::api::ApiKey>,
    ))
    .expect("client");
    let mut config = Config::default();
    config.download.auto = false;
    Context {
        config,
        engine: Engine::new(client, store, "p"),
        profile_name: "p".into(),
        base_url: "http://127.0.0.1:9/api/v3".into(),
        store: location,
        output_dir: Destination::Folder(dir.join("out")),
        demo: false,
        sim: None,
        key_var: None,
        demo_dir: None,
        config_path: dir.join("config.toml"),
    }
}

fn shown(s: &State) -> Vec<String> {
    s.order
        .iter()
        .map(|&i| s.tasks[i].local_id.to_string())
        .collect()
}

fn ids(rows: &[TaskRow]) -> Vec<String> {
    rows.iter().map(|r| r.local_id.to_string()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_newest_page_is_the_first_table_and_the_rest_completes_it_in_the_stores_order() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("store.sqlite3");
    let n = 2 * FIRST_PAGE + 345;
    fill(&path, n);
    let listing = Store::open(&path)
        .expect("open")
        .list_rows(&TaskQuery::default())
        .expect("list");
    assert_eq!(listing.len(), n);
    let ctx = offline_context(
        Store::open(&path).expect("open"),
        crate::store::StoreLocation::Sqlite(path.clone()),
        dir.path(),
    );
    let (mut state, _executor, workers, mut rx) =
        dashboard::prepare(&ctx, &DashboardOptions::default())
            .await
            .expect("the dashboard starts");
    assert_eq!(
        shown(&state),
        ids(&listing[..FIRST_PAGE]),
        "the first table is the store's newest page, newest first"
    );
    let rest = loop {
        match tokio::time::timeout(Duration::from_secs(30), rx.recv()).await {
            Ok(Some(Msg::MoreTasksLoaded(rows))) => break rows,
            Ok(Some(other)) => {
                update(&mut state, other);
            }
            Ok(None) => panic!("the loop's channel closed before the rest of the store came"),
            Err(_) => panic!("the rest of the store never came"),
        }
    };
    assert_eq!(
        ids(&rest),
        ids(&listing[FIRST_PAGE..]),
        "the rest is every row behind the first page, in the store's order, once"
    );
    update(&mut state, Msg::MoreTasksLoaded(rest));
    assert_eq!(
        shown(&state),
        ids(&listing),
        "the full table, in the store's order"
    );
    assert_eq!(state.tasks.len(), n);
    for row in &listing {
        assert_eq!(
            state.task(&row.local_id),
            Some(row),
            "each row as the store has it"
        );
    }
    workers.release().await;
}

/// On a PostgreSQL store the header's "today" is the day the store's daily cap counts (the
/// server's, one for every host), not this host's local day: the database's zone is set so that
/// its midnight is six hours away from the local one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_store_s_day_is_the_header_s_today() {
    use crate::store::pg::test_db::TestDb;
    let Some(db) = TestDb::create("dash_day") else {
        return;
    };
    let now = chrono::Utc::now().timestamp();
    let local = crate::runtime::event_loop::local_day_start();
    // A fixed offset whose midnight is six hours after the local one (POSIX signs: west is +).
    let midnight = (local + 6 * 3600).rem_euclid(86_400);
    let mut east = (-midnight).rem_euclid(86_400);
    if east > 12 * 3600 {
        east -= 86_400;
    }
    let zone = format!(
        "SRV{}{:02}:{:02}",
        if east >= 0 { '-' } else { '+' },
        east.abs() / 3600,
        east.abs() % 3600 / 60
    );
    let alter = format!("ALTER DATABASE \"{}\" SET timezone TO '{zone}'", db.name);
    let url = db.url.clone();
    // The blocking client may not run on the runtime's threads.
    tokio::task::spawn_blocking(move || {
        crate::store::pg::test_db::client(&url)
            .batch_execute(&alter)
            .expect("the database's time zone")
    })
    .await
    .expect("set the zone");
    let store = Store::open_named(&db.url).expect("the store");
    let day = store
        .shared_day(now)
        .expect("the store's day")
        .expect("a PostgreSQL store names its day");
    assert_ne!(day.start, local, "the test needs the two days to differ");
    assert_eq!(
        (day.start - local).rem_euclid(86_400),
        6 * 3600,
        "zone {zone}"
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let ctx = offline_context(
        store,
        crate::store::StoreLocation::Postgres(
            crate::store::pg::target::PgTarget::parse(&db.url).expect("url"),
        ),
        dir.path(),
    );
    let (state, _executor, workers, _rx) = dashboard::prepare(&ctx, &DashboardOptions::default())
        .await
        .expect("the dashboard starts");
    assert_eq!(
        state.today_start, day.start,
        "the store's day, not local midnight"
    );
    assert!(state.today_shared);
    workers.release().await;
}

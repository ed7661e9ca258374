//! SQLite's durability: every connection of the server's pool runs with the configured
//! `PRAGMA synchronous` (`database.sqlite_synchronous`), FULL unless configured otherwise.

use diesel::prelude::*;

use crate::helpers::{spawn_app, spawn_app_with, TestApp};

#[derive(QueryableByName)]
struct Synchronous {
    #[diesel(sql_type = diesel::sql_types::Integer)]
    synchronous: i32,
}

/// `PRAGMA synchronous` of every connection the server's pool holds (its whole size, checked out
/// at once, so that none is left out), and of the writer's.
fn synchronous_levels(app: &TestApp) -> Vec<i32> {
    let read = |conn: &mut maatje::db::DbConnection| {
        diesel::sql_query("PRAGMA synchronous")
            .get_result::<Synchronous>(conn)
            .expect("PRAGMA synchronous")
            .synchronous
    };
    let mut held = Vec::new();
    let mut levels = Vec::new();
    for _ in 0..app.settings.database.pool_size {
        let mut conn = app.server_db.blocking().expect("a pooled connection");
        levels.push(read(&mut conn));
        held.push(conn);
    }
    let mut writer = app.server_db.blocking_writer().expect("the writer");
    levels.push(read(&mut writer));
    levels
}

#[tokio::test]
async fn sqlite_connections_sync_every_commit_by_default() {
    let app = spawn_app().await;
    if app.is_postgres() {
        eprintln!("skipped: SQLite only");
        return;
    }
    // 2 is FULL (0 OFF, 1 NORMAL, 3 EXTRA).
    let levels = synchronous_levels(&app);
    assert_eq!(levels, vec![2; levels.len()], "{levels:?}");
}

#[tokio::test]
async fn sqlite_synchronous_is_the_configured_level() {
    for (word, level) in [("normal", 1), ("extra", 3), ("full", 2)] {
        let app = spawn_app_with(&[("MAATJE__DATABASE__SQLITE_SYNCHRONOUS", word)]).await;
        if app.is_postgres() {
            eprintln!("skipped: SQLite only");
            return;
        }
        let levels = synchronous_levels(&app);
        assert_eq!(levels, vec![level; levels.len()], "{word}: {levels:?}");
        // And the service works on it.
        let response = app.get("/v1/organisations").await;
        assert_eq!(response.status, 200, "{word}: {}", response.text);
    }
}

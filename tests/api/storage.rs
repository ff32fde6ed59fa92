//! Storage on whichever backend TEST_DATABASE_URL selects (SQLite by default).

use crate::helpers::{TestDb, spawn_app_with};
use diesel::RunQueryDsl;
use diesel::sql_types::{BigInt, Text};
use paytr_checkout::db::models::{NewOrder, NewPaymentAttempt, NewUser, PaymentAttempt, User};
use paytr_checkout::db::states::AttemptStatus;
use paytr_checkout::db::{Backend, DbConnection, DbError};

fn backend(db: &TestDb) -> Backend {
    Backend::from_url(&db.url).expect("supported URL")
}

#[test]
fn migrations_run_up_down_and_up_again() {
    let db = TestDb::new();
    let backend = backend(&db);

    backend.run_migrations().expect("up");
    backend.revert_migrations().expect("down");
    backend.run_migrations().expect("up again");

    let pool = backend.pool(1).expect("pool");
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let user = rt
        .block_on(pool.run(|conn| {
            NewUser {
                email: "a@example.com",
                password_hash: "x",
                full_name: "A",
                created_at: 1,
            }
            .insert(conn)
        }))
        .expect("tables exist after the round trip");
    assert_eq!(user.email, "a@example.com");
}

fn new_order<'a>(public_id: &'a str) -> NewOrder<'a> {
    NewOrder {
        public_id,
        user_id: None,
        email: "buyer@example.com",
        full_name: "Ayşe Yılmaz",
        phone: "05551112233",
        address: "İstanbul",
        total_kurus: 10099,
        currency: "TL",
        basket_json: r#"[["Kupa","100.99",1]]"#,
        created_at: 1,
        updated_at: 1,
        terms_version: None,
        terms_text: None,
        terms_accepted_at: None,
        lang: "tr",
    }
}

fn new_attempt(order_id: i64, merchant_oid: &str) -> NewPaymentAttempt<'_> {
    NewPaymentAttempt {
        order_id,
        merchant_oid,
        amount_kurus: 10099,
        currency: "TL",
        user_ip: "85.34.78.112",
        store_card: true,
        created_at: 1,
        updated_at: 1,
    }
}

#[tokio::test]
async fn an_attempt_leaves_pending_once_and_merchant_oids_are_unique() {
    let db = TestDb::new();
    let backend = backend(&db);
    backend.run_migrations().expect("migrations");
    let pool = backend.pool(2).expect("pool");

    let (first, second, duplicate, attempt) = pool
        .run(|conn| {
            let order = new_order("o1").insert(conn)?;
            new_attempt(order.id, "ORD1").insert(conn)?;
            let first =
                PaymentAttempt::update_status_if_pending(conn, "ORD1", AttemptStatus::Paid, 2)?;
            let second =
                PaymentAttempt::update_status_if_pending(conn, "ORD1", AttemptStatus::Failed, 3)?;
            let duplicate = new_attempt(order.id, "ORD1").insert(conn);
            Ok((
                first,
                second,
                duplicate,
                PaymentAttempt::find_by_merchant_oid(conn, "ORD1")?,
            ))
        })
        .await
        .expect("queries run");

    assert!(first, "pending → paid");
    assert!(!second, "a later failed never overwrites paid");
    assert!(matches!(duplicate, Err(DbError::Query(_))), "{duplicate:?}");
    let attempt = attempt.expect("attempt exists");
    assert_eq!((attempt.status.code(), attempt.updated_at), ("paid", 2));
}

#[tokio::test]
async fn constraints_refuse_bad_rows() {
    let db = TestDb::new();
    let backend = backend(&db);
    backend.run_migrations().expect("migrations");
    let pool = backend.pool(1).expect("pool");

    let (orphan, bad_status, missing, notifications) = pool
        .run(|conn| {
            let orphan = new_attempt(999, "ORD2").insert(conn).map(drop);
            let bad_status = diesel::sql_query("UPDATE orders SET status = 'shipped'")
                .execute(conn)
                .map(drop);
            let order = new_order("o2").insert(conn)?;
            let bad_status = bad_status.and(
                diesel::sql_query(format!(
                    "UPDATE orders SET status = 'shipped' WHERE id = {}",
                    order.id
                ))
                .execute(conn)
                .map(drop),
            );
            let missing = User::find_by_email(conn, "nobody@example.com")?;
            Ok((
                orphan,
                bad_status,
                missing,
                crate::helpers::notification_outcomes(conn, "ORD2")?.len(),
            ))
        })
        .await
        .expect("queries run");

    assert!(orphan.is_err(), "foreign keys are enforced");
    assert!(
        bad_status.is_err(),
        "order status is one of pending, paid, failed"
    );
    assert!(missing.is_none());
    assert_eq!(notifications, 0);
}

#[derive(diesel::QueryableByName)]
struct Pragma {
    #[diesel(sql_type = Text)]
    journal_mode: String,
}

#[derive(diesel::QueryableByName)]
struct IntPragma {
    #[diesel(sql_type = BigInt)]
    value: i64,
}

#[tokio::test]
async fn sqlite_connections_use_wal_full_sync_and_foreign_keys() {
    // SQLite-specific, so it always uses a SQLite file, whichever backend the suite runs on.
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}", dir.path().join("pragmas.db").display());
    let pool = Backend::from_url(&url)
        .expect("sqlite URL")
        .pool(1)
        .expect("pool");

    let (mode, sync, fk) = pool
        .run(|conn| {
            let DbConnection::Sqlite(c) = conn else {
                unreachable!("sqlite URL")
            };
            let mode = diesel::sql_query("PRAGMA journal_mode")
                .get_result::<Pragma>(c)?
                .journal_mode;
            let sync = diesel::sql_query("SELECT synchronous AS value FROM pragma_synchronous")
                .get_result::<IntPragma>(c)?;
            let fk = diesel::sql_query("SELECT foreign_keys AS value FROM pragma_foreign_keys")
                .get_result::<IntPragma>(c)?;
            Ok((mode, sync.value, fk.value))
        })
        .await
        .expect("pragmas readable");

    assert_eq!(mode, "wal");
    assert_eq!(sync, 2, "synchronous = FULL");
    assert_eq!(fk, 1);
}

#[test]
fn urls_of_other_databases_are_refused_clearly() {
    for url in [
        "mysql://x",
        "mongodb://u:secret@h/db",
        "sqlite://",
        "data.db",
    ] {
        let err = Backend::from_url(url).expect_err(url);
        assert!(err.to_string().contains("is not supported"), "{url}: {err}");
        assert!(
            !err.to_string().contains("secret"),
            "passwords are not repeated"
        );
    }
    assert_eq!(
        Backend::from_url("postgresql://h/db")
            .map(|b| b.name())
            .ok(),
        Some("postgres")
    );
}

#[tokio::test]
async fn the_app_serves_from_a_fresh_database_of_the_configured_backend() {
    let app = spawn_app_with(&[]).await;

    assert_eq!(app.get("/healthz").await.status(), 200);
    let backend = backend(&app.db);
    backend
        .run_migrations()
        .expect("already migrated: nothing pending");
}

//! The attack run of issue #9, replayed as tests: each one attacks as an outsider would (another
//! shopper's ids, forged or replayed input, two requests at once) and asserts that nothing of
//! the victim's is reached and nothing is changed. They run on SQLite and on PostgreSQL.

mod files_and_keys;
mod network;
mod notifications;
mod orders;
mod sessions;
mod signup;
mod subscriptions;
mod utoken;

use crate::helpers::TestApp;
use diesel::sql_types::BigInt;

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// `SELECT COUNT(*) AS n …` on the app's database.
pub async fn count(app: &TestApp, sql: &'static str) -> i64 {
    app.db_run(move |conn| {
        Ok(diesel::RunQueryDsl::get_result::<Count>(diesel::sql_query(sql), conn)?.n)
    })
    .await
}

/// A shopper who signed up with `email` (and is signed in).
pub async fn signed_up(app: &TestApp, email: &str) -> crate::shopper::Shopper {
    let mut shopper = crate::shopper::Shopper::new(&app.address);
    shopper.register(email).await;
    shopper
}

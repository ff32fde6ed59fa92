//! Starting the real application for a test.

use diesel::{Connection, PgConnection, RunQueryDsl};
use paytr_checkout::config::Settings;
use paytr_checkout::startup::Application;
use rand::Rng;
use std::collections::HashMap;
use tempfile::TempDir;

/// A database of its own for one test: a SQLite file in a temporary folder, or a new
/// PostgreSQL database on the server named by TEST_DATABASE_URL.
pub struct TestDb {
    pub url: String,
    pub dir: TempDir,
}

impl TestDb {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("temporary folder");
        let url = match std::env::var("TEST_DATABASE_URL")
            .ok()
            .filter(|u| !u.is_empty())
        {
            Some(server) => create_postgres_database(&server),
            None => format!("sqlite://{}", dir.path().join("test.db").display()),
        };
        Self { url, dir }
    }
}

fn create_postgres_database(server_url: &str) -> String {
    let name = format!("test_{:016x}", rand::thread_rng().r#gen::<u64>());
    let mut conn = PgConnection::establish(server_url)
        .expect("TEST_DATABASE_URL must point at a running PostgreSQL");
    diesel::sql_query(format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .expect("create test database");
    let mut url = url::Url::parse(server_url).expect("TEST_DATABASE_URL is a URL");
    url.set_path(&name);
    url.to_string()
}

/// The running application.
pub struct TestApp {
    pub address: String,
    /// `http://127.0.0.1:{port}`: where the app listens, whatever PUBLIC_URL says.
    pub local: String,
    pub db: TestDb,
    pub http: reqwest::Client,
    pub sandbox: Option<paytr_checkout::sandbox::Sandbox>,
    /// The app's settings, with PUBLIC_URL set to where it listens.
    pub settings: Settings,
    /// The environment the app was configured with (for running the binary against it).
    pub env: HashMap<String, String>,
    /// `http://…/metrics` when METRICS_BIND was given.
    pub metrics: Option<String>,
    /// The pool the server itself uses (its counters; tests read and write through `db`).
    pub app_db: paytr_checkout::db::Db,
}

impl TestApp {
    /// The utokens the embedded sandbox created.
    pub fn sandbox_utokens(&self) -> Vec<String> {
        let sandbox = self.sandbox.as_ref().expect("sandbox mode");
        let mut utokens: Vec<String> =
            sandbox.read(|s| s.cards.iter().map(|c| c.utoken.clone()).collect());
        utokens.dedup();
        utokens
    }

    /// How many cards the embedded sandbox holds for `utoken`.
    pub fn sandbox_cards_of(&self, utoken: &paytr_checkout::paytr::Token) -> usize {
        let sandbox = self.sandbox.as_ref().expect("sandbox mode");
        sandbox.read(|s| {
            s.cards
                .iter()
                .filter(|c| c.utoken == utoken.expose())
                .count()
        })
    }

    /// Runs `f` on the app's database through a pool of its own.
    pub async fn db_run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut paytr_checkout::db::DbConnection) -> Result<T, paytr_checkout::db::DbError>
        + Send
        + 'static,
    ) -> T {
        let pool = paytr_checkout::db::Backend::from_url(&self.db.url)
            .expect("url")
            .pool(1)
            .expect("pool");
        pool.run(f).await.expect("query")
    }

    /// Executes one SQL statement on the app's database (to age sessions, break a table, …).
    pub async fn execute_sql(&self, sql: &'static str) -> usize {
        self.db_run(move |conn| Ok(diesel::RunQueryDsl::execute(diesel::sql_query(sql), conn)?))
            .await
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.send(self.http.get(format!("{}{path}", self.address)))
            .await
    }

    pub async fn head(&self, path: &str) -> reqwest::Response {
        self.send(self.http.head(format!("{}{path}", self.address)))
            .await
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> reqwest::Response {
        request.send().await.expect("request reaches the app")
    }
}

/// Starts the application with default settings plus `vars`, on port 0, with a fresh database.
pub async fn spawn_app_with(vars: &[(&str, &str)]) -> TestApp {
    let db = TestDb::new();
    let mut env: HashMap<String, String> = HashMap::from([
        ("BIND".into(), "127.0.0.1:0".into()),
        ("DATABASE_URL".into(), db.url.clone()),
        ("DATA_DIR".into(), db.dir.path().display().to_string()),
    ]);
    env.extend(vars.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let settings =
        Settings::from_lookup(|name| env.get(name).cloned()).expect("test settings are valid");
    let app = Application::build(settings)
        .await
        .expect("application starts");
    let address = app.public_url().to_owned();
    let local = format!("http://127.0.0.1:{}", app.port());
    let sandbox = app.sandbox().cloned();
    let metrics = app.metrics_addr().map(|a| format!("http://{a}/metrics"));
    let app_db = app.db().clone();
    tokio::spawn(app.into_server());
    env.insert("PUBLIC_URL".into(), address.clone());
    let settings =
        Settings::from_lookup(|name| env.get(name).cloned()).expect("test settings are valid");
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("http client");
    TestApp {
        address,
        local,
        db,
        http,
        sandbox,
        settings,
        env,
        metrics,
        app_db,
    }
}

/// The PostgreSQL server of TEST_DATABASE_URL, for the tests that only PostgreSQL can run
/// (they are `#[ignore]`d; `.ci/run` runs them with `--include-ignored` on PostgreSQL).
pub fn postgres_server() -> String {
    std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())
        .expect("this test needs PostgreSQL: set TEST_DATABASE_URL")
}

/// The app in live mode (PayTR credentials, pointed at `paytr_base_url`): PUBLIC_URL is then
/// required, so a free port is picked first and both BIND and PUBLIC_URL name it.
pub async fn spawn_live_app(paytr_base_url: &str, vars: &[(&str, &str)]) -> TestApp {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let (bind, public_url) = (
        format!("127.0.0.1:{port}"),
        format!("http://127.0.0.1:{port}"),
    );
    let mut all = vec![
        ("PAYTR_MERCHANT_ID", "123456"),
        ("PAYTR_MERCHANT_KEY", "AbCdEfGhIjKlMnOp"),
        ("PAYTR_MERCHANT_SALT", "QrStUvWxYz012345"),
        ("PAYTR_BASE_URL", paytr_base_url),
        ("BIND", bind.as_str()),
        ("PUBLIC_URL", public_url.as_str()),
    ];
    all.extend_from_slice(vars);
    spawn_app_with(&all).await
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

pub use crate::paytr_common::sample_request;

/// Polls `check` every 20 ms for up to 10 s.
pub async fn eventually<T>(what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    for _ in 0..500 {
        if let Some(value) = check() {
            return value;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("timed out waiting for {what}");
}

/// Polls the async `check` every 50 ms for up to 15 s.
pub async fn eventually_async<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    for _ in 0..300 {
        if let Some(value) = check().await {
            return value;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}

/// The recorded outcomes of the notifications for `oid`, oldest first.
pub fn notification_outcomes(
    conn: &mut paytr_checkout::db::DbConnection,
    oid: &str,
) -> Result<Vec<String>, paytr_checkout::db::DbError> {
    use diesel::prelude::*;
    use paytr_checkout::db::schema::notifications;
    Ok(notifications::table
        .filter(notifications::merchant_oid.eq(oid))
        .order(notifications::id.asc())
        .select(notifications::outcome)
        .load(conn)?)
}

//! Storage: one diesel [`DbConnection`] over SQLite and PostgreSQL, a pool, embedded
//! migrations, and [`Db::run`] to do blocking diesel work off the async workers.
//!
//! The backend comes from the scheme of `DATABASE_URL`: `sqlite://path` (or `sqlite:path`)
//! and `postgres://…` / `postgresql://…`.

pub mod backoffice;
pub mod models;
pub mod recent;
pub mod refunds;
pub mod schema;
pub mod states;
pub mod subscriptions;
mod writer;

use diesel::connection::SimpleConnection;
use diesel::r2d2::{self, ManageConnection, Pool};
use diesel::{Connection, ConnectionError, PgConnection, QueryResult, SqliteConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use std::path::{Path, PathBuf};
use std::time::Duration;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// The PostgreSQL advisory lock key the migrations are applied under ("paytrmig").
const MIGRATION_LOCK: i64 = 0x7061_7974_726d_6967;

/// A connection to whichever database is configured.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Sqlite(SqliteConnection),
    Postgres(PgConnection),
}

/// Runs a diesel query on the concrete connection inside a [`DbConnection`]:
/// `native!(conn, |c| query.get_result(c))`. Through the `MultiConnection` wrapper diesel walks
/// the whole query on every execution to decide whether its prepared statement may be cached
/// and builds its SQL text again (8–11% of the payment page's CPU); on the backend's own
/// connection a query with a static shape finds its cached statement by type. For the hot
/// queries of a request's path; the body is compiled once per backend.
#[macro_export]
macro_rules! native {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::db::DbConnection::Sqlite($c) => $body,
            $crate::db::DbConnection::Postgres($c) => $body,
        }
    };
}

/// Storage failures. The message is for logs; pages show their own words.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("DATABASE_URL {0:?} is not supported: use sqlite://path or postgres://user@host/db")]
    UnsupportedUrl(String),
    #[error("could not prepare the database folder {path}: {source}")]
    Folder {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("could not connect to the database: {0}")]
    Connect(#[from] ConnectionError),
    #[error("no database connection available: {0}")]
    Pool(#[from] r2d2::PoolError),
    #[error("database query failed: {0}")]
    Query(#[from] diesel::result::Error),
    #[error("database migration failed: {0}")]
    Migration(String),
    #[error("database commit failed: {0}")]
    Commit(String),
    #[error("database task was cancelled")]
    Cancelled,
}

/// Which database a `DATABASE_URL` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Backend {
    Sqlite(PathBuf),
    Postgres(String),
}

impl Backend {
    pub fn from_url(url: &str) -> Result<Self, DbError> {
        if let Some(path) = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        {
            if path.is_empty() {
                return Err(DbError::UnsupportedUrl(url.to_owned()));
            }
            return Ok(Self::Sqlite(PathBuf::from(path)));
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Self::Postgres(url.to_owned()));
        }
        Err(DbError::UnsupportedUrl(redact_url(url)))
    }

    pub fn name(&self) -> &'static str {
        match self {
            Self::Sqlite(_) => "sqlite",
            Self::Postgres(_) => "postgres",
        }
    }

    fn connect(&self) -> Result<DbConnection, ConnectionError> {
        match self {
            Self::Sqlite(path) => {
                let mut conn = SqliteConnection::establish(&path.to_string_lossy())?;
                // Payment state must survive a power cut: WAL with full fsync, and waits
                // instead of "database is locked" when another connection writes. The wait is
                // set first: switching a fresh file to WAL takes a lock that the pool's other
                // new connections would otherwise meet with "database is locked".
                // SQLite answers `journal_mode` with "database is locked" without waiting when
                // another process is mid-migration on a file it is still switching to WAL (three
                // instances starting at once): such a setup is tried again, for up to 5 s.
                let setup = "PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; \
                             PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;";
                let mut tries = 0;
                loop {
                    match conn.batch_execute(setup) {
                        Ok(()) => break,
                        Err(e) if tries < 50 && e.to_string().contains("locked") => {
                            tries += 1;
                            std::thread::sleep(std::time::Duration::from_millis(100));
                        }
                        Err(e) => return Err(ConnectionError::CouldntSetupConfiguration(e)),
                    }
                }
                Ok(DbConnection::Sqlite(conn))
            }
            Self::Postgres(url) => PgConnection::establish(url).map(DbConnection::Postgres),
        }
    }

    /// Creates the SQLite file's folder if needed, and the file itself owner-only (`0600`;
    /// SQLite gives its `-wal` and `-shm` files the database file's permissions).
    fn prepare(&self) -> Result<(), DbError> {
        let Self::Sqlite(path) = self else {
            return Ok(());
        };
        let folder = |source| DbError::Folder {
            path: path.clone(),
            source,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            crate::files::create_private_dir(dir).map_err(folder)?;
        }
        crate::files::touch_private(path).map_err(folder)?;
        // The switch to WAL is made once here, by one connection: made by several new pool
        // connections at once on a fresh file, one of them got "database is locked" (SQLite
        // answers a lock upgrade race at once, without waiting). WAL then stays in the file.
        drop(self.connect()?);
        for suffix in ["-wal", "-shm"] {
            let mut side = path.clone().into_os_string();
            side.push(suffix);
            crate::files::restrict(Path::new(&side)).map_err(folder)?;
        }
        Ok(())
    }

    /// Applies every pending migration. Instances starting together take turns: without
    /// that, two instances on an empty database both created the first tables and one of
    /// them exited. On PostgreSQL a session advisory lock (held until the migrations are
    /// applied or the connection ends); on SQLite the write lock, taken before diesel looks
    /// for pending migrations (each migration then runs in a savepoint).
    pub fn run_migrations(&self) -> Result<(), DbError> {
        self.prepare()?;
        let failed =
            |e: Box<dyn std::error::Error + Send + Sync>| DbError::Migration(e.to_string());
        match self.connect()? {
            DbConnection::Sqlite(mut c) => c.immediate_transaction(|c| {
                c.run_pending_migrations(SQLITE_MIGRATIONS)
                    .map(drop)
                    .map_err(failed)
            }),
            DbConnection::Postgres(mut c) => {
                c.batch_execute(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK})"))?;
                let applied = c.run_pending_migrations(POSTGRES_MIGRATIONS).map(drop);
                c.batch_execute(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})"))?;
                applied.map_err(failed)
            }
        }
    }

    /// Whether some embedded migration is not applied yet (nothing is changed).
    pub fn has_pending_migrations(&self) -> Result<bool, DbError> {
        let result = match self.connect()? {
            DbConnection::Sqlite(mut c) => c.has_pending_migration(SQLITE_MIGRATIONS),
            DbConnection::Postgres(mut c) => c.has_pending_migration(POSTGRES_MIGRATIONS),
        };
        result.map_err(|e| DbError::Migration(e.to_string()))
    }

    /// Reverts every applied migration (used by the round-trip test).
    pub fn revert_migrations(&self) -> Result<(), DbError> {
        let result = match self.connect()? {
            DbConnection::Sqlite(mut c) => c.revert_all_migrations(SQLITE_MIGRATIONS).map(drop),
            DbConnection::Postgres(mut c) => c.revert_all_migrations(POSTGRES_MIGRATIONS).map(drop),
        };
        result.map_err(|e| DbError::Migration(e.to_string()))
    }

    /// Opens a pool of `size` connections (the folder of a SQLite file is created).
    pub fn pool(&self, size: u32) -> Result<Db, DbError> {
        self.prepare()?;
        let pool = Pool::builder()
            .max_size(size)
            // While the database is down a request fails after 5 s (a notification is then
            // answered non-OK and PayTR sends it again) instead of queueing for long.
            .connection_timeout(Duration::from_secs(5))
            // A "SELECT 1" before every use costs a parse and a round trip; instead a
            // connection whose work failed is checked when it comes back (`has_broken`).
            .test_on_check_out(false)
            .build(Manager {
                backend: self.clone(),
            })
            .map_err(DbError::Pool)?;
        let writer = match self {
            Self::Sqlite(_) => {
                let conn = self.connect()?;
                let (tx, rx) = std::sync::mpsc::sync_channel(4096);
                std::thread::Builder::new()
                    .name("sqlite-writer".into())
                    .spawn(move || writer::run(conn, rx))
                    .map_err(|e| DbError::Commit(format!("could not start the writer: {e}")))?;
                Some(tx)
            }
            Self::Postgres(_) => None,
        };
        static NEXT_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        let wal = match self {
            Self::Sqlite(path) => {
                let mut wal = path.clone().into_os_string();
                wal.push("-wal");
                Some(std::sync::Arc::new(PathBuf::from(wal)))
            }
            Self::Postgres(_) => None,
        };
        Ok(Db {
            pool,
            writer,
            id: NEXT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            handoffs: Default::default(),
            wal,
        })
    }
}

/// Opens connections for the pool, with the SQLite pragmas applied to each.
#[derive(Debug)]
struct Manager {
    backend: Backend,
}

/// A pooled connection, and whether work on it failed since it was checked out.
pub struct Pooled {
    conn: DbConnection,
    failed: bool,
}

impl ManageConnection for Manager {
    type Connection = Pooled;
    type Error = ConnectionError;

    fn connect(&self) -> Result<Pooled, ConnectionError> {
        self.backend.connect().map(|conn| Pooled {
            conn,
            failed: false,
        })
    }

    fn is_valid(&self, conn: &mut Pooled) -> Result<(), ConnectionError> {
        conn.conn
            .batch_execute("SELECT 1")
            .map_err(ConnectionError::CouldntSetupConfiguration)
    }

    /// Called as a connection goes back to the pool. One whose work failed is asked
    /// `SELECT 1` (and its transaction state checked): after a PostgreSQL restart every pooled
    /// connection is dead, and before this check they stayed in the pool answering errors
    /// (500 on every page) until the idle timeout, 8–10 minutes. Now each is dropped after
    /// its first failure and the pool opens a new one.
    fn has_broken(&self, conn: &mut Pooled) -> bool {
        if !std::mem::take(&mut conn.failed) {
            return false;
        }
        let broken_transaction =
            <<DbConnection as Connection>::TransactionManager as diesel::connection::TransactionManager<DbConnection>>::is_broken_transaction_manager(&mut conn.conn);
        let broken = broken_transaction || self.is_valid(conn).is_err();
        if broken {
            tracing::warn!("a database connection was lost; it is replaced");
        }
        broken
    }
}

impl Pooled {
    /// Runs `f`, remembering a failure so the pool checks the connection when it comes back.
    fn work<T>(
        &mut self,
        f: impl FnOnce(&mut DbConnection) -> Result<T, DbError>,
    ) -> Result<T, DbError> {
        // Marked first, so a connection whose work panicked is checked too (it may be left
        // inside a transaction).
        let failed_before = std::mem::replace(&mut self.failed, true);
        let result = f(&mut self.conn);
        self.failed = failed_before || result.is_err();
        result
    }
}

/// SQLite statements of fixed text, prepared once per connection: diesel's statement cache
/// finds them by type. (Its transaction manager sends `BEGIN` and `COMMIT` through
/// `sqlite3_exec`, which parses them anew each time: 4% of a payment page.)
macro_rules! fixed_statement {
    ($name:ident, $sql:literal) => {
        #[derive(Debug, Clone, Copy, diesel::query_builder::QueryId)]
        struct $name;
        impl diesel::query_builder::QueryFragment<diesel::sqlite::Sqlite> for $name {
            fn walk_ast<'b>(
                &'b self,
                mut out: diesel::query_builder::AstPass<'_, 'b, diesel::sqlite::Sqlite>,
            ) -> diesel::QueryResult<()> {
                out.push_sql($sql);
                Ok(())
            }
        }
        impl diesel::RunQueryDsl<SqliteConnection> for $name {}
    };
}
fixed_statement!(Begin, "BEGIN");
fixed_statement!(Commit, "COMMIT");

fn transaction_depth(
    sqlite: &mut SqliteConnection,
    change: diesel::connection::TransactionDepthChange,
) -> QueryResult<()> {
    use diesel::connection::{
        AnsiTransactionManager, TransactionManager, TransactionManagerStatus,
    };
    match AnsiTransactionManager::transaction_manager_status_mut(sqlite) {
        TransactionManagerStatus::Valid(status) => status.change_transaction_depth(change),
        TransactionManagerStatus::InError => Err(diesel::result::Error::BrokenTransactionManager),
    }
}

/// Whether a SQLite connection is inside a transaction (diesel's view of it).
fn in_transaction(sqlite: &mut SqliteConnection) -> QueryResult<bool> {
    use diesel::connection::{AnsiTransactionManager, TransactionManager};
    Ok(
        AnsiTransactionManager::transaction_manager_status_mut(sqlite)
            .transaction_depth()?
            .is_some(),
    )
}

/// `BEGIN` as a cached statement, and diesel's transaction manager told of it.
fn begin_read(sqlite: &mut SqliteConnection) -> QueryResult<()> {
    use diesel::RunQueryDsl;
    Begin.execute(sqlite)?;
    transaction_depth(
        sqlite,
        diesel::connection::TransactionDepthChange::IncreaseDepth,
    )
}

/// Ends a read transaction opened by [`begin_read`]: `COMMIT` after work that succeeded, a
/// rollback after work that failed.
fn end_read<T>(sqlite: &mut SqliteConnection, result: Result<T, DbError>) -> Result<T, DbError> {
    use diesel::RunQueryDsl;
    use diesel::connection::{AnsiTransactionManager, TransactionDepthChange, TransactionManager};
    let ended = match &result {
        Ok(_) => Commit
            .execute(sqlite)
            .and_then(|_| transaction_depth(sqlite, TransactionDepthChange::DecreaseDepth)),
        Err(_) => AnsiTransactionManager::rollback_transaction(sqlite),
    };
    match (result, ended) {
        (Ok(value), Ok(())) => Ok(value),
        (Ok(_), Err(commit)) => {
            // As diesel does when COMMIT fails: roll back (the connection stays usable).
            let _ = AnsiTransactionManager::rollback_transaction(sqlite);
            Err(commit.into())
        }
        (Err(e), _) => Err(e),
    }
}

/// `f` in one read transaction. On SQLite `BEGIN` and `COMMIT` are cached statements, and
/// diesel's transaction manager is told about them, so work inside may still nest a
/// transaction (a savepoint) and a failure rolls back as diesel's own would.
fn read_transaction<T>(
    conn: &mut DbConnection,
    f: impl FnOnce(&mut DbConnection) -> Result<T, DbError>,
) -> Result<T, DbError> {
    let DbConnection::Sqlite(sqlite) = conn else {
        return conn.transaction(f);
    };
    if in_transaction(sqlite)? {
        // Already inside one (never on a request's path): diesel nests it as a savepoint.
        return conn.transaction(f);
    }
    begin_read(sqlite)?;
    in_open_read(conn, f)
}

/// `f` inside the read transaction `conn` has open, which then ends.
fn in_open_read<T>(
    conn: &mut DbConnection,
    f: impl FnOnce(&mut DbConnection) -> Result<T, DbError>,
) -> Result<T, DbError> {
    let result = f(conn);
    match conn {
        DbConnection::Sqlite(sqlite) => end_read(sqlite, result),
        DbConnection::Postgres(_) => result, // never: only SQLite reads are held open
    }
}

/// A request's reads in one snapshot, on SQLite.
///
/// A page with a session reads twice: the session's row (in the session middleware), then the
/// page's own rows. Each read transaction takes and drops SQLite's WAL read lock (an `fcntl` on
/// the shared-memory file and a process-wide mutex the runtime's workers queue on: with the
/// `BEGIN`/`COMMIT`, ~10% of the payment page's server CPU, `bench/README.md`). While a request's
/// future is being polled inside [`RequestReads::enter`], the session's read leaves its
/// transaction open ([`Db::read_held`]) and the request's next read on the same database joins
/// it and ends it: one lock for both. The open transaction never outlives that one poll: when
/// the poll ends (the request waits for anything, or is answered), before any write or
/// blocking work, and if the guard is dropped by a panic, it is committed and the connection
/// goes back to the pool. So a read never sees a snapshot older than the poll it runs in, and
/// never misses a write made before it in the same request.
pub struct RequestReads(());

struct Held {
    db: u64,
    /// `None` once a read took it over (that read ends the transaction).
    conn: Option<r2d2::PooledConnection<Manager>>,
}

impl Drop for Held {
    fn drop(&mut self) {
        // A connection never goes back to the pool inside a transaction.
        if let Some(conn) = &mut self.conn {
            let _ = conn.work(|c| match c {
                DbConnection::Sqlite(sqlite) => end_read(sqlite, Ok(())),
                DbConnection::Postgres(_) => Ok(()),
            });
        }
    }
}

thread_local! {
    /// Inside a request's poll (see [`RequestReads`]).
    static HOLDING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    /// The read transaction the session's load left open in this poll.
    static HELD: std::cell::RefCell<Option<Held>> = const { std::cell::RefCell::new(None) };
    /// The database's stamp taken first in this poll ([`Db::read_stamp`]).
    static POLL_STAMP: std::cell::Cell<Option<(u64, recent::Stamp)>> =
        const { std::cell::Cell::new(None) };
}

impl RequestReads {
    /// Marks this thread as polling a request until the guard is dropped.
    pub fn enter() -> Self {
        HOLDING.set(true);
        Self(())
    }

    /// Polls `fut` with its reads sharing one snapshot, one poll at a time.
    pub async fn around<F: std::future::Future>(fut: F) -> F::Output {
        let mut fut = std::pin::pin!(fut);
        std::future::poll_fn(|cx| {
            let _reads = Self::enter();
            fut.as_mut().poll(cx)
        })
        .await
    }
}

impl Drop for RequestReads {
    fn drop(&mut self) {
        HOLDING.set(false);
        end_poll_reads();
    }
}

/// Ends the read transaction held open on this thread, if any.
fn release_held() {
    drop(HELD.with_borrow_mut(Option::take));
}

/// Ends this poll's shared reads: the held read transaction and the stamp.
fn end_poll_reads() {
    POLL_STAMP.set(None);
    release_held();
}

/// The held connection, if it is one of `db`'s.
fn take_held(db: u64) -> Option<r2d2::PooledConnection<Manager>> {
    HELD.with_borrow_mut(|held| match held {
        Some(h) if h.db == db => held.take()?.conn.take(),
        _ => None,
    })
}

/// The pool, cheap to clone. All diesel work goes through [`Db::run`] (reads) or
/// [`Db::write`] (anything that writes).
#[derive(Clone)]
pub struct Db {
    pool: Pool<Manager>,
    /// SQLite takes one writer at a time: this process's writes go to one writer thread,
    /// which commits them in batches (see `writer`). `None` on PostgreSQL.
    writer: Option<std::sync::mpsc::SyncSender<writer::Job>>,
    /// Tells this pool's connections from another's (see [`RequestReads`]).
    id: u64,
    /// Work handed to a blocking thread so far ([`Db::run`]).
    handoffs: std::sync::Arc<std::sync::atomic::AtomicU64>,
    /// SQLite's WAL file, whose changes tell that something was written (see [`recent`]).
    wal: Option<std::sync::Arc<PathBuf>>,
}

impl Db {
    /// Runs blocking diesel work on tokio's blocking threads, never on an async worker.
    pub async fn run<T, F>(&self, f: F) -> Result<T, DbError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, DbError> + Send + 'static,
        T: Send + 'static,
    {
        end_poll_reads();
        self.handoffs
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        metrics::counter!("db_blocking_handoffs_total").increment(1);
        let pool = self.pool.clone();
        let done = tokio::task::spawn_blocking(move || {
            let mut conn = pool.get()?;
            conn.work(f)
        })
        .await;
        if self.wal.is_some() {
            // Work on a blocking thread may have written (most of it reads).
            recent::written();
        }
        done.map_err(|_| DbError::Cancelled)?
    }

    /// On SQLite, what the database looks like as far as can be told without reading it:
    /// rows read after an equal stamp are still what the database holds ([`recent`]). `None` on
    /// PostgreSQL, where other instances write.
    ///
    /// Inside a request's poll ([`RequestReads`]) the first stamp serves the poll's other reads:
    /// as the session's read transaction serves them, it is from a moment before, never from
    /// before a write of the request itself (a write ends the poll's reads).
    pub fn read_stamp(&self) -> Option<recent::Stamp> {
        let wal = self.wal.as_deref()?;
        if !HOLDING.get() {
            return recent::stamp(wal);
        }
        match POLL_STAMP.get() {
            Some((db, stamp)) if db == self.id => Some(stamp),
            _ => {
                let stamp = recent::stamp(wal)?;
                POLL_STAMP.set(Some((self.id, stamp)));
                Some(stamp)
            }
        }
    }

    /// How many times work was handed to a blocking thread (each costs two thread wake-ups;
    /// the metric `db_blocking_handoffs_total` counts them for every pool of the process).
    pub fn handoffs(&self) -> u64 {
        self.handoffs.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// SQLite (reads run on the calling worker) rather than PostgreSQL (on blocking threads).
    pub fn is_sqlite(&self) -> bool {
        self.writer.is_some()
    }

    /// Connections the pool holds, and how many of them are idle.
    pub fn pool_state(&self) -> (u32, u32) {
        let state = self.pool.state();
        (state.connections, state.idle_connections)
    }

    /// A short read on a request's path (a few rows by index). On SQLite it runs right here on
    /// the calling worker when the pool has an idle connection: such a read costs a few
    /// microseconds, less than handing it to a blocking thread and waking the worker again
    /// (the thread hand-offs were 18% of the payment page's CPU, see `bench/README.md`). SQLite
    /// readers never wait for the writer (WAL). Otherwise, and on PostgreSQL, whose reads wait
    /// on the network, it is [`Db::run`].
    pub async fn read<T, F>(&self, f: F) -> Result<T, DbError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, DbError> + Send + 'static,
        T: Send + 'static,
    {
        // One read transaction: one snapshot, and one WAL read lock (a lock of the shared
        // memory file) instead of one per statement.
        self.read_on_worker(f, true).await
    }

    /// [`Db::read`] for work that is one statement: a statement is its own snapshot, so it
    /// runs without `BEGIN`/`COMMIT` (SQLite prepares both anew each time: a quarter of a
    /// session's load).
    pub async fn read_one<T, F>(&self, f: F) -> Result<T, DbError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, DbError> + Send + 'static,
        T: Send + 'static,
    {
        self.read_on_worker(f, false).await
    }

    async fn read_on_worker<T, F>(&self, f: F, in_transaction: bool) -> Result<T, DbError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, DbError> + Send + 'static,
        T: Send + 'static,
    {
        match self.read_inline(f, in_transaction) {
            Ok(result) => result,
            Err(f) => self.run(f).await,
        }
    }

    /// [`Db::read`] made at once when it needs no wait (SQLite, a connection free), as
    /// [`Db::read`] itself would make it; else `Err(f)`, for [`Db::read`]. A handler that
    /// reads on every request keeps no read's future in its own (allocated per request).
    pub fn read_now<T, F>(&self, f: F) -> Result<Result<T, DbError>, F>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, DbError> + Send + 'static,
        T: Send + 'static,
    {
        self.read_inline(f, true)
    }

    /// A read on this thread, if SQLite has a connection for it now; `Err(f)` if not.
    fn read_inline<T, F>(&self, f: F, in_transaction: bool) -> Result<Result<T, DbError>, F>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, DbError> + Send + 'static,
        T: Send + 'static,
    {
        if self.writer.is_none() {
            return Err(f);
        }
        if let Some(mut conn) = take_held(self.id) {
            // The transaction the session's read left open in this poll: this read joins it.
            return Ok(conn.work(|c| in_open_read(c, f)));
        }
        match self.pool.try_get() {
            Some(mut conn) if in_transaction => Ok(conn.work(|c| read_transaction(c, f))),
            Some(mut conn) => Ok(conn.work(f)),
            None => Err(f),
        }
    }

    /// [`Db::read_one`] that, inside [`RequestReads`] on SQLite, leaves its transaction open
    /// for the request's next read (the session's load).
    pub async fn read_held<T, F>(&self, f: F) -> Result<T, DbError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, DbError> + Send + 'static,
        T: Send + 'static,
    {
        if self.writer.is_some() && HOLDING.get() {
            release_held();
            if let Some(mut conn) = self.pool.try_get() {
                let result = conn.work(|c| {
                    let DbConnection::Sqlite(sqlite) = c else {
                        return f(c); // never: `writer` is SQLite's
                    };
                    begin_read(sqlite)?;
                    match f(c) {
                        Ok(value) => Ok(value),
                        Err(e) => in_open_read(c, |_| Err(e)),
                    }
                });
                if result.is_ok() {
                    HELD.set(Some(Held {
                        db: self.id,
                        conn: Some(conn),
                    }));
                }
                return result;
            }
        }
        self.read_one(f).await
    }

    /// Like [`Db::run`], for work that writes. On SQLite the work joins the writer thread's
    /// next batch and its result comes back only after that batch committed.
    pub async fn write<T, F>(&self, f: F) -> Result<T, DbError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, DbError> + Send + 'static,
        T: Send + 'static,
    {
        let Some(writer) = &self.writer else {
            return self.run(f).await;
        };
        // A read after this write must see it: not in a snapshot taken before.
        end_poll_reads();
        let (job, done) = writer::job(f);
        metrics::gauge!("db_write_queue_depth").increment(1.0);
        match writer.try_send(job) {
            Ok(()) => {}
            Err(std::sync::mpsc::TrySendError::Full(job)) => {
                // A long queue: wait for room off the async workers.
                let writer = writer.clone();
                tokio::task::spawn_blocking(move || writer.send(job))
                    .await
                    .map_err(|_| DbError::Cancelled)?
                    .map_err(|_| DbError::Cancelled)?;
            }
            Err(std::sync::mpsc::TrySendError::Disconnected(_)) => return Err(DbError::Cancelled),
        }
        done.await.map_err(|_| DbError::Cancelled)?
    }
}

/// Makes the rest of the current transaction wait for any other instance's transaction that
/// took the same `key` (PostgreSQL: a transaction advisory lock, released at its end). SQLite
/// writes are already one at a time.
pub fn take_turns(conn: &mut DbConnection, key: i64) -> Result<(), DbError> {
    if let DbConnection::Postgres(c) = conn {
        c.batch_execute(&format!("SELECT pg_advisory_xact_lock({key})"))?;
    }
    Ok(())
}

/// Seconds since the Unix epoch, the one time format stored in every table.
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

/// Hides a password in a URL before it reaches a message.
fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::connection::{AnsiTransactionManager, TransactionManager};

    fn sqlite() -> (tempfile::TempDir, Backend) {
        let dir = tempfile::tempdir().expect("dir");
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        let backend = Backend::from_url(&url).expect("url");
        backend.prepare().expect("folder");
        let mut conn = backend.connect().expect("connect");
        conn.batch_execute("CREATE TABLE t (x INTEGER NOT NULL)")
            .expect("table");
        (dir, backend)
    }

    fn count(conn: &mut DbConnection) -> Result<i64, DbError> {
        #[derive(diesel::QueryableByName)]
        struct N {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let n: N = diesel::RunQueryDsl::get_result(
            diesel::sql_query("SELECT COUNT(*) AS n FROM t"),
            conn,
        )?;
        Ok(n.n)
    }

    fn depth(conn: &mut DbConnection) -> Option<std::num::NonZeroU32> {
        let DbConnection::Sqlite(c) = conn else {
            panic!("sqlite")
        };
        AnsiTransactionManager::transaction_manager_status_mut(c)
            .transaction_depth()
            .expect("valid")
    }

    #[test]
    fn a_read_transaction_is_one_snapshot_and_ends_cleanly() {
        let (_dir, backend) = sqlite();
        let mut reader = backend.connect().expect("reader");
        let mut writer = backend.connect().expect("writer");
        let (before, after) = read_transaction(&mut reader, |conn| {
            assert!(depth(conn).is_some(), "diesel knows it is in a transaction");
            let before = count(conn)?;
            writer.batch_execute("INSERT INTO t VALUES (1)")?;
            Ok((before, count(conn)?))
        })
        .expect("read");
        assert_eq!((before, after), (0, 0), "a write in between is not seen");
        assert_eq!(depth(&mut reader), None);
        // Committed: the next one sees the write, and a nested transaction is a savepoint.
        let seen = read_transaction(&mut reader, |conn| conn.transaction(count)).expect("again");
        assert_eq!(seen, 1);
        // diesel's own transactions still work on the connection.
        reader
            .transaction(|conn| conn.batch_execute("INSERT INTO t VALUES (2)"))
            .expect("diesel transaction");
        assert_eq!(count(&mut reader).expect("count"), 2);
    }

    #[test]
    fn a_connection_whose_work_failed_or_panicked_is_checked_when_it_comes_back() {
        let (_dir, backend) = sqlite();
        let mut pooled = Pooled {
            conn: backend.connect().expect("connect"),
            failed: false,
        };
        pooled.work(count).expect("count");
        assert!(!pooled.failed);
        let _ = pooled.work(|_| Err::<(), _>(DbError::Cancelled));
        pooled.work(count).expect("count");
        assert!(pooled.failed, "a later success does not hide a failure");
        let mut pooled = Pooled {
            conn: backend.connect().expect("connect"),
            failed: false,
        };
        let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            pooled.work(|conn| -> Result<(), DbError> {
                conn.batch_execute("BEGIN")?;
                panic!("work panicked inside a transaction")
            })
        }));
        assert!(panicked.is_err());
        assert!(pooled.failed, "checked before it is handed out again");
    }

    #[test]
    fn a_failed_read_transaction_rolls_back_and_leaves_the_connection_usable() {
        let (_dir, backend) = sqlite();
        let mut conn = backend.connect().expect("connect");
        let failed: Result<(), DbError> = read_transaction(&mut conn, |conn| {
            conn.batch_execute("INSERT INTO t VALUES (1)")?;
            count(conn)?;
            Err(DbError::Cancelled)
        });
        assert!(matches!(failed, Err(DbError::Cancelled)), "{failed:?}");
        assert_eq!(depth(&mut conn), None);
        assert_eq!(
            read_transaction(&mut conn, count).expect("next read"),
            0,
            "rolled back"
        );
        // A statement that fails inside rolls back as well.
        let broken = read_transaction(&mut conn, |conn| {
            Ok(conn.batch_execute("SELECT * FROM missing")?)
        });
        assert!(broken.is_err());
        assert_eq!(depth(&mut conn), None);
        assert_eq!(read_transaction(&mut conn, count).expect("after"), 0);
    }

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
            .block_on(f)
    }

    fn insert(backend: &Backend) {
        let mut other = backend.connect().expect("another connection");
        other
            .batch_execute("INSERT INTO t VALUES (1)")
            .expect("insert");
    }

    fn all_idle(db: &Db) {
        let (connections, idle) = db.pool_state();
        assert_eq!(idle, connections, "every connection is back in the pool");
    }

    #[test]
    fn a_request_s_session_read_and_its_next_read_share_one_snapshot_in_one_poll() {
        let (_dir, backend) = sqlite();
        let db = backend.pool(2).expect("pool");
        let seen = block_on(RequestReads::around(async {
            let session = db.read_held(count).await?;
            // Written by someone else between the session's read and the page's.
            insert(&backend);
            let page = db.read(count).await?;
            // That read ended the shared transaction: the next one is a new snapshot.
            let next = db.read(count).await?;
            Ok::<_, DbError>((session, page, next))
        }))
        .expect("reads");
        assert_eq!(seen, (0, 0, 1));
        all_idle(&db);
    }

    #[test]
    fn a_held_read_ends_when_the_request_waits_writes_or_panics() {
        let (_dir, backend) = sqlite();
        let db = backend.pool(1).expect("pool");
        // The request waits (anything pending): the snapshot is not carried past it.
        let seen = block_on(RequestReads::around(async {
            let before = db.read_held(count).await?;
            insert(&backend);
            tokio::task::yield_now().await;
            Ok::<_, DbError>((before, db.read(count).await?))
        }))
        .expect("reads");
        assert_eq!(seen, (0, 1));
        all_idle(&db);
        // The request writes: its next read sees the write.
        let seen = block_on(RequestReads::around(async {
            db.read_held(count).await?;
            db.write(|conn| Ok(conn.batch_execute("INSERT INTO t VALUES (2)")?))
                .await?;
            db.read(count).await
        }))
        .expect("reads");
        assert_eq!(seen, 2);
        // Outside a request nothing is held.
        let seen = block_on(async {
            db.read_held(count).await?;
            insert(&backend);
            db.read(count).await
        })
        .expect("reads");
        assert_eq!(seen, 3);
        // Another database's read does not take it; it still ends with the poll.
        let (_other_dir, other_backend) = sqlite();
        let other = other_backend.pool(1).expect("other pool");
        let seen = block_on(RequestReads::around(async {
            db.read_held(count).await?;
            other.read(count).await
        }))
        .expect("reads");
        assert_eq!(seen, 0);
        all_idle(&db);
        all_idle(&other);
        // A request that panics with its read held: the connection comes back to the pool
        // outside any transaction (the pool has one connection, so the next work gets it).
        let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            block_on(RequestReads::around(async {
                db.read_held(count).await.expect("read");
                panic!("the handler panicked");
            }))
        }));
        assert!(panicked.is_err());
        let open = block_on(db.run(|conn| Ok(depth(conn)))).expect("run");
        assert_eq!(open, None, "no transaction left open");
        insert(&backend);
        assert_eq!(
            block_on(db.read(count)).expect("read"),
            4,
            "a fresh snapshot"
        );
    }

    #[test]
    fn connections_opened_at_once_on_a_fresh_sqlite_file_all_succeed() {
        for round in 0..20 {
            let dir = tempfile::tempdir().expect("dir");
            let url = format!("sqlite://{}", dir.path().join("fresh.db").display());
            let backend = Backend::from_url(&url).expect("url");
            backend.prepare().expect("folder");
            let barrier = std::sync::Arc::new(std::sync::Barrier::new(8));
            let opened: Vec<_> = (0..8)
                .map(|_| {
                    let (backend, barrier) = (backend.clone(), barrier.clone());
                    std::thread::spawn(move || {
                        barrier.wait();
                        backend.connect().map(drop).map_err(|e| e.to_string())
                    })
                })
                .collect();
            for handle in opened {
                let result = handle.join().expect("thread");
                assert!(result.is_ok(), "round {round}: {result:?}");
            }
        }
    }
}

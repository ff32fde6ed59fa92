//! Group commit for SQLite: one writer thread runs queued write jobs together in one
//! transaction (each in its own savepoint) and commits once, so many notifications share one
//! fsync while every one of them is still answered only after its commit.

use super::{DbConnection, DbError};
use diesel::Connection;
use diesel::connection::{AnsiTransactionManager, TransactionManager};

type TM = <DbConnection as Connection>::TransactionManager;

/// `BEGIN IMMEDIATE` on SQLite: take the write lock up front (waiting up to the busy timeout
/// for another process's writer) instead of failing when a read would have to upgrade.
fn begin_immediate(conn: &mut DbConnection) -> diesel::QueryResult<()> {
    match conn {
        DbConnection::Sqlite(inner) => {
            AnsiTransactionManager::begin_transaction_sql(inner, "BEGIN IMMEDIATE")
        }
        other => TM::begin_transaction(other),
    }
}
use std::sync::mpsc;

/// What a job reports once the batch's commit is known.
type Completion = Box<dyn FnOnce(Result<(), String>) + Send>;
/// A write job: runs inside the batch transaction and returns its completion.
pub type Job = Box<dyn FnOnce(&mut DbConnection) -> Completion + Send>;

/// Most jobs committed together.
const MAX_BATCH: usize = 128;

/// Wraps `f` as a job whose result arrives on the returned receiver after the commit.
pub fn job<T, F>(f: F) -> (Job, tokio::sync::oneshot::Receiver<Result<T, DbError>>)
where
    F: FnOnce(&mut DbConnection) -> Result<T, DbError> + Send + 'static,
    T: Send + 'static,
{
    let (tx, rx) = tokio::sync::oneshot::channel();
    let job: Job = Box::new(move |conn| {
        // A savepoint: a failing job rolls back alone, the batch goes on.
        let result = conn.transaction(f);
        Box::new(move |commit: Result<(), String>| {
            let _ = tx.send(commit.map_err(DbError::Commit).and(result));
        })
    });
    (job, rx)
}

/// Runs the writer loop on `conn` until every sender is gone.
pub fn run(mut conn: DbConnection, jobs: mpsc::Receiver<Job>) {
    while let Ok(first) = jobs.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        metrics::gauge!("db_write_queue_depth").decrement(batch.len() as f64);
        metrics::histogram!("db_commit_batch_size").record(batch.len() as f64);
        if let Err(e) = begin_immediate(&mut conn) {
            // The jobs are dropped unrun: their callers see a cancelled write and answer
            // with an error (a notification is then retried by PayTR).
            tracing::error!(error = %e, jobs = batch.len(), "could not start a write transaction");
            continue;
        }
        let completions: Vec<Completion> = batch.into_iter().map(|job| job(&mut conn)).collect();
        let committed = TM::commit_transaction(&mut conn).map_err(|e| {
            let _ = TM::rollback_transaction(&mut conn);
            format!("commit failed: {e}")
        });
        // Before anyone hears of the commit: rows read before it are stale from now on.
        super::recent::written();
        for complete in completions {
            complete(committed.clone());
        }
    }
}

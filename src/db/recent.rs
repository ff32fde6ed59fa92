//! Rows a request read on SQLite, kept for the next request that would read the same rows, for
//! as long as nothing at all was written to the database since (and at most a second).
//!
//! A payment page's two reads (the session's row, then the order's rows) were a third of its
//! server CPU: the read transaction, SQLite's WAL read lock, two statements and their decoding
//! (`bench/README.md`, tenth round). A page read again while nothing was written gets the same
//! rows back from memory; any write, by any connection of any process, makes every kept row
//! stale at once. Whether something was written is told by two things, both checked on every use:
//!
//! - this process's **write generation**, bumped by the writer thread after each commit (and
//!   after any work a blocking thread did), before the writer answers: a request that wrote
//!   never reads its own rows back from before its write;
//! - the **WAL file's identity, size and modification time** (one `stat`): every commit of
//!   every connection, in this process or another (`billing run-due`, `refund`, the `sqlite3`
//!   shell), appends to the WAL or rewrites it from its start. The second's bound covers the one
//!   change a `stat` could miss: another process restarting the WAL with a commit of exactly the
//!   same size within the file system's timestamp granularity.
//!
//! On PostgreSQL (several instances) nothing is kept: [`super::Db::read_stamp`] is `None`.
//! Rows are kept per worker thread (no lock), a few dozen at most, and are never decisions:
//! every request still checks them (the session's age, who owns the order) as it checks
//! rows just read.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How long a kept row may be used at most, even with nothing written.
const AT_MOST: Duration = Duration::from_secs(1);

/// Rows kept per worker thread and kind.
const CAPACITY: usize = 32;

/// Commits (and blocking work) in this process so far.
static GENERATION: AtomicU64 = AtomicU64::new(0);

/// Something may have been written: every kept row is stale.
pub(super) fn written() {
    GENERATION.fetch_add(1, Ordering::SeqCst);
}

/// What the database looked like, as far as a read can tell without reading it. Two equal
/// stamps mean nothing was committed between them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    generation: u64,
    dev: u64,
    ino: u64,
    len: u64,
    mtime: (i64, i64),
}

/// The stamp of the database whose WAL file is `wal`; `None` without a WAL file (nothing is
/// then kept). Taken before a read, so a commit during the read makes what it read stale.
pub(super) fn stamp(wal: &Path) -> Option<Stamp> {
    use std::os::unix::fs::MetadataExt;
    // The generation first: a commit after it changes one or the other.
    let generation = GENERATION.load(Ordering::SeqCst);
    let meta = std::fs::metadata(wal).ok()?;
    Some(Stamp {
        generation,
        dev: meta.dev(),
        ino: meta.ino(),
        len: meta.len(),
        mtime: (meta.mtime(), meta.mtime_nsec()),
    })
}

/// Counts a request that used kept rows (`used: true`) or read them (and kept them) instead:
/// the metric `db_kept_rows_total{kind, outcome}` tells how often pages are read again with
/// nothing written between.
pub fn count(kind: &'static str, used: bool) {
    let outcome = if used { "used" } else { "read" };
    metrics::counter!("db_kept_rows_total", "kind" => kind, "outcome" => outcome).increment(1);
}

/// Rows read recently, by key (a session's id hash, an order's public id), with the stamp
/// taken before they were read.
pub struct Recent<V> {
    rows: Vec<(String, Stamp, Instant, V)>,
    /// Where the next row goes once full (the oldest kept).
    next: usize,
}

impl<V: Clone> Recent<V> {
    pub const fn new() -> Self {
        Self {
            rows: Vec::new(),
            next: 0,
        }
    }

    /// The rows kept under `key`, if nothing was written since they were read (`now` equals
    /// their stamp) and they are under a second old.
    pub fn get(&self, key: &str, now: &Stamp) -> Option<V> {
        self.rows
            .iter()
            .find(|(k, stamp, at, _)| k == key && stamp == now && at.elapsed() < AT_MOST)
            .map(|(_, _, _, rows)| rows.clone())
    }

    /// Keeps `rows` read under `key` after `stamp` was taken.
    pub fn put(&mut self, key: &str, stamp: Stamp, rows: V) {
        self.put_at(key, stamp, Instant::now(), rows);
    }

    fn put_at(&mut self, key: &str, stamp: Stamp, at: Instant, rows: V) {
        let entry = (key.to_owned(), stamp, at, rows);
        if let Some(i) = self.rows.iter().position(|(k, ..)| k == key) {
            self.rows[i] = entry;
        } else if self.rows.len() < CAPACITY {
            self.rows.push(entry);
        } else {
            self.rows[self.next] = entry;
            self.next = (self.next + 1) % CAPACITY;
        }
    }
}

impl<V: Clone> Default for Recent<V> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wal(dir: &Path) -> std::path::PathBuf {
        let path = dir.join("shop.db-wal");
        std::fs::write(&path, b"frames").expect("a WAL file");
        path
    }

    /// A WAL file in `dir`, and "order-1" kept under its stamp.
    fn one_order_kept(dir: &Path) -> (std::path::PathBuf, Recent<i32>, Stamp) {
        let wal = wal(dir);
        let mut recent = Recent::new();
        let before = stamp(&wal).expect("stamp");
        recent.put("order-1", before, 7);
        (wal, recent, before)
    }

    #[test]
    fn rows_are_kept_until_anything_is_written() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (wal, recent, before) = one_order_kept(dir.path());
        assert_eq!(recent.get("order-1", &before), Some(7));
        assert_eq!(recent.get("order-2", &before), None);

        // A commit in this process (other tests commit too: the stamp only ever moves on).
        written();
        let after = stamp(&wal).expect("stamp");
        assert_ne!(after, before);
        assert_eq!(recent.get("order-1", &after), None);
    }

    #[test]
    fn a_commit_by_another_process_makes_rows_stale() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (wal, recent, before) = one_order_kept(dir.path());
        // Another process's commit appends frames to the WAL.
        use std::io::Write;
        std::fs::OpenOptions::new()
            .append(true)
            .open(&wal)
            .expect("open")
            .write_all(b"more")
            .expect("append");
        let after = stamp(&wal).expect("stamp");
        assert_ne!((after.len, after.mtime), (before.len, before.mtime));
        assert_eq!(recent.get("order-1", &after), None);
        // No WAL file: nothing can be told, nothing is kept.
        std::fs::remove_file(&wal).expect("remove");
        assert_eq!(stamp(&wal), None);
    }

    #[test]
    fn rows_are_kept_a_second_at_most() {
        let dir = tempfile::tempdir().expect("tempdir");
        let now = stamp(&wal(dir.path())).expect("stamp");
        let mut recent = Recent::new();
        recent.put_at("order-1", now, Instant::now() - AT_MOST, 7);
        recent.put_at("order-2", now, Instant::now() - AT_MOST / 2, 8);
        assert_eq!(recent.get("order-1", &now), None);
        assert_eq!(recent.get("order-2", &now), Some(8));
    }

    #[test]
    fn kept_rows_are_bounded() {
        let dir = tempfile::tempdir().expect("tempdir");
        let wal = wal(dir.path());
        let now = stamp(&wal).expect("stamp");
        let mut recent = Recent::new();
        for i in 0..CAPACITY + 5 {
            recent.put(&format!("k{i}"), now, i);
        }
        assert_eq!(recent.rows.len(), CAPACITY);
        assert_eq!(
            recent.get(&format!("k{}", CAPACITY + 4), &now),
            Some(CAPACITY + 4)
        );
        assert_eq!(recent.get("k0", &now), None, "the oldest went first");
        recent.put("k10", now, 99);
        assert_eq!(recent.get("k10", &now), Some(99));
        assert_eq!(recent.rows.len(), CAPACITY);
    }
}

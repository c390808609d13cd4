//! The store interface leases are made durable through, and the group-commit thread that
//! drives it so that no async runtime ever blocks on disk or network.
//!
//! The server machine hands out [`LeaseRecord`]s; the [`Committer`] collects every record
//! waiting, has the store make the whole batch durable at once (one `fsync` for the
//! journal), and reports back which sequence numbers are durable and which were refused.
//! Only then does the server release the ACKs (DESIGN.md, Durability).

pub mod journal;
#[cfg(feature = "postgres")]
pub mod postgres;
#[cfg(feature = "postgres")]
pub mod postgres6;
pub mod record;
pub mod replay;

use std::io;
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::thread::JoinHandle;

use dhcp_core::server::LeaseRecord;

pub use record::Record;

/// Why a store could not be opened or a batch made durable.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// An I/O error on a file.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: io::Error,
    },
    /// Another server has the store open.
    #[error("{path} is locked by another running server")]
    Locked {
        /// The lock file.
        path: PathBuf,
    },
    /// The lease database refused or could not be reached.
    #[error("lease database: {what}")]
    Database {
        /// What went wrong.
        what: String,
    },
}

/// Where leases are made durable: the embedded journal, or a database several servers
/// share.
///
/// `commit` is the commit point: when it returns `Ok`, every record of the batch not listed
/// as refused survives a crash.
pub trait LeaseStore<R: Record = LeaseRecord>: Send + 'static {
    /// Every record, oldest first, to rebuild the lease table at start-up.
    fn load(&mut self) -> Result<Vec<R>, StoreError>;

    /// Makes `batch` durable. Says which records the store refused (an address another
    /// server holds); an error means none of the batch is durable.
    fn commit(&mut self, batch: &[R]) -> Result<Committed, StoreError>;

    /// Housekeeping when the store is idle (the journal starts or completes a compaction
    /// here, as it also does after each commit).
    fn maintain(&mut self) -> Result<(), StoreError> {
        Ok(())
    }

    /// For a store other servers write to as well: the records they write, as they come
    /// (the server replays them into its machine, so that a client of another server that
    /// comes here finds its lease). `None` for a store only this server writes.
    fn follow(&mut self) -> Result<Option<async_channel::Receiver<Learned>>, StoreError> {
        Ok(None)
    }
}

/// What a commit made of a batch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Committed {
    /// The sequence numbers of the records the store refused (another server holds the
    /// address); the others are durable.
    pub refused: Vec<u64>,
    /// For a store several servers write ([`LeaseStore::follow`]): each address written and
    /// its row's version after the write. Versions of one address only grow, so a learned
    /// record of a lower version is older than this server's write.
    pub versions: Vec<(Ipv4Addr, u64)>,
}

/// A record another server wrote, and its row's version in the store (see
/// [`Committed::versions`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Learned {
    /// The record.
    pub record: LeaseRecord,
    /// The row's version.
    pub version: u64,
}

/// How many addresses `records` name (what the machine will hold after restoring them;
/// a journal before compaction has several records for many addresses).
pub fn distinct_addresses(records: &[LeaseRecord]) -> usize {
    let mut a: Vec<u32> = records.iter().map(|r| u32::from(r.address)).collect();
    a.sort_unstable();
    a.dedup();
    a.len()
}

/// What became of a batch of records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Records up to `upto` are durable, except `refused`.
    Durable {
        /// Highest sequence number of the batch.
        upto: u64,
        /// What the store said.
        committed: Committed,
    },
    /// Nothing of the batch is durable.
    Failed {
        /// The batch's sequence numbers.
        seqs: Vec<u64>,
        /// Why.
        error: String,
    },
}

/// Largest batch one commit takes.
const MAX_BATCH: usize = 4096;

/// How long a batch gathers records under load. When the last batch held more than one
/// record (they come faster than one sync), the next waits this long after its first
/// record, so that one `fdatasync` carries many leases: the sync is most of the server's
/// CPU per lease. At light load each record is written as it comes.
const GATHER: std::time::Duration = std::time::Duration::from_millis(1);

/// The DHCPv4 commit thread.
pub type Committer = CommitterOf<LeaseRecord>;

/// A store on a thread of its own, committing records `R` in batches (group commit).
#[derive(Debug)]
pub struct CommitterOf<R: Record> {
    records: async_channel::Sender<R>,
    outcomes: async_channel::Receiver<Outcome>,
    thread: Option<JoinHandle<()>>,
}

impl<R: Record> CommitterOf<R> {
    /// Starts the commit thread for `store`.
    pub fn spawn(store: Box<dyn LeaseStore<R>>) -> io::Result<Self> {
        Self::spawn_with(store, None)
    }

    /// As [`spawn`](Self::spawn), feeding batch sizes, write+fsync times and failures to
    /// `metrics`.
    pub fn spawn_with(
        mut store: Box<dyn LeaseStore<R>>,
        metrics: Option<crate::ops::metrics::CommitMetrics>,
    ) -> io::Result<Self> {
        let (records, rx) = async_channel::unbounded::<R>();
        let (tx, outcomes) = async_channel::unbounded();
        let thread = std::thread::Builder::new()
            .name("dhcp-lease-commit".into())
            .spawn(move || {
                let mut batch = Vec::new();
                while let Ok(first) = rx.recv_blocking() {
                    if batch.len() > 1 {
                        std::thread::sleep(GATHER);
                    }
                    batch.clear();
                    batch.push(first);
                    while batch.len() < MAX_BATCH {
                        match rx.try_recv() {
                            Ok(r) => batch.push(r),
                            Err(_) => break,
                        }
                    }
                    let started = std::time::Instant::now();
                    let result = store.commit(&batch);
                    if let Some(m) = &metrics {
                        match &result {
                            Ok(_) => m.committed(batch.len(), started.elapsed().as_secs_f64()),
                            Err(_) => m.failed(),
                        }
                    }
                    let outcome = match result {
                        Ok(committed) => Outcome::Durable {
                            upto: batch.iter().map(Record::seq).max().unwrap_or(0),
                            committed,
                        },
                        Err(e) => {
                            tracing::debug!(
                                "lease store: {e}; {} records not durable",
                                batch.len()
                            );
                            Outcome::Failed {
                                seqs: batch.iter().map(Record::seq).collect(),
                                error: e.to_string(),
                            }
                        }
                    };
                    if tx.send_blocking(outcome).is_err() {
                        break;
                    }
                    if rx.is_empty() {
                        if let Err(e) = store.maintain() {
                            tracing::warn!("lease store maintenance: {e}");
                        }
                    }
                }
            })?;
        Ok(CommitterOf {
            records,
            outcomes,
            thread: Some(thread),
        })
    }

    /// Queues a record (never blocks).
    pub fn submit(&self, record: R) {
        // Unbounded, and the thread only goes away after `finish`.
        let _ = self.records.try_send(record);
    }

    /// Outcomes of batches, in order.
    pub fn outcomes(&self) -> &async_channel::Receiver<Outcome> {
        &self.outcomes
    }

    /// Stops taking records; the thread commits what is queued, reports it on
    /// [`outcomes`](Self::outcomes), and ends (the channel then closes).
    pub fn finish(&self) {
        self.records.close();
    }
}

impl<R: Record> Drop for CommitterOf<R> {
    fn drop(&mut self) {
        self.records.close();
        self.outcomes.close();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

//! Compaction: a background thread copies the newest line of each address into a new file
//! while appends go on; between two batches the lines written meanwhile follow, and the
//! copy is synced and renamed into place.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

use super::line::parse_line;
use super::{io_err, open_append, JournalOf};
use crate::clock::unix_now;
use crate::store::record::Record;
use crate::store::StoreError;

/// The compaction's copy is synced every this many bytes.
pub(super) const SYNC_EVERY: u64 = 1 << 20;

/// Records that expired more than this long ago are dropped when compacting (a released or
/// expired lease is remembered for a day so its client gets the address back).
pub(super) const KEEP_EXPIRED_SECS: u64 = 86_400;

/// A compaction running on its own thread.
#[derive(Debug)]
pub(super) struct Compaction {
    /// The file's length when it began: the thread copies the lines before it.
    pub(super) upto: u64,
    pub(super) began: std::time::Instant,
    pub(super) tmp: PathBuf,
    /// Tells the thread to stop (the journal is closing).
    pub(super) cancel: Arc<AtomicBool>,
    pub(super) thread: JoinHandle<io::Result<Copied>>,
}

/// What the compaction thread wrote.
#[derive(Debug)]
pub(super) struct Copied {
    pub(super) bytes: u64,
    pub(super) lines: usize,
}

impl<R: Record> JournalOf<R> {
    /// Compacts the journal now and waits for it: only the newest line of each address is
    /// kept (dropping those expired more than a day ago), through a new file renamed into
    /// place.
    pub fn compact(&mut self) -> Result<(), StoreError> {
        // One already running copies an older file: finish it, then copy the file as it is.
        if let Some(c) = self.compaction.take() {
            self.finish_compaction(c)?;
        }
        let c = self.start_compaction().map_err(io_err(&self.path))?;
        self.finish_compaction(c)
    }

    /// Starts a background compaction of the file as it is now.
    pub(super) fn start_compaction(&self) -> io::Result<Compaction> {
        let path = self.path.clone();
        let tmp = compact_path(&self.path);
        let upto = self.len;
        let out = tmp.clone();
        let cancel = Arc::new(AtomicBool::new(false));
        let stop = cancel.clone();
        let spawned = std::thread::Builder::new()
            .name("dhcp-compact".into())
            .spawn(move || {
                lower_priority();
                copy_newest::<R>(&path, upto, &out, unix_now(), &stop)
            });
        Ok(Compaction {
            upto,
            began: std::time::Instant::now(),
            tmp,
            cancel,
            thread: spawned?,
        })
    }

    /// Starts a compaction when the file has grown enough, and completes one whose copy is
    /// done. Never waits for the copy.
    pub(super) fn compact_when_due(&mut self) -> Result<(), StoreError> {
        match &self.compaction {
            Some(c) if c.thread.is_finished() => {
                if let Some(c) = self.compaction.take() {
                    if let Err(e) = self.finish_compaction(c) {
                        // Not again before the file has grown as much once more (a full
                        // disk: the copy must not keep taking the records' space).
                        self.base = self.lines;
                        return Err(e);
                    }
                }
            }
            Some(_) => {}
            None => {
                if self.lines > 2 * self.base + self.compact_after {
                    match self.start_compaction() {
                        Ok(c) => self.compaction = Some(c),
                        Err(e) => {
                            self.base = self.lines;
                            tracing::warn!("{}: cannot start compacting: {e}", self.path.display())
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// Appends what was written after `upto` to the compacted copy, syncs it and renames
    /// it into place. On any failure the journal stays as it was and the copy is removed.
    pub(super) fn finish_compaction(&mut self, c: Compaction) -> Result<(), StoreError> {
        let copied = c
            .thread
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("the compaction thread panicked")));
        let (upto, tmp) = (c.upto, c.tmp.as_path());
        let finishing = std::time::Instant::now();
        let done = copied.and_then(|copied| {
            let mut tail = Vec::with_capacity(usize::try_from(self.len - upto).unwrap_or(0));
            let mut old = File::open(&self.path)?;
            if self.uncut || old.metadata()?.len() != self.len {
                return Err(io::Error::other("the journal is not as long as written"));
            }
            old.seek(SeekFrom::Start(upto))?;
            old.take(self.len - upto).read_to_end(&mut tail)?;
            if tail.len() as u64 != self.len - upto {
                return Err(io::Error::other(
                    "the journal's tail could not be read whole",
                ));
            }
            let mut new = open_append(tmp)?;
            new.write_all(&tail)?;
            new.sync_all()?;
            Ok((copied, tail, new))
        });
        // `new` goes on appending to the copy once it is renamed: no reopening after the
        // rename, which could fail and leave appends going to the replaced file.
        let (copied, tail, new) = match done {
            Ok(d) => d,
            Err(e) => {
                // A full disk: the journal stays as it was, and the partial copy must not
                // keep the space.
                let _ = std::fs::remove_file(tmp);
                return Err(io_err(tmp)(e));
            }
        };
        if let Err(e) = std::fs::rename(tmp, &self.path) {
            let _ = std::fs::remove_file(tmp);
            return Err(io_err(&self.path)(e));
        }
        // The rename is durable once the directory is synced; until then no append may
        // count (`append` syncs it first).
        if let Err(e) = sync_dir(&self.path) {
            tracing::warn!("{}: syncing its directory: {e}", self.path.display());
            self.dir_unsynced = true;
        }
        let old = std::mem::replace(&mut self.file, new);
        // Closing the old file frees its blocks, which can take a while on a large one:
        // not on the thread the ACKs wait for.
        let _ = std::thread::Builder::new()
            .name("dhcp-compact".into())
            .spawn(move || drop(old));
        self.len = copied.bytes + tail.len() as u64;
        self.lines = copied.lines + tail.iter().filter(|&&b| b == b'\n').count();
        self.base = self.lines;
        tracing::info!(
            "{}: compacted to {} lines in {:.2} s (the last {:.1} ms between two batches)",
            self.path.display(),
            self.lines,
            c.began.elapsed().as_secs_f64(),
            finishing.elapsed().as_secs_f64() * 1e3,
        );
        Ok(())
    }
}

/// Where a compaction writes its copy: `<journal>.compact`.
pub(super) fn compact_path(path: &Path) -> PathBuf {
    let mut p = path.to_path_buf().into_os_string();
    p.push(".compact");
    PathBuf::from(p)
}

/// Syncs the directory holding `path`, so that a rename or a new name in it lasts (where
/// directories can be opened; elsewhere there is nothing to do).
pub(super) fn sync_dir(path: &Path) -> io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    match File::open(dir) {
        Ok(d) => d.sync_all(),
        Err(_) if cfg!(windows) => Ok(()),
        Err(e) => Err(e),
    }
}

/// Gives the calling thread the lowest CPU priority (Linux: a thread has its own nice
/// value), so that a compaction copying a large journal yields to the thread answering
/// clients.
pub(super) fn lower_priority() {
    #[cfg(target_os = "linux")]
    #[allow(unsafe_code)]
    // SAFETY: setpriority takes plain integers and touches no memory of ours; who = 0 is
    // the calling thread. Failing (it can't here) only leaves the priority as it was.
    unsafe {
        libc::setpriority(libc::PRIO_PROCESS, 0, 19);
    }
}

/// The compaction's copy: the header, then the newest good line of each address among the
/// first `upto` bytes of `path` (unless it expired more than a day before `now`), in file
/// order, to `out`, synced. Two passes over the file; in memory only a map of address to
/// (line number, expiry). A line counts only if it reads back as a record, exactly as at
/// start-up. Stops with an error once `cancel` is set.
pub(super) fn copy_newest<R: Record>(
    path: &Path,
    upto: u64,
    out: &Path,
    now: u64,
    cancel: &AtomicBool,
) -> io::Result<Copied> {
    let lines =
        || -> io::Result<_> { Ok(BufReader::new(File::open(path)?.take(upto)).split(b'\n')) };
    let cancelled = || io::Error::new(io::ErrorKind::Interrupted, "the journal is closing");
    let mut newest: HashMap<R::Key, (usize, u64)> = HashMap::new();
    for (n, line) in lines()?.enumerate() {
        let line = line?;
        if cancel.load(Ordering::Relaxed) {
            return Err(cancelled());
        }
        if let Some(r) = std::str::from_utf8(&line)
            .ok()
            .and_then(|t| parse_line::<R>(t).ok())
        {
            newest.insert(r.key(), (n, r.expires()));
        }
    }
    let mut w = BufWriter::new(File::create(out)?);
    w.write_all(R::HEADER.as_bytes())?;
    let mut copied = Copied {
        bytes: R::HEADER.len() as u64,
        lines: 1,
    };
    let mut synced = 0;
    for (n, line) in lines()?.enumerate() {
        let line = line?;
        let Some(&(newest_line, expires)) = R::line_key(&line).and_then(|a| newest.get(&a)) else {
            continue;
        };
        if newest_line == n && expires.saturating_add(KEEP_EXPIRED_SECS) > now {
            w.write_all(&line)?;
            w.write_all(b"\n")?;
            copied.bytes += line.len() as u64 + 1;
            copied.lines += 1;
            if copied.bytes >= synced + SYNC_EVERY {
                if cancel.load(Ordering::Relaxed) {
                    return Err(cancelled());
                }
                // Written back a little at a time: one large flush would hold up the
                // batches' own syncs behind it.
                w.flush()?;
                w.get_ref().sync_data()?;
                synced = copied.bytes;
            }
        }
    }
    w.into_inner()
        .map_err(io::IntoInnerError::into_error)?
        .sync_all()?;
    Ok(copied)
}

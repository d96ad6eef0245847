//! The thread that keeps the index up to date, and the store hook that feeds it.
//!
//! The store's writing thread only clones what a document needs and sends it down a
//! channel ([`Feed`]); this thread owns the tantivy writer, applies the work and
//! commits when the feed has been quiet for `Options::quiet_ms`, or at the latest
//! `Options::max_delay_ms` after the first uncommitted change (a commit per store flush
//! would cost the ingest flood its rate).
//!
//! Crash safety: before the store writes a change, [`Feed`] makes sure a marker file
//! (`behind`) exists in the index folder (created and synced once per commit cycle, not
//! per write). This thread removes it only after a commit, when no write is in flight
//! and nothing waits in the channel. An index opened with the marker present may lack
//! changes the store has, so it is rebuilt from the store.

use super::{Fields, SearchError, has_link, uid};
use crate::ids::AccountId;
use crate::model::ChatMessage;
use crate::store::{HistoryObserver, Store};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, TryRecvError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tantivy::{IndexReader, IndexWriter, TantivyDocument, Term};

const MARKER: &str = "behind";

pub(super) fn marker_path(dir: &Path) -> PathBuf {
    dir.join(MARKER)
}

/// How the index thread batches its work.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Commit once no change came for this long.
    pub quiet_ms: u64,
    /// Commit at the latest this long after the first uncommitted change.
    pub max_delay_ms: u64,
    /// The tantivy writer's memory budget in bytes (at least 15 MB).
    pub writer_memory: usize,
    /// The writer (its memory, its thread) is let go after this long without a change,
    /// and taken again with the next one.
    pub idle_ms: u64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            quiet_ms: 300,
            max_delay_ms: 2_000,
            // tantivy's least. A chat's messages arrive a few at a time, commits come
            // every 2 s at most, and memory is a budget of its own (issue #21): a
            // throwaway run measured about 23 MiB added with 32 MB, 8 MiB with 15 MB.
            writer_memory: 15_000_000,
            // A writer held for good cost the app about 24 MiB of its 65 beyond the empty
            // app after sign-in (issue #21, `LOQUAT_BENCH_DIAGNOSE=1` in the memory bench).
            idle_ms: 5_000,
        }
    }
}

/// A rebuild's progress: messages done of the total.
#[derive(Debug, Default)]
pub struct Progress {
    running: AtomicBool,
    done: AtomicU64,
    total: AtomicU64,
}

impl Progress {
    pub fn get(&self) -> Option<(u64, u64)> {
        self.running.load(Ordering::Relaxed).then(|| {
            (
                self.done.load(Ordering::Relaxed),
                self.total.load(Ordering::Relaxed),
            )
        })
    }
}

/// What a document is made of, cloned on the store's thread.
pub(super) struct Doc {
    uid: u64,
    account: String,
    conversation: String,
    from: String,
    id: String,
    body: String,
    time: i64,
    file: bool,
    /// Retracted or moderated: only removed.
    gone: bool,
}

impl Doc {
    fn of(m: &ChatMessage) -> Doc {
        Doc {
            uid: uid(&m.account, &m.id),
            account: m.account.0.clone(),
            conversation: m.conversation.key(),
            from: super::Sender::of(m).key(),
            id: m.id.0.clone(),
            body: m.body.clone(),
            time: m.timestamp_ms,
            file: m.attachment.is_some(),
            gone: m.extras.retracted.is_some(),
        }
    }
}

pub(super) enum Op {
    Put(Doc),
    RemoveAccount(String),
    Rebuild,
    Sync(Sender<Result<(), SearchError>>),
    Stop,
}

#[derive(Default)]
struct State {
    /// The marker file exists (or this index is in memory and pretends so).
    behind: bool,
    /// Writes announced by `will_write` whose changes were not sent yet.
    writing: u64,
}

/// The store's side: a channel into the index thread, and the marker.
pub(super) struct Feed {
    tx: Sender<Op>,
    rx: Mutex<Option<Receiver<Op>>>,
    state: Mutex<State>,
    marker: Option<PathBuf>,
}

impl Feed {
    pub(super) fn new(marker: Option<PathBuf>, _fields: Fields) -> Feed {
        let (tx, rx) = std::sync::mpsc::channel();
        Feed {
            tx,
            rx: Mutex::new(Some(rx)),
            state: Mutex::default(),
            marker,
        }
    }

    pub(super) fn dir(&self) -> Option<&Path> {
        self.marker.as_deref()?.parent()
    }

    pub(super) fn take_receiver(&self) -> Receiver<Op> {
        match self.rx.lock().ok().and_then(|mut rx| rx.take()) {
            Some(rx) => rx,
            // Taken once by `SearchIndex::open_with`; a second taker gets a dead channel.
            None => std::sync::mpsc::channel().1,
        }
    }

    pub(super) fn send(&self, op: Op) {
        // Fails only once the index thread stopped: nothing to do then.
        let _ = self.tx.send(op);
    }

    /// Makes sure the marker exists.
    pub(super) fn mark_behind(&self) {
        if let Ok(mut state) = self.state.lock() {
            self.mark(&mut state);
        }
    }

    fn mark(&self, state: &mut State) {
        if state.behind {
            return;
        }
        if let Some(path) = &self.marker {
            let made = std::fs::File::create(path).and_then(|f| f.sync_all());
            if let Err(e) = made {
                log::warn!("search: cannot write {}: {e}", path.display());
            }
        }
        state.behind = true;
    }

    fn wrote(&self) {
        if let Ok(mut state) = self.state.lock() {
            state.writing = state.writing.saturating_sub(1);
        }
    }
}

impl HistoryObserver for Feed {
    fn will_write(&self) {
        if let Ok(mut state) = self.state.lock() {
            state.writing += 1;
            self.mark(&mut state);
        }
    }

    fn stored(&self, msgs: &[ChatMessage]) {
        for m in msgs {
            self.send(Op::Put(Doc::of(m)));
        }
        self.wrote();
    }

    fn changed(&self, msg: &ChatMessage) {
        self.send(Op::Put(Doc::of(msg)));
        self.wrote();
    }

    fn account_removed(&self, account: &AccountId) {
        self.send(Op::RemoveAccount(account.0.clone()));
        self.wrote();
    }
}

/// The index thread's state.
pub(super) struct Worker {
    /// While there is work (see `Options::idle_ms`).
    pub(super) writer: Option<IndexWriter>,
    pub(super) index: tantivy::Index,
    pub(super) reader: IndexReader,
    pub(super) fields: Fields,
    pub(super) feed: Arc<Feed>,
    pub(super) progress: Arc<Progress>,
    pub(super) store: Store,
    pub(super) options: Options,
    /// An op taken from the channel while checking it was empty; handled next.
    pub(super) late: Option<Op>,
}

impl Worker {
    pub(super) fn run(mut self, rx: Receiver<Op>, rebuild: bool) {
        if rebuild && let Err(e) = self.rebuild(&rx) {
            log::error!("search: rebuilding the index failed: {e}");
        }
        // When the first uncommitted change came, and when the last one did.
        let mut dirty: Option<(Instant, Instant)> = None;
        loop {
            let op = match (self.late.take(), dirty) {
                (Some(op), _) => Ok(op),
                (None, None) if self.writer.is_some() => {
                    match rx.recv_timeout(Duration::from_millis(self.options.idle_ms)) {
                        Err(RecvTimeoutError::Timeout) => {
                            self.let_go();
                            continue;
                        }
                        other => other,
                    }
                }
                (None, None) => rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
                (None, Some((first, last))) => {
                    let now = Instant::now();
                    let quiet = last + Duration::from_millis(self.options.quiet_ms);
                    let latest = first + Duration::from_millis(self.options.max_delay_ms);
                    let until = quiet.min(latest);
                    if until <= now {
                        Err(RecvTimeoutError::Timeout)
                    } else {
                        rx.recv_timeout(until - now)
                    }
                }
            };
            match op {
                Ok(Op::Stop) | Err(RecvTimeoutError::Disconnected) => {
                    if dirty.is_some()
                        && let Err(e) = self.commit(&rx)
                    {
                        log::error!("search: commit failed: {e}");
                    }
                    return;
                }
                Ok(Op::Sync(ack)) => {
                    let done = self.commit(&rx);
                    dirty = None;
                    let _ = ack.send(done);
                }
                Ok(Op::Rebuild) => {
                    if let Err(e) = self.rebuild(&rx) {
                        log::error!("search: rebuilding the index failed: {e}");
                    }
                    dirty = None;
                }
                Ok(op) => {
                    self.apply(op);
                    let now = Instant::now();
                    dirty = Some(dirty.map_or((now, now), |(first, _)| (first, now)));
                }
                Err(RecvTimeoutError::Timeout) => {
                    if let Err(e) = self.commit(&rx) {
                        log::error!("search: commit failed: {e}");
                    }
                    dirty = None;
                }
            }
        }
    }

    /// The writer, taken again if it was let go.
    fn writer(&mut self) -> Result<&mut IndexWriter, SearchError> {
        let writer = match self.writer.take() {
            Some(writer) => writer,
            None => self
                .index
                .writer_with_num_threads(1, self.options.writer_memory)?,
        };
        Ok(self.writer.insert(writer))
    }

    /// Nothing changed for a while: the writer and its memory go (its merges end
    /// first), and the heap gives back what it freed.
    fn let_go(&mut self) {
        if let Some(writer) = self.writer.take()
            && let Err(e) = writer.wait_merging_threads()
        {
            log::warn!("search: finishing merges: {e}");
        }
        crate::memory::give_back_freed();
    }

    fn apply(&mut self, op: Op) {
        let fields = self.fields;
        let doc = match op {
            Op::Put(doc) => doc,
            Op::RemoveAccount(account) => {
                match self.writer() {
                    Ok(w) => {
                        w.delete_term(Term::from_field_text(fields.account, &account));
                    }
                    Err(e) => log::error!("search: cannot open the index writer: {e}"),
                }
                return;
            }
            Op::Rebuild | Op::Sync(_) | Op::Stop => return,
        };
        let built = self.build(&doc);
        let writer = match self.writer() {
            Ok(w) => w,
            Err(e) => {
                log::error!("search: cannot open the index writer: {e}");
                return;
            }
        };
        writer.delete_term(Term::from_field_u64(fields.uid, doc.uid));
        if let Some(d) = built
            && let Err(e) = writer.add_document(d)
        {
            log::error!("search: cannot index a message: {e}");
        }
    }

    fn build(&self, doc: &Doc) -> Option<TantivyDocument> {
        if doc.gone || (doc.body.trim().is_empty() && !doc.file) {
            return None;
        }
        let f = &self.fields;
        let mut d = TantivyDocument::default();
        d.add_text(f.body, &doc.body);
        d.add_text(f.chars, &doc.body);
        d.add_u64(f.uid, doc.uid);
        d.add_text(f.account, &doc.account);
        d.add_text(f.conversation, &doc.conversation);
        d.add_text(f.from, &doc.from);
        d.add_text(f.id, &doc.id);
        d.add_i64(f.time, doc.time);
        if doc.file {
            d.add_text(f.has, "file");
        }
        if has_link(&doc.body) {
            d.add_text(f.has, "link");
        }
        Some(d)
    }

    /// Commits, makes it searchable, and removes the marker when nothing is behind.
    fn commit(&mut self, rx: &Receiver<Op>) -> Result<(), SearchError> {
        if let Some(writer) = self.writer.as_mut() {
            writer.commit()?;
        }
        self.reader.reload()?;
        if let Ok(mut state) = self.feed.state.lock()
            && state.behind
            && state.writing == 0
        {
            match rx.try_recv() {
                Err(TryRecvError::Empty) => {
                    if let Some(path) = &self.feed.marker
                        && let Err(e) = std::fs::remove_file(path)
                        && e.kind() != std::io::ErrorKind::NotFound
                    {
                        log::warn!("search: cannot remove {}: {e}", path.display());
                        return Ok(());
                    }
                    state.behind = false;
                }
                // More came meanwhile: it is handled next, the marker stays.
                Ok(op) => self.late = Some(op),
                Err(TryRecvError::Disconnected) => {}
            }
        }
        Ok(())
    }

    /// Replaces the whole index by the store's history, then commits.
    fn rebuild(&mut self, rx: &Receiver<Op>) -> Result<(), SearchError> {
        let started = Instant::now();
        self.progress.done.store(0, Ordering::Relaxed);
        self.progress
            .total
            .store(self.store.history_len() as u64, Ordering::Relaxed);
        self.progress.running.store(true, Ordering::Relaxed);
        self.writer()?.delete_all_documents()?;
        let mut failed = None;
        let mut n = 0u64;
        let store = self.store.clone();
        store.for_each_message(|m| {
            let built = self.build(&Doc::of(&m));
            let added = match (built, self.writer.as_mut()) {
                (Some(d), Some(w)) => w.add_document(d).map(|_| ()),
                _ => Ok(()),
            };
            if let Err(e) = added {
                failed = Some(e);
                return false;
            }
            n += 1;
            if n.is_multiple_of(1024) {
                self.progress.done.store(n, Ordering::Relaxed);
            }
            true
        })?;
        let result = match failed {
            Some(e) => Err(e.into()),
            // Removes the marker too, unless changes came meanwhile (then the commit
            // after them does).
            None => self.commit(rx),
        };
        self.progress.done.store(n, Ordering::Relaxed);
        self.progress.running.store(false, Ordering::Relaxed);
        log::info!(
            "search: indexed {n} messages in {:.1} s",
            started.elapsed().as_secs_f64()
        );
        result
    }
}

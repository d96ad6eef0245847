//! Full-text search over all stored history (issue #19), on tantivy.
//!
//! - Terms: see [`tokenize`]: Latin words lowercased and accent-folded; Chinese,
//!   Japanese and Korean as overlapping character bigrams plus unigrams, so any
//!   substring of CJK text is found (`好吗` finds `你好吗`).
//! - Queries ([`query`]): space-separated parts must all match, in any order;
//!   `"exact phrases"`; a part without spaces that mixes scripts (`PDF报告`) is a phrase.
//!   Filters: account, conversation, sender, date range, has a file, has a link.
//!   Results come newest first.
//! - One document per message, identified by a 64-bit hash of account and local id; it
//!   holds what opens the message (account, conversation, local id) and its time. The
//!   text is not stored in the index: snippets are made from the store's current copy
//!   (which is also checked, so a retracted message is never shown, see
//!   [`SearchIndex::search_in_store`]).
//! - Kept up to date by [`indexer`], a thread fed by the store's
//!   [`HistoryObserver`](crate::store::HistoryObserver) hook. The index lives in the
//!   data folder beside the database (`search/`); when it is missing, damaged, of
//!   another format, or was left behind by a crash, it is rebuilt from the store in the
//!   background (no store schema change: the index is a cache of the store).

use crate::ids::{AccountId, ConversationId, LocalMessageId};
use crate::model::{ChatMessage, Direction};
use crate::store::Store;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tantivy::collector::TopDocs;
use tantivy::query::{
    AllQuery, BooleanQuery, Occur, PhrasePrefixQuery, PhraseQuery, Query, RangeQuery, TermQuery,
};
use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, STORED, Schema, TextFieldIndexing, TextOptions, Value,
};
use tantivy::{DocAddress, IndexReader, Order, TantivyDocument, Term};
use xmpp_parsers::jid::BareJid;

mod indexer;
mod query;
mod snippet;
pub mod tokenize;

pub use indexer::{Options, Progress};
pub use query::{Part, parse};
pub use snippet::{Snippet, matches, snippet};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SearchError {
    #[error("search index error: {0}")]
    Index(String),
    #[error("search index folder error: {0}")]
    Io(String),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

impl From<tantivy::TantivyError> for SearchError {
    fn from(e: tantivy::TantivyError) -> Self {
        SearchError::Index(e.to_string())
    }
}

/// Who wrote a message, as the "from" filter names them.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Sender {
    /// This account (any of its devices).
    Me,
    /// A contact in a one-to-one chat.
    Contact(BareJid),
    /// An occupant of a room, by nick.
    Occupant(String),
}

impl Sender {
    pub fn of(msg: &ChatMessage) -> Sender {
        match (&msg.direction, &msg.conversation) {
            (Direction::Outgoing, _) => Sender::Me,
            (Direction::Incoming, ConversationId::Chat(jid)) => Sender::Contact(jid.clone()),
            (Direction::Incoming, ConversationId::Private { nick, .. }) => {
                Sender::Occupant(nick.clone())
            }
            (Direction::Incoming, ConversationId::Room(_)) => Sender::Occupant(msg.sender.clone()),
        }
    }

    fn key(&self) -> String {
        match self {
            Sender::Me => "me".to_owned(),
            Sender::Contact(jid) => format!("c:{jid}"),
            Sender::Occupant(nick) => format!("n:{nick}"),
        }
    }
}

/// What a search is narrowed to; the default narrows nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filters {
    pub account: Option<AccountId>,
    pub conversation: Option<ConversationId>,
    pub from: Option<Sender>,
    /// Unix milliseconds, inclusive.
    pub since_ms: Option<i64>,
    /// Unix milliseconds, exclusive.
    pub until_ms: Option<i64>,
    pub has_file: bool,
    pub has_link: bool,
    /// Senders whose messages are left out in an account (the contacts it blocks);
    /// not a narrowing by itself: with nothing else asked, nothing is found.
    pub hidden: Vec<(AccountId, Sender)>,
    /// The query is being typed: its last word, when nothing follows it, matches as
    /// the start of a word (`rep` finds `report`).
    pub typing: bool,
}

impl Filters {
    fn is_empty(&self) -> bool {
        Filters {
            hidden: Vec::new(),
            typing: false,
            ..self.clone()
        } == Filters::default()
    }
}

/// Words a prefix may stand for at most; the most common ones first in term order.
const PREFIX_EXPANSIONS: u32 = 200;

/// One message that matched, enough to open it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    pub account: AccountId,
    pub conversation: ConversationId,
    pub id: LocalMessageId,
    pub timestamp_ms: i64,
}

/// A hit checked against the store, with its snippet.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    pub message: ChatMessage,
    pub snippet: Snippet,
}

#[derive(Debug, Clone, Copy)]
struct Fields {
    body: Field,
    chars: Field,
    uid: Field,
    account: Field,
    conversation: Field,
    from: Field,
    has: Field,
    time: Field,
    id: Field,
}

/// Version of the index layout; another one in the folder means a rebuild.
const FORMAT: &str = "loquat-search 2";
const FORMAT_FILE: &str = "loquat-format";

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    // No field norms anywhere: results are ordered by time, never scored.
    let text = |tokenizer: &str, option| {
        TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(tokenizer)
                .set_index_option(option)
                .set_fieldnorms(false),
        )
    };
    let body = b.add_text_field(
        "body",
        text(tokenize::ANALYZER, IndexRecordOption::WithFreqsAndPositions),
    );
    let chars = b.add_text_field(
        "chars",
        text(tokenize::CHARS_ANALYZER, IndexRecordOption::Basic),
    );
    let uid = b.add_u64_field("uid", INDEXED);
    let raw = || text("raw", IndexRecordOption::Basic);
    let account = b.add_text_field("account", raw() | STORED);
    let conversation = b.add_text_field("conv", raw() | STORED);
    let from = b.add_text_field("from", raw());
    let has = b.add_text_field("has", raw());
    let time = b.add_i64_field("time", FAST);
    let id = b.add_text_field("id", STORED);
    let fields = Fields {
        body,
        chars,
        uid,
        account,
        conversation,
        from,
        has,
        time,
        id,
    };
    (b.build(), fields)
}

/// The document key of a message: stable across versions (SHA-256 based).
pub fn uid(account: &AccountId, id: &LocalMessageId) -> u64 {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    h.update(account.0.as_bytes());
    h.update([0]);
    h.update(id.0.as_bytes());
    let d = h.finalize();
    let mut b = [0u8; 8];
    b.copy_from_slice(d.get(..8).unwrap_or(&[0; 8]));
    u64::from_be_bytes(b)
}

fn has_link(text: &str) -> bool {
    let lower = text.to_lowercase();
    ["http://", "https://", "xmpp:", "www."]
        .iter()
        .any(|p| lower.contains(p))
}

/// The search index of one store, kept up to date while it is open.
pub struct SearchIndex {
    reader: IndexReader,
    fields: Fields,
    feed: Arc<indexer::Feed>,
    progress: Arc<Progress>,
    worker: Option<std::thread::JoinHandle<()>>,
    store: Store,
}

impl std::fmt::Debug for SearchIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SearchIndex").finish_non_exhaustive()
    }
}

/// Where the index of a store whose data folder is `data` lives.
pub fn folder_in(data: &Path) -> PathBuf {
    data.join("search")
}

impl SearchIndex {
    /// Opens the index beside the store's database (in memory for a temporary store),
    /// makes it follow the store, and rebuilds it in the background when it is missing,
    /// damaged or behind.
    pub fn open(store: &Store) -> Result<SearchIndex, SearchError> {
        let dir = store.data_folder().map(folder_in);
        SearchIndex::open_with(store, dir.as_deref(), Options::default())
    }

    /// [`SearchIndex::open`] with the index in `dir` (`None`: in memory) and `options`.
    pub fn open_with(
        store: &Store,
        dir: Option<&Path>,
        options: Options,
    ) -> Result<SearchIndex, SearchError> {
        let (schema, fields) = schema();
        let (index, mut rebuild) = match dir {
            None => (tantivy::Index::create_in_ram(schema), true),
            Some(dir) => open_dir(dir, schema)?,
        };
        index
            .tokenizers()
            .register(tokenize::ANALYZER, tokenize::analyzer());
        index
            .tokenizers()
            .register(tokenize::CHARS_ANALYZER, tokenize::chars_analyzer());
        let reader = index
            .reader_builder()
            .reload_policy(tantivy::ReloadPolicy::Manual)
            .try_into()?;
        let marker = dir.map(indexer::marker_path);
        if marker.as_ref().is_some_and(|m| m.exists()) {
            log::warn!("search: the index was left behind (a crash?); rebuilding it");
            rebuild = true;
        }
        if rebuild && store.history_len() == 0 {
            rebuild = false;
        }
        // Taken now so that a second instance on the same folder fails here, not later.
        let writer = index.writer_with_num_threads(1, options.writer_memory)?;
        let feed = Arc::new(indexer::Feed::new(marker, fields));
        let progress = Arc::new(Progress::default());
        if rebuild {
            feed.mark_behind();
        }
        store.set_observer(Some(feed.clone()));
        let rx = feed.take_receiver();
        let worker = {
            let ctx = indexer::Worker {
                writer: Some(writer),
                index,
                reader: reader.clone(),
                fields,
                feed: feed.clone(),
                progress: progress.clone(),
                store: store.clone(),
                options,
                late: None,
            };
            std::thread::Builder::new()
                .name("search-index".into())
                .spawn(move || ctx.run(rx, rebuild))
                .map_err(|e| SearchError::Io(e.to_string()))?
        };
        Ok(SearchIndex {
            reader,
            fields,
            feed,
            progress,
            worker: Some(worker),
            store: store.clone(),
        })
    }

    /// How far a rebuild is (`None` when none runs).
    pub fn progress(&self) -> Option<(u64, u64)> {
        self.progress.get()
    }

    /// Rebuilds the whole index from the store, in the background.
    pub fn rebuild(&self) {
        self.feed.mark_behind();
        self.feed.send(indexer::Op::Rebuild);
    }

    /// Hands `msgs` to the index as if the store had just stored them (the same path as
    /// the store's hook; for benchmarks and for history kept outside the store).
    pub fn feed(&self, msgs: &[ChatMessage]) {
        use crate::store::HistoryObserver;
        self.feed.will_write();
        self.feed.stored(msgs);
    }

    /// Waits until everything handed to the index so far is committed and searchable.
    pub fn sync(&self) -> Result<(), SearchError> {
        let (tx, rx) = std::sync::mpsc::channel();
        self.feed.send(indexer::Op::Sync(tx));
        rx.recv()
            .map_err(|_| SearchError::Index("the index thread stopped".into()))?
    }

    /// How many documents the index holds.
    pub fn len(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The on-disk size of the index folder in bytes (0 in memory).
    pub fn size_on_disk(&self) -> u64 {
        let Some(dir) = self.feed.dir() else {
            return 0;
        };
        std::fs::read_dir(dir)
            .map(|entries| {
                entries
                    .filter_map(|e| e.ok()?.metadata().ok())
                    .filter(|m| m.is_file())
                    .map(|m| m.len())
                    .sum()
            })
            .unwrap_or(0)
    }

    /// The newest `limit` messages matching `text` and `filters`, newest first. An
    /// empty `text` with no filter finds nothing.
    pub fn search(
        &self,
        text: &str,
        filters: &Filters,
        limit: usize,
    ) -> Result<Vec<Hit>, SearchError> {
        let Some(query) = self.query(text, filters) else {
            return Ok(Vec::new());
        };
        let searcher = self.reader.searcher();
        let top = TopDocs::with_limit(limit.max(1)).order_by_fast_field::<i64>("time", Order::Desc);
        let found: Vec<(Option<i64>, DocAddress)> = searcher.search(&query, &top)?;
        let mut out = Vec::with_capacity(found.len());
        for (time, address) in found {
            let doc: TantivyDocument = searcher.doc(address)?;
            let text = |f: Field| {
                doc.get_first(f)
                    .and_then(|v| v.as_str())
                    .map(str::to_owned)
                    .unwrap_or_default()
            };
            let Some(conversation) = ConversationId::from_key(&text(self.fields.conversation))
            else {
                continue;
            };
            out.push(Hit {
                account: AccountId(text(self.fields.account)),
                conversation,
                id: LocalMessageId(text(self.fields.id)),
                timestamp_ms: time.unwrap_or(0),
            });
        }
        Ok(out)
    }

    /// How many messages match (all of them, not a page).
    pub fn count(&self, text: &str, filters: &Filters) -> Result<usize, SearchError> {
        let Some(query) = self.query(text, filters) else {
            return Ok(0);
        };
        Ok(self
            .reader
            .searcher()
            .search(&query, &tantivy::collector::Count)?)
    }

    fn query(&self, text: &str, filters: &Filters) -> Option<Box<dyn Query>> {
        let parts = parse(text);
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let mut analyzer = tokenize::analyzer();
        let open = filters.typing && query::open_end(text);
        for (i, part) in parts.iter().enumerate() {
            let (terms, chars) = tokenize::query_terms(&mut analyzer, part.text());
            if open && i + 1 == parts.len() && !terms.is_empty() {
                let mut prefix = PhrasePrefixQuery::new_with_offset(
                    terms
                        .iter()
                        .map(|(p, t)| (*p, Term::from_field_text(self.fields.body, t)))
                        .collect(),
                );
                prefix.set_max_expansions(PREFIX_EXPANSIONS);
                clauses.extend(chars.iter().map(|c| -> (Occur, Box<dyn Query>) {
                    (
                        Occur::Must,
                        Box::new(TermQuery::new(
                            Term::from_field_text(self.fields.chars, c),
                            IndexRecordOption::Basic,
                        )),
                    )
                }));
                clauses.push((Occur::Must, Box::new(prefix)));
                continue;
            }
            for c in &chars {
                clauses.push((
                    Occur::Must,
                    Box::new(TermQuery::new(
                        Term::from_field_text(self.fields.chars, c),
                        IndexRecordOption::Basic,
                    )),
                ));
            }
            match terms.as_slice() {
                [] => {}
                [(_, t)] => clauses.push((Occur::Must, self.term_query(t))),
                _ => clauses.push((
                    Occur::Must,
                    Box::new(PhraseQuery::new_with_offset(
                        terms
                            .iter()
                            .map(|(p, t)| (*p, Term::from_field_text(self.fields.body, t)))
                            .collect(),
                    )),
                )),
            }
        }
        if clauses.is_empty() && (filters.is_empty() || !parts.is_empty()) {
            // Nothing searchable typed (only punctuation), or nothing at all.
            return None;
        }
        self.add_filters(filters, &mut clauses);
        Some(if clauses.is_empty() {
            Box::new(AllQuery)
        } else {
            Box::new(BooleanQuery::new(clauses))
        })
    }

    /// [`SearchIndex::search`], each hit checked against the store (gone, retracted or
    /// moderated messages are left out, whatever the index still says) and given a
    /// snippet of about `snippet_chars` characters from its current text.
    pub fn search_in_store(
        &self,
        text: &str,
        filters: &Filters,
        limit: usize,
        snippet_chars: usize,
    ) -> Result<Vec<Found>, SearchError> {
        let hits = self.search(text, filters, limit)?;
        let mut out = Vec::with_capacity(hits.len());
        for hit in hits {
            let Some(message) = self.store.find_message(&hit.account, &hit.id)? else {
                continue;
            };
            if message.extras.retracted.is_some() || message.account != hit.account {
                continue;
            }
            let snippet =
                snippet::snippet_typed(&message.body, text, snippet_chars, filters.typing);
            out.push(Found { message, snippet });
        }
        Ok(out)
    }

    fn term_query(&self, t: &str) -> Box<dyn Query> {
        Box::new(TermQuery::new(
            Term::from_field_text(self.fields.body, t),
            IndexRecordOption::Basic,
        ))
    }

    fn add_filters(&self, f: &Filters, clauses: &mut Vec<(Occur, Box<dyn Query>)>) {
        let exact = |field: Field, value: &str| -> (Occur, Box<dyn Query>) {
            (
                Occur::Must,
                Box::new(TermQuery::new(
                    Term::from_field_text(field, value),
                    IndexRecordOption::Basic,
                )),
            )
        };
        if let Some(a) = &f.account {
            clauses.push(exact(self.fields.account, &a.0));
        }
        if let Some(c) = &f.conversation {
            clauses.push(exact(self.fields.conversation, &c.key()));
        }
        if let Some(s) = &f.from {
            clauses.push(exact(self.fields.from, &s.key()));
        }
        for (account, sender) in &f.hidden {
            let term = |field: Field, value: &str| -> (Occur, Box<dyn Query>) {
                (
                    Occur::Must,
                    Box::new(TermQuery::new(
                        Term::from_field_text(field, value),
                        IndexRecordOption::Basic,
                    )),
                )
            };
            clauses.push((
                Occur::MustNot,
                Box::new(BooleanQuery::new(vec![
                    term(self.fields.account, &account.0),
                    term(self.fields.from, &sender.key()),
                ])),
            ));
        }
        if f.has_file {
            clauses.push(exact(self.fields.has, "file"));
        }
        if f.has_link {
            clauses.push(exact(self.fields.has, "link"));
        }
        if f.since_ms.is_some() || f.until_ms.is_some() {
            let bound = |v: Option<i64>, included: bool| match v {
                None => std::ops::Bound::Unbounded,
                Some(v) if included => {
                    std::ops::Bound::Included(Term::from_field_i64(self.fields.time, v))
                }
                Some(v) => std::ops::Bound::Excluded(Term::from_field_i64(self.fields.time, v)),
            };
            clauses.push((
                Occur::Must,
                Box::new(RangeQuery::new(
                    bound(f.since_ms, true),
                    bound(f.until_ms, false),
                )),
            ));
        }
    }
}

impl Drop for SearchIndex {
    fn drop(&mut self) {
        self.store.set_observer(None);
        self.feed.send(indexer::Op::Stop);
        if let Some(worker) = self.worker.take()
            && worker.join().is_err()
        {
            log::error!("search: the index thread panicked");
        }
    }
}

/// Opens the index in `dir`, or creates a fresh one there (wiping what was there when
/// it is damaged or of another format); `true` when it must be (re)built.
fn open_dir(dir: &Path, schema: Schema) -> Result<(tantivy::Index, bool), SearchError> {
    let io = |e: std::io::Error| SearchError::Io(format!("{}: {e}", dir.display()));
    let format = std::fs::read_to_string(dir.join(FORMAT_FILE)).ok();
    if format.as_deref() == Some(FORMAT) {
        match tantivy::Index::open_in_dir(dir) {
            Ok(index) if index.schema() == schema => return Ok((index, false)),
            Ok(_) => log::warn!("search: the index has another schema; rebuilding it"),
            Err(e) => log::warn!("search: the index is damaged ({e}); rebuilding it"),
        }
    }
    if dir.exists() {
        std::fs::remove_dir_all(dir).map_err(io)?;
    }
    crate::paths::ensure_private_dir(dir).map_err(io)?;
    let index = tantivy::Index::create_in_dir(dir, schema)?;
    std::fs::write(dir.join(FORMAT_FILE), FORMAT).map_err(io)?;
    Ok((index, true))
}

//! Messages: insert with deduplication, paged reads from the newest end, delivery
//! updates, and the per-conversation summaries behind the conversation list.

use super::known::{self, Known, Probe};
use super::order::{self, PageOrder};
use super::{ConversationSummary, Inserted, Store, StoreError, io_error, keys};
use crate::ids::{AccountId, ConversationId, LocalMessageId};
use crate::model::{ChatMessage, Delivery, Direction};
use sled::IVec;
use sled::transaction::{
    ConflictableTransactionError, TransactionError, Transactional, TransactionalTree,
};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::Ordering;

/// Per-conversation summary value: `[format = 1][unread: u32 BE][history key of the last
/// message]`. Kept small and binary: it is rewritten on every insert.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Summary {
    unread: u32,
    last_key: Vec<u8>,
}

const SUMMARY_FORMAT: u8 = 1;

impl Summary {
    fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(5 + self.last_key.len());
        out.push(SUMMARY_FORMAT);
        out.extend_from_slice(&self.unread.to_be_bytes());
        out.extend_from_slice(&self.last_key);
        out
    }

    fn decode(bytes: &[u8]) -> Option<Summary> {
        let (format, rest) = bytes.split_first()?;
        if *format != SUMMARY_FORMAT {
            return None;
        }
        let (unread, last_key) = rest.split_first_chunk::<4>()?;
        Some(Summary {
            unread: u32::from_be_bytes(*unread),
            last_key: last_key.to_vec(),
        })
    }
}

/// One conversation's part of a batch: its prefix, the batch indexes of its messages,
/// and the stored key of each one that is already stored.
type Group<'a> = (&'a [u8], Vec<usize>, Vec<Option<Vec<u8>>>);

/// A message encoded outside the transaction, so retries only redo the index work.
struct Prepared<'a> {
    msg: &'a ChatMessage,
    prefix: Vec<u8>,
    local_id: Vec<u8>,
    probes: Vec<Probe>,
    known: Vec<(Vec<u8>, Known)>,
    value: IVec,
}

/// `msg` as it is written (with the changes that waited for it); `arrived` as it came,
/// whose ids and text find its stored copy (so the archive's copy of a message that was
/// corrected meanwhile is still the same message).
fn prepare<'a>(msg: &'a ChatMessage, arrived: &ChatMessage) -> Result<Prepared<'a>, StoreError> {
    let value = super::record::encode(msg);
    Ok(Prepared {
        msg,
        prefix: keys::conversation(&msg.account, &msg.conversation()),
        local_id: keys::local_id(&msg.account, &msg.id),
        probes: known::probes(arrived),
        known: known::entries(msg, arrived),
        value: IVec::from(value),
    })
}

fn transaction_error(e: TransactionError<StoreError>) -> StoreError {
    match e {
        TransactionError::Abort(e) => e,
        TransactionError::Storage(e) => io_error(e),
    }
}

/// Reads a summary inside a transaction; a damaged one starts over (with a warning).
fn load_summary(
    tree: &TransactionalTree,
    key: &[u8],
) -> Result<Option<Summary>, ConflictableTransactionError<StoreError>> {
    Ok(tree.get(key)?.and_then(|bytes| {
        let summary = Summary::decode(&bytes);
        if summary.is_none() {
            log::warn!("store: rebuilding a damaged conversation summary");
        }
        summary
    }))
}

/// Where `place` put one message of a batch.
#[derive(Debug, Clone)]
enum Placed {
    /// Already stored (or repeated in the batch): stays where it is.
    Stored,
    /// New, at this key.
    New(IVec),
    /// Stored meanwhile at `from`; the page puts it at `to`.
    Move { from: IVec, to: IVec },
}

/// Moves a stored message from one history key to another, with every index that
/// points at it (its ids point at its local id, which stays). Inside the insert's
/// transaction.
fn move_record(
    history: &TransactionalTree,
    local_ids: &TransactionalTree,
    outbox: &TransactionalTree,
    from: &IVec,
    to: &IVec,
) -> Result<(), ConflictableTransactionError<StoreError>> {
    let Some(value) = history.remove(from)? else {
        return Ok(());
    };
    let Some(msg) = super::record::decode(from, &value) else {
        // Unreadable: leave it where it was.
        history.insert(from, value)?;
        return Ok(());
    };
    history.insert(to, value)?;
    local_ids.insert(keys::local_id(&msg.account, &msg.id), to.clone())?;
    if let Some(id) = outbox.remove(from)? {
        outbox.insert(to, id)?;
    }
    Ok(())
}

/// An outgoing message stays in the outbox until the server confirmed it (or it failed).
pub(super) fn in_outbox(msg: &ChatMessage) -> bool {
    msg.direction == Direction::Outgoing
        && matches!(msg.delivery, Delivery::Pending | Delivery::Sent)
}

impl Store {
    /// Stores one message unless it is already stored, and flushes before returning.
    pub fn insert_message(&self, msg: &ChatMessage) -> Result<Inserted, StoreError> {
        let results = self.insert_messages(std::slice::from_ref(msg))?;
        results
            .into_iter()
            .next()
            .ok_or_else(|| StoreError::Io("insert returned no result".into()))
    }

    /// Stores a batch that arrived live (or that we send) atomically with one flush,
    /// after everything stored in its conversations; one result per message, in order.
    /// A message repeated inside the batch is stored once.
    pub fn insert_messages(&self, msgs: &[ChatMessage]) -> Result<Vec<Inserted>, StoreError> {
        self.insert_batch(msgs, None, 0)
    }

    /// Like `insert_messages` for what is not news: nothing counts as unread (and what
    /// is unread stays so).
    pub fn insert_old_messages(&self, msgs: &[ChatMessage]) -> Result<Vec<Inserted>, StoreError> {
        self.insert_batch(msgs, None, msgs.len())
    }

    /// Stores one page of archive results, in the archive's order, where the archive
    /// says they belong (see `store::order`); `order` carries the walk from page to
    /// page. With `count_unread` the new incoming ones count as unread.
    ///
    /// A page is stored in one call, whatever counts as news in it: its results are
    /// anchors for each other.
    pub fn insert_page(
        &self,
        msgs: &[ChatMessage],
        order: &mut PageOrder,
        count_unread: bool,
    ) -> Result<Vec<Inserted>, StoreError> {
        let news_from = if count_unread { 0 } else { msgs.len() };
        self.insert_batch(msgs, Some(order), news_from)
    }

    /// [`Store::insert_page`] where only the results from index `news_from` on are news
    /// (a first sign-in's newest page: what the archive had before is history).
    pub fn insert_page_news_from(
        &self,
        msgs: &[ChatMessage],
        order: &mut PageOrder,
        news_from: usize,
    ) -> Result<Vec<Inserted>, StoreError> {
        self.insert_batch(msgs, Some(order), news_from)
    }

    /// The stored key of a message already stored (by local id or the ids it came with).
    fn stored_key(&self, p: &Prepared<'_>) -> Result<Option<IVec>, StoreError> {
        if let Some(k) = self.local_ids.get(&p.local_id).map_err(io_error)? {
            return Ok(Some(k));
        }
        for probe in &p.probes {
            let Some(value) = self.known.get(&probe.key).map_err(io_error)? else {
                continue;
            };
            if let Some(local) = probe.find(&value)
                && let Some(k) = self.history_key(&p.msg.account, &local)?
            {
                return Ok(Some(k));
            }
        }
        Ok(None)
    }

    /// Whether the message stored at `key` has an archive id, and not `msg`'s.
    fn stored_under_another_id(&self, key: &[u8], msg: &ChatMessage) -> bool {
        let Some(id) = &msg.server_id else {
            return false;
        };
        match self.history.get(key) {
            Ok(Some(value)) => self
                .decode_message(key, &value)
                .and_then(|m| m.server_id)
                .is_some_and(|stored| stored != *id),
            _ => false,
        }
    }

    /// Picks the history key of every new message of a batch (`None` for those already
    /// stored or repeated in the batch), and notes where the page ended.
    ///
    /// Walking forward, a result that was stored after the walk began (it arrived live
    /// meanwhile, or a page of another walk brought it) is not an anchor: it moves to
    /// where this page says it belongs, and its old key is returned beside the new one.
    fn place(
        &self,
        prepared: &[Prepared<'_>],
        msgs: &[ChatMessage],
        mut order: Option<&mut PageOrder>,
    ) -> Result<Vec<Placed>, StoreError> {
        let mut keys_out: Vec<Option<IVec>> = vec![None; prepared.len()];
        let mut moved: Vec<Option<IVec>> = vec![None; prepared.len()];
        let meanwhile = order.as_deref().and_then(|o| o.meanwhile());
        let mut seen: HashSet<Vec<u8>> = HashSet::new();
        // Second copies that move only if their new place is older than their old one.
        let mut tentative: HashSet<usize> = HashSet::new();
        // Per conversation, in first-seen order: members and their stored keys.
        let mut groups: Vec<Group<'_>> = Vec::new();
        for (i, p) in prepared.iter().enumerate() {
            let repeated = !seen.insert(p.local_id.clone())
                || p.probes.iter().any(|k| !seen.insert(k.identity()));
            if repeated {
                continue;
            }
            let mut stored = self.stored_key(p)?.map(|k| k.to_vec());
            // What this device wrote sits where it was written, which is not where the
            // archive has it when it was sent later (written offline, sent again after
            // a kill): it neither moves nor places the others' messages of a page.
            if order.is_some() && stored.is_some() && p.msg.direction == Direction::Outgoing {
                continue;
            }
            // The same message twice in an archive (sent again after a fault, with a new
            // archive id): it stays at its first place, whichever way the walk reads.
            let by_this_walk = match (&order, &stored) {
                (Some(o), Some(k)) => order::seq(k).is_some_and(|s| o.placed(s)),
                _ => false,
            };
            if by_this_walk && !order.as_deref().is_some_and(PageOrder::backward) {
                continue;
            }
            // Found by its origin id under another archive id: a second copy (stored from
            // the other copy, live or from a page). Where it is says nothing about where
            // this copy is, so it is no anchor. Walking forward it stays: the stored copy
            // came first. Walking backward this copy may be the archive's first (the
            // stored one then came from a newer page of an earlier walk): it moves here
            // if here is older than where it is, which is checked once placed.
            let other_copy = order.is_some()
                && !by_this_walk
                && stored
                    .as_deref()
                    .is_some_and(|k| self.stored_under_another_id(k, p.msg));
            let backward = order.as_deref().is_some_and(PageOrder::backward);
            if other_copy && !backward {
                continue;
            }
            if other_copy {
                tentative.insert(i);
            }
            if let (Some(k), true) = (&stored, by_this_walk || other_copy) {
                if let Some(slot) = moved.get_mut(i) {
                    *slot = Some(IVec::from(k.as_slice()));
                }
                stored = None;
            } else if let (Some(since), Some(k)) = (meanwhile, &stored)
                && order::seq(k).is_some_and(|s| s >= since)
            {
                if let Some(slot) = moved.get_mut(i) {
                    *slot = Some(IVec::from(k.as_slice()));
                }
                stored = None;
            }
            let group = match groups.iter().position(|g| g.0 == p.prefix.as_slice()) {
                Some(g) => g,
                None => {
                    groups.push((p.prefix.as_slice(), Vec::new(), Vec::new()));
                    groups.len() - 1
                }
            };
            if let Some((_, members, anchors)) = groups.get_mut(group) {
                members.push(i);
                anchors.push(stored);
            }
        }
        let mut crowded = false;
        for (prefix, members, anchors) in &groups {
            let runs = self.plan_runs(prefix, members, anchors, msgs, order.as_deref())?;
            for run in runs {
                let first_time = run
                    .members
                    .first()
                    .and_then(|i| msgs.get(*i))
                    .map_or(0, |m| m.timestamp_ms);
                let (positions, room) = order::spread(run.gap, run.members.len(), first_time);
                crowded |= !room;
                for (i, pos) in run.members.iter().zip(positions) {
                    let seq = self.db.generate_id().map_err(io_error)?;
                    if let Some(order) = order.as_deref_mut() {
                        order.note_placed(seq);
                    }
                    if let Some(slot) = keys_out.get_mut(*i) {
                        *slot = Some(IVec::from(keys::history(prefix, pos, seq)));
                    }
                }
            }
            // A second copy whose stored place is older than the one this page gives it
            // stays where it is.
            for i in members.iter().filter(|i| tentative.contains(i)) {
                let newer = match (keys_out.get(*i), moved.get(*i)) {
                    (Some(Some(to)), Some(Some(from))) => {
                        order::position(to) >= order::position(from)
                    }
                    _ => false,
                };
                if newer {
                    if let Some(slot) = keys_out.get_mut(*i) {
                        *slot = None;
                    }
                    if let Some(slot) = moved.get_mut(*i) {
                        *slot = None;
                    }
                }
            }
            if let Some(order) = order.as_deref_mut() {
                let page_keys: Vec<Vec<u8>> = members
                    .iter()
                    .zip(anchors)
                    .filter_map(|(i, a)| {
                        a.clone()
                            .or_else(|| keys_out.get(*i).cloned().flatten().map(|k| k.to_vec()))
                    })
                    .collect();
                order.reach(prefix, &page_keys);
            }
        }
        if crowded {
            log::warn!("store: no room left between two messages; ordering by insertion");
        }
        Ok(keys_out
            .into_iter()
            .zip(moved)
            .map(|(key, from)| match (key, from) {
                (Some(key), Some(from)) => Placed::Move { from, to: key },
                (Some(key), None) => Placed::New(key),
                (None, _) => Placed::Stored,
            })
            .collect())
    }

    fn insert_batch(
        &self,
        msgs: &[ChatMessage],
        order: Option<&mut PageOrder>,
        news_from: usize,
    ) -> Result<Vec<Inserted>, StoreError> {
        if msgs.is_empty() {
            return Ok(Vec::new());
        }
        if msgs.iter().any(in_outbox) {
            self.keep_changed();
        }
        // Changes that came before their message are applied before it is written.
        let mut absorbed = msgs.to_vec();
        let mut taken = Vec::new();
        if !self.pending.is_empty() {
            for m in &mut absorbed {
                taken.push(self.absorb_pending(m)?);
            }
        }
        let prepared = absorbed
            .iter()
            .zip(msgs)
            .map(|(m, arrived)| prepare(m, arrived))
            .collect::<Result<Vec<_>, _>>()?;
        let placed = self.place(&prepared, msgs, order)?;
        self.observe_will_write();
        let moved_in: HashSet<&[u8]> = prepared
            .iter()
            .zip(&placed)
            .filter(|(_, place)| matches!(place, Placed::Move { .. }))
            .map(|(p, _)| p.prefix.as_slice())
            .collect();
        let trees = (
            &self.history,
            &self.local_ids,
            &self.known,
            &self.summaries,
            &self.outbox,
        );
        let results = trees
            .transaction(|(history, local_ids, known_ids, summaries, outbox)| {
                let mut results = Vec::with_capacity(prepared.len());
                let mut touched: HashMap<&[u8], Option<Summary>> = HashMap::new();
                for (index, (p, place)) in prepared.iter().zip(&placed).enumerate() {
                    let key = match place {
                        Placed::Stored => {
                            results.push(Inserted::Duplicate);
                            continue;
                        }
                        Placed::Move { from, to } => {
                            move_record(history, local_ids, outbox, from, to)?;
                            results.push(Inserted::Duplicate);
                            continue;
                        }
                        Placed::New(key) => key,
                    };
                    let mut duplicate = local_ids.get(&p.local_id)?.is_some();
                    for probe in &p.probes {
                        duplicate = duplicate
                            || known_ids
                                .get(&probe.key)?
                                .is_some_and(|v| probe.find(&v).is_some());
                    }
                    if duplicate {
                        results.push(Inserted::Duplicate);
                        continue;
                    }
                    history.insert(key.clone(), p.value.clone())?;
                    local_ids.insert(p.local_id.as_slice(), key.clone())?;
                    for (k, entry) in &p.known {
                        let stored = known_ids.get(k)?;
                        if let Some(value) = known::merge(stored.as_deref(), entry) {
                            known_ids.insert(k.as_slice(), value)?;
                        }
                    }
                    if in_outbox(p.msg) {
                        outbox.insert(key.clone(), p.msg.id.0.as_bytes())?;
                    }

                    let slot = match touched.entry(p.prefix.as_slice()) {
                        std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                        std::collections::hash_map::Entry::Vacant(e) => {
                            e.insert(load_summary(summaries, &p.prefix)?)
                        }
                    };
                    let summary = slot.get_or_insert_with(|| Summary {
                        unread: 0,
                        last_key: Vec::new(),
                    });
                    if key.as_ref() > summary.last_key.as_slice() {
                        summary.last_key = key.to_vec();
                    }
                    if index >= news_from && p.msg.direction == Direction::Incoming {
                        summary.unread = summary.unread.saturating_add(1);
                    }
                    results.push(Inserted::New);
                }
                for (key, summary) in &touched {
                    if let Some(summary) = summary {
                        summaries.insert(*key, summary.encode())?;
                    }
                }
                Ok(results)
            })
            .map_err(transaction_error)?;
        // A moved message may have been the conversation's last one.
        for prefix in &moved_in {
            self.refresh_last(prefix)?;
        }
        for (i, result) in results.iter().enumerate() {
            match result {
                Inserted::New => {
                    if let Some(t) = taken.get(i).filter(|t| !t.is_empty()) {
                        self.drop_pending(t)?;
                        if let Some(m) = absorbed.get(i) {
                            self.note_absorbed(m);
                        }
                    }
                }
                Inserted::Duplicate => {
                    if let Some(m) = msgs.get(i)
                        && m.conversation.is_room()
                        && m.direction == Direction::Outgoing
                    {
                        self.learn_room_ids(m)?;
                    }
                }
            }
        }
        // Also when everything was a duplicate: the first copy may not be on disk yet.
        self.flush()?;
        if let Some(o) = self.observer() {
            let new: Vec<ChatMessage> = absorbed
                .iter()
                .zip(&results)
                .filter(|(_, r)| **r == Inserted::New)
                .map(|(m, _)| m.clone())
                .collect();
            // Also when empty: it ends the write `will_write` announced.
            o.stored(&new);
        }
        Ok(results)
    }

    /// Points a conversation's summary at its last message again.
    fn refresh_last(&self, prefix: &[u8]) -> Result<(), StoreError> {
        let Some(last) = self.history.scan_prefix(prefix).keys().next_back() else {
            return Ok(());
        };
        let last = last.map_err(io_error)?;
        self.summaries
            .transaction(|summaries| {
                if let Some(mut summary) = load_summary(summaries, prefix)?
                    && summary.last_key != last.as_ref()
                {
                    summary.last_key = last.to_vec();
                    summaries.insert(prefix, summary.encode())?;
                }
                Ok(())
            })
            .map_err(transaction_error)
    }

    /// Decodes one history record, counting the read; `None` (with a warning) if damaged.
    pub(super) fn decode_message(&self, key: &[u8], value: &[u8]) -> Option<ChatMessage> {
        self.records_read.fetch_add(1, Ordering::Relaxed);
        let msg = super::record::decode(key, value);
        if msg.is_none() {
            log::warn!(
                "store: skipping damaged message record ({} key bytes, {} value bytes)",
                key.len(),
                value.len()
            );
        }
        msg
    }

    /// Walks `range` from its newest end, keeping up to `limit` readable messages, and
    /// returns them oldest first. Reads `limit` records plus any damaged ones skipped.
    fn newest_of(&self, range: sled::Iter, limit: usize) -> Result<Vec<ChatMessage>, StoreError> {
        let mut out = Vec::with_capacity(limit);
        if limit == 0 {
            return Ok(out);
        }
        for item in range.rev() {
            let (key, value) = item.map_err(io_error)?;
            if let Some(msg) = self.decode_message(&key, &value) {
                out.push(msg);
                if out.len() == limit {
                    break;
                }
            }
        }
        out.reverse();
        Ok(out)
    }

    /// The newest `limit` messages of a conversation, oldest first. Reads about `limit`
    /// records whatever the size of the history.
    pub fn latest(
        &self,
        account: &AccountId,
        conversation: &ConversationId,
        limit: usize,
    ) -> Result<Vec<ChatMessage>, StoreError> {
        let prefix = keys::conversation(account, conversation);
        self.newest_of(self.history.scan_prefix(prefix), limit)
    }

    /// The `limit` messages just older than `oldest_shown`, oldest first (empty when
    /// `oldest_shown` is unknown or belongs to another conversation).
    pub fn before(
        &self,
        account: &AccountId,
        conversation: &ConversationId,
        oldest_shown: &LocalMessageId,
        limit: usize,
    ) -> Result<Vec<ChatMessage>, StoreError> {
        let prefix = keys::conversation(account, conversation);
        let Some(key) = self
            .local_ids
            .get(keys::local_id(account, oldest_shown))
            .map_err(io_error)?
        else {
            log::warn!("store: before(): unknown message {oldest_shown}");
            return Ok(Vec::new());
        };
        if !key.starts_with(&prefix) {
            log::warn!("store: before(): message {oldest_shown} is not in {conversation}");
            return Ok(Vec::new());
        }
        self.newest_of(self.history.range(prefix..key.to_vec()), limit)
    }

    /// The `limit` messages just newer than `newest_shown`, oldest first (empty when
    /// `newest_shown` is unknown or belongs to another conversation). Reads about
    /// `limit` records whatever the size of the history.
    pub fn after(
        &self,
        account: &AccountId,
        conversation: &ConversationId,
        newest_shown: &LocalMessageId,
        limit: usize,
    ) -> Result<Vec<ChatMessage>, StoreError> {
        let prefix = keys::conversation(account, conversation);
        let Some(key) = self.history_key(account, newest_shown)? else {
            log::warn!("store: after(): unknown message {newest_shown}");
            return Ok(Vec::new());
        };
        if !key.starts_with(&prefix) {
            log::warn!("store: after(): message {newest_shown} is not in {conversation}");
            return Ok(Vec::new());
        }
        let mut out = Vec::with_capacity(limit);
        let range = self.history.range::<&[u8], _>((
            std::ops::Bound::Excluded(&key[..]),
            std::ops::Bound::Unbounded,
        ));
        for item in range {
            if out.len() == limit {
                break;
            }
            let (k, value) = item.map_err(io_error)?;
            if !k.starts_with(&prefix) {
                break;
            }
            if let Some(msg) = self.decode_message(&k, &value) {
                out.push(msg);
            }
        }
        Ok(out)
    }

    /// Message `id` with up to `each` messages before and after it, oldest first
    /// (empty when `id` is unknown or in another conversation).
    pub fn around(
        &self,
        account: &AccountId,
        conversation: &ConversationId,
        id: &LocalMessageId,
        each: usize,
    ) -> Result<Vec<ChatMessage>, StoreError> {
        let Some(target) = self
            .find_message(account, id)?
            .filter(|m| m.conversation == *conversation)
        else {
            return Ok(Vec::new());
        };
        let mut out = self.before(account, conversation, id, each)?;
        out.push(target);
        out.extend(self.after(account, conversation, id, each)?);
        Ok(out)
    }

    /// The history key of a message, from its local id.
    fn history_key(
        &self,
        account: &AccountId,
        id: &LocalMessageId,
    ) -> Result<Option<IVec>, StoreError> {
        self.local_ids
            .get(keys::local_id(account, id))
            .map_err(io_error)
    }

    /// One stored message by its local id (`None` if unknown or unreadable).
    pub fn find_message(
        &self,
        account: &AccountId,
        id: &LocalMessageId,
    ) -> Result<Option<ChatMessage>, StoreError> {
        let Some(key) = self.history_key(account, id)? else {
            return Ok(None);
        };
        let Some(value) = self.history.get(&key).map_err(io_error)? else {
            return Ok(None);
        };
        Ok(self.decode_message(&key, &value))
    }

    /// Updates the delivery state of a stored message, flushes, and returns the updated
    /// message (`None` if the id is unknown).
    pub fn set_delivery(
        &self,
        account: &AccountId,
        id: &LocalMessageId,
        state: &Delivery,
    ) -> Result<Option<ChatMessage>, StoreError> {
        let Some(key) = self.history_key(account, id)? else {
            return Ok(None);
        };
        let updated = self
            .history
            .transaction(|history| {
                let Some(value) = history.get(&key)? else {
                    return Ok(None);
                };
                let Some(mut msg) = self.decode_message(&key, &value) else {
                    return Err(ConflictableTransactionError::Abort(StoreError::Corrupt(
                        format!("the stored message {id} cannot be read"),
                    )));
                };
                msg.delivery = state.clone();
                history.insert(key.clone(), super::record::encode(&msg))?;
                Ok(Some(msg))
            })
            .map_err(transaction_error)?;
        if updated.is_none() {
            log::warn!("store: message index points at a missing record ({id})");
        }
        match &updated {
            Some(msg) if in_outbox(msg) => {
                // Sent again after a failure: unconfirmed once more.
                if self
                    .outbox
                    .insert(&key, msg.id.0.as_bytes())
                    .map_err(io_error)?
                    .is_none()
                {
                    self.keep_changed();
                }
            }
            _ => {
                if self.outbox.remove(&key).map_err(io_error)?.is_some() {
                    self.keep_changed();
                }
            }
        }
        self.flush()?;
        Ok(updated)
    }

    /// Takes a message out of the outbox without changing its delivery state (when the
    /// server cannot confirm messages, "sent" is as far as we can know).
    pub fn release_outbox(
        &self,
        account: &AccountId,
        id: &LocalMessageId,
    ) -> Result<(), StoreError> {
        if let Some(key) = self.history_key(account, id)? {
            if self.outbox.remove(&key).map_err(io_error)?.is_some() {
                self.keep_changed();
            }
            self.flush()?;
        }
        Ok(())
    }

    /// Outgoing messages of `account` the server has not confirmed, oldest first within
    /// each conversation (conversations in key order).
    pub fn outbox(&self, account: &AccountId) -> Result<Vec<ChatMessage>, StoreError> {
        let mut out = Vec::new();
        for item in self.outbox.scan_prefix(keys::account(account)) {
            let (key, _) = item.map_err(io_error)?;
            match self.history.get(&key).map_err(io_error)? {
                Some(value) => {
                    if let Some(msg) = self.decode_message(&key, &value)
                        && in_outbox(&msg)
                    {
                        out.push(msg);
                    }
                }
                None => log::warn!("store: outbox entry without a message"),
            }
        }
        Ok(out)
    }

    /// One summary per conversation of `account`, newest activity first. Reads the
    /// summary tree and one history record per conversation, never a whole history.
    pub fn conversations(
        &self,
        account: &AccountId,
    ) -> Result<Vec<ConversationSummary>, StoreError> {
        let mut rows = Vec::new();
        for item in self.summaries.scan_prefix(keys::account(account)) {
            let (key, value) = item.map_err(io_error)?;
            let (Some(conversation), Some(summary)) =
                (keys::parse_conversation(&key), Summary::decode(&value))
            else {
                log::warn!("store: skipping a damaged conversation summary");
                continue;
            };
            let last = match self.history.get(&summary.last_key).map_err(io_error)? {
                Some(value) => self.decode_message(&summary.last_key, &value),
                None => None,
            };
            // Positions order one conversation only: across them, the newest time.
            let order = (
                last.as_ref().map_or(i64::MIN, |m| m.timestamp_ms),
                order::seq(&summary.last_key).unwrap_or_default(),
            );
            rows.push((
                order,
                ConversationSummary {
                    account: account.clone(),
                    conversation,
                    last,
                    unread: summary.unread,
                },
            ));
        }
        rows.sort_by_key(|row| std::cmp::Reverse(row.0));
        Ok(rows.into_iter().map(|(_, row)| row).collect())
    }

    /// Sets the unread count of a conversation to zero (not flushed: losing it only
    /// shows messages as unread again).
    pub fn mark_read(
        &self,
        account: &AccountId,
        conversation: &ConversationId,
    ) -> Result<(), StoreError> {
        let key = keys::conversation(account, conversation);
        self.summaries
            .transaction(|summaries| {
                if let Some(mut summary) = load_summary(summaries, &key)?
                    && summary.unread != 0
                {
                    summary.unread = 0;
                    summaries.insert(key.as_slice(), summary.encode())?;
                }
                Ok(())
            })
            .map_err(transaction_error)?;
        Ok(())
    }

    /// Unread count of one conversation (0 when it has no messages).
    pub fn unread(
        &self,
        account: &AccountId,
        conversation: &ConversationId,
    ) -> Result<u32, StoreError> {
        let key = keys::conversation(account, conversation);
        Ok(self
            .summaries
            .get(key)
            .map_err(io_error)?
            .and_then(|v| Summary::decode(&v))
            .map_or(0, |s| s.unread))
    }
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
mod tests {
    use super::*;

    #[test]
    fn summary_round_trips_and_rejects_damage() {
        let s = Summary {
            unread: 7,
            last_key: vec![1, 2, 3],
        };
        assert_eq!(Summary::decode(&s.encode()), Some(s));
        assert_eq!(Summary::decode(&[]), None);
        assert_eq!(Summary::decode(&[1, 0, 0]), None);
        assert_eq!(Summary::decode(&[9, 0, 0, 0, 0]), None);
    }
}

//! Where a message sorts in its conversation: the one ordering rule of the store.
//!
//! A history key is `account | conversation | position | seq`. The position is a `u64`
//! that only orders (the message's time is in the record, for display); `seq` is the
//! database's insertion counter and breaks ties. The rule:
//!
//! 1. **Arrival order for what comes live.** A message that arrives on the live stream
//!    (or that we send) goes after everything stored in its conversation. The server
//!    hands a stream its messages in the order it archives them, so this is the
//!    archive's order too.
//! 2. **The archive's order for what comes from an archive.** A page of archive results
//!    is in the archive's order. Results already stored are *anchors*; the new results
//!    between two anchors go right after the one before them, the new results before the
//!    page's first anchor right before it. A conversation with no anchor in the page
//!    continues where the previous page of the same walk through the archive left off
//!    (its [`PageOrder`]); on the walk's first page it goes, walking forward, after
//!    everything that was stored before the walk began (messages that arrived live
//!    meanwhile stay after it; a catch-up that a kill cut short continues, in each
//!    conversation, where its pages ended: [`Store::page_order_continuing`]), and walking
//!    backward, before what is stored that is not older than it. A message an archive
//!    holds twice (sent again after a fault, under a second archive id) goes where the
//!    archive first holds it, whichever way and in how many walks it is read: walking
//!    backward, a copy found in an older page moves the message there when it was
//!    stored further down (from a newer page); the device that received it live has it
//!    there already.
//!
//! 3. **Where it was written for what this device wrote.** Our own message is stored
//!    when the user writes it (rule 1), and may reach the server much later (written
//!    offline, sent again after a kill), after messages the archive then has before it.
//!    An archive page therefore neither moves a stored message of ours nor places the
//!    others' messages by it: they go by the others' messages around them and by the
//!    walk. Among themselves, the others' messages keep the archive's order.
//!
//! Times never decide order, except in that last case (the first backward page of a
//! conversation the walk found no anchor in), where they say which stored messages are
//! older. Whole-second archive stamps therefore cannot reorder a conversation.
//!
//! Positions are spaced [`STEP`] apart at the ends and up to [`SPREAD`] apart inside a
//! gap, which leaves room for about 250 pages of 250 messages inserted in one gap before
//! spacing halves. A gap with no room left puts the new messages at its lower position,
//! where the insertion counter still sorts them after it (logged once per batch).

use super::keys;
use super::{Store, StoreError, io_error};
use crate::model::ChatMessage;
use std::collections::{HashMap, HashSet};
use std::ops::Bound;

/// Distance between positions appended at either end of a conversation.
pub(super) const STEP: u64 = 1 << 32;
/// Largest distance between positions placed inside a gap.
const SPREAD: u64 = 1 << 16;

/// One walk through an archive (a catch-up, a history fill, paging back on request):
/// keep one for all its pages, so that pages continue each other.
#[derive(Debug, Clone)]
pub struct PageOrder {
    backward: bool,
    /// Insertion counter when the walk began: what was stored since arrived meanwhile.
    since: u64,
    /// Per conversation prefix: the history key where the previous page ended (its
    /// newest message walking forward, its oldest walking backward).
    reached: HashMap<Vec<u8>, Vec<u8>>,
    /// Insertion counters of what this walk stored (or moved): found again in a later
    /// page, it is a second copy in the archive, and the first place wins.
    placed: HashSet<u64>,
}

impl PageOrder {
    /// Walking forward: the insertion counter from which stored messages arrived while
    /// the walk went on (they move to where its pages say).
    pub(super) fn meanwhile(&self) -> Option<u64> {
        (!self.backward).then_some(self.since)
    }

    /// Whether this walk stored the message with insertion counter `seq`.
    pub(super) fn placed(&self, seq: u64) -> bool {
        self.placed.contains(&seq)
    }

    pub(super) fn note_placed(&mut self, seq: u64) {
        self.placed.insert(seq);
    }

    /// Where this walk's pages ended in each conversation, as text (for a preference):
    /// a later walk can continue from there ([`Store::page_order_continuing`]).
    pub fn frontier(&self) -> String {
        let mut out = String::new();
        for (prefix, key) in &self.reached {
            out.push_str(&hex(prefix));
            out.push(':');
            out.push_str(&hex(key));
            out.push(';');
        }
        out
    }

    /// Whether this walk goes from newer to older pages.
    pub fn backward(&self) -> bool {
        self.backward
    }
}

/// Which end of a gap a run is kept close to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Near {
    Low,
    High,
}

/// The positions around a place in a conversation: `low < new < high`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Gap {
    low: Option<u64>,
    high: Option<u64>,
    near: Near,
}

/// The position part of a history key.
pub(super) fn position(key: &[u8]) -> Option<u64> {
    let tail = keys::history_tail(key)?;
    let (pos, _) = tail.split_first_chunk::<8>()?;
    Some(u64::from_be_bytes(*pos))
}

/// The insertion counter part of a history key.
pub(super) fn seq(key: &[u8]) -> Option<u64> {
    let (_, seq) = key.split_last_chunk::<8>()?;
    Some(u64::from_be_bytes(*seq))
}

/// Positions for `n` messages in `gap`, in order, and whether the gap had room.
pub(super) fn spread(gap: Gap, n: usize, first_time_ms: i64) -> (Vec<u64>, bool) {
    let n64 = n as u64;
    let at = |i: usize| i as u64 + 1;
    match (gap.low, gap.high) {
        (None, None) => {
            let base = keys::order_i64(first_time_ms);
            (
                (0..n)
                    .map(|i| base.saturating_add(i as u64 * STEP))
                    .collect(),
                true,
            )
        }
        (Some(low), None) => (
            (0..n)
                .map(|i| low.saturating_add(at(i).saturating_mul(STEP)))
                .collect(),
            true,
        ),
        (None, Some(high)) => (
            (0..n)
                .map(|i| high.saturating_sub((n64 - i as u64).saturating_mul(STEP)))
                .collect(),
            true,
        ),
        (Some(low), Some(high)) => {
            let room = high.saturating_sub(low);
            let step = (room / (2 * n64 + 2)).min(SPREAD);
            if step == 0 {
                return (vec![low; n], false);
            }
            let out = match gap.near {
                Near::Low => (0..n).map(|i| low + at(i) * step).collect(),
                Near::High => (0..n).map(|i| high - (n64 - i as u64) * step).collect(),
            };
            (out, true)
        }
    }
}

/// One run of new messages (indexes into the batch) and where it goes.
pub(super) struct Run {
    pub members: Vec<usize>,
    pub gap: Gap,
}

impl Store {
    /// Starts a walk through an archive; pass it to every [`Store::insert_page`] of the walk.
    pub fn page_order(&self, backward: bool) -> Result<PageOrder, StoreError> {
        Ok(PageOrder {
            backward,
            since: self.db.generate_id().map_err(io_error)?,
            reached: HashMap::new(),
            placed: HashSet::new(),
        })
    }

    /// A forward walk that continues where an earlier one ended ([`PageOrder::frontier`]),
    /// though that run was cut short: in each conversation it reached, its first page
    /// goes right after where that walk ended, before what arrived live ahead of it.
    /// (A walk from scratch would put it after everything stored before it began.)
    pub fn page_order_continuing(&self, frontier: &str) -> Result<PageOrder, StoreError> {
        let mut order = self.page_order(false)?;
        for pair in frontier.split(';') {
            if let Some((prefix, key)) = pair.split_once(':')
                && let (Some(prefix), Some(key)) = (unhex(prefix), unhex(key))
            {
                order.reached.insert(prefix, key);
            }
        }
        Ok(order)
    }

    /// The stored key right after `key` in its conversation.
    fn next_key(&self, prefix: &[u8], key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        let range = (Bound::Excluded(key.to_vec()), Bound::Unbounded);
        match self.history.range::<Vec<u8>, _>(range).keys().next() {
            Some(k) => {
                let k = k.map_err(io_error)?;
                Ok(k.starts_with(prefix).then(|| k.to_vec()))
            }
            None => Ok(None),
        }
    }

    /// The stored key right before `key` in its conversation.
    fn previous_key(&self, prefix: &[u8], key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        match self
            .history
            .range(prefix.to_vec()..key.to_vec())
            .keys()
            .next_back()
        {
            Some(k) => Ok(Some(k.map_err(io_error)?.to_vec())),
            None => Ok(None),
        }
    }

    /// Right after `key` (kept close to it).
    fn gap_after(&self, prefix: &[u8], key: &[u8]) -> Result<Gap, StoreError> {
        Ok(Gap {
            low: position(key),
            high: self.next_key(prefix, key)?.as_deref().and_then(position),
            near: Near::Low,
        })
    }

    /// Right before `key` (kept close to it).
    fn gap_before(&self, prefix: &[u8], key: &[u8]) -> Result<Gap, StoreError> {
        Ok(Gap {
            low: self
                .previous_key(prefix, key)?
                .as_deref()
                .and_then(position),
            high: position(key),
            near: Near::High,
        })
    }

    /// After everything stored in the conversation.
    pub(super) fn gap_at_end(&self, prefix: &[u8]) -> Result<Gap, StoreError> {
        let last = match self.history.scan_prefix(prefix).keys().next_back() {
            Some(k) => Some(k.map_err(io_error)?),
            None => None,
        };
        Ok(Gap {
            low: last.as_deref().and_then(position),
            high: None,
            near: Near::Low,
        })
    }

    /// Walking forward with nothing to go by: after the newest message stored before
    /// the walk began, before those that arrived since.
    fn gap_before_arrivals(&self, prefix: &[u8], since: u64) -> Result<Gap, StoreError> {
        let mut newer: Option<Vec<u8>> = None;
        for k in self.history.scan_prefix(prefix).keys().rev() {
            let k = k.map_err(io_error)?;
            if seq(&k).is_some_and(|s| s < since) {
                return Ok(Gap {
                    low: position(&k),
                    high: newer.as_deref().and_then(position),
                    near: Near::Low,
                });
            }
            newer = Some(k.to_vec());
        }
        Ok(Gap {
            low: None,
            high: newer.as_deref().and_then(position),
            near: Near::High,
        })
    }

    /// Walking backward with nothing to go by: before every stored message that is not
    /// from an older second than `newest_ms` (the run's newest time), after the first
    /// that is.
    fn gap_before_newer(&self, prefix: &[u8], newest_ms: i64) -> Result<Gap, StoreError> {
        let mut newer: Option<Vec<u8>> = None;
        for item in self.history.scan_prefix(prefix).rev() {
            let (k, v) = item.map_err(io_error)?;
            // Whole seconds: archive stamps have no more, and a stamp of the current
            // second is read as "now", which can be earlier than a later read of it.
            let older = self
                .decode_message(&k, &v)
                .is_some_and(|m| m.timestamp_ms.div_euclid(1000) < newest_ms.div_euclid(1000));
            if older {
                return Ok(Gap {
                    low: position(&k),
                    high: newer.as_deref().and_then(position),
                    near: Near::High,
                });
            }
            newer = Some(k.to_vec());
        }
        Ok(Gap {
            low: None,
            high: newer.as_deref().and_then(position),
            near: Near::High,
        })
    }

    /// Splits one conversation's messages of a page into runs of new messages and says
    /// where each goes. `anchors[i]` is the stored key of `members[i]` when it is
    /// already stored (then it is not new).
    pub(super) fn plan_runs(
        &self,
        prefix: &[u8],
        members: &[usize],
        anchors: &[Option<Vec<u8>>],
        batch: &[ChatMessage],
        order: Option<&PageOrder>,
    ) -> Result<Vec<Run>, StoreError> {
        let mut runs = Vec::new();
        let mut current: Vec<usize> = Vec::new();
        let mut before: Option<&Vec<u8>> = None;
        let mut flush = |current: &mut Vec<usize>,
                         before: Option<&Vec<u8>>,
                         after: Option<&Vec<u8>>|
         -> Result<(), StoreError> {
            if current.is_empty() {
                return Ok(());
            }
            let gap = match (order, before, after) {
                (None, _, _) => self.gap_at_end(prefix)?,
                (Some(_), Some(b), _) => self.gap_after(prefix, b)?,
                (Some(o), None, after) => match (o.reached.get(prefix), o.backward, after) {
                    (Some(r), false, _) => self.gap_after(prefix, r)?,
                    (_, _, Some(a)) => self.gap_before(prefix, a)?,
                    (Some(r), true, None) => self.gap_before(prefix, r)?,
                    (None, false, None) => self.gap_before_arrivals(prefix, o.since)?,
                    (None, true, None) => {
                        let newest = current
                            .iter()
                            .filter_map(|i| batch.get(*i))
                            .map(|m| m.timestamp_ms)
                            .max()
                            .unwrap_or(i64::MAX);
                        self.gap_before_newer(prefix, newest)?
                    }
                },
            };
            runs.push(Run {
                members: std::mem::take(current),
                gap,
            });
            Ok(())
        };
        for (i, anchor) in members.iter().zip(anchors) {
            match anchor {
                // Live messages all go to the end: a repeated one changes nothing.
                Some(_) if order.is_none() => {}
                Some(key) => {
                    flush(&mut current, before, Some(key))?;
                    before = Some(key);
                }
                None => current.push(*i),
            }
        }
        flush(&mut current, before, None)?;
        Ok(runs)
    }
}

impl PageOrder {
    /// Notes where a page ended in a conversation (`keys` in page order).
    pub(super) fn reach(&mut self, prefix: &[u8], keys: &[Vec<u8>]) {
        let end = if self.backward {
            keys.first()
        } else {
            keys.last()
        };
        if let Some(k) = end {
            self.reached.insert(prefix.to_vec(), k.clone());
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn runs_fit_their_gap_in_order() {
        for near in [Near::Low, Near::High] {
            let gap = Gap {
                low: Some(1000),
                high: Some(1000 + STEP),
                near,
            };
            let (p, room) = spread(gap, 250, 0);
            assert!(room);
            assert!(p.windows(2).all(|w| w[0] < w[1]));
            assert!(p[0] > 1000 && p[249] < 1000 + STEP);
        }
        let (p, room) = spread(
            Gap {
                low: Some(5),
                high: Some(7),
                near: Near::Low,
            },
            3,
            0,
        );
        assert!(!room);
        assert_eq!(p, vec![5, 5, 5]);
    }

    #[test]
    fn many_pages_before_one_message_keep_room() {
        // A forward walk of 250 pages of 250 that all go before one live message.
        let (mut low, high) = (0u64, STEP);
        for _ in 0..250 {
            let (p, room) = spread(
                Gap {
                    low: Some(low),
                    high: Some(high),
                    near: Near::Low,
                },
                250,
                0,
            );
            assert!(room);
            assert!(*p.last().unwrap() < high);
            low = *p.last().unwrap();
        }
    }
}

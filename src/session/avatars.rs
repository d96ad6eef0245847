//! What the session does about avatars (issue #18), decided without I/O: who may have
//! their avatar fetched (the roster and our own account, never a stranger), which
//! announcements need a fetch (a hash not in the cache) and which only change who shows
//! what, a queue with a few fetches in flight at a time (2,000 contacts coming online
//! must not send 2,000 requests at once), and the fallback from PEP to vcard-temp.
//!
//! An empty XEP-0153 `<photo/>` is ignored rather than clearing the avatar: a contact's
//! other client that does not do vCards says that while their PEP avatar stands. An
//! empty XEP-0084 metadata item (or its retraction) does clear it.

use crate::xmpp::avatar::{AvatarHash, Metadata, PhotoUpdate};
use std::collections::{HashMap, VecDeque};
use xmpp_parsers::jid::BareJid;

/// The bytes of a picture (Debug shows only their length).
#[derive(Clone, PartialEq, Eq)]
pub struct Picture(pub std::sync::Arc<Vec<u8>>);

impl std::fmt::Debug for Picture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Picture({} bytes)", self.0.len())
    }
}

/// Fetches in flight at once.
pub const MAX_IN_FLIGHT: usize = 4;
/// Fetches waiting; past this, new announcements are dropped (they come again at the
/// next presence or sign-in).
pub const MAX_QUEUED: usize = 4096;

/// Where a picture is fetched from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fetch {
    /// The PEP data item `id` of `jid` (XEP-0084).
    Pep { jid: BareJid, id: AvatarHash },
    /// The vcard-temp `PHOTO` of `jid` (XEP-0153), which must hash to `expect` if set.
    VCard {
        jid: BareJid,
        expect: Option<AvatarHash>,
    },
}

impl Fetch {
    pub fn jid(&self) -> &BareJid {
        match self {
            Fetch::Pep { jid, .. } | Fetch::VCard { jid, .. } => jid,
        }
    }

    /// The hash this fetch should bring, when known beforehand.
    pub fn hash(&self) -> Option<&AvatarHash> {
        match self {
            Fetch::Pep { id, .. } => Some(id),
            Fetch::VCard { expect, .. } => expect.as_ref(),
        }
    }

    /// What to try when this fetch failed: a PEP item not there may still be in the
    /// vCard (servers like Prosody's `mod_vcard_legacy` keep both).
    pub fn fallback(&self) -> Option<Fetch> {
        match self {
            Fetch::Pep { jid, .. } => Some(Fetch::VCard {
                jid: jid.clone(),
                expect: None,
            }),
            Fetch::VCard { .. } => None,
        }
    }
}

/// What an announcement means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Nothing,
    /// `jid` now shows `hash`, which the cache already has.
    Show(BareJid, AvatarHash),
    /// `jid` has no avatar any more.
    Clear(BareJid),
    /// Queued for fetching.
    Queued,
}

/// The session's avatar book: who shows which hash (saved as the cache's index), and
/// the fetch queue.
#[derive(Debug, Default)]
pub struct Avatars {
    index: HashMap<BareJid, AvatarHash>,
    queue: VecDeque<Fetch>,
    waiting: HashMap<u64, Fetch>,
    /// Answers being decoded; they count as in flight, so decoding is bounded too.
    decoding: usize,
    /// The index changed since it was last saved.
    pub dirty: bool,
}

impl Avatars {
    pub fn with_index(index: HashMap<BareJid, AvatarHash>) -> Avatars {
        Avatars {
            index,
            ..Avatars::default()
        }
    }

    pub fn index(&self) -> &HashMap<BareJid, AvatarHash> {
        &self.index
    }

    fn show(&mut self, jid: BareJid, hash: AvatarHash) -> Step {
        if self.index.get(&jid) == Some(&hash) {
            return Step::Nothing;
        }
        self.index.insert(jid.clone(), hash.clone());
        self.dirty = true;
        Step::Show(jid, hash)
    }

    fn announced(
        &mut self,
        jid: BareJid,
        hash: AvatarHash,
        fetch: Fetch,
        cached: impl Fn(&AvatarHash) -> bool,
    ) -> Step {
        if cached(&hash) {
            return self.show(jid, hash);
        }
        self.enqueue(fetch)
    }

    /// A PEP metadata notification from `jid`; `allowed`: they are in our roster (or
    /// are us). `cached`: whether the cache has a hash.
    pub fn metadata(
        &mut self,
        jid: BareJid,
        meta: &Metadata,
        allowed: bool,
        cached: impl Fn(&AvatarHash) -> bool,
    ) -> Step {
        if !allowed {
            return Step::Nothing;
        }
        match meta {
            Metadata::Disabled => self.clear(jid),
            Metadata::Set(_) => match meta.pick() {
                None => Step::Nothing,
                Some(info) => {
                    let fetch = Fetch::Pep {
                        jid: jid.clone(),
                        id: info.id.clone(),
                    };
                    self.announced(jid, info.id.clone(), fetch, cached)
                }
            },
        }
    }

    /// A photo hash in a presence of `jid` (XEP-0153).
    pub fn photo(
        &mut self,
        jid: BareJid,
        update: &PhotoUpdate,
        allowed: bool,
        cached: impl Fn(&AvatarHash) -> bool,
    ) -> Step {
        let PhotoUpdate::Hash(hash) = update else {
            return Step::Nothing;
        };
        if !allowed || self.index.get(&jid) == Some(hash) && cached(hash) {
            return Step::Nothing;
        }
        let fetch = Fetch::VCard {
            jid: jid.clone(),
            expect: Some(hash.clone()),
        };
        self.announced(jid, hash.clone(), fetch, cached)
    }

    /// `jid` has no avatar any more (a room that took its picture away).
    pub fn clear(&mut self, jid: BareJid) -> Step {
        self.queue.retain(|f| *f.jid() != jid);
        if self.index.remove(&jid).is_some() {
            self.dirty = true;
            return Step::Clear(jid);
        }
        Step::Nothing
    }

    /// Queues a fetch, replacing one still waiting for the same person.
    pub fn enqueue(&mut self, fetch: Fetch) -> Step {
        if self.waiting.values().any(|f| *f == fetch) {
            return Step::Nothing;
        }
        if let Some(old) = self.queue.iter_mut().find(|f| f.jid() == fetch.jid()) {
            *old = fetch;
            return Step::Queued;
        }
        if self.queue.len() >= MAX_QUEUED {
            log::warn!(
                "avatar queue full; {} waits for a later announcement",
                fetch.jid()
            );
            return Step::Nothing;
        }
        self.queue.push_back(fetch);
        Step::Queued
    }

    /// The next fetch to send, if fewer than [`MAX_IN_FLIGHT`] are out.
    pub fn next_fetch(&mut self) -> Option<Fetch> {
        if self.waiting.len() + self.decoding >= MAX_IN_FLIGHT {
            return None;
        }
        self.queue.pop_front()
    }

    /// `fetch` went out as request `token`.
    pub fn sent(&mut self, token: u64, fetch: Fetch) {
        self.waiting.insert(token, fetch);
    }

    /// The fetch answered by `token`, if it is ours.
    pub fn answered(&mut self, token: u64) -> Option<Fetch> {
        self.waiting.remove(&token)
    }

    /// An answer went to be decoded; it still counts as in flight until
    /// [`Avatars::decoded`].
    pub fn decoding(&mut self) {
        self.decoding += 1;
    }

    pub fn decoded(&mut self) {
        self.decoding = self.decoding.saturating_sub(1);
    }

    /// The picture of `jid` is in the cache as `hash`.
    pub fn fetched(&mut self, jid: BareJid, hash: AvatarHash) -> Step {
        self.show(jid, hash)
    }

    /// A fresh stream: the requests out are lost; they go first again.
    pub fn reset(&mut self) {
        let mut lost: Vec<(u64, Fetch)> = self.waiting.drain().collect();
        lost.sort_by_key(|(t, _)| std::cmp::Reverse(*t));
        for (_, f) in lost {
            self.queue.push_front(f);
        }
    }

    /// Fetches waiting or out (for tests and the bench).
    pub fn pending(&self) -> usize {
        self.queue.len() + self.waiting.len()
    }
}

#[cfg(test)]
mod tests;

//! Every id a message is known by, in one tree (schema 5): `known_ids`,
//! `account | conversation | id` -> the messages known by that id.
//!
//! Before schema 5 the same facts took up to five entries a message in two trees
//! (`dedupe`: server id, origin id or id attribute with its text; `refs`: each id and
//! kind). sled splits a page beyond 16 entries, and every page costs a log record on
//! disk and a page-table entry in memory at every start (issue #21). Now one entry
//! holds every message known by one id, so a message whose origin id is also its
//! stanza id (what most clients send) costs one entry for both, and one for its
//! archive id.
//!
//! A value is `[format = 1]` then, for each message, `[kind][flags][check: u64 BE]`
//! and its length-prefixed local id. `kind` is `keys::REF_*`. With `flags & DEDUPE`
//! the id also says whether a message that arrives is one already stored:
//! - a server stanza-id (XEP-0359) always;
//! - an origin id for the same sender in the same direction (`check`);
//! - the stanza `id` attribute only for a message without either, and only with the
//!   same sender, direction and text as it arrived (`check`): many clients reuse
//!   simple ids.
//!
//! Values point at local ids, not history keys, so a message that moves in its
//! conversation (see `order`) leaves them as they are.

use super::keys::{self, REF_ATTR, REF_CORRECTION, REF_ORIGIN, REF_SERVER, direction_byte};
use crate::ids::LocalMessageId;
use crate::model::ChatMessage;
use sha2::{Digest, Sha256};

const FORMAT: u8 = 1;
/// The entry also detects duplicates (see the module's rules).
const DEDUPE: u8 = 1;

/// One message known by an id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Known {
    pub kind: u8,
    pub dedupe: bool,
    pub check: u64,
    pub local: LocalMessageId,
}

/// What a message that arrives is looked up by, to find out whether it is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Probe {
    pub key: Vec<u8>,
    pub kind: u8,
    pub check: u64,
}

impl Probe {
    pub fn matches(&self, known: &Known) -> bool {
        known.dedupe && known.kind == self.kind && known.check == self.check
    }

    /// The first stored message this probe finds in the value stored at its key.
    pub fn find(&self, value: &[u8]) -> Option<LocalMessageId> {
        decode(value)
            .into_iter()
            .find(|k| self.matches(k))
            .map(|k| k.local)
    }

    /// Bytes that are equal for equal probes (for duplicates inside one batch).
    pub fn identity(&self) -> Vec<u8> {
        let mut out = self.key.clone();
        out.push(self.kind);
        out.extend_from_slice(&self.check.to_be_bytes());
        out
    }
}

/// The check of an origin id (`body_hash` empty) or of an id attribute: who sent it,
/// which way, and for the attribute the text's hash.
fn check(kind: u8, direction: u8, sender: &str, body_hash: &[u8]) -> u64 {
    let mut h = Sha256::new();
    h.update([kind, direction]);
    h.update((sender.len() as u64).to_be_bytes());
    h.update(sender.as_bytes());
    h.update(body_hash);
    let digest = h.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(digest.get(..8).unwrap_or(&[0; 8]));
    u64::from_be_bytes(first)
}

/// The first 16 bytes of the text's SHA-256, as schema 1-4 kept in dedupe keys.
pub(super) fn body_hash(body: &str) -> [u8; 16] {
    let digest = Sha256::digest(body.as_bytes());
    let mut out = [0u8; 16];
    out.copy_from_slice(digest.get(..16).unwrap_or(&[0; 16]));
    out
}

/// The check of an id attribute whose text hashed to `body_hash`.
pub(super) fn attr_check(direction: u8, sender: &str, body_hash: &[u8]) -> u64 {
    check(REF_ATTR, direction, sender, body_hash)
}

/// What `arrived` (a message as it came) is looked up by.
pub(super) fn probes(arrived: &ChatMessage) -> Vec<Probe> {
    let conv = arrived.conversation();
    let dir = direction_byte(arrived.direction);
    let nonempty = |id: &Option<String>| id.clone().filter(|i| !i.is_empty());
    let mut out = Vec::with_capacity(2);
    if let Some(id) = nonempty(&arrived.server_id) {
        out.push(Probe {
            key: keys::reference(&arrived.account, &conv, &id),
            kind: REF_SERVER,
            check: 0,
        });
    }
    if let Some(id) = nonempty(&arrived.origin_id) {
        out.push(Probe {
            key: keys::reference(&arrived.account, &conv, &id),
            kind: REF_ORIGIN,
            check: check(REF_ORIGIN, dir, &arrived.sender, &[]),
        });
    }
    if out.is_empty()
        && let Some(id) = nonempty(&arrived.stanza_id_attr)
    {
        out.push(Probe {
            key: keys::reference(&arrived.account, &conv, &id),
            kind: REF_ATTR,
            check: attr_check(dir, &arrived.sender, &body_hash(&arrived.body)),
        });
    }
    out
}

/// Every `(key, entry)` of `msg` as it is stored (its server id, origin id, id
/// attribute and the ids of corrections applied to it); those `arrived`'s probes look
/// for detect duplicates.
pub(super) fn entries(msg: &ChatMessage, arrived: &ChatMessage) -> Vec<(Vec<u8>, Known)> {
    let conv = msg.conversation();
    let probes = probes(arrived);
    let mut out = Vec::with_capacity(3);
    let mut add = |kind: u8, id: Option<&str>| {
        let Some(id) = id.filter(|i| !i.is_empty()) else {
            return;
        };
        let key = keys::reference(&msg.account, &conv, id);
        let probe = probes.iter().find(|p| p.kind == kind && p.key == key);
        out.push((
            key,
            Known {
                kind,
                dedupe: probe.is_some(),
                check: probe.map_or(0, |p| p.check),
                local: msg.id.clone(),
            },
        ));
    };
    add(REF_SERVER, msg.server_id.as_deref());
    add(REF_ORIGIN, msg.origin_id.as_deref());
    add(REF_ATTR, msg.stanza_id_attr.as_deref());
    for v in &msg.extras.versions {
        add(REF_CORRECTION, v.id.as_deref());
    }
    out
}

/// The messages in one stored value; a damaged tail is dropped with a warning.
pub(super) fn decode(value: &[u8]) -> Vec<Known> {
    let mut out = Vec::new();
    let Some((&FORMAT, mut rest)) = value.split_first() else {
        log::warn!("store: skipping a damaged id entry");
        return out;
    };
    while !rest.is_empty() {
        let Some(((kind, flags), tail)) = rest
            .split_first_chunk::<2>()
            .map(|([k, f], t)| ((*k, *f), t))
        else {
            break;
        };
        let Some((check, tail)) = tail.split_first_chunk::<8>() else {
            break;
        };
        let Some((local, tail)) = keys::take_str(tail) else {
            break;
        };
        out.push(Known {
            kind,
            dedupe: flags & DEDUPE != 0,
            check: u64::from_be_bytes(*check),
            local: LocalMessageId(local.to_owned()),
        });
        rest = tail;
    }
    if !rest.is_empty() {
        log::warn!("store: dropping the damaged end of an id entry");
    }
    out
}

pub(super) fn encode(entries: &[Known]) -> Vec<u8> {
    let mut out = Vec::with_capacity(1 + entries.len() * 52);
    out.push(FORMAT);
    for k in entries {
        out.push(k.kind);
        out.push(if k.dedupe { DEDUPE } else { 0 });
        out.extend_from_slice(&k.check.to_be_bytes());
        keys::put_str(&mut out, &k.local.0);
    }
    out
}

/// `stored` with `new` added; `None` when it holds that message under that kind
/// already (what is stored is kept: its check comes from the message as it arrived).
pub(super) fn merge(stored: Option<&[u8]>, new: &Known) -> Option<Vec<u8>> {
    let mut all = stored.map(decode).unwrap_or_default();
    if all
        .iter()
        .any(|k| k.kind == new.kind && k.local == new.local)
    {
        return None;
    }
    all.push(new.clone());
    Some(encode(&all))
}

/// Like [`merge`], but an entry for the same message and kind takes `new`'s
/// duplicate rule (the upgrade from schema 4, whose dedupe keys are exact).
pub(super) fn merge_rule(stored: Option<&[u8]>, new: &Known) -> Vec<u8> {
    let mut all = stored.map(decode).unwrap_or_default();
    match all
        .iter_mut()
        .find(|k| k.kind == new.kind && k.local == new.local)
    {
        Some(k) => {
            k.dedupe = new.dedupe;
            k.check = new.check;
        }
        None => all.push(new.clone()),
    }
    encode(&all)
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

    fn k(kind: u8, local: &str) -> Known {
        Known {
            kind,
            dedupe: kind == REF_SERVER,
            check: 7,
            local: LocalMessageId(local.into()),
        }
    }

    #[test]
    fn values_round_trip_merge_once_and_survive_damage() {
        let one = merge(None, &k(REF_SERVER, "a")).unwrap();
        assert_eq!(merge(Some(&one), &k(REF_SERVER, "a")), None);
        let two = merge(Some(&one), &k(REF_ORIGIN, "a")).unwrap();
        let three = merge(Some(&two), &k(REF_SERVER, "b")).unwrap();
        assert_eq!(
            decode(&three),
            [k(REF_SERVER, "a"), k(REF_ORIGIN, "a"), k(REF_SERVER, "b")]
        );
        // A cut value keeps what is whole.
        assert_eq!(decode(&three[..three.len() - 1]).len(), 2);
        assert!(decode(&[]).is_empty());
        assert!(decode(&[9, 1, 2]).is_empty());
        let ruled = merge_rule(
            Some(&three),
            &Known {
                dedupe: true,
                check: 9,
                ..k(REF_ORIGIN, "a")
            },
        );
        assert_eq!(decode(&ruled)[1].check, 9);
        assert!(decode(&ruled)[1].dedupe);
    }
}

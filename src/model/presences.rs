//! Who is online, per contact and resource, with bounds (issue #20, weakness 9).
//!
//! Presence comes from the network: a contact can invent resources without end, and
//! anyone can send a directed presence from a new address every millisecond. So the
//! book keeps at most [`MAX_RESOURCES`] resources per address, and at most
//! [`MAX_STRANGERS`] addresses that are not in the roster (the one that changed
//! longest ago is forgotten first). Contacts in the roster are always kept: the
//! roster itself is bounded by what the user added. Likewise subscription requests:
//! at most [`MAX_REQUESTS`] wait for an answer.

use std::collections::{BTreeMap, HashMap, VecDeque};
use xmpp_parsers::jid::{BareJid, Jid};

/// Resources kept per address (phones, desktops, web: real people have a few).
pub const MAX_RESOURCES: usize = 16;
/// Addresses outside the roster whose presence is kept.
pub const MAX_STRANGERS: usize = 256;
/// Subscription requests kept waiting for an answer.
pub const MAX_REQUESTS: usize = 200;

/// Presence of each resource of each address; `V` is what the screen shows.
#[derive(Debug, Clone)]
pub struct PresenceBook<V> {
    map: HashMap<BareJid, BTreeMap<String, V>>,
    /// Addresses outside the roster, oldest change first.
    strangers: VecDeque<BareJid>,
}

impl<V> Default for PresenceBook<V> {
    fn default() -> Self {
        PresenceBook {
            map: HashMap::new(),
            strangers: VecDeque::new(),
        }
    }
}

impl<V> PresenceBook<V> {
    /// Records `value` for the resource of `from` (`None`: it went offline; no
    /// resource and `None`: the whole address did). `in_roster`: `from` is a contact.
    pub fn set(&mut self, from: &Jid, value: Option<V>, in_roster: bool) {
        let bare = from.to_bare();
        let resource = from.resource().map(|r| r.to_string()).unwrap_or_default();
        let Some(value) = value else {
            if let Some(resources) = self.map.get_mut(&bare) {
                if resource.is_empty() {
                    resources.clear();
                } else {
                    resources.remove(&resource);
                }
                if resources.is_empty() {
                    self.forget(&bare);
                }
            }
            return;
        };
        if !in_roster {
            self.strangers.retain(|j| j != &bare);
            self.strangers.push_back(bare.clone());
            while self.strangers.len() > MAX_STRANGERS {
                if let Some(old) = self.strangers.pop_front() {
                    self.map.remove(&old);
                }
            }
        }
        let resources = self.map.entry(bare).or_default();
        if resources.len() >= MAX_RESOURCES && !resources.contains_key(&resource) {
            // Full: the new resource is not listed until another one leaves.
            return;
        }
        resources.insert(resource, value);
    }

    fn forget(&mut self, bare: &BareJid) {
        self.map.remove(bare);
        self.strangers.retain(|j| j != bare);
    }

    /// The resources of `jid` that are online.
    pub fn resources(&self, jid: &BareJid) -> impl Iterator<Item = &V> {
        self.map.get(jid).into_iter().flat_map(|r| r.values())
    }

    /// The resources of `jid` that are online, by name.
    pub fn resource_names(&self, jid: &BareJid) -> impl Iterator<Item = &str> {
        self.map
            .get(jid)
            .into_iter()
            .flat_map(|r| r.keys().map(String::as_str))
    }

    /// Nobody is known to be online any more.
    pub fn clear(&mut self) {
        self.map.clear();
        self.strangers.clear();
    }

    /// Addresses with at least one resource online, and resources in all.
    pub fn counts(&self) -> (usize, usize) {
        (self.map.len(), self.map.values().map(BTreeMap::len).sum())
    }
}

/// Adds `from` to the waiting subscription `requests` unless it is there already or
/// [`MAX_REQUESTS`] wait; returns whether it was added.
pub fn add_request(requests: &mut Vec<BareJid>, from: BareJid) -> bool {
    if requests.len() >= MAX_REQUESTS || requests.contains(&from) {
        return false;
    }
    requests.push(from);
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jid(s: &str) -> Jid {
        Jid::new(s).unwrap_or_else(|_| unreachable!("{s}"))
    }

    #[test]
    fn a_contact_inventing_resources_keeps_at_most_max_resources() {
        let mut book = PresenceBook::default();
        for i in 0..10_000 {
            book.set(&jid(&format!("bob@x.org/r{i}")), Some(i), true);
        }
        assert_eq!(book.counts(), (1, MAX_RESOURCES));
        // A known resource still changes; one leaving makes room for the next.
        book.set(&jid("bob@x.org/r0"), Some(-1), true);
        assert!(
            book.resources(&jid("bob@x.org").to_bare())
                .any(|v| *v == -1)
        );
        book.set(&jid("bob@x.org/r1"), None, true);
        book.set(&jid("bob@x.org/new"), Some(7), true);
        assert!(book.resources(&jid("bob@x.org").to_bare()).any(|v| *v == 7));
        // Offline without a resource: the whole address.
        book.set(&jid("bob@x.org"), None, true);
        assert_eq!(book.counts(), (0, 0));
    }

    #[test]
    fn a_flood_of_strangers_keeps_at_most_max_strangers_and_every_contact() {
        let mut book = PresenceBook::default();
        book.set(&jid("alice@x.org/desk"), Some(1), true);
        for i in 0..100_000 {
            book.set(&jid(&format!("s{i}@evil.example/x")), Some(0), false);
        }
        assert_eq!(book.counts().0, MAX_STRANGERS + 1);
        assert_eq!(book.strangers.len(), MAX_STRANGERS);
        assert!(
            book.resources(&jid("alice@x.org").to_bare())
                .any(|v| *v == 1)
        );
        assert!(
            book.resources(&jid("s99999@evil.example").to_bare())
                .count()
                == 1
        );
        assert!(book.resources(&jid("s0@evil.example").to_bare()).count() == 0);
    }

    #[test]
    fn requests_are_bounded_and_not_repeated() {
        let mut r = Vec::new();
        assert!(add_request(&mut r, jid("a@x").to_bare()));
        assert!(!add_request(&mut r, jid("a@x").to_bare()));
        for i in 0..1000 {
            add_request(&mut r, jid(&format!("s{i}@x")).to_bare());
        }
        assert_eq!(r.len(), MAX_REQUESTS);
    }
}

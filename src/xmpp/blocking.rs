//! Blocking (XEP-0191) and spam reports (XEP-0377).
//!
//! At sign-in we ask our server what it offers (disco#info to its domain); where it
//! offers `urn:xmpp:blocking` we fetch the blocklist, then keep it current from the
//! pushes the server sends when any of our clients blocks or unblocks someone. Where it
//! also offers `urn:xmpp:reporting:1`, blocking a stranger may carry a spam report.
//!
//! The server drops what blocked people send, but not what its archive held from before,
//! nor what raced the block: [`filter`] drops their messages, presences, subscription
//! requests, typing notifications and changes to earlier messages here too, before
//! anything is stored or shown.
//!
//! A blocklist comes from the network: at most [`MAX_BLOCKLIST`] entries are kept (the
//! rest of a longer list, or of a push, is ignored), and an entry that is not a JID is
//! skipped rather than failing the whole list.

use super::muc::AttrExt;
use super::{Event, PendingIq, ProtoState};
use std::collections::BTreeSet;
use xmpp_parsers::jid::Jid;
use xmpp_parsers::minidom::Element;
use xmpp_parsers::ns;
use xmpp_parsers::stanza::Stanza;
use xmpp_parsers::stanza_error::StanzaError;

/// Entries of a blocklist kept. People block dozens; a list of a million entries from a
/// broken or hostile server must not cost a million allocations on every sign-in.
pub const MAX_BLOCKLIST: usize = 10_000;

/// The reason of a spam report (XEP-0377).
pub const REPORT_SPAM: &str = "urn:xmpp:reporting:spam";

/// What a blocking request was for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BlockIq {
    /// disco#info of our server: does it block, does it take reports?
    ServerInfo,
    /// The blocklist.
    Fetch,
    /// Our block or unblock of these addresses.
    Change { jids: Vec<Jid>, block: bool },
}

/// The account's blocklist as the server keeps it.
#[derive(Debug, Default, Clone)]
pub struct Blocklist {
    items: BTreeSet<Jid>,
    /// The server offers blocking (XEP-0191).
    pub supported: bool,
    /// The server takes spam reports with a block (XEP-0377).
    pub reporting: bool,
}

/// What changed about blocking.
#[derive(Debug, Clone, PartialEq)]
pub enum BlockEvent {
    /// The whole blocklist as it is now (after a fetch, a push or our own change), and
    /// whether the server blocks and takes reports at all.
    List {
        items: Vec<Jid>,
        supported: bool,
        reporting: bool,
    },
    /// The server refused our block or unblock.
    Refused {
        jids: Vec<Jid>,
        block: bool,
        error: String,
    },
}

impl Blocklist {
    /// Does the blocklist cover a stanza from `from`? The matching rules of XEP-0191
    /// (as XEP-0016's): the full JID, the bare JID, the domain with this resource, or
    /// the whole domain.
    pub fn blocks(&self, from: &Jid) -> bool {
        if self.items.is_empty() {
            return false;
        }
        if self.items.contains(from) {
            return true;
        }
        let bare = from.to_bare();
        if self.items.contains(&Jid::from(bare.clone())) {
            return true;
        }
        let domain = bare.domain().as_str();
        if Jid::new(domain).is_ok_and(|d| self.items.contains(&d)) {
            return true;
        }
        from.resource().is_some_and(|r| {
            Jid::new(&format!("{domain}/{}", r.as_str())).is_ok_and(|d| self.items.contains(&d))
        })
    }

    /// The blocked addresses, in order.
    pub fn items(&self) -> Vec<Jid> {
        self.items.iter().cloned().collect()
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    fn add(&mut self, jids: impl IntoIterator<Item = Jid>) {
        for jid in jids {
            if self.items.len() >= MAX_BLOCKLIST {
                break;
            }
            self.items.insert(jid);
        }
    }

    fn event(&self) -> Event {
        Event::Blocking(BlockEvent::List {
            items: self.items(),
            supported: self.supported,
            reporting: self.reporting,
        })
    }
}

/// The items of a `<blocklist/>`, `<block/>` or `<unblock/>`: at most [`MAX_BLOCKLIST`],
/// those whose `jid` is not a JID skipped.
fn items(payload: &Element) -> Vec<Jid> {
    payload
        .children()
        .filter(|c| c.is("item", ns::BLOCKING))
        .filter_map(|c| c.attr("jid").and_then(|j| Jid::new(j).ok()))
        .take(MAX_BLOCKLIST)
        .collect()
}

fn change(jids: &[Jid], block: bool, report: bool) -> Element {
    let name = if block { "block" } else { "unblock" };
    let mut el = Element::builder(name, ns::BLOCKING).build();
    for jid in jids {
        let mut item = Element::builder("item", ns::BLOCKING)
            .a("jid", &jid.to_string())
            .build();
        if report {
            item.append_child(
                Element::builder("report", ns::SPAM_REPORTING)
                    .a("reason", REPORT_SPAM)
                    .build(),
            );
        }
        el.append_child(item);
    }
    el
}

/// At sign-in: ask our server whether it blocks (the blocklist follows if it does).
/// The list known so far stays in force until the new one arrives.
pub fn discover(state: &mut ProtoState) -> Stanza {
    let domain = Jid::new(state.own.domain().as_str()).ok();
    state.request(
        PendingIq::Blocking(BlockIq::ServerInfo),
        domain,
        true,
        super::disco::info_query(),
    )
}

/// Block `jids` (with a spam report each when `report` and the server takes them).
/// `None` when the server does not block.
pub fn block(state: &mut ProtoState, jids: Vec<Jid>, report: bool) -> Option<Stanza> {
    if !state.blocklist.supported || jids.is_empty() {
        return None;
    }
    let payload = change(&jids, true, report && state.blocklist.reporting);
    Some(state.request(
        PendingIq::Blocking(BlockIq::Change { jids, block: true }),
        None,
        false,
        payload,
    ))
}

/// Unblock `jids` (never "everyone": an empty list asks for nothing). `None` when the
/// server does not block.
pub fn unblock(state: &mut ProtoState, jids: Vec<Jid>) -> Option<Stanza> {
    if !state.blocklist.supported || jids.is_empty() {
        return None;
    }
    let payload = change(&jids, false, false);
    Some(state.request(
        PendingIq::Blocking(BlockIq::Change { jids, block: false }),
        None,
        false,
        payload,
    ))
}

/// The answer to one of our blocking requests.
pub fn answer(
    state: &mut ProtoState,
    kind: BlockIq,
    result: Result<Option<Element>, StanzaError>,
) -> Vec<Event> {
    match kind {
        BlockIq::ServerInfo => {
            let (blocking, reporting) = match result {
                Ok(Some(payload)) => (
                    super::disco::has_feature(payload.clone(), ns::BLOCKING),
                    super::disco::has_feature(payload, ns::SPAM_REPORTING),
                ),
                _ => (false, false),
            };
            state.blocklist.supported = blocking;
            state.blocklist.reporting = reporting;
            if !blocking {
                return vec![state.blocklist.event()];
            }
            let fetch = state.request(
                PendingIq::Blocking(BlockIq::Fetch),
                None,
                true,
                Element::builder("blocklist", ns::BLOCKING).build(),
            );
            vec![Event::Reply(Box::new(fetch))]
        }
        BlockIq::Fetch => match result {
            Ok(Some(payload)) if payload.is("blocklist", ns::BLOCKING) => {
                state.blocklist.items.clear();
                state.blocklist.add(items(&payload));
                vec![state.blocklist.event()]
            }
            Ok(_) => vec![
                Event::Dropped("blocklist answer without a blocklist".to_owned()),
                state.blocklist.event(),
            ],
            Err(e) => {
                state.blocklist.supported = false;
                vec![
                    Event::Dropped(format!("blocklist refused: {e:?}")),
                    state.blocklist.event(),
                ]
            }
        },
        // The server also pushes the change to us; applying it here as well is the
        // same change (a set), and holds when a server does not push to the sender.
        BlockIq::Change { jids, block } => match result {
            Ok(_) => {
                apply(&mut state.blocklist, jids, block);
                vec![state.blocklist.event()]
            }
            Err(e) => vec![Event::Blocking(BlockEvent::Refused {
                jids,
                block,
                error: e
                    .texts
                    .values()
                    .next()
                    .cloned()
                    .unwrap_or_else(|| format!("{:?}", e.defined_condition)),
            })],
        },
    }
}

fn apply(list: &mut Blocklist, jids: Vec<Jid>, block: bool) {
    if block {
        list.add(jids);
    } else if jids.is_empty() {
        // An empty unblock (from another client) unblocks everyone.
        list.items.clear();
    } else {
        for jid in &jids {
            list.items.remove(jid);
        }
    }
}

/// A blocklist push (`<block/>` or `<unblock/>` in an IQ set): `None` when `payload`
/// is not one. Only our own account may push; the caller checks the sender.
pub fn push(state: &mut ProtoState, payload: &Element) -> Option<Vec<Event>> {
    let block = if payload.is("block", ns::BLOCKING) {
        true
    } else if payload.is("unblock", ns::BLOCKING) {
        false
    } else {
        return None;
    };
    apply(&mut state.blocklist, items(payload), block);
    Some(vec![state.blocklist.event()])
}

/// Drops what blocked senders sent: messages (live, carbons and from the archive),
/// presences, subscription requests, typing, and changes to earlier messages. Our own
/// messages to them (carbons from our other clients) stay.
pub fn filter(list: &Blocklist, events: Vec<Event>) -> Vec<Event> {
    if list.is_empty() {
        return events;
    }
    let blocked_peer = |peer: &xmpp_parsers::jid::BareJid| list.blocks(&Jid::from(peer.clone()));
    events
        .into_iter()
        .filter(|e| {
            let drop = match e {
                Event::Message { message, .. } | Event::Archived { message, .. } => {
                    message.direction == crate::model::Direction::Incoming
                        && blocked_peer(message.peer())
                }
                Event::Presence { from, .. } => list.blocks(from),
                Event::SubscriptionRequest(from) => blocked_peer(from),
                Event::ChatState { conversation, .. } => blocked_peer(conversation.jid()),
                Event::Modify(m) => {
                    m.author.direction == crate::model::Direction::Incoming
                        && blocked_peer(m.conversation.jid())
                }
                _ => false,
            };
            if drop {
                log::debug!("dropped something from a blocked sender");
            }
            !drop
        })
        .collect()
}

#[cfg(test)]
#[path = "blocking/tests.rs"]
mod tests;

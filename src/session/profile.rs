//! A contact's profile as plain async calls on a session [`Handle`]: their vCard
//! (their vCard4 PEP item, XEP-0292, when they have one, else vcard-temp, XEP-0054,
//! both asked of their bare JID at once) and what software each of their
//! online clients runs (XEP-0092, asked of each full JID), all at once. A question
//! nobody answers leaves its part empty (after `roomtools::TIMEOUT`); the rest shows.

use super::Handle;
use super::roomtools::{self, QueryError};
use crate::xmpp::profile::{self, Card, Software};
use crate::xmpp::vcard4;
use xmpp_parsers::jid::{BareJid, FullJid, Jid};

/// What was learnt about one contact.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Profile {
    /// `None`: no vCard (or no answer).
    pub card: Option<Card>,
    /// Each online client that answered, with what it runs.
    pub software: Vec<(String, Software)>,
    /// The vCard could not be asked for (not connected).
    pub not_connected: bool,
}

/// At most this many clients of one contact are asked what they run.
pub const MAX_ASKED: usize = 8;

/// Asks for `jid`'s vCard and the software of each of `clients` (online resources).
pub async fn fetch(handle: &Handle, jid: &BareJid, clients: &[FullJid]) -> Profile {
    let card = roomtools::query(
        handle,
        Jid::from(jid.clone()),
        true,
        profile::vcard_request(),
    );
    let card4 = roomtools::query(
        handle,
        Jid::from(jid.clone()),
        true,
        vcard4::items_request(),
    );
    let versions = futures::future::join_all(clients.iter().take(MAX_ASKED).map(|full| {
        let resource = full.resource().to_string();
        async move {
            let answer = roomtools::query(
                handle,
                Jid::from(full.clone()),
                true,
                profile::version_request(),
            )
            .await;
            answer
                .ok()
                .flatten()
                .and_then(|el| profile::parse_version(&el))
                .map(|s| (resource, s))
        }
    }));
    let (card, card4, versions) = futures::join!(card, card4, versions);
    let not_connected = matches!(card, Err(QueryError::NotConnected));
    let card4 = vcard4::parse_items(card4.ok().flatten().as_ref()).filter(|c| !c.is_empty());
    Profile {
        card: card4.or_else(|| {
            card.ok()
                .flatten()
                .and_then(|el| profile::parse_vcard(&el))
                .filter(|c| !c.is_empty())
        }),
        software: versions.into_iter().flatten().collect(),
        not_connected,
    }
}

/// An occupant's profile (issue #18): the vCard and software of `room/nick`, both asked
/// of that address. The room hands the vCard question to the occupant's own server and
/// the software question to their client; an occupant of a room we are not in is not
/// asked (the room refuses).
pub async fn fetch_occupant(handle: &Handle, occupant: &FullJid) -> Profile {
    let to = Jid::from(occupant.clone());
    let card = roomtools::query(handle, to.clone(), true, profile::vcard_request());
    let version = roomtools::query(handle, to, true, profile::version_request());
    let (card, version) = futures::join!(card, version);
    let not_connected = matches!(card, Err(QueryError::NotConnected));
    let software = version
        .ok()
        .flatten()
        .and_then(|el| profile::parse_version(&el))
        .map(|s| (occupant.resource().to_string(), s));
    Profile {
        card: card
            .ok()
            .flatten()
            .and_then(|el| profile::parse_vcard(&el))
            .filter(|c| !c.is_empty()),
        software: software.into_iter().collect(),
        not_connected,
    }
}

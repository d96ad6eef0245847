//! Room tools as plain async calls on a session [`Handle`]: an owner's configuration
//! form (get, submit), its affiliation lists, finding the account's group chat service, listing its
//! rooms and what each room says about itself. No UI types: the UI runs these as tasks,
//! tests call them directly. Every call gives up after [`TIMEOUT`].

use super::files::Reply;
use super::{Command, Handle};
use crate::xmpp::muc::Affiliation;
use crate::xmpp::muc::affiliations::{self, Affiliated};
use crate::xmpp::muc::browse::{self, Listing, RoomInfo};
use crate::xmpp::muc::form::{self, DataForm};
use std::time::Duration;
use xmpp_parsers::jid::{BareJid, Jid};
use xmpp_parsers::minidom::Element;
use xmpp_parsers::stanza_error::{DefinedCondition, StanzaError};

/// How long to wait for any one answer.
pub const TIMEOUT: Duration = Duration::from_secs(20);
/// Server items looked at when searching for the group chat service.
const MAX_SERVICE_ITEMS: usize = 20;

/// Why a room tool did not work, in a form the UI puts in words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    #[error("not connected")]
    NotConnected,
    #[error("no answer in time")]
    NoAnswer,
    #[error("refused: {condition:?} {}", text.as_deref().unwrap_or_default())]
    Refused {
        condition: Condition,
        text: Option<String>,
    },
    /// The answer was not what the request asks for.
    #[error("the answer could not be read")]
    Malformed,
    /// The server has no group chat service.
    #[error("no group chat service")]
    NoService,
}

/// The stanza error conditions the UI explains; the rest keep their name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    Forbidden,
    NotAllowed,
    NotAuthorized,
    ItemNotFound,
    ServiceUnavailable,
    FeatureNotImplemented,
    BadRequest,
    NotAcceptable,
    Conflict,
    Other(String),
}

impl QueryError {
    pub fn from_stanza_error(e: &StanzaError) -> QueryError {
        use DefinedCondition as C;
        let condition = match &e.defined_condition {
            C::Forbidden => Condition::Forbidden,
            C::NotAllowed => Condition::NotAllowed,
            C::NotAuthorized => Condition::NotAuthorized,
            C::ItemNotFound => Condition::ItemNotFound,
            C::ServiceUnavailable | C::RemoteServerNotFound | C::RemoteServerTimeout => {
                Condition::ServiceUnavailable
            }
            C::FeatureNotImplemented => Condition::FeatureNotImplemented,
            C::BadRequest => Condition::BadRequest,
            C::NotAcceptable => Condition::NotAcceptable,
            C::Conflict => Condition::Conflict,
            other => Condition::Other(format!("{other:?}")),
        };
        QueryError::Refused {
            condition,
            text: e
                .texts
                .values()
                .next()
                .map(|t| t.trim().to_owned())
                .filter(|t| !t.is_empty()),
        }
    }
}

/// One IQ through the session; the answer's payload as it came.
pub async fn query(
    handle: &Handle,
    to: Jid,
    get: bool,
    payload: Element,
) -> Result<Option<Element>, QueryError> {
    let (reply, rx) = Reply::channel();
    handle
        .send(Command::Query {
            to,
            get,
            payload,
            reply,
        })
        .map_err(|_| QueryError::NotConnected)?;
    match tokio::time::timeout(TIMEOUT, rx).await {
        Ok(Ok(answer)) => answer,
        Ok(Err(_)) => Err(QueryError::NotConnected),
        Err(_) => Err(QueryError::NoAnswer),
    }
}

/// The configuration form of a room we own (XEP-0045 §10.2).
pub async fn config_form(handle: &Handle, room: &BareJid) -> Result<DataForm, QueryError> {
    let answer = query(
        handle,
        Jid::from(room.clone()),
        true,
        form::config_request(),
    )
    .await?;
    answer
        .as_ref()
        .and_then(DataForm::from_owner_query)
        .ok_or(QueryError::Malformed)
}

/// Sends the filled-in configuration form.
pub async fn submit_config(
    handle: &Handle,
    room: &BareJid,
    form: &DataForm,
) -> Result<(), QueryError> {
    query(
        handle,
        Jid::from(room.clone()),
        false,
        form::config_submit(form),
    )
    .await
    .map(|_| ())
}

/// One affiliation list of a room (members, admins, owners or outcasts), sorted.
pub async fn affiliation_list(
    handle: &Handle,
    room: &BareJid,
    affiliation: Affiliation,
) -> Result<Vec<Affiliated>, QueryError> {
    let answer = query(
        handle,
        Jid::from(room.clone()),
        true,
        affiliations::list_request(affiliation),
    )
    .await?;
    answer
        .as_ref()
        .and_then(affiliations::parse_list)
        .ok_or(QueryError::Malformed)
}

/// Puts an address on an affiliation list (`Affiliation::None` takes it off), and says
/// whether the room agreed.
pub async fn set_affiliation(
    handle: &Handle,
    room: &BareJid,
    jid: &BareJid,
    affiliation: Affiliation,
    reason: Option<&str>,
) -> Result<(), QueryError> {
    query(
        handle,
        Jid::from(room.clone()),
        false,
        affiliations::change_request(jid, affiliation, reason),
    )
    .await
    .map(|_| ())
}

async fn disco_items(handle: &Handle, to: Jid) -> Result<Vec<browse::Item>, QueryError> {
    let answer = query(handle, to, true, browse::items_query()).await?;
    answer
        .as_ref()
        .map(browse::parse_items)
        .ok_or(QueryError::Malformed)
}

async fn disco_info(handle: &Handle, to: Jid) -> Result<Element, QueryError> {
    query(handle, to, true, crate::xmpp::disco::info_query())
        .await?
        .ok_or(QueryError::Malformed)
}

/// The group chat service of the account's server: among the server's items, the
/// first whose identity is conference/text.
pub async fn find_muc_service(handle: &Handle, domain: &BareJid) -> Result<BareJid, QueryError> {
    let items = disco_items(handle, Jid::from(domain.clone())).await?;
    for item in items
        .into_iter()
        .filter(|i| i.jid.node().is_none() && i.jid.resource().is_none())
        .take(MAX_SERVICE_ITEMS)
    {
        // A component that does not answer is skipped, not fatal.
        if let Ok(info) = disco_info(handle, item.jid.clone()).await
            && browse::is_muc_service(&info)
        {
            return Ok(item.jid.to_bare());
        }
    }
    Err(QueryError::NoService)
}

/// The public rooms of a group chat service, sorted by address, without details yet.
pub async fn list_rooms(handle: &Handle, service: &BareJid) -> Result<Vec<Listing>, QueryError> {
    Ok(browse::rooms_of(
        disco_items(handle, Jid::from(service.clone())).await?,
    ))
}

/// What one room says about itself (name, occupant count, …).
pub async fn room_info(handle: &Handle, room: &BareJid) -> Result<RoomInfo, QueryError> {
    let info = disco_info(handle, Jid::from(room.clone())).await?;
    browse::parse_room_info(&info).ok_or(QueryError::Malformed)
}

/// Details for up to [`browse::INFO_BATCH`] of these rooms at once; rooms that do not
/// answer are left without.
pub async fn room_infos(handle: &Handle, rooms: Vec<BareJid>) -> Vec<(BareJid, RoomInfo)> {
    let asks = rooms
        .into_iter()
        .take(browse::INFO_BATCH)
        .map(|room| async move {
            let info = room_info(handle, &room).await.ok()?;
            Some((room, info))
        });
    futures::future::join_all(asks)
        .await
        .into_iter()
        .flatten()
        .collect()
}

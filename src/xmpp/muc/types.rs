//! The vocabulary of group chat: errors, roles, occupants, departures, events.

use crate::model::{ChatMessage, Show};
use std::collections::{BTreeMap, HashMap};
use xmpp_parsers::jid::BareJid;
use xmpp_parsers::stanza_error::{DefinedCondition, StanzaError};

/// Why joining or acting in a room failed, in a form the UI puts in words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MucError {
    #[error("that nickname is already in use in this room")]
    NicknameInUse,
    #[error("this room needs a password, or the password was wrong")]
    PasswordRequired,
    #[error("this room is for members only")]
    MembersOnly,
    #[error("you are banned from this room")]
    Banned,
    #[error("this room does not exist")]
    RoomNotFound,
    #[error("the group chat service is not available")]
    ServiceUnavailable,
    #[error("this room is full")]
    RoomFull,
    #[error("not allowed")]
    NotAllowed,
    #[error("the room refused: {0}")]
    Other(String),
}

impl MucError {
    /// Maps a stanza error from a room to what it means when joining.
    pub fn from_stanza_error(e: &StanzaError) -> MucError {
        use DefinedCondition as C;
        match e.defined_condition {
            C::Conflict => MucError::NicknameInUse,
            C::NotAuthorized => MucError::PasswordRequired,
            C::RegistrationRequired => MucError::MembersOnly,
            C::Forbidden => MucError::Banned,
            C::ItemNotFound => MucError::RoomNotFound,
            C::ServiceUnavailable | C::RemoteServerNotFound | C::RemoteServerTimeout => {
                MucError::ServiceUnavailable
            }
            C::NotAllowed => MucError::NotAllowed,
            ref other => {
                let text = e.texts.values().next().cloned().unwrap_or_default();
                MucError::Other(format!("{other:?} {text}").trim().to_owned())
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    Moderator,
    Participant,
    Visitor,
    None,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Affiliation {
    Owner,
    Admin,
    Member,
    None,
    Outcast,
}

/// Someone in a room, as their presence tells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Occupant {
    pub nick: String,
    pub role: Role,
    pub affiliation: Affiliation,
    /// Real address, only from presence in rooms that show it (never from messages).
    pub real_jid: Option<BareJid>,
    pub show: Show,
}

/// Why we (or someone) are no longer in a room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Exit {
    /// Left of their own accord (or we asked to leave).
    Left,
    Kicked,
    Banned,
    /// Affiliation changed so they may no longer be there (321).
    AffiliationChanged,
    /// The room became members-only (322).
    MembersOnly,
    /// The service is shutting down (332).
    Shutdown,
    /// The room was destroyed.
    Destroyed,
    /// The session lost the room (disconnect, failed self-ping).
    Lost,
}

/// Why a room is no longer joined, with the words the room gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Departure {
    pub exit: Exit,
    pub reason: Option<String>,
    pub actor: Option<String>,
}

/// An invitation to a room, direct (XEP-0249) or mediated by the room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invitation {
    pub room: BareJid,
    pub from: BareJid,
    pub reason: Option<String>,
    pub password: Option<String>,
    pub direct: bool,
}

/// What happened in a room.
#[derive(Debug, Clone, PartialEq)]
pub enum MucEvent {
    /// Our self-presence arrived: we are in. `occupants` are everyone already there.
    Joined {
        room: BareJid,
        nick: String,
        created: bool,
        occupants: Vec<Occupant>,
    },
    JoinFailed {
        room: BareJid,
        error: MucError,
    },
    /// Someone came in or changed role, affiliation or availability.
    Occupant {
        room: BareJid,
        occupant: Occupant,
        joined: bool,
    },
    OccupantLeft {
        room: BareJid,
        nick: String,
        departure: Departure,
    },
    NickChanged {
        room: BareJid,
        old: String,
        new: String,
        own: bool,
    },
    /// We are out of the room.
    Left {
        room: BareJid,
        departure: Departure,
    },
    Subject {
        room: BareJid,
        subject: String,
        by: Option<String>,
    },
    /// A room refused something we asked (nick change, subject, kick).
    Refused {
        room: BareJid,
        error: MucError,
    },
    /// What the room supports (from its disco#info).
    Features {
        room: BareJid,
        sid: bool,
        mam: bool,
        /// Occupants may change the subject (muc#roominfo_changesubject).
        subject_open: bool,
        /// Members-only and non-anonymous: OMEMO is possible (false when unknown).
        private: bool,
        /// The room's avatar hash (XEP-0486), when it has one.
        avatar: Option<crate::xmpp::avatar::AvatarHash>,
    },
    /// One message from a room's archive (not yet stored).
    Archived {
        room: BareJid,
        queryid: String,
        message: Box<ChatMessage>,
    },
    ArchivePage {
        room: BareJid,
        queryid: String,
        backward: bool,
        complete: bool,
        first: Option<String>,
        last: Option<String>,
        failed: bool,
    },
    /// XEP-0410: are we still in the room?
    SelfPing {
        room: BareJid,
        joined: bool,
    },
    Invitation(Invitation),
    Bookmarks(crate::xmpp::bookmarks::BookmarkEvent),
}

/// A room we are in or joining.
#[derive(Debug, Clone)]
pub struct Room {
    pub nick: String,
    pub joined: bool,
    pub sid: bool,
    /// The room stamps occupant ids (XEP-0421): only then is one believed.
    pub oid: bool,
    /// The room answered what it supports (`sid` and `oid` are its word, not defaults).
    pub features_known: bool,
    /// The occupant id our self-presence carried, as given: believed only with `oid`
    /// (see [`Room::own_occupant_id`]), whichever of the two came first.
    pub own_oid: Option<String>,
    pub occupants: BTreeMap<String, Occupant>,
}

impl Room {
    /// Our own occupant id (XEP-0421), when the room says it stamps them.
    pub fn own_occupant_id(&self) -> Option<&str> {
        self.own_oid.as_deref().filter(|_| self.oid)
    }

    /// The key our reactions in `room` count under (`model::extras::reactor_key`), the
    /// one the room's reflection of them will carry, and the name it shows: known once
    /// we are in and the room said whether it stamps occupant ids, and, when it does,
    /// told us ours.
    pub fn own_reactor(&self, room: &BareJid, own: &str) -> Option<(String, String)> {
        if !self.joined || !self.features_known {
            return None;
        }
        let oid = self.own_occupant_id();
        if self.oid && oid.is_none() {
            return None;
        }
        let key = crate::model::extras::reactor_key(
            &crate::ids::ConversationId::Room(room.clone()),
            crate::model::Direction::Outgoing,
            own,
            &self.nick,
            oid,
        );
        Some((key, self.nick.clone()))
    }
}

/// MUC part of the protocol state.
#[derive(Debug, Default)]
pub struct Rooms {
    pub rooms: HashMap<BareJid, Room>,
    /// Open room archive queries: query id -> room.
    pub(super) mam: HashMap<String, BareJid>,
    pub(crate) bookmarks: crate::xmpp::bookmarks::BookmarkState,
}

impl Rooms {
    pub fn get(&self, room: &BareJid) -> Option<&Room> {
        self.rooms.get(room)
    }

    /// A fresh stream: nobody is in any room any more.
    pub fn reset(&mut self) {
        self.rooms.clear();
        self.mam.clear();
    }
}

/// Answers we wait for from rooms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MucIq {
    Info(BareJid),
    /// Accepting the defaults of a room we created; we are "joined" once it is open.
    Instant(BareJid),
    Configure(BareJid),
    Action(BareJid),
    SelfPing(BareJid),
    Mam {
        room: BareJid,
        queryid: String,
        backward: bool,
    },
}

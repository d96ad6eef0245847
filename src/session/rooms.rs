//! What a session tells about group chat rooms (see `actor/rooms.rs` for the logic).

pub use crate::xmpp::bookmarks::Bookmark;
pub use crate::xmpp::muc::{Affiliation, Departure, Exit, Invitation, MucError, Occupant, Role};
use xmpp_parsers::jid::BareJid;

/// A change in a room we are in, joining, or were in.
#[derive(Debug, Clone, PartialEq)]
pub enum RoomUpdate {
    /// A join (or rejoin) was sent.
    Joining {
        room: BareJid,
        nick: String,
    },
    /// We are in; `occupants` is everyone there, us included.
    Joined {
        room: BareJid,
        nick: String,
        occupants: Vec<Occupant>,
    },
    /// We created the room (status 201); it is open with the default settings and
    /// the owner may configure it.
    Created {
        room: BareJid,
    },
    /// What the room allows everyone (from its disco#info on join).
    Info {
        room: BareJid,
        subject_open: bool,
    },
    /// The room refused to let us in.
    JoinFailed {
        room: BareJid,
        error: MucError,
    },
    /// Someone came in (`joined`) or changed role, affiliation or availability.
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
    Subject {
        room: BareJid,
        subject: String,
        by: Option<String>,
    },
    /// We are no longer in the room. `rejoin_in_secs` is set when the session rejoins
    /// by itself (connection trouble, service restart); otherwise the user decides.
    Left {
        room: BareJid,
        departure: Departure,
        rejoin_in_secs: Option<u64>,
    },
    /// The room refused a change we asked for (nick, subject, kick).
    Refused {
        room: BareJid,
        error: MucError,
    },
    Invitation(Invitation),
    /// The account's bookmarked rooms.
    Bookmarks(Vec<Bookmark>),
}

//! Faces in a room (issue #18): the room's avatar (XEP-0486) in its header, and each
//! occupant's picture in the occupant list and beside their messages; a coloured
//! initial (XEP-0392) where there is none. The session reports cached thumbnail files
//! (`session::room_faces`, at most `MAX_PER_ROOM` occupants a room); the room keeps
//! their paths and the renderer decodes a thumbnail only while it is drawn, so memory
//! follows what is on screen, not how many people are in the rooms.

use crate::ids::AccountId;
use crate::ui::room::Panel;
use crate::ui::room::joined::Room;
use crate::ui::widgets::avatar;
use iced::Element;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use xmpp_parsers::jid::BareJid;

/// Side of the room's face in its header.
pub const HEADER: f32 = 36.0;
/// Side of an occupant's face in the occupant list.
pub const LIST: f32 = 24.0;

/// The occupants' pictures of one room, by nick.
pub type Occupants = HashMap<String, PathBuf>;

impl Panel {
    /// Who shows which picture in `room` now (the session's `OccupantAvatars`).
    pub fn set_occupant_faces(
        &mut self,
        account: &AccountId,
        room: &BareJid,
        faces: Vec<(String, Option<PathBuf>)>,
    ) {
        let Some(r) = self.rooms.get_mut(&(account.clone(), room.clone())) else {
            return;
        };
        for (nick, path) in faces {
            match path {
                Some(path) => r.faces.insert(nick, path),
                None => r.faces.remove(&nick),
            };
        }
    }
}

impl Room {
    /// The picture of `nick` in this room.
    pub fn face_of(&self, nick: &str) -> Option<&Path> {
        self.faces.get(nick).map(PathBuf::as_path)
    }
}

/// The room's face in its header: its avatar, or its initial.
pub fn header<'a, M: 'a>(room: &BareJid, picture: Option<&Path>) -> Element<'a, M> {
    let label = room.node().map(|n| n.to_string()).unwrap_or_default();
    avatar::face(&label, room.as_str(), picture, HEADER)
}

/// An occupant's face in the occupant list (the colour of their nick).
pub fn occupant<'a, M: 'a>(nick: &str, picture: Option<&Path>) -> Element<'a, M> {
    avatar::face(nick, nick, picture, LIST)
}

//! Group chat in the session: joins, rejoins, room archive catch-up, bookmarks.

use super::Actor;
use crate::xmpp::muc::MucEvent;

impl Actor {
    pub(super) async fn on_muc(&mut self, event: MucEvent) {
        log::debug!("{}: {event:?}", self.own);
    }
}

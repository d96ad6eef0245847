//! Group chat helpers shared by `tests/muc.rs` and `tests/muc_tools.rs`: sessions of
//! fresh users, fresh room names on the test server's MUC component, joining.

use super::TestServer;
use super::session::{Updates, jid, local_params, wait_for};
use loquat::ids::AccountId;
use loquat::session::rooms::RoomUpdate;
use loquat::session::{Command, Handle, SessionParams, UpdateKind};
use loquat::store::Store;
use tokio_xmpp::parsers::jid::BareJid;

/// Session parameters of `user` on `server` (account id `acc-<user>`).
pub fn params(
    server: &TestServer,
    user: &str,
    password: &str,
    store: Option<Store>,
) -> SessionParams {
    local_params(
        AccountId(format!("acc-{user}")),
        server.c2s_port(),
        server.ca_pem(),
        user,
        password,
        store,
    )
}

/// A room address nobody used yet on `conference.localhost`.
pub fn fresh_room(prefix: &str) -> BareJid {
    jid(&format!(
        "{}@conference.localhost",
        super::unique_local(prefix)
    ))
}

pub fn join(h: &Handle, room: &BareJid, nick: &str, password: Option<&str>) {
    h.send(Command::JoinRoom {
        room: room.clone(),
        nick: nick.to_owned(),
        password: password.map(str::to_owned),
    })
    .expect("session alive");
}

/// Waits until we are in `room`; returns our nick.
pub async fn joined(u: &mut Updates, room: &BareJid) -> String {
    wait_for(u, 20, "room joined", |k| match k {
        UpdateKind::Room(RoomUpdate::Joined { room: r, nick, .. }) if r == room => {
            Some(nick.clone())
        }
        UpdateKind::Room(RoomUpdate::JoinFailed { room: r, error }) if r == room => {
            panic!("join failed: {error}")
        }
        _ => None,
    })
    .await
}

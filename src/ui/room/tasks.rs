//! Room tools that wait for the server (configuration form, browsing rooms) as iced
//! tasks: the panel queues a [`Request`], the app runs it on the account's session
//! handle and the answer comes back as a panel message.

use crate::session::Handle;
use crate::session::roomtools as tools;
use crate::ui::room::Message;
use crate::ui::room::browse;
use crate::ui::room::form;
use crate::ui::room::join;
use crate::ui::room::members;
use crate::ui::room::{joined, occupant_profile};
use crate::xmpp::muc::Affiliation;
use crate::xmpp::muc::form::DataForm;
use iced::Task;
use xmpp_parsers::jid::BareJid;

#[derive(Debug, Clone)]
pub enum Request {
    ConfigForm(BareJid),
    SubmitConfig(BareJid, DataForm),
    /// Find the group chat service of the account's server and list its rooms.
    Browse,
    RoomInfos(Vec<BareJid>),
    /// One affiliation list of a room.
    AffiliationList(BareJid, Affiliation),
    /// Put an address on an affiliation list (`None`: off every list).
    SetAffiliation(BareJid, BareJid, Affiliation, Option<String>),
    /// An occupant's profile (vCard and software, asked through the room).
    OccupantProfile(BareJid, String),
}

/// Runs one request on a session (`domain`: the account's server); the answer is a
/// panel message.
pub fn task(handle: Handle, domain: BareJid, request: Request) -> Task<Message> {
    match request {
        Request::ConfigForm(room) => Task::perform(
            async move { tools::config_form(&handle, &room).await },
            |r| Message::Config(form::Message::Loaded(r)),
        ),
        Request::SubmitConfig(room, form) => Task::perform(
            async move { tools::submit_config(&handle, &room, &form).await },
            |r| Message::Config(form::Message::Saved(r)),
        ),
        Request::Browse => Task::perform(
            async move {
                let service = tools::find_muc_service(&handle, &domain).await?;
                let rooms = tools::list_rooms(&handle, &service).await?;
                Ok((service, rooms))
            },
            |r| Message::Join(join::Message::Browse(browse::Message::Listed(r))),
        ),
        Request::AffiliationList(room, list) => Task::perform(
            async move { tools::affiliation_list(&handle, &room, list).await },
            move |r| Message::Members(members::Message::Loaded(list, r)),
        ),
        Request::SetAffiliation(room, jid, to, reason) => Task::perform(
            async move {
                let result =
                    tools::set_affiliation(&handle, &room, &jid, to, reason.as_deref()).await;
                (jid, result)
            },
            move |(jid, r)| Message::Members(members::Message::Changed(jid, to, r)),
        ),
        Request::OccupantProfile(room, nick) => Task::perform(
            async move {
                let profile = match room.with_resource_str(&nick) {
                    Ok(full) => crate::session::profile::fetch_occupant(&handle, &full).await,
                    Err(_) => Default::default(),
                };
                (room, nick, Box::new(profile))
            },
            |(room, nick, p)| {
                Message::Room(joined::Message::Profile(occupant_profile::Message::Loaded(
                    room, nick, p,
                )))
            },
        ),
        Request::RoomInfos(rooms) => Task::perform(
            async move { tools::room_infos(&handle, rooms).await },
            |r| Message::Join(join::Message::Browse(browse::Message::Infos(r))),
        ),
    }
}

//! The contact list: cached between runs (with its roster version, so the server sends
//! only changes), kept current from pushes, and changed on the user's commands.

use super::Actor;
use crate::model::Subscription;
use crate::session::{Command, UpdateKind};
use crate::xmpp::{self, Event, PendingIq};
use tokio_xmpp::parsers::presence::Type as PresenceType;

impl Actor {
    pub(super) async fn load_cached_roster(&mut self) {
        let account = self.account.clone();
        if let Some(Ok((version, contacts))) = self.with_store(move |s| s.roster(&account)).await {
            self.roster_version = version;
            self.roster = contacts;
            if !self.roster.is_empty() {
                self.emit(UpdateKind::Roster(self.roster.clone()));
            }
        }
    }

    async fn save_roster(&self) {
        let account = self.account.clone();
        let version = self.roster_version.clone();
        let contacts = self.roster.clone();
        if let Some(Err(e)) = self
            .with_store(move |s| s.save_roster(&account, version.as_deref(), &contacts))
            .await
        {
            log::warn!("could not cache the roster: {e}");
        }
    }

    /// The roster, a change to one contact, or a removal, from the server.
    pub(super) async fn on_roster_event(&mut self, event: Event) {
        match event {
            // A roster result without items: the cached one is current.
            Event::Roster {
                version,
                items: Some(items),
            } => {
                self.roster = items;
                self.roster_version = version;
                self.save_roster().await;
                self.emit(UpdateKind::Roster(self.roster.clone()));
            }
            Event::ContactChanged { version, contact } => {
                self.roster.retain(|c| c.jid != contact.jid);
                self.roster.push(contact.clone());
                if version.is_some() {
                    self.roster_version = version;
                }
                self.save_roster().await;
                self.release_receipts(&contact.jid).await;
                self.emit(UpdateKind::ContactChanged(contact));
            }
            Event::ContactRemoved { version, jid } => {
                self.roster.retain(|c| c.jid != jid);
                if version.is_some() {
                    self.roster_version = version;
                }
                self.save_roster().await;
                self.emit(UpdateKind::ContactRemoved(jid));
            }
            _ => {}
        }
    }

    /// Adding or removing a contact, answering a subscription request.
    pub(super) async fn on_roster_command(&mut self, command: Command) {
        match command {
            Command::AddContact {
                jid,
                name,
                subscribe,
            } => {
                let groups = self
                    .roster
                    .iter()
                    .find(|c| c.jid == jid)
                    .map(|c| c.groups.clone())
                    .unwrap_or_default();
                let set = self.proto.request(
                    PendingIq::RosterSet,
                    None,
                    false,
                    xmpp::roster::set_item(jid.clone(), name, groups),
                );
                self.send(set).await;
                if subscribe {
                    self.send(xmpp::presence::subscription(jid, PresenceType::Subscribe))
                        .await;
                }
            }
            Command::SetContactGroups { jid, name, groups } => {
                if !self.roster.iter().any(|c| c.jid == jid) {
                    return;
                }
                let set = self.proto.request(
                    PendingIq::RosterSet,
                    None,
                    false,
                    xmpp::roster::set_item(jid, name, xmpp::roster::clean_groups(groups)),
                );
                self.send(set).await;
            }
            Command::RenameGroup { from, to } => {
                for (jid, name, groups) in xmpp::roster::rename_group(&self.roster, &from, &to) {
                    let set = self.proto.request(
                        PendingIq::RosterSet,
                        None,
                        false,
                        xmpp::roster::set_item(jid, name, groups),
                    );
                    self.send(set).await;
                }
            }
            Command::RemoveContact { jid } => {
                let set = self.proto.request(
                    PendingIq::RosterSet,
                    None,
                    false,
                    xmpp::roster::remove_item(jid),
                );
                self.send(set).await;
            }
            Command::AnswerSubscription { jid, accept } => {
                let answer = if accept {
                    PresenceType::Subscribed
                } else {
                    PresenceType::Unsubscribed
                };
                self.send(xmpp::presence::subscription(jid.clone(), answer))
                    .await;
                let already = self.roster.iter().any(|c| {
                    c.jid == jid && matches!(c.subscription, Subscription::To | Subscription::Both)
                });
                if accept && !already {
                    // Ask back, as people expect a mutual subscription.
                    self.send(xmpp::presence::subscription(jid, PresenceType::Subscribe))
                        .await;
                }
            }
            _ => {}
        }
    }
}

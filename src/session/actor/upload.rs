//! The actor's side of HTTP File Upload: finding the service (once per stream) and
//! matching slot answers to their requesters.

use super::Actor;
use crate::ids::LocalMessageId;
use crate::model::{Attachment, ChatMessage, Delivery, Direction};
use crate::session::files::Reply;
use crate::xmpp::upload::{Slot, SlotError, UploadEvent, UploadIq, UploadService};
use crate::xmpp::{self, PendingIq};
use std::collections::HashMap;
use xmpp_parsers::jid::{BareJid, Jid};

type ServiceReply = Reply<Result<UploadService, SlotError>>;

#[derive(Default)]
enum Discovery {
    #[default]
    Unknown,
    /// Waiting for the server's items.
    Items,
    /// Waiting for `pending` info answers.
    Infos {
        pending: usize,
        found: Option<UploadService>,
    },
    Known(Option<UploadService>),
}

/// Upload requests in flight.
#[derive(Default)]
pub(super) struct Uploads {
    discovery: Discovery,
    waiters: Vec<ServiceReply>,
    slots: HashMap<u64, Reply<Result<Slot, SlotError>>>,
    next_token: u64,
}

impl Actor {
    /// A new stream forgot our questions: ask again next time.
    pub(super) fn upload_reset(&mut self) {
        if !matches!(self.uploads.discovery, Discovery::Known(_)) {
            self.uploads.discovery = Discovery::Unknown;
            for w in self.uploads.waiters.drain(..) {
                w.send(Err(SlotError::Refused(
                    "the connection was reset; try again".to_owned(),
                )));
            }
        }
        for (_, r) in self.uploads.slots.drain() {
            r.send(Err(SlotError::Refused(
                "the connection was reset; try again".to_owned(),
            )));
        }
    }

    pub(super) async fn find_upload_service(&mut self, reply: ServiceReply) {
        match &self.uploads.discovery {
            Discovery::Known(Some(s)) => return reply.send(Ok(s.clone())),
            Discovery::Known(None) => return reply.send(Err(SlotError::NoService)),
            Discovery::Items | Discovery::Infos { .. } => {
                self.uploads.waiters.push(reply);
                return;
            }
            Discovery::Unknown => {}
        }
        self.uploads.waiters.push(reply);
        self.uploads.discovery = Discovery::Items;
        let Ok(domain) = Jid::new(self.own.domain().as_str()) else {
            self.finish_discovery(None);
            return;
        };
        let iq = self.proto.request(
            PendingIq::Upload(UploadIq::Items),
            Some(domain),
            true,
            xmpp::upload::items_query(),
        );
        self.send(iq).await;
    }

    pub(super) async fn request_slot(
        &mut self,
        service: Jid,
        filename: String,
        size: u64,
        content_type: Option<String>,
        reply: Reply<Result<Slot, SlotError>>,
    ) {
        self.uploads.next_token += 1;
        let token = self.uploads.next_token;
        self.uploads.slots.insert(token, reply);
        let iq = self.proto.request(
            PendingIq::Upload(UploadIq::Slot { token }),
            Some(service),
            true,
            xmpp::upload::slot_request(&filename, size, content_type.as_deref()),
        );
        self.send(iq).await;
    }

    fn finish_discovery(&mut self, found: Option<UploadService>) {
        self.uploads.discovery = Discovery::Known(found.clone());
        for w in self.uploads.waiters.drain(..) {
            w.send(found.clone().ok_or(SlotError::NoService));
        }
    }

    pub(super) async fn on_upload_event(&mut self, event: UploadEvent) {
        match event {
            UploadEvent::Items(items) => {
                if !matches!(self.uploads.discovery, Discovery::Items) {
                    return;
                }
                // The domain itself may host the service too.
                let mut targets = items;
                if let Ok(domain) = Jid::new(self.own.domain().as_str())
                    && !targets.contains(&domain)
                {
                    targets.push(domain);
                }
                self.uploads.discovery = Discovery::Infos {
                    pending: targets.len(),
                    found: None,
                };
                for jid in targets {
                    let iq = self.proto.request(
                        PendingIq::Upload(UploadIq::Info { jid: jid.clone() }),
                        Some(jid),
                        true,
                        xmpp::upload::info_query(),
                    );
                    self.send(iq).await;
                }
            }
            UploadEvent::Info { service, .. } => {
                let Discovery::Infos { pending, found } = &mut self.uploads.discovery else {
                    return;
                };
                *pending = pending.saturating_sub(1);
                if found.is_none() {
                    *found = service;
                }
                if *pending == 0 || found.is_some() {
                    let found = found.clone();
                    self.finish_discovery(found);
                }
            }
            UploadEvent::Slot { token, result } => {
                if let Some(reply) = self.uploads.slots.remove(&token) {
                    reply.send(result);
                }
            }
        }
    }

    /// Shares an uploaded file: stored first, then sent with the URL as body and OOB.
    pub(super) async fn send_attachment(
        &mut self,
        to: BareJid,
        attachment: Attachment,
        id: LocalMessageId,
    ) {
        let message = ChatMessage {
            truncated: false,
            extras: Default::default(),
            id: id.clone(),
            account: self.account.clone(),
            conversation: crate::ids::ConversationId::Chat(to.clone()),
            direction: Direction::Outgoing,
            sender: String::new(),
            body: attachment.url.clone(),
            timestamp_ms: super::now_ms(),
            stanza_id_attr: Some(id.0.clone()),
            origin_id: Some(id.0.clone()),
            server_id: None,
            delivery: Delivery::Pending,
            attachment: Some(Box::new(attachment.clone())),
        };
        if !self.store_message(message).await {
            return;
        }
        self.transmit_with(to, &attachment.url, id, Some(&attachment.url), None, None)
            .await;
    }
}

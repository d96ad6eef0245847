//! OMEMO 2 in the actor (beside 0.3, for 1:1 chats): contacts' and our OMEMO 2 device
//! lists and bundles, and the choice per recipient device of the version a message is
//! encrypted in (OMEMO 2 for a device that publishes only OMEMO 2 and has an OMEMO 2
//! session, 0.3 otherwise; a message may carry both `<encrypted>` elements). See
//! `crate::omemo::v2`.

use super::super::Actor;
use super::Ask;
use crate::omemo::OmemoError;
use crate::session::omemo as decide;
use crate::xmpp::omemo2 as x2;
use xmpp_parsers::jid::BareJid;
use xmpp_parsers::minidom::Element;

impl Actor {
    /// `jid`'s OMEMO 2 devices are `list`: remember them (in the union the plan reads)
    /// and fetch the OMEMO 2 bundles of those we have no OMEMO 2 session with.
    pub(super) async fn omemo_devices_known_v2(&mut self, jid: BareJid, list: Vec<u32>) {
        let ours = self.crypto.with(|o| o.device_id());
        let missing: Vec<u32> = list
            .iter()
            .copied()
            .filter(|d| !(jid == self.own && Some(*d) == ours))
            .filter(|d| {
                self.crypto
                    .with(|o| o.has_session_v2(jid.as_str(), *d).unwrap_or(false))
                    == Some(false)
            })
            .collect();
        self.crypto.set_list(&jid, true, list);
        for d in missing {
            self.omemo_fetch_bundle_v2(jid.clone(), d, false).await;
        }
        self.omemo_bundle_done(&jid).await;
    }

    /// Asks for `jid`'s OMEMO 2 bundle of `device`; messages to `jid` wait for it.
    /// `repair`: a session is built even over one we have, and an empty OMEMO 2 message
    /// (a key exchange) follows it.
    pub(super) async fn omemo_fetch_bundle_v2(&mut self, jid: BareJid, device: u32, repair: bool) {
        self.omemo_ask(
            Ask::Bundle2 {
                jid: jid.clone(),
                device,
                repair,
            },
            Some(jid),
            true,
            x2::bundle_request(device),
        )
        .await;
    }

    /// An OMEMO 2 bundle came (or did not): build the session; after a `repair` (a
    /// message that did not decrypt: no session or a bad MAC) the fresh session replaces
    /// the old one and an empty message carrying its key exchange goes to the device, so
    /// its next messages decrypt.
    pub(super) async fn omemo_bundle_v2(
        &mut self,
        jid: BareJid,
        device: u32,
        repair: bool,
        result: &Result<Option<Element>, xmpp_parsers::stanza_error::StanzaError>,
    ) {
        let bundle = result
            .as_ref()
            .ok()
            .and_then(Option::as_ref)
            .and_then(crate::omemo::xml::first_item)
            .and_then(|b| x2::parse_bundle(b).ok());
        match bundle {
            Some(b) => match self
                .crypto
                .with(|o| o.build_session_v2(jid.as_str(), device, &b))
            {
                Some(Ok(())) if repair => {
                    self.omemo_empty_v2(&jid, device).await;
                    log::info!("{}: OMEMO 2 session with {jid}/{device} repaired", self.own);
                }
                Some(Err(e)) => {
                    log::info!("{}: no OMEMO 2 session with {jid}/{device}: {e}", self.own)
                }
                _ => {}
            },
            None => log::info!("{}: no OMEMO 2 bundle for {jid}/{device}", self.own),
        }
        self.omemo_bundle_done(&jid).await;
    }

    /// Encrypts `body` for `devices` (a chat with `to`): in OMEMO 2 for those that
    /// publish only it and have an OMEMO 2 session, in 0.3 for the others. The
    /// `<encrypted>` elements to send, or why nothing may go.
    pub(super) fn omemo_seal_chat(
        &self,
        to: &BareJid,
        body: &str,
        devices: &[(BareJid, u32)],
    ) -> Result<Vec<Element>, String> {
        self.omemo_seal(
            to,
            body,
            devices,
            true,
            |j| j == to,
            || format!("no device of {to} could be encrypted to"),
        )
    }

    /// The one "encrypt, and fail unless someone who must read it can" for chats and
    /// rooms (`target`, for the reasons): `body` for `devices` (OMEMO 2 where `v2` allows and the device publishes
    /// only OMEMO 2 with a session, else 0.3); an error, with `nobody()` and the reasons,
    /// when no device for which `needed` holds could be encrypted to, in any version.
    pub(super) fn omemo_seal(
        &self,
        target: &BareJid,
        body: &str,
        devices: &[(BareJid, u32)],
        v2: bool,
        needed: impl Fn(&BareJid) -> bool,
        nobody: impl FnOnce() -> String,
    ) -> Result<Vec<Element>, String> {
        // OMEMO 2 only for a device that publishes it and not 0.3: a device speaking both
        // keeps getting 0.3 (the version every client of ours was proven with so far).
        let speaks_v2 = |j: &BareJid, d: u32| {
            v2 && self.crypto.lists2.get(j).is_some_and(|l| l.contains(&d))
                && !self.crypto.lists03.get(j).is_some_and(|l| l.contains(&d))
                && self.crypto.with(|o| o.has_session_v2(j.as_str(), d)) == Some(Ok(true))
        };
        let (new, old): (Vec<_>, Vec<_>) = devices.iter().partition(|(j, d)| speaks_v2(j, *d));
        let own = self.own.to_string();
        let mut elements = Vec::new();
        let mut skipped: Vec<(String, u32, OmemoError)> = Vec::new();
        for (group, is_v2) in [(new, true), (old, false)] {
            if group.is_empty() {
                continue;
            }
            let refs: Vec<(&str, u32)> = group.iter().map(|(j, d)| (j.as_str(), *d)).collect();
            let sealed = self.crypto.with(|o| {
                if is_v2 {
                    o.encrypt_v2(&own, body, &refs)
                } else {
                    o.encrypt(body, &refs)
                }
            });
            match sealed {
                Some(Ok(out)) => {
                    elements.push(out.element);
                    skipped.extend(out.skipped);
                }
                Some(Err(OmemoError::NoRecipients)) => {
                    skipped.extend(refs.iter().map(|(j, d)| {
                        let e = OmemoError::NoSession {
                            jid: (*j).to_owned(),
                            device: *d,
                        };
                        ((*j).to_owned(), *d, e)
                    }));
                }
                Some(Err(e)) => return Err(format!("could not encrypt for {target}: {e}")),
                None => return Err("OMEMO is not available".to_owned()),
            }
        }
        let wanted = devices.iter().filter(|(j, _)| needed(j)).count();
        let left_out = skipped
            .iter()
            .filter(|(j, _, _)| j.parse::<BareJid>().is_ok_and(|j| needed(&j)))
            .count();
        if elements.is_empty() || left_out >= wanted {
            let why: Vec<String> = skipped.iter().map(|(_, _, e)| e.to_string()).collect();
            return Err(format!("{} ({})", nobody(), why.join("; ")));
        }
        Ok(elements)
    }
}

impl super::Crypto {
    /// `jid`'s device list in one version; the union of both is what the plan, the lock
    /// and the trust report read (`devices`).
    pub(super) fn set_list(&mut self, jid: &BareJid, v2: bool, list: Vec<u32>) {
        if v2 {
            self.lists2.insert(jid.clone(), list);
        } else {
            self.lists03.insert(jid.clone(), list);
        }
        let mut union = self.lists03.get(jid).cloned().unwrap_or_default();
        for d in self.lists2.get(jid).into_iter().flatten() {
            if !union.contains(d) {
                union.push(*d);
            }
        }
        self.devices.insert(jid.clone(), union);
    }
}

/// Whether an answer to an OMEMO 2 device-list request means "none" (see
/// [`decide::means_no_devices`]).
pub(super) fn no_list(e: &xmpp_parsers::stanza_error::StanzaError) -> bool {
    decide::means_no_devices(&e.defined_condition)
}

//! Which delay stamps (XEP-0203) we believe.
//!
//! A `<delay>` inside a message is only a claim; anyone can write one, and a stamp
//! from years ago would file a new message deep in old history, where nobody sees it.
//! So a message's time comes from a delay only when the entity that adds it is one we
//! trust: our own server (offline storage, stream resumption: `from` our domain), a
//! room we are in (its history: `from` the room; Prosody strips sender delays that
//! claim to be from the room), or the archive that wraps the message in
//! `<forwarded>` (its delay is outside the sender's message). Every other delay is
//! removed and the message gets its arrival time.

use xmpp_parsers::delay::Delay;
use xmpp_parsers::jid::{BareJid, Jid};
use xmpp_parsers::message::Message;
use xmpp_parsers::ns;

/// Removes every delay from `m`; returns the last one that `trusted` added.
pub(super) fn take_trusted(m: &mut Message, trusted: &Jid) -> Option<Delay> {
    let mut found = None;
    m.payloads.retain(|el| {
        if !el.is("delay", ns::DELAY) {
            return true;
        }
        if let Ok(d) = Delay::try_from(el.clone())
            && d.from.as_ref() == Some(trusted)
        {
            found = Some(d);
        }
        false
    });
    found
}

/// Our own server, as it names itself in the delays it adds.
pub(super) fn own_server(own: &BareJid) -> Jid {
    Jid::from(BareJid::from_parts(None, own.domain()))
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::super::*;
    use crate::model::ChatMessage;

    /// 2020-01-01T00:00:00Z, a stamp a sender uses to back-date a message.
    const OLD: &str = "2020-01-01T00:00:00Z";
    const OLD_MS: i64 = 1_577_836_800_000;
    const NOW: i64 = 2_000_000_000_000;

    fn message(ev: Vec<Event>) -> ChatMessage {
        ev.into_iter()
            .find_map(|e| match e {
                Event::Message { message, .. } => Some(*message),
                Event::Archived { message, .. } => Some(*message),
                _ => None,
            })
            .unwrap_or_else(|| unreachable!("no message"))
    }

    fn live(delay_from: &str) -> Stanza {
        stanza(&format!(
            "<message xmlns='jabber:client' type='chat' from='bob@example.org/phone'>\
             <body>late</body><delay xmlns='urn:xmpp:delay' {delay_from} stamp='{OLD}'/></message>"
        ))
    }

    #[test]
    fn a_senders_delay_does_not_back_date_a_live_message() {
        for from in ["", "from='bob@example.org/phone'", "from='example.com'"] {
            let m = message(state().handle(live(from), NOW));
            assert_eq!(m.timestamp_ms, NOW, "delay {from:?} was believed");
        }
    }

    #[test]
    fn our_servers_delay_dates_an_offline_message() {
        let m = message(state().handle(live("from='example.org'"), NOW));
        // Whole seconds: the end of that second, so it sorts after what came live then.
        assert_eq!(m.timestamp_ms, OLD_MS + 999);
    }

    #[test]
    fn a_carbon_keeps_its_arrival_time_whatever_the_sender_wrote() {
        let ev = state().handle(
            stanza(&format!(
                "<message xmlns='jabber:client' from='me@example.org' to='me@example.org/desk' type='chat'>\
                 <received xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'>\
                 <message xmlns='jabber:client' from='bob@example.org/phone' to='me@example.org/phone' type='chat'>\
                 <body>hi</body><delay xmlns='urn:xmpp:delay' stamp='{OLD}'/></message>\
                 </forwarded></received></message>"
            )),
            NOW,
        );
        assert_eq!(message(ev).timestamp_ms, NOW);
    }

    #[test]
    fn an_archive_result_is_dated_by_the_archive_not_the_sender() {
        let mut s = state();
        let st = s.mam_query(mam::From::Newest);
        let Stanza::Iq(Iq::Set { payload, .. }) = st else {
            unreachable!()
        };
        let qid = payload.attr("queryid").unwrap_or_default().to_owned();
        let ev = s.handle(
            stanza(&format!(
                "<message xmlns='jabber:client' to='me@example.org/desk'>\
                 <result xmlns='urn:xmpp:mam:2' queryid='{qid}' id='A1'>\
                 <forwarded xmlns='urn:xmpp:forward:0'><delay xmlns='urn:xmpp:delay' stamp='2024-05-01T10:00:00.250Z'/>\
                 <message xmlns='jabber:client' from='bob@example.org/phone' to='me@example.org' type='chat'>\
                 <body>archived</body><delay xmlns='urn:xmpp:delay' from='example.org' stamp='{OLD}'/></message>\
                 </forwarded></result></message>"
            )),
            NOW,
        );
        assert_eq!(message(ev).timestamp_ms, 1_714_557_600_250);
    }
}

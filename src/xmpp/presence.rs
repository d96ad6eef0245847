//! RFC 6121 presence: availability of contacts, subscription requests, our own presence.

use super::{Event, ProtoState};
use crate::model::Show;
use xmpp_parsers::jid::{BareJid, Jid};
use xmpp_parsers::presence::{Presence, Show as XShow, Type};
use xmpp_parsers::stanza::Stanza;

pub fn handle(state: &mut ProtoState, p: Presence) -> Vec<Event> {
    let Some(from) = p.from.clone() else {
        return vec![Event::Dropped("presence without sender".to_owned())];
    };
    let status = p
        .statuses
        .values()
        .next()
        .map(|s| super::short_text(s))
        .filter(|s| !s.trim().is_empty());
    match p.type_ {
        Type::None => vec![Event::Presence {
            from,
            show: match p.show {
                None => Show::Online,
                Some(XShow::Chat) => Show::Chat,
                Some(XShow::Away) => Show::Away,
                Some(XShow::Xa) => Show::ExtendedAway,
                Some(XShow::Dnd) => Show::DoNotDisturb,
            },
            status,
        }],
        Type::Unavailable => vec![Event::Presence {
            from,
            show: Show::Offline,
            status,
        }],
        Type::Subscribe => {
            let bare = from.to_bare();
            if bare == state.own {
                return vec![Event::Dropped(
                    "subscription request from ourselves".to_owned(),
                )];
            }
            vec![Event::SubscriptionRequest(bare)]
        }
        // Subscription state changes arrive as roster pushes too; nothing more to do.
        Type::Subscribed | Type::Unsubscribe | Type::Unsubscribed | Type::Probe => Vec::new(),
        Type::Error => vec![Event::Dropped(format!("presence error from {from}"))],
    }
}

/// Our own availability, with entity capabilities (XEP-0115).
pub fn own(show: Show, status: Option<&str>) -> Stanza {
    let mut p = match show {
        Show::Offline => Presence::unavailable(),
        _ => Presence::available(),
    };
    p.show = match show {
        Show::Chat => Some(XShow::Chat),
        Show::Away => Some(XShow::Away),
        Show::ExtendedAway => Some(XShow::Xa),
        Show::DoNotDisturb => Some(XShow::Dnd),
        Show::Online | Show::Offline => None,
    };
    if let Some(s) = status.filter(|s| !s.trim().is_empty()) {
        p.set_status("", s);
    }
    if show != Show::Offline
        && let Some(caps) = super::disco::caps()
    {
        p.add_payload(caps);
    }
    Stanza::Presence(p)
}

/// A subscription request, or an answer to one.
pub fn subscription(to: BareJid, type_: Type) -> Stanza {
    Stanza::Presence(Presence::new(type_).with_to(Jid::from(to)))
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::super::*;
    use super::*;

    #[test]
    fn availability_and_status_are_read() {
        let mut s = state();
        let ev = s.handle(
            stanza(
                "<presence xmlns='jabber:client' from='bob@example.org/phone'>\
                 <show>dnd</show><status>In a meeting</status></presence>",
            ),
            0,
        );
        assert_eq!(
            ev,
            vec![Event::Presence {
                from: Jid::new("bob@example.org/phone").unwrap_or_else(|_| unreachable!()),
                show: Show::DoNotDisturb,
                status: Some("In a meeting".into())
            }]
        );
        let ev = s.handle(
            stanza(
                "<presence xmlns='jabber:client' type='unavailable' from='bob@example.org/phone'/>",
            ),
            0,
        );
        assert!(matches!(
            ev.as_slice(),
            [Event::Presence {
                show: Show::Offline,
                ..
            }]
        ));
    }

    #[test]
    fn subscription_request_is_reported() {
        let mut s = state();
        let ev = s.handle(
            stanza("<presence xmlns='jabber:client' type='subscribe' from='carol@example.net'/>"),
            0,
        );
        assert!(
            matches!(ev.as_slice(), [Event::SubscriptionRequest(j)] if j.as_str() == "carol@example.net")
        );
    }

    #[test]
    fn own_presence_carries_show_status_and_caps() {
        let xml = to_xml(&own(Show::Away, Some("lunch")));
        assert!(xml.contains("<show>away</show>"), "{xml}");
        assert!(xml.contains("lunch"), "{xml}");
        assert!(xml.contains("http://jabber.org/protocol/caps"), "{xml}");
        let xml = to_xml(&own(Show::Offline, None));
        assert!(xml.contains("unavailable"), "{xml}");
    }
}

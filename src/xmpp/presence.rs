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
    own_with_photo(show, status, None)
}

/// [`own`], with our avatar's hash (XEP-0153 `vcard-temp:x:update`) when we know it.
/// An unknown avatar is left out, never sent as an empty `<photo/>` (which would say
/// we have none).
pub fn own_with_photo(
    show: Show,
    status: Option<&str>,
    photo: Option<&super::avatar::AvatarHash>,
) -> Stanza {
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
    if show != Show::Offline
        && let Some(hash) = photo
    {
        p.payloads.push(
            xmpp_parsers::minidom::Element::builder("x", super::avatar::NS_VCARD_UPDATE)
                .append(
                    xmpp_parsers::minidom::Element::builder(
                        "photo",
                        super::avatar::NS_VCARD_UPDATE,
                    )
                    .append(hash.as_str())
                    .build(),
                )
                .build(),
        );
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

    #[test]
    fn own_presence_carries_our_photo_hash_only_when_known() {
        use crate::xmpp::avatar::{AvatarHash, PhotoUpdate, presence_photo};
        let hash = AvatarHash::of(b"picture");
        let Stanza::Presence(p) = own_with_photo(Show::Online, None, Some(&hash)) else {
            unreachable!()
        };
        // Read back as any contact reads it.
        assert_eq!(presence_photo(&p), Some(PhotoUpdate::Hash(hash.clone())));
        // Unknown: no `vcard-temp:x:update` at all (an empty <photo/> would say "none").
        let Stanza::Presence(p) = own_with_photo(Show::Away, None, None) else {
            unreachable!()
        };
        assert_eq!(presence_photo(&p), None);
        // Going offline says nothing about it.
        let xml = to_xml(&own_with_photo(Show::Offline, None, Some(&hash)));
        assert!(!xml.contains("vcard-temp"), "{xml}");
    }
}

//! RFC 6121 roster: get with versioning, pushes, add/rename/remove.

use super::Event;
use crate::model::{Contact, Subscription};
use xmpp_parsers::jid::BareJid;
use xmpp_parsers::minidom::Element;
use xmpp_parsers::roster::{Ask, Group, Item, Roster, Subscription as Sub};

/// `<query xmlns='jabber:iq:roster' ver='..'/>` for a roster get.
pub fn query(version: Option<String>) -> Element {
    Roster {
        ver: version,
        items: Vec::new(),
    }
    .into()
}

/// Adds or renames one item.
pub fn set_item(jid: BareJid, name: Option<String>, groups: Vec<String>) -> Element {
    Roster {
        ver: None,
        items: vec![Item {
            jid,
            name: name.filter(|n| !n.trim().is_empty()),
            subscription: Sub::None,
            ask: Ask::None,
            groups: groups.into_iter().map(Group).collect(),
            approved: None,
        }],
    }
    .into()
}

/// Longest group name kept or sent (servers cap them too, e.g. Prosody at 1023 bytes).
pub const MAX_GROUP_CHARS: usize = 256;
/// Most groups one contact is put in.
pub const MAX_GROUPS: usize = 64;

/// Group names as we send them: trimmed, not empty, not longer than
/// [`MAX_GROUP_CHARS`], each once (first spelling kept), at most [`MAX_GROUPS`].
pub fn clean_groups(groups: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for g in groups {
        let g: String = g.trim().chars().take(MAX_GROUP_CHARS).collect();
        if !g.is_empty() && !out.contains(&g) && out.len() < MAX_GROUPS {
            out.push(g);
        }
    }
    out
}

/// The roster sets that rename group `from` to `to` (an empty `to` removes the group):
/// one per member, with its name and its other groups kept.
pub fn rename_group(
    roster: &[Contact],
    from: &str,
    to: &str,
) -> Vec<(BareJid, Option<String>, Vec<String>)> {
    roster
        .iter()
        .filter(|c| c.groups.iter().any(|g| g == from))
        .map(|c| {
            let groups = c
                .groups
                .iter()
                .map(|g| if g == from { to.to_owned() } else { g.clone() });
            (c.jid.clone(), c.name.clone(), clean_groups(groups))
        })
        .collect()
}

/// Removes one item (which also cancels subscriptions both ways).
pub fn remove_item(jid: BareJid) -> Element {
    Roster {
        ver: None,
        items: vec![Item {
            jid,
            name: None,
            subscription: Sub::Remove,
            ask: Ask::None,
            groups: Vec::new(),
            approved: None,
        }],
    }
    .into()
}

fn contact(item: Item) -> Option<Contact> {
    let subscription = match item.subscription {
        Sub::None => Subscription::None,
        Sub::To => Subscription::To,
        Sub::From => Subscription::From,
        Sub::Both => Subscription::Both,
        Sub::Remove => return None,
    };
    Some(Contact {
        jid: item.jid,
        name: item.name.map(|n| super::short_text(&n)),
        subscription,
        pending_out: matches!(item.ask, Ask::Subscribe),
        groups: item.groups.into_iter().map(|g| g.0).collect(),
    })
}

/// The answer to our roster get. An empty result means "your cached copy is current".
pub fn result(payload: Option<Element>) -> Vec<Event> {
    let Some(payload) = payload else {
        return vec![Event::Roster {
            version: None,
            items: None,
        }];
    };
    match Roster::try_from(payload) {
        Ok(r) => vec![Event::Roster {
            version: r.ver,
            items: Some(r.items.into_iter().filter_map(contact).collect()),
        }],
        Err(e) => vec![Event::Dropped(format!("malformed roster: {e}"))],
    }
}

/// A roster push (already checked to come from our own account).
pub fn push(payload: Element) -> Vec<Event> {
    match Roster::try_from(payload) {
        Ok(r) => {
            let version = r.ver;
            r.items
                .into_iter()
                .map(|item| {
                    let jid = item.jid.clone();
                    match contact(item) {
                        Some(contact) => Event::ContactChanged {
                            version: version.clone(),
                            contact,
                        },
                        None => Event::ContactRemoved {
                            version: version.clone(),
                            jid,
                        },
                    }
                })
                .collect()
        }
        Err(e) => vec![Event::Dropped(format!("malformed roster push: {e}"))],
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::super::*;
    use super::*;

    #[test]
    fn push_from_own_account_changes_the_roster() {
        let mut s = state();
        let ev = s.handle(
            stanza(
                "<iq xmlns='jabber:client' type='set' id='p1'>\
                 <query xmlns='jabber:iq:roster' ver='v2'>\
                 <item jid='bob@example.org' name='Bob' subscription='to' ask='subscribe'><group>Friends</group></item>\
                 </query></iq>",
            ),
            0,
        );
        match ev.as_slice() {
            [
                Event::ContactChanged { version, contact },
                Event::Reply(reply),
            ] => {
                assert_eq!(version.as_deref(), Some("v2"));
                assert_eq!(contact.jid.as_str(), "bob@example.org");
                assert_eq!(contact.name.as_deref(), Some("Bob"));
                assert!(contact.pending_out);
                assert_eq!(contact.groups, vec!["Friends".to_string()]);
                assert!(to_xml(reply).contains("type='result'"));
            }
            other => unreachable!("{other:?}"),
        }
    }

    #[test]
    fn push_with_our_bare_jid_as_sender_is_accepted_and_remove_works() {
        let mut s = state();
        let ev = s.handle(
            stanza(
                "<iq xmlns='jabber:client' type='set' id='p2' from='me@example.org'>\
                 <query xmlns='jabber:iq:roster'><item jid='bob@example.org' subscription='remove'/></query></iq>",
            ),
            0,
        );
        assert!(
            matches!(ev.first(), Some(Event::ContactRemoved { jid, .. }) if jid.as_str() == "bob@example.org"),
            "{ev:?}"
        );
    }

    #[test]
    fn forged_push_is_ignored() {
        let mut s = state();
        for from in [
            "mallory@evil.example",
            "me@example.org/other",
            "example.org",
        ] {
            let ev = s.handle(
                stanza(&format!(
                    "<iq xmlns='jabber:client' type='set' id='p3' from='{from}'>\
                     <query xmlns='jabber:iq:roster'><item jid='mallory@evil.example' subscription='both'/></query></iq>"
                )),
                0,
            );
            assert!(
                !ev.iter().any(|e| matches!(
                    e,
                    Event::ContactChanged { .. } | Event::ContactRemoved { .. }
                )),
                "{from}: {ev:?}"
            );
            assert!(
                ev.iter()
                    .any(|e| matches!(e, Event::Reply(r) if to_xml(r).contains("error")))
            );
        }
    }

    #[test]
    fn empty_result_means_cached_roster_is_current() {
        assert_eq!(
            result(None),
            vec![Event::Roster {
                version: None,
                items: None
            }]
        );
    }

    fn contact(jid: &str, name: Option<&str>, groups: &[&str]) -> Contact {
        Contact {
            jid: BareJid::new(jid).unwrap_or_else(|_| unreachable!()),
            name: name.map(str::to_owned),
            subscription: Subscription::Both,
            pending_out: false,
            groups: groups.iter().map(|g| (*g).to_owned()).collect(),
        }
    }

    #[test]
    fn renaming_a_group_sets_each_member_once_keeping_its_other_groups() {
        let roster = vec![
            contact("a@x", Some("A"), &["Work", "Friends"]),
            contact("b@x", None, &["Work"]),
            contact("c@x", None, &["Family"]),
            // Already in the target group: it is not in it twice afterwards.
            contact("d@x", None, &["Work", "Office"]),
        ];
        let sets = rename_group(&roster, "Work", "Office");
        let got: Vec<(String, Option<String>, Vec<String>)> = sets
            .into_iter()
            .map(|(j, n, g)| (j.to_string(), n, g))
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    "a@x".into(),
                    Some("A".into()),
                    vec!["Office".into(), "Friends".into()]
                ),
                ("b@x".into(), None, vec!["Office".into()]),
                ("d@x".into(), None, vec!["Office".into()]),
            ]
        );
        // An empty name takes them out of the group.
        let sets = rename_group(&roster, "Family", "  ");
        assert_eq!(sets.len(), 1);
        assert!(sets[0].2.is_empty());
        // The sets serialise with their groups.
        let (jid, name, groups) = rename_group(&roster, "Friends", "Pals").remove(0);
        let xml = String::from(&set_item(jid, name, groups));
        assert!(
            xml.contains("<group>Pals</group>") && xml.contains("<group>Work</group>"),
            "{xml}"
        );
    }

    #[test]
    fn group_names_are_cleaned_and_capped() {
        let long = "g".repeat(1000);
        let mut many: Vec<String> = (0..100).map(|i| format!("g{i}")).collect();
        many.insert(0, " Work ".into());
        many.insert(1, "Work".into());
        many.insert(2, String::new());
        many.insert(3, long);
        let cleaned = clean_groups(many);
        assert_eq!(cleaned.len(), MAX_GROUPS);
        assert_eq!(cleaned[0], "Work");
        assert_eq!(cleaned[1].chars().count(), MAX_GROUP_CHARS);
    }

    #[test]
    fn queries_serialise() {
        let xml = String::from(&query(Some("v9".into())));
        assert!(xml.contains("ver='v9'"), "{xml}");
        let jid = BareJid::new("x@y").unwrap_or_else(|_| unreachable!());
        let xml = String::from(&remove_item(jid));
        assert!(xml.contains("subscription='remove'"), "{xml}");
    }
}

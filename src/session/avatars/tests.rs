use super::*;
use crate::xmpp::avatar::Info;

fn jid(s: &str) -> BareJid {
    BareJid::new(s).unwrap()
}

fn meta(hash: &AvatarHash) -> Metadata {
    Metadata::Set(vec![Info {
        id: hash.clone(),
        bytes: 100,
        mime: "image/png".into(),
        width: None,
        height: None,
        url: None,
    }])
}

#[test]
fn strangers_are_never_fetched() {
    let mut a = Avatars::default();
    let h = AvatarHash::of(b"x");
    assert_eq!(
        a.metadata(jid("s@x"), &meta(&h), false, |_| false),
        Step::Nothing
    );
    assert_eq!(
        a.photo(jid("s@x"), &PhotoUpdate::Hash(h), false, |_| false),
        Step::Nothing
    );
    assert_eq!(a.next_fetch(), None);
}

#[test]
fn a_cached_hash_is_shown_without_a_fetch_and_a_new_one_is_fetched() {
    let mut a = Avatars::default();
    let (h1, h2) = (AvatarHash::of(b"1"), AvatarHash::of(b"2"));
    let cached = |h: &AvatarHash| *h == AvatarHash::of(b"1");
    assert_eq!(
        a.metadata(jid("c@x"), &meta(&h1), true, cached),
        Step::Show(jid("c@x"), h1.clone())
    );
    assert!(a.dirty);
    assert_eq!(
        a.metadata(jid("c@x"), &meta(&h1), true, cached),
        Step::Nothing
    );
    assert_eq!(
        a.metadata(jid("c@x"), &meta(&h2), true, cached),
        Step::Queued
    );
    let f = a.next_fetch().unwrap();
    assert_eq!(
        f,
        Fetch::Pep {
            jid: jid("c@x"),
            id: h2.clone()
        }
    );
    a.sent(7, f.clone());
    // The same announcement again while the fetch is out: nothing more.
    assert_eq!(
        a.metadata(jid("c@x"), &meta(&h2), true, cached),
        Step::Nothing
    );
    assert_eq!(a.answered(7), Some(f.clone()));
    assert_eq!(a.answered(7), None);
    assert_eq!(
        f.fallback(),
        Some(Fetch::VCard {
            jid: jid("c@x"),
            expect: None
        })
    );
    assert_eq!(
        a.fetched(jid("c@x"), h2.clone()),
        Step::Show(jid("c@x"), h2)
    );
    // Taken away.
    assert_eq!(
        a.metadata(jid("c@x"), &Metadata::Disabled, true, cached),
        Step::Clear(jid("c@x"))
    );
    assert!(a.index().is_empty());
    // An empty vCard photo does not clear a PEP avatar.
    a.fetched(jid("c@x"), h1.clone());
    assert_eq!(
        a.photo(jid("c@x"), &PhotoUpdate::NoPhoto, true, cached),
        Step::Nothing
    );
    assert_eq!(a.index().get(&jid("c@x")), Some(&h1));
}

#[test]
fn a_flood_of_announcements_is_fetched_a_few_at_a_time() {
    let mut a = Avatars::default();
    for i in 0..(MAX_QUEUED + 100) {
        let h = AvatarHash::of(&i.to_le_bytes());
        a.photo(jid(&format!("c{i}@x")), &PhotoUpdate::Hash(h), true, |_| {
            false
        });
    }
    assert_eq!(a.pending(), MAX_QUEUED);
    let mut token = 0;
    while let Some(f) = a.next_fetch() {
        token += 1;
        a.sent(token, f);
    }
    assert_eq!(token as usize, MAX_IN_FLIGHT);
    // An answer being decoded still holds its place.
    let answered = a.answered(1).unwrap();
    a.decoding();
    assert_eq!(a.next_fetch(), None);
    a.decoded();
    let next = a.next_fetch().unwrap();
    a.sent(100, next);
    a.enqueue(answered);
    // A new stream: what was out goes first again, in order.
    a.reset();
    assert_eq!(a.next_fetch().map(|f| f.jid().clone()), Some(jid("c1@x")));
    // Taken, not yet sent.
    assert_eq!(a.pending(), MAX_QUEUED - 1);
}

//! Archive catch-up from our own account's archive (XEP-0313 with XEP-0059 paging).
//! Results are accepted only from our own account and only for a query we have open.

use super::message::chat_from_archive;
use super::{Event, PendingIq, ProtoState};
use xmpp_parsers::data_forms::{DataForm, DataFormType, Field, FieldType};
use xmpp_parsers::jid::{BareJid, Jid};
use xmpp_parsers::mam::{Fin, Query, QueryId, Result_};
use xmpp_parsers::message::Message;
use xmpp_parsers::rsm::SetQuery;
use xmpp_parsers::stanza::Stanza;

/// Messages per archive page.
pub const PAGE: usize = 250;

/// Where a catch-up query starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum From {
    /// Everything after this archive id, oldest first.
    After(String),
    /// The newest page (no local history yet), then older pages with `Before`.
    Newest,
    /// The page just older than this archive id.
    Before(String),
    /// The newest page of the conversation with one contact (the one on screen), ahead of
    /// a long catch-up.
    NewestWith(BareJid),
    /// The page of the conversation with one contact just older than this archive id
    /// (its newest page when `None`): a chat's older history on request.
    BeforeWith(BareJid, Option<String>),
}

impl ProtoState {
    /// Builds one archive query and opens its query id.
    pub fn mam_query(&mut self, from: From) -> Stanza {
        let queryid = self.next_id();
        self.mam_query_as(from, queryid)
    }

    /// [`ProtoState::mam_query`] with the caller's query id (the history sync names its
    /// own queries, so it can be driven without a stream).
    pub fn mam_query_as(&mut self, from: From, queryid: String) -> Stanza {
        let set = match &from {
            From::After(id) => SetQuery {
                max: Some(PAGE),
                after: Some(id.clone()),
                before: None,
                index: None,
            },
            From::Newest => SetQuery {
                max: Some(PAGE),
                after: None,
                before: Some(String::new()),
                index: None,
            },
            From::Before(id) => SetQuery {
                max: Some(PAGE),
                after: None,
                before: Some(id.clone()),
                index: None,
            },
            From::NewestWith(_) => SetQuery {
                max: Some(PAGE),
                after: None,
                before: Some(String::new()),
                index: None,
            },
            From::BeforeWith(_, before) => SetQuery {
                max: Some(PAGE),
                after: None,
                before: Some(before.clone().unwrap_or_default()),
                index: None,
            },
        };
        let form = match &from {
            From::NewestWith(with) | From::BeforeWith(with, _) => Some(DataForm::new(
                DataFormType::Submit,
                xmpp_parsers::ns::MAM,
                vec![Field::new("with", FieldType::JidSingle).with_value(with.as_str())],
            )),
            _ => None,
        };
        let query = Query {
            queryid: Some(QueryId(queryid.clone())),
            node: None,
            form,
            set: Some(set),
            flip_page: false,
        };
        self.mam_open.insert(queryid.clone());
        self.request(
            PendingIq::Mam {
                queryid,
                backward: !matches!(from, From::After(_)),
            },
            None,
            false,
            query.into(),
        )
    }

    /// A `<result/>` wrapper from an archive, or `None` when `m` is not one.
    pub(super) fn archive_result(&mut self, m: &mut Message, now_ms: i64) -> Option<Vec<Event>> {
        let result = m.extract_payload::<Result_>().ok().flatten()?;
        let queryid = result
            .queryid
            .as_ref()
            .map(|q| q.0.clone())
            .unwrap_or_default();
        if !self.from_own_account(&m.from) {
            return Some(vec![Event::Dropped(format!(
                "archive result from {} ignored (only our own archive is asked)",
                m.from.as_ref().map(Jid::to_string).unwrap_or_default()
            ))]);
        }
        if !self.mam_open.contains(&queryid) {
            return Some(vec![Event::Dropped(format!(
                "archive result for a query we did not open ({queryid})"
            ))]);
        }
        let delay = result.forwarded.delay;
        let inner = result.forwarded.message;
        Some(
            chat_from_archive(self, inner, result.id, delay, now_ms)
                .into_iter()
                .map(|e| match e {
                    Event::Message { message, .. } => Event::Archived {
                        queryid: queryid.clone(),
                        message,
                    },
                    other => other,
                })
                .collect(),
        )
    }

    /// The `<fin/>` answer that closes one archive query.
    pub(super) fn archive_fin(
        &mut self,
        queryid: String,
        backward: bool,
        payload: Option<xmpp_parsers::minidom::Element>,
    ) -> Vec<Event> {
        self.mam_open.remove(&queryid);
        let Some(fin) = payload.and_then(|p| Fin::try_from(p).ok()) else {
            return vec![Event::ArchivePage {
                queryid,
                backward,
                complete: true,
                first: None,
                last: None,
                failed: true,
                gone: false,
            }];
        };
        vec![Event::ArchivePage {
            queryid,
            backward,
            complete: fin.complete,
            first: fin.set.first.map(|f| f.item),
            last: fin.set.last,
            failed: false,
            gone: false,
        }]
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::super::*;
    use super::*;
    use crate::model::Direction;

    fn query_ids(s: &mut ProtoState, from: From) -> (String, String) {
        let st = s.mam_query(from);
        let xml = to_xml(&st);
        let Stanza::Iq(Iq::Set { id, payload, .. }) = st else {
            unreachable!("{xml}")
        };
        let qid = payload.attr("queryid").unwrap_or_default().to_owned();
        (id, qid)
    }

    fn result(
        from: &str,
        qid: &str,
        id: &str,
        inner_from: &str,
        inner_to: &str,
        body: &str,
    ) -> Stanza {
        stanza(&format!(
            "<message xmlns='jabber:client' {from} to='me@example.org/desk'>\
             <result xmlns='urn:xmpp:mam:2' queryid='{qid}' id='{id}'>\
             <forwarded xmlns='urn:xmpp:forward:0'><delay xmlns='urn:xmpp:delay' stamp='2024-05-01T10:00:00Z'/>\
             <message xmlns='jabber:client' from='{inner_from}' to='{inner_to}' type='chat' id='x-{id}'><body>{body}</body></message>\
             </forwarded></result></message>"
        ))
    }

    #[test]
    fn results_of_our_query_become_archived_messages() {
        let mut s = state();
        let (iq_id, qid) = query_ids(&mut s, From::After("A0".into()));
        let ev = s.handle(
            result(
                "",
                &qid,
                "A1",
                "bob@example.org/phone",
                "me@example.org/desk",
                "old news",
            ),
            i64::MAX / 2,
        );
        match ev.as_slice() {
            [Event::Archived { queryid, message }] => {
                assert_eq!(queryid, &qid);
                assert_eq!(message.body, "old news");
                assert_eq!(message.server_id.as_deref(), Some("A1"));
                assert_eq!(message.direction, Direction::Incoming);
                assert_eq!(message.peer().as_str(), "bob@example.org");
                assert_eq!(message.timestamp_ms, 1_714_557_600_999);
            }
            other => unreachable!("{other:?}"),
        }
        // Our own sent message, from another device, comes back as outgoing.
        let ev = s.handle(
            result(
                "from='me@example.org'",
                &qid,
                "A2",
                "me@example.org/phone",
                "bob@example.org",
                "mine",
            ),
            i64::MAX / 2,
        );
        assert!(
            matches!(ev.as_slice(), [Event::Archived { message, .. }] if message.direction == Direction::Outgoing && message.peer().as_str() == "bob@example.org"),
            "{ev:?}"
        );
        let fin = stanza(&format!(
            "<iq xmlns='jabber:client' type='result' id='{iq_id}'>\
             <fin xmlns='urn:xmpp:mam:2' complete='true'><set xmlns='http://jabber.org/protocol/rsm'>\
             <first>A1</first><last>A2</last></set></fin></iq>"
        ));
        let ev = s.handle(fin, 0);
        assert!(
            matches!(ev.as_slice(), [Event::ArchivePage { complete: true, last: Some(l), backward: false, .. }] if l == "A2"),
            "{ev:?}"
        );
        // The query is closed: a late result is refused.
        let ev = s.handle(
            result(
                "",
                &qid,
                "A3",
                "bob@example.org/p",
                "me@example.org",
                "late",
            ),
            0,
        );
        assert!(matches!(ev.as_slice(), [Event::Dropped(_)]), "{ev:?}");
    }

    #[test]
    fn results_from_strangers_or_unknown_queries_are_refused() {
        let mut s = state();
        let (_, qid) = query_ids(&mut s, From::Newest);
        for (from, q) in [
            ("from='mallory@evil.example'", qid.as_str()),
            ("from='me@example.org/other'", qid.as_str()),
            ("", "not-our-query"),
        ] {
            let ev = s.handle(
                result(
                    from,
                    q,
                    "Z",
                    "boss@example.org/x",
                    "me@example.org",
                    "forged",
                ),
                0,
            );
            assert!(
                matches!(ev.as_slice(), [Event::Dropped(_)]),
                "{from} {q}: {ev:?}"
            );
        }
    }

    #[test]
    fn newest_page_query_asks_for_the_end() {
        let mut s = state();
        let xml = to_xml(&s.mam_query(From::Newest));
        assert!(xml.contains("urn:xmpp:mam:2"), "{xml}");
        assert!(
            xml.contains("<before/>") || xml.contains("<before></before>"),
            "{xml}"
        );
        assert!(xml.contains("<max>250</max>"), "{xml}");
    }

    #[test]
    fn older_page_of_one_conversation_asks_before_an_id_with_that_contact() {
        let mut s = state();
        let bob = BareJid::new("bob@example.org").unwrap_or_else(|_| unreachable!());
        let xml = to_xml(&s.mam_query(From::BeforeWith(bob.clone(), Some("A7".into()))));
        assert!(xml.contains("<before>A7</before>"), "{xml}");
        assert!(xml.contains("<value>bob@example.org</value>"), "{xml}");
        let xml = to_xml(&s.mam_query(From::BeforeWith(bob, None)));
        assert!(
            xml.contains("<before/>") || xml.contains("<before></before>"),
            "{xml}"
        );
    }

    #[test]
    fn newest_page_of_one_conversation_asks_with_that_contact() {
        let mut s = state();
        let bob = BareJid::new("bob@example.org").unwrap_or_else(|_| unreachable!());
        let xml = to_xml(&s.mam_query(From::NewestWith(bob)));
        assert!(
            xml.contains("<before/>") || xml.contains("<before></before>"),
            "{xml}"
        );
        assert!(
            xml.contains("var=\"with\"") || xml.contains("var='with'"),
            "{xml}"
        );
        assert!(xml.contains("<value>bob@example.org</value>"), "{xml}");
        assert!(xml.contains("<value>urn:xmpp:mam:2</value>"), "{xml}");
        // The whole archive (no "with") for the other kinds.
        let xml = to_xml(&s.mam_query(From::After("A1".into())));
        assert!(!xml.contains("with"), "{xml}");
    }
}

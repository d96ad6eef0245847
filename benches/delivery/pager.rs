//! The reference for part (b): a bare client that pages through its own archive, newest
//! first, with the same page size as Loquat and nothing else (no store, no app state, no
//! message model: it only counts the results of its open query). What it needs is the
//! server's own cost of handing out the archive, plus the stream parsing every client
//! pays. Built on our transport (`session::connect`) and tokio-xmpp's stanza stream, as
//! the session is.

use futures::StreamExt;
use loquat::session::SessionParams;
use loquat::session::connect::{ConnectConfig, connect};
use loquat::xmpp::mam::PAGE;
use std::time::{Duration, Instant};
use tokio_xmpp::Stanza;
use tokio_xmpp::parsers::iq::Iq;
use tokio_xmpp::parsers::mam::{Fin, Query, QueryId, Result_};
use tokio_xmpp::parsers::rsm::SetQuery;
use tokio_xmpp::stanzastream::{Event, StanzaStream, StreamEvent};

type Error = Box<dyn std::error::Error>;

/// Pages through the whole archive of `p`'s account. Returns the results counted and the
/// time from the first query to the last page's end.
pub async fn page_through(p: &SessionParams) -> Result<(usize, Duration), Error> {
    let cfg = ConnectConfig {
        jid: p.jid.clone(),
        password: p.password.clone().into(),
        server: p.server.clone(),
        trust: p.trust.clone(),
        resource: Some("pager".to_owned()),
        allow_plain: false,
    };
    let mut stream = StanzaStream::new(
        Box::new(move |_, slot| {
            let cfg = cfg.clone();
            tokio::spawn(async move {
                if let Ok(auth) = connect(&cfg).await {
                    let _ = slot.send(auth.connection);
                }
            });
        }),
        16,
    );
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        match tokio::time::timeout_at(deadline, stream.next()).await {
            Ok(Some(Event::Stream(StreamEvent::Reset { .. }))) => break,
            Ok(Some(_)) => {}
            _ => return Err("the reference pager did not get online within 30 s".into()),
        }
    }
    let t = Instant::now();
    let (mut count, mut before, mut page) = (0usize, String::new(), 0u32);
    loop {
        page += 1;
        let (qid, iq_id) = (format!("q{page}"), format!("i{page}"));
        let query = Query {
            queryid: Some(QueryId(qid.clone())),
            node: None,
            form: None,
            set: Some(SetQuery {
                max: Some(PAGE),
                after: None,
                before: Some(before.clone()),
                index: None,
            }),
            flip_page: false,
        };
        let iq = Iq::Set {
            from: None,
            to: None,
            id: iq_id.clone(),
            payload: query.into(),
        };
        stream.send(Box::new(Stanza::Iq(iq))).await;
        let fin = loop {
            let ev = tokio::time::timeout(Duration::from_secs(60), stream.next()).await;
            match ev {
                Ok(Some(Event::Stanza(Stanza::Message(mut m)))) => {
                    if let Ok(Some(r)) = m.extract_payload::<Result_>()
                        && r.queryid.is_some_and(|q| q.0 == qid)
                    {
                        count += 1;
                    }
                }
                Ok(Some(Event::Stanza(Stanza::Iq(Iq::Result {
                    id,
                    payload: Some(payload),
                    ..
                }))))
                    if id == iq_id =>
                {
                    break Fin::try_from(payload)?;
                }
                Ok(Some(Event::Stanza(Stanza::Iq(Iq::Error { id, error, .. })))) if id == iq_id => {
                    return Err(format!("archive query failed: {error:?}").into());
                }
                Ok(Some(_)) => {}
                _ => return Err("the reference pager's query got no answer within 60 s".into()),
            }
        };
        match fin.set.first {
            Some(first) if !fin.complete => before = first.item,
            _ => break,
        }
    }
    let took = t.elapsed();
    stream.close().await;
    Ok((count, took))
}

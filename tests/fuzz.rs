//! Fuzzing on stable Rust (issue #20): `arbtest` drives each target with random
//! `arbitrary::Unstructured` input for a time budget, after replaying the inputs kept
//! in `tests/fuzz/corpus/<target>/` (hand-written starting points and every input
//! that ever failed, as files of raw bytes).
//!
//!   cargo test --test fuzz -- --nocapture                  about 1 s per target
//!   LOQUAT_FUZZ_MS=8000  cargo test --test fuzz -- --nocapture   (tests/run-all.sh)
//!   LOQUAT_FUZZ_MS=3600000 cargo test --release --test fuzz -- --nocapture --test-threads 1
//!                                                          an hour per target
//!   LOQUAT_FUZZ_SEED=0x… cargo test --test fuzz TARGET     replay a failure's seed
//!
//! Each target prints its executions and executions per second. A failure prints the
//! seed; turn it into a file in the target's corpus folder (the bytes `Unstructured`
//! was given: run with the seed and `LOQUAT_FUZZ_SAVE=1`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use arbitrary::{Result, Unstructured};
use loquat::ids::AccountId;
use loquat::session::xml_guard::{Guard, MAX_DEPTH};
use loquat::xmpp::{Event, ProtoState, parse_stanza};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use xmpp_parsers::jid::BareJid;

#[path = "fuzz/omemo.rs"]
mod omemo;

#[path = "fuzz/omemo2.rs"]
mod omemo2;

fn budget() -> Duration {
    let ms = std::env::var("LOQUAT_FUZZ_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    Duration::from_millis(ms)
}

fn corpus_dir(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fuzz/corpus")
        .join(name)
}

/// Replays `name`'s corpus, then runs `target` on random input for the budget.
fn fuzz(name: &str, mut target: impl FnMut(&mut Unstructured<'_>) -> Result<()>) {
    let mut replayed = 0;
    if let Ok(dir) = std::fs::read_dir(corpus_dir(name)) {
        for entry in dir.flatten() {
            let bytes = std::fs::read(entry.path()).expect("read corpus file");
            let mut u = Unstructured::new(&bytes);
            let _ = target(&mut u);
            replayed += 1;
        }
    }
    let execs = AtomicU64::new(0);
    let started = Instant::now();
    let seed = std::env::var("LOQUAT_FUZZ_SEED")
        .ok()
        .and_then(|s| u64::from_str_radix(s.trim_start_matches("0x"), 16).ok());
    // Only a replayed seed is saved: one input, the failing one.
    let save = seed.is_some() && std::env::var_os("LOQUAT_FUZZ_SAVE").is_some();
    let mut run = arbtest::arbtest(|u| {
        execs.fetch_add(1, Ordering::Relaxed);
        if save {
            // The input of this (failing) seed, for the corpus.
            let bytes = u.peek_bytes(u.len()).unwrap_or_default().to_vec();
            let dir = corpus_dir(name);
            let _ = std::fs::create_dir_all(&dir);
            let _ = std::fs::write(dir.join(format!("seed-{:016x}", seed.unwrap_or(0))), bytes);
        }
        target(u)
    })
    .size_max(4096)
    .budget(budget());
    if let Some(seed) = seed {
        run = run.seed(seed);
    }
    run.run();
    let n = execs.load(Ordering::Relaxed);
    let secs = started.elapsed().as_secs_f64().max(1e-9);
    eprintln!(
        "fuzz {name}: {n} executions in {secs:.1} s ({:.0}/s), {replayed} corpus inputs replayed",
        n as f64 / secs
    );
}

// ---------------------------------------------------------------- the XML guard

/// Pieces that make the lexer's life hard.
const XML_TOKENS: &[&str] = &[
    "<message>",
    "</message>",
    "<iq type='get' id='1'>",
    "</iq>",
    "<presence/>",
    "<a>",
    "</a>",
    "<b x='1>2'>",
    "</b>",
    "<c y=\"a'b\"/>",
    "<![CDATA[",
    "]]>",
    "<!--",
    "-->",
    "<?xml version='1.0'?>",
    "?>",
    "<!DOCTYPE x>",
    "/>",
    ">",
    "<",
    "'",
    "\"",
    "&lt;",
    " ",
    "text",
    "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>",
    "</stream:stream>",
    "<failed xmlns='urn:xmpp:sm:3'/>",
];

fn token_soup(u: &mut Unstructured<'_>) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    for _ in 0..u.int_in_range(0..=200)? {
        if u.ratio(1, 8)? {
            out.push(u.arbitrary::<u8>()?);
        } else {
            out.extend_from_slice(u.choose(XML_TOKENS)?.as_bytes());
        }
    }
    Ok(out)
}

/// Feeds `input` to a fresh guard in chunks of random sizes.
fn feed_in_chunks(
    u: &mut Unstructured<'_>,
    input: &[u8],
    max_depth: usize,
    max_bytes: usize,
) -> Result<(Vec<u8>, usize)> {
    let mut g = Guard::new(max_depth, max_bytes);
    let mut out = Vec::new();
    let mut dropped = 0;
    let mut rest = input;
    while !rest.is_empty() {
        let n = u.int_in_range(1..=rest.len().min(64))?;
        dropped += g.feed(&rest[..n], &mut out).len();
        rest = &rest[n..];
    }
    Ok((out, dropped))
}

#[test]
fn fuzz_xml_guard_token_soup_in_random_chunks() {
    fuzz("xml_guard_soup", |u| {
        let input = token_soup(u)?;
        let mut whole = Vec::new();
        let d_whole = Guard::new(8, 300).feed(&input, &mut whole).len();
        let (chunked, d_chunked) = feed_in_chunks(u, &input, 8, 300)?;
        // How the bytes arrive never changes what the parser sees.
        assert_eq!(
            whole,
            chunked,
            "input {:?}",
            String::from_utf8_lossy(&input)
        );
        assert_eq!(d_whole, d_chunked);
        assert!(whole.len() <= input.len() + 64 * (d_whole + 1));
        Ok(())
    });
}

/// A random well-formed element `depth` levels deep at most; returns its text and
/// its real depth.
fn element(u: &mut Unstructured<'_>, budget: &mut usize, max: usize) -> Result<(String, usize)> {
    let name = *u.choose(&["a", "b", "body", "x:y", "message"])?;
    let mut s = format!("<{name}");
    if u.ratio(1, 3)? {
        s.push_str(u.choose(&[" k='v>w'", " k=\"'\"", " xmlns='urn:x'", " k='/>'"])?);
    }
    if *budget == 0 || max <= 1 || u.ratio(1, 4)? {
        s.push_str("/>");
        return Ok((s, 1));
    }
    s.push('>');
    let mut deepest = 0;
    for _ in 0..u.int_in_range(0..=3)? {
        if *budget == 0 {
            break;
        }
        *budget -= 1;
        match u.int_in_range(0..=3)? {
            0 => s.push_str("t &amp; <![CDATA[</a>]]>"),
            1 => s.push_str("<!-- </x> -->"),
            _ => {
                let (child, d) = element(u, budget, max - 1)?;
                s.push_str(&child);
                deepest = deepest.max(d);
            }
        }
    }
    // Sometimes one deep chain, to cross the limit.
    if u.ratio(1, 6)? {
        let n = u.int_in_range(1..=max.saturating_sub(1).min(100))?;
        s.push_str(&"<d>".repeat(n));
        s.push_str(&"</d>".repeat(n));
        deepest = deepest.max(n);
    }
    s.push_str(&format!("</{name}>"));
    Ok((s, deepest + 1))
}

#[test]
fn fuzz_xml_guard_well_formed_stanzas_pass_or_are_replaced() {
    fuzz("xml_guard_stanzas", |u| {
        let mut input = String::from(
            "<?xml version='1.0'?><stream:stream xmlns='jabber:client' \
             xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>",
        );
        let mut expected = input.clone();
        for _ in 0..u.int_in_range(1..=6)? {
            let kind = *u.choose(&["message", "presence", "iq", "stream:features"])?;
            let mut budget = 60;
            let (inner, depth) = element(u, &mut budget, 150)?;
            let stanza = format!("<{kind} id='s'>{inner}</{kind}>");
            input.push_str(&stanza);
            input.push(' ');
            // The stanza element adds one level to its content.
            if depth < MAX_DEPTH {
                expected.push_str(&stanza);
            } else if kind != "stream:features" {
                expected.push_str(&format!("<{kind} type='loquat-dropped'/>"));
            }
            expected.push(' ');
        }
        let (out, _) = feed_in_chunks(u, input.as_bytes(), MAX_DEPTH, 1 << 20)?;
        assert_eq!(String::from_utf8_lossy(&out), expected);
        Ok(())
    });
}

// ---------------------------------------------------------------- ProtoState::handle

const OWN: &str = "me@example.org";
const FROMS: &[&str] = &[
    "me@example.org",
    "me@example.org/phone",
    "bob@example.org/x",
    "bob@example.org",
    "example.org",
    "evil@example.com/y",
    "tea@conference.example.org/bob",
];

fn attr(u: &mut Unstructured<'_>, name: &str) -> Result<String> {
    Ok(if u.ratio(1, 4)? {
        String::new()
    } else {
        format!(" {name}='{}'", u.choose(FROMS)?)
    })
}

fn inner_message(u: &mut Unstructured<'_>) -> Result<String> {
    let from = attr(u, "from")?;
    let to = attr(u, "to")?;
    let ty = *u.choose(&["chat", "normal", "groupchat", "error", "headline", "bogus"])?;
    let mut s = format!("<message xmlns='jabber:client'{from}{to} type='{ty}' id='i1'>");
    if u.ratio(3, 4)? {
        let body = *u.choose(&["hi", "你好", " ", "a &amp; b", "&lt;x/&gt;"])?;
        s.push_str(&format!("<body>{body}</body>"));
    }
    if u.ratio(1, 2)? {
        let dfrom = attr(u, "from")?;
        let stamp = *u.choose(&[
            "2020-01-01T00:00:00Z",
            "1970-01-01T00:00:00Z",
            "2999-01-01T00:00:00Z",
            "2024-05-01T10:00:00.250Z",
        ])?;
        s.push_str(&format!(
            "<delay xmlns='urn:xmpp:delay'{dfrom} stamp='{stamp}'/>"
        ));
    }
    if u.ratio(1, 3)? {
        s.push_str("<request xmlns='urn:xmpp:receipts'/>");
    }
    if u.ratio(1, 3)? {
        let by = u.choose(FROMS)?;
        s.push_str(&format!(
            "<stanza-id xmlns='urn:xmpp:sid:0' id='S1' by='{by}'/>"
        ));
    }
    s.push_str("</message>");
    Ok(s)
}

/// What wraps the message, which the invariants look at.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Wrap {
    None,
    Carbon,
    Mam { open: bool },
}

#[test]
fn fuzz_protostate_handle_keeps_its_promises() {
    fuzz("protostate", |u| {
        let own = BareJid::new(OWN).expect("own");
        let mut s = ProtoState::new(AccountId("acc".into()), own);
        let mut open = Vec::new();
        for _ in 0..u.int_in_range(0..=2)? {
            let q = s.mam_query(loquat::xmpp::mam::From::Newest);
            if let xmpp_parsers::stanza::Stanza::Iq(xmpp_parsers::iq::Iq::Set { payload, .. }) = q {
                open.push(payload.attr("queryid").unwrap_or_default().to_owned());
            }
        }
        let now = 1_800_000_000_000i64;
        for _ in 0..u.int_in_range(1..=4)? {
            let inner = inner_message(u)?;
            let outer_from = attr(u, "from")?;
            let (xml, wrap) = match u.int_in_range(0..=3)? {
                0 => (inner.clone(), Wrap::None),
                1 | 2 => {
                    let kind = *u.choose(&["sent", "received"])?;
                    (
                        format!(
                            "<message xmlns='jabber:client'{outer_from} to='me@example.org/desk' type='chat'>\
                             <{kind} xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'>{inner}\
                             </forwarded></{kind}></message>"
                        ),
                        Wrap::Carbon,
                    )
                }
                _ => {
                    let use_open = !open.is_empty() && u.ratio(2, 3)?;
                    let qid = if use_open {
                        u.choose(&open)?.clone()
                    } else {
                        "never-opened".to_owned()
                    };
                    (
                        format!(
                            "<message xmlns='jabber:client'{outer_from} to='me@example.org/desk'>\
                             <result xmlns='urn:xmpp:mam:2' queryid='{qid}' id='A1'><forwarded xmlns='urn:xmpp:forward:0'>\
                             <delay xmlns='urn:xmpp:delay' stamp='2024-05-01T10:00:00Z'/>{inner}</forwarded></result></message>"
                        ),
                        Wrap::Mam { open: use_open },
                    )
                }
            };
            let Some(stanza) = parse_stanza(&xml) else {
                continue;
            };
            let outer_is_own_bare = outer_from == format!(" from='{OWN}'");
            for e in s.handle(stanza, now) {
                match &e {
                    Event::Message { message, .. } => {
                        assert!(
                            wrap != Wrap::Carbon || outer_is_own_bare,
                            "carbon accepted from{outer_from}: {xml}"
                        );
                        assert!(message.timestamp_ms <= now + 60_000, "{xml}");
                        if wrap == Wrap::None && !xml.contains("from='example.org' stamp") {
                            assert_eq!(message.timestamp_ms, now, "back-dated: {xml}");
                        }
                    }
                    Event::Archived { .. } => {
                        assert!(
                            matches!(wrap, Wrap::Mam { open: true }),
                            "archive result without an open query: {xml}"
                        );
                    }
                    _ => {}
                }
            }
        }
        Ok(())
    });
}

// ---------------------------------------------------------------- small parsers

#[test]
fn fuzz_upload_slot_parsing() {
    use loquat::xmpp::upload::{is_https, parse_slot};
    fuzz("upload_slot", |u| {
        let urls = [
            "https://up.example.org/a/b.png",
            "http://up.example.org/x",
            "javascript:alert(1)",
            "https://",
            "https://[::1]/x",
            "",
            "https://h/%0d%0aX: y",
        ];
        let names = ["Authorization", "Cookie", "Expires", "Host", "X-Evil"];
        let values = ["Basic abc", "a\r\nHost: evil", "\n", "ok"];
        let mut headers = String::new();
        for _ in 0..u.int_in_range(0..=4)? {
            headers.push_str(&format!(
                "<header name='{}'>{}</header>",
                u.choose(&names)?,
                u.choose(&values)?
                    .replace('\r', "&#13;")
                    .replace('\n', "&#10;")
            ));
        }
        let xml = format!(
            "<slot xmlns='urn:xmpp:http:upload:0'><put url='{}'>{headers}</put><get url='{}'/></slot>",
            u.choose(&urls)?,
            u.choose(&urls)?
        );
        let Ok(el) = xml.parse::<xmpp_parsers::minidom::Element>() else {
            return Ok(());
        };
        if let Ok(slot) = parse_slot(el) {
            assert!(is_https(&slot.put_url) && is_https(&slot.get_url), "{xml}");
            for (name, value) in &slot.put_headers {
                assert!(["Authorization", "Cookie", "Expires"].contains(&name.as_str()));
                assert!(!value.contains(['\r', '\n']), "{xml}");
            }
        }
        Ok(())
    });
}

#[test]
fn fuzz_safe_file_names() {
    use loquat::transfer::names::{MAX_NAME_BYTES, safe_file_name};
    fuzz("file_names", |u| {
        let pieces = [
            "a", ".", "..", "/", "\\", "%2F", "%2e%2e", "\u{202E}", "\u{2066}", "\0", "\n", "CON",
            "com1", ".png", " ", "é", "日本", "%", "%zz", ":", "~",
        ];
        let mut raw = String::new();
        for _ in 0..u.int_in_range(0..=40)? {
            if u.ratio(1, 6)? {
                raw.push(u.arbitrary::<char>()?);
            } else {
                raw.push_str(u.choose(&pieces)?);
            }
        }
        let name = safe_file_name(&raw);
        assert!(!name.is_empty(), "{raw:?}");
        assert!(name.len() <= MAX_NAME_BYTES, "{raw:?} -> {name:?}");
        assert!(!name.contains(['/', '\\']), "{raw:?} -> {name:?}");
        assert!(!name.starts_with('.'), "{raw:?} -> {name:?}");
        assert!(
            !name.chars().any(|c| c.is_control()
                || matches!(c, '\u{200E}' | '\u{200F}' | '\u{061C}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')),
            "{raw:?} -> {name:?}"
        );
        Ok(())
    });
}

#[test]
fn fuzz_private_address_checks() {
    use loquat::transfer::public::is_private;
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
    fuzz("private_hosts", |u| {
        let v4 = Ipv4Addr::from(u.arbitrary::<u32>()?);
        let private = is_private(IpAddr::V4(v4));
        // The same address carried in IPv6 is judged the same.
        for v6 in [
            v4.to_ipv6_mapped(),
            Ipv6Addr::from((0x0064_ff9b_u128 << 96) | u128::from(u32::from(v4))),
        ] {
            assert_eq!(is_private(IpAddr::V6(v6)), private, "{v4} as {v6}");
        }
        let ula = Ipv6Addr::from((0xfc00u128 << 112) | (u.arbitrary::<u128>()? >> 7));
        assert!(is_private(IpAddr::V6(ula)), "{ula}");
        let _ = is_private(IpAddr::V6(Ipv6Addr::from(u.arbitrary::<u128>()?)));
        Ok(())
    });
}

#[test]
fn fuzz_xmpp_uris() {
    fuzz("xmpp_uris", |u| {
        let pieces = [
            "xmpp:",
            "xmpp://",
            "a@b.example",
            "room@conference.example",
            "/",
            "?",
            ";",
            "=",
            "&",
            "%",
            "%20",
            "%zz",
            "message",
            "join",
            "roster",
            "subscribe",
            "body",
            "password",
            "name",
            "é",
            "\u{202E}",
            "@",
            "#frag",
        ];
        let mut raw = String::new();
        for _ in 0..u.int_in_range(0..=20)? {
            if u.ratio(1, 8)? {
                raw.push(u.arbitrary::<char>()?);
            } else {
                raw.push_str(u.choose(&pieces)?);
            }
        }
        if let Ok(uri) = loquat::uri::parse(&raw) {
            let jid = match &uri {
                loquat::uri::XmppUri::Message { jid, .. }
                | loquat::uri::XmppUri::Roster { jid, .. }
                | loquat::uri::XmppUri::Subscribe { jid } => jid,
                loquat::uri::XmppUri::Join { room, .. } => room,
            };
            assert!(!jid.as_str().is_empty(), "{raw:?}");
        }
        Ok(())
    });
}

// ---------------------------------------------------------------- sm_fix (now in the guard)

/// What the guard passes on of a stream that starts with a header declaring an `sm`
/// prefix, read in `chunks`.
fn through_sm_fix(chunks: Vec<Vec<u8>>) -> Vec<u8> {
    let mut g = Guard::default();
    let mut out = Vec::new();
    g.feed(
        b"<stream:stream xmlns='jabber:client' xmlns:sm='urn:xmpp:sm:3' \
          xmlns:stream='http://etherx.jabber.org/streams'>",
        &mut out,
    );
    for c in chunks {
        g.feed(&c, &mut out);
    }
    out
}

#[test]
fn fuzz_sm_fix_in_random_chunks() {
    const SM: &[&str] = &[
        "<failed xmlns='urn:xmpp:sm:3'>",
        "<failed xmlns=\"urn:xmpp:sm:3\"/>",
        "<failed xmlns='urn:xmpp:sm:3' h='4'/>",
        "<failed h='4' xmlns='urn:xmpp:sm:3'>",
        "<sm:failed>",
        "<sm:failed xmlns:sm='urn:xmpp:sm:3' h = '1'>",
        "</sm:failed>",
        "<item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>",
        "</failed>",
    ];
    fuzz("sm_fix", |u| {
        let mut input = Vec::new();
        for _ in 0..u.int_in_range(0..=60)? {
            if u.ratio(1, 3)? {
                input.extend_from_slice(u.choose(SM)?.as_bytes());
            } else {
                input.extend_from_slice(token_soup_piece(u)?);
            }
        }
        let whole = through_sm_fix(vec![input.clone()]);
        let mut chunks = Vec::new();
        let mut rest = &input[..];
        while !rest.is_empty() {
            let n = u.int_in_range(1..=rest.len().min(40))?;
            chunks.push(rest[..n].to_vec());
            rest = &rest[n..];
        }
        let chunked = through_sm_fix(chunks);
        assert_eq!(
            String::from_utf8_lossy(&whole),
            String::from_utf8_lossy(&chunked),
            "input {:?}",
            String::from_utf8_lossy(&input)
        );
        Ok(())
    });
}

fn token_soup_piece<'a>(u: &mut Unstructured<'a>) -> Result<&'static [u8]> {
    Ok(u.choose(XML_TOKENS)?.as_bytes())
}

// ---------------------------------------------------------------- more entry points

/// URL-ish text: schemes, hosts, paths and the characters that break parsers.
const URL_PIECES: &[&str] = &[
    "https://",
    "http://",
    "ftp://",
    "javascript:",
    "file:///",
    "xmpp:",
    "example.org",
    "[::1]",
    "127.0.0.1",
    ":443",
    "/",
    "/a.png",
    ".jpg",
    "%2F",
    "%00",
    "%E2%80%AE",
    "%",
    "?x=1",
    "#frag",
    "..",
    "\u{202E}",
    " ",
    "\n",
    "\t",
    "\"",
    "<",
    ">",
    ")",
    "(",
    ".",
    ",",
    "字",
    "name.tar.gz",
    "a",
    "@",
];

fn url_soup(u: &mut Unstructured<'_>) -> Result<String> {
    let mut s = String::new();
    for _ in 0..u.int_in_range(0..=24)? {
        if u.ratio(1, 6)? {
            s.push_str(u.arbitrary::<&str>()?);
        } else {
            s.push_str(u.choose(URL_PIECES)?);
        }
    }
    Ok(s)
}

/// OOB URLs and bare-URL bodies become attachments only for http(s), with a name
/// that is safe as a file name once sanitised.
#[test]
fn fuzz_oob_attachments() {
    use loquat::xmpp::upload::attachment;
    fuzz("oob_attachment", |u| {
        let body = url_soup(u)?;
        let oob = if u.arbitrary()? {
            Some(xmpp_parsers::oob::Oob {
                url: url_soup(u)?,
                desc: None,
            })
        } else {
            None
        };
        let oob_url = oob.as_ref().map(|o| o.url.clone());
        if let Some(a) = attachment(oob, &body) {
            assert!(
                a.url.starts_with("https://") || a.url.starts_with("http://"),
                "{a:?} from {oob_url:?} / {body:?}"
            );
            assert!(!a.name.is_empty(), "{a:?}");
            let safe = loquat::transfer::names::safe_file_name(&a.name);
            assert!(
                !safe.contains('/') && safe != ".." && safe != "." && !safe.is_empty(),
                "{safe:?}"
            );
        }
        Ok(())
    });
}

/// The single-instance socket's lines: anything decodes to a request or nothing, a
/// request never carries a line break, and what we encode decodes to itself.
#[test]
fn fuzz_instance_socket_lines() {
    use loquat::instance::{MAX_REQUEST, Request};
    fuzz("instance_socket", |u| {
        let line: String = if u.arbitrary()? {
            format!("open {}\n", url_soup(u)?)
        } else {
            u.arbitrary()?
        };
        if let Some(Request::Open(uri)) = Request::decode(&line) {
            assert!(!uri.ends_with('\n'), "{uri:?}");
        }
        let uri = url_soup(u)?;
        if uri.len() < MAX_REQUEST {
            let r = Request::Open(uri.clone());
            let back = Request::decode(&r.encode());
            assert_eq!(
                back,
                Some(Request::Open(uri.replace(['\r', '\n'], ""))),
                "{uri:?}"
            );
        }
        Ok(())
    });
}

/// Stored records and settings decode from any bytes without a panic; settings
/// decoding is tolerant (always a value).
#[test]
fn fuzz_store_record_decoders() {
    const JSON: &[&str] = &[
        "{",
        "}",
        "[",
        "]",
        ",",
        ":",
        "\"id\"",
        "\"jid\"",
        "\"body\"",
        "\"delivery\"",
        "\"Pending\"",
        "\"theme\"",
        "\"auto_image_max\"",
        "\"width\"",
        "null",
        "true",
        "1e999",
        "-1",
        "18446744073709551616",
        "\"\\ud800\"",
        "\"a@b\"",
        "{\"Failed\":\"x\"}",
    ];
    fuzz("store_records", |u| {
        let mut text = String::new();
        for _ in 0..u.int_in_range(0..=40)? {
            if u.ratio(1, 5)? {
                text.push_str(u.arbitrary::<&str>()?);
            } else {
                text.push_str(u.choose(JSON)?);
            }
        }
        let _ = serde_json::from_str::<loquat::model::ChatMessage>(&text);
        // The compact history record (schema 4): a key naming an account and a
        // conversation, then bytes that start like a record half the time.
        let mut key = Vec::new();
        for part in [
            u.arbitrary::<&str>()?,
            u.choose(&[
                "c:bob@example.org",
                "r:room@muc.example.org",
                "p:room@muc.example.org/nick",
                "x",
            ])?,
        ] {
            key.extend_from_slice(&(part.len() as u32).to_be_bytes());
            key.extend_from_slice(part.as_bytes());
        }
        key.extend_from_slice(&[0; 16]);
        let mut value: Vec<u8> = u.arbitrary()?;
        if u.ratio(1, 2)? {
            value.insert(0, 1);
        }
        let _ = loquat::store::decode_history_record(&key, &value);
        let _ = serde_json::from_str::<loquat::model::Account>(&text);
        let _ = serde_json::from_str::<loquat::model::transfer::Attachment>(&text);
        let _ = loquat::config::Settings::decode(&text);
        let _ = loquat::config::WindowState::decode(&text);
        let _ = loquat::config::Drafts::decode(&text);
        Ok(())
    });
}

/// Thumbnails of hostile files (real headers, random rest): an image or an error in
/// words, never a panic, never larger than the thumbnail side.
#[test]
fn fuzz_thumbnails() {
    use loquat::transfer::thumb;
    const HEADERS: &[&[u8]] = &[
        b"\x89PNG\r\n\x1a\n",
        b"GIF89a",
        b"GIF87a",
        b"\xff\xd8\xff\xe0",
        b"RIFF\x00\x00\x00\x00WEBPVP8 ",
        b"BM",
    ];
    let dir = tempfile::tempdir().expect("temp dir");
    let src = dir.path().join("in");
    let out = dir.path().join("out");
    fuzz("thumbnails", |u| {
        let mut bytes = u.choose(HEADERS)?.to_vec();
        // A valid small PNG now and then, then damaged in one place.
        if u.ratio(1, 4)? {
            let (w, h) = (u.int_in_range(1..=400)?, u.int_in_range(1..=400)?);
            let mut png = Vec::new();
            image::RgbaImage::new(w, h)
                .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
                .expect("encode");
            if !png.is_empty() && u.arbitrary()? {
                let at = u.choose_index(png.len())?;
                png[at] ^= u.arbitrary::<u8>()? | 1;
            }
            bytes = png;
        } else {
            bytes.extend_from_slice(u.bytes(u.len().min(2048))?);
        }
        std::fs::write(&src, &bytes).expect("write");
        if let Ok(t) = thumb::thumbnail_blocking(&src, &out, "k") {
            assert!(
                t.width <= thumb::THUMB_SIDE && t.height <= thumb::THUMB_SIDE,
                "{t:?}"
            );
        }
        Ok(())
    });
}

/// Link segmentation gives back the body exactly, and every link is http(s).
#[cfg(feature = "gui")]
#[test]
fn fuzz_link_segments() {
    use loquat::ui::timeline::links::{Segment, segments};
    fuzz("link_segments", |u| {
        let body = url_soup(u)?;
        let mut joined = String::new();
        for s in segments(&body) {
            match s {
                Segment::Text(t) => joined.push_str(t),
                Segment::Link(l) => {
                    let lower = l.to_ascii_lowercase();
                    assert!(
                        lower.starts_with("https://") || lower.starts_with("http://"),
                        "{l:?} in {body:?}"
                    );
                    joined.push_str(l);
                }
            }
        }
        assert_eq!(joined, body);
        Ok(())
    });
}

/// Notification previews: one line, no bidirectional or control characters, markup
/// escaped, at most `PREVIEW_CHARS` characters and an ellipsis.
#[test]
fn fuzz_notification_previews() {
    use loquat::notify::{PREVIEW_CHARS, is_bidi_control, preview};
    fuzz("notification_preview", |u| {
        let mut body = url_soup(u)?;
        if u.arbitrary()? {
            body.push_str(&"<b>&x</b>\u{2067}".repeat(u.int_in_range(0..=100)?));
        }
        let p = preview(&body);
        assert!(
            !p.chars().any(|c| c.is_control() || is_bidi_control(c)),
            "{p:?}"
        );
        assert!(!p.contains('<') && !p.contains('>'), "{p:?}");
        let unescaped = p
            .replace("&amp;", "&")
            .replace("&lt;", "<")
            .replace("&gt;", ">");
        assert!(unescaped.chars().count() <= PREVIEW_CHARS + 1, "{p:?}");
        Ok(())
    });
}

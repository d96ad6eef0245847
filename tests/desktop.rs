//! Desktop integration seen from outside: `xmpp:` links, the single-instance hand-over
//! between two real processes, notification text, and the translations.

use loquat::instance::{self, Request, Start};
use loquat::uri::{self, UriError, XmppUri};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use xmpp_parsers::jid::BareJid;

fn jid(s: &str) -> BareJid {
    BareJid::new(s).expect("a valid test JID")
}

#[test]
fn xmpp_links_open_what_they_name() {
    assert_eq!(
        uri::parse("xmpp:juliet@capulet.example"),
        Ok(XmppUri::Message {
            jid: jid("juliet@capulet.example"),
            body: None
        })
    );
    assert_eq!(
        uri::parse(
            "xmpp:juliet@capulet.example?message;body=Wherefore%20art%20thou%3F%20%E4%BD%A0%E5%A5%BD"
        ),
        Ok(XmppUri::Message {
            jid: jid("juliet@capulet.example"),
            body: Some("Wherefore art thou? 你好".into())
        })
    );
    assert_eq!(
        uri::parse("XMPP:balcony@rooms.capulet.example?join;password=s%3Bcret"),
        Ok(XmppUri::Join {
            room: jid("balcony@rooms.capulet.example"),
            password: Some("s;cret".into())
        })
    );
    assert_eq!(
        uri::parse("xmpp:nurse@capulet.example?roster;name=The%20Nurse"),
        Ok(XmppUri::Roster {
            jid: jid("nurse@capulet.example"),
            name: Some("The Nurse".into())
        })
    );
    assert_eq!(
        uri::parse("xmpp:tybalt@capulet.example?subscribe"),
        Ok(XmppUri::Subscribe {
            jid: jid("tybalt@capulet.example")
        })
    );
    // A full JID names the same person; an account part ("xmpp://me@host/") is ignored.
    assert_eq!(
        uri::parse("xmpp://romeo@montague.example/juliet@capulet.example/balcony"),
        Ok(XmppUri::Message {
            jid: jid("juliet@capulet.example"),
            body: None
        })
    );
}

#[test]
fn hostile_links_are_refused_in_words_never_a_panic() {
    let refused = [
        ("", UriError::NotXmpp),
        ("http://evil.example/", UriError::NotXmpp),
        ("javascript:alert(1)", UriError::NotXmpp),
        ("xmpp:", UriError::BadAddress),
        ("xmpp:@", UriError::BadAddress),
        ("xmpp:a@b?message;body=%", UriError::BadEncoding),
        ("xmpp:a@b?message;body=%+1", UriError::BadEncoding),
        ("xmpp:a@b?message;body=%ff%fe", UriError::BadEncoding),
        (
            "xmpp:a@b?exec;cmd=rm",
            UriError::UnknownAction("exec".into()),
        ),
    ];
    for (link, want) in refused {
        assert_eq!(uri::parse(link), Err(want), "link {link:?}");
    }
    // Odd but harmless inputs: no panic, whatever the answer.
    let long = format!("xmpp:{}@example.org", "a".repeat(100_000));
    let odd = [
        long.as_str(),
        "xmpp:é",
        "xmpp:%00@example.org",
        "xmpp:a@b?;;;;=;=",
        "xmpp:a@b?message;body=\u{202e}evil",
        "xmpp:\u{0}",
    ];
    for link in odd {
        let _ = uri::parse(link);
    }
}

#[test]
fn notification_text_is_plain_short_and_cannot_reorder_itself() {
    let preview = loquat::notify::preview(
        "<b>Hi</b> &amp; \u{202e}gnp.exe\u{202c}\n\n\tsecond line "
            .repeat(20)
            .as_str(),
    );
    // The cap counts what the reader sees: entities count as one character.
    let visible = preview
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&");
    assert!(visible.chars().count() <= loquat::notify::PREVIEW_CHARS + 1);
    assert!(
        preview.ends_with('…'),
        "a long text is cut visibly: {preview}"
    );
    assert!(
        !preview.contains('<') && !preview.contains('\n'),
        "{preview}"
    );
    assert!(
        !preview
            .chars()
            .any(|c| ('\u{202a}'..='\u{202e}').contains(&c)),
        "bidi controls survived: {preview:?}"
    );
    assert!(preview.contains("&lt;b&gt;Hi"), "{preview}");
}

/// A second launch of the real binary hands its link to the running instance (here,
/// this test process) and exits at once, without opening a window.
#[test]
fn a_second_launch_hands_its_link_to_the_running_instance() {
    let dir = tempfile::tempdir().expect("a temp folder");
    let socket = instance::socket_path(dir.path());
    let Start::Primary(listener) =
        instance::acquire(&socket, &Request::Show).expect("become the instance")
    else {
        panic!("an empty folder cannot have a running instance");
    };
    let link = "xmpp:bob@example.test?message;body=hello%20from%20a%20link";
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_loquat"))
        .arg(link)
        .env("LOQUAT_DATA_DIR", dir.path())
        // No display: if the hand-over failed, opening a window would fail loudly.
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start loquat");
    let request = listener
        .next_request()
        .expect("a request from the second launch");
    assert_eq!(request, Request::Open(link.into()));
    let status = child.wait().expect("the second launch ends");
    assert!(status.success(), "the second launch failed: {status}");
    assert!(started.elapsed() < Duration::from_secs(20));

    // A garbage client does not stop the instance from serving the next launch.
    {
        use std::io::Write;
        let mut bad = std::os::unix::net::UnixStream::connect(&socket).expect("connect");
        let _ = bad.write_all(&vec![b'x'; instance::MAX_REQUEST * 2]);
    }
    let status = Command::new(env!("CARGO_BIN_EXE_loquat"))
        .env("LOQUAT_DATA_DIR", dir.path())
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start loquat again");
    assert_eq!(
        listener.next_request().expect("the plain launch"),
        Request::Show
    );
    let mut status = status;
    assert!(status.wait().expect("it ends").success());
}

/// After a crash the socket file stays behind; the next launch must not hand its link
/// to nobody, but become the instance.
#[test]
fn a_stale_socket_from_a_crash_does_not_block_the_next_start() {
    let dir = tempfile::tempdir().expect("a temp folder");
    let socket = instance::socket_path(dir.path());
    // Bound and dropped without cleanup: what a killed instance leaves.
    drop(std::os::unix::net::UnixListener::bind(&socket).expect("bind"));
    assert!(socket.exists());
    match instance::acquire(&socket, &Request::Show).expect("start") {
        Start::Primary(_) => {}
        Start::HandedOver => panic!("handed over to a dead instance"),
    }
}

#[test]
fn every_text_exists_in_english_and_chinese() {
    use loquat::ui::i18n::{Lang, T, tr};
    let mut missing = Vec::new();
    for &key in T::ALL {
        let en = tr(Lang::En, key);
        let zh = tr(Lang::ZhCn, key);
        if en.trim().is_empty() || zh.trim().is_empty() {
            missing.push(format!("{key:?}"));
        }
    }
    assert!(missing.is_empty(), "texts missing a language: {missing:?}");
    assert!(T::ALL.len() > 100);
}

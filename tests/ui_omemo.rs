//! OMEMO in the timeline (issue #17): a message that could not be decrypted is drawn with
//! its reason, in English and in Chinese, never with the marker it is stored with.
//!
//! `ICED_TEST_BACKEND=tiny-skia cargo test --test ui_omemo`; a screenshot for review:
//! `LOQUAT_UI_SHOTS=/tmp/shots cargo test --test ui_omemo -- --ignored`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code
#![cfg(feature = "gui")]

mod support;

use iced_test::selector::Candidate;
use iced_test::simulator;
use loquat::ids::{ConversationId, LocalMessageId};
use loquat::model::{Account, ChatMessage, Delivery, Direction};
use loquat::session::omemo::Undecryptable;
use loquat::ui::chat;
use loquat::ui::i18n::Lang;
use std::sync::{Arc, Mutex};
use support::session::jid;

fn chat_with_bob() -> (chat::State, Account) {
    let account = Account::new(jid("alice@example.org"));
    let bob = jid("bob@example.org");
    let mut state = chat::State::new(account.id.clone(), ConversationId::Chat(bob.clone()), false);
    let start = support::today_minus(600_000);
    for (i, body) in [
        "Tea at five?".to_owned(),
        Undecryptable::BadMac.body(),
        Undecryptable::NoSession.body(),
    ]
    .into_iter()
    .enumerate()
    {
        state.push(ChatMessage {
            truncated: false,
            extras: Default::default(),
            id: LocalMessageId::generate(),
            account: account.id.clone(),
            conversation: ConversationId::Chat(bob.clone()),
            direction: Direction::Incoming,
            sender: String::new(),
            body,
            timestamp_ms: start + i as i64 * 60_000,
            stanza_id_attr: None,
            origin_id: None,
            server_id: None,
            delivery: Delivery::Delivered,
            attachment: None,
        });
    }
    (state, account)
}

fn view<'a>(
    state: &'a chat::State,
    account: &'a Account,
    lang: Lang,
) -> iced::Element<'a, chat::Message> {
    state.view(chat::Context {
        lang,
        peer_label: "Bob".into(),
        peer: state.conversation.jid(),
        availability: loquat::ui::app::account_state::Availability {
            show: loquat::model::Show::Online,
            status: None,
        },
        in_roster: true,
        account,
        write_as: Vec::new(),
        account_online: true,
        muted: false,
        transfers: None,
        previews: None,
        blocked: None,
        request: false,
    })
}

fn texts<M>(view: iced::Element<'_, M>) -> Vec<String> {
    let mut ui = simulator(view);
    let found = Arc::new(Mutex::new(Vec::new()));
    let seen = found.clone();
    let _ = ui.find(move |c: Candidate<'_>| -> Option<()> {
        if let Candidate::Text { content, .. } = c
            && let Ok(mut f) = seen.lock()
        {
            f.push(content.to_owned());
        }
        None
    });
    std::mem::take(&mut *found.lock().unwrap())
}

#[test]
fn an_undecryptable_message_says_why_in_both_languages() {
    let (state, account) = chat_with_bob();
    let en = texts(view(&state, &account, Lang::En));
    assert!(en.iter().any(|t| t == "Tea at five?"), "{en:?}");
    assert!(
        en.iter()
            .any(|t| t.starts_with("This encrypted message could not be decrypted: bad MAC")),
        "{en:?}"
    );
    assert!(
        en.iter()
            .any(|t| t.contains("no session with the sender's device")),
        "{en:?}"
    );
    assert!(
        !en.iter().any(|t| t.contains("omemo-undecryptable")),
        "{en:?}"
    );

    let zh = texts(view(&state, &account, Lang::ZhCn));
    assert!(
        zh.iter()
            .any(|t| t.starts_with("无法解密这条加密消息：MAC 校验失败")),
        "{zh:?}"
    );
    assert!(zh.iter().any(|t| t.contains("没有会话")), "{zh:?}");
    assert!(
        !zh.iter().any(|t| t.contains("omemo-undecryptable")),
        "{zh:?}"
    );
}

/// Renders the chat in both languages to PNG for a person to look at.
#[test]
#[ignore = "writes screenshots for review"]
fn render_undecryptable_for_review() {
    let Some(dir) = std::env::var_os("LOQUAT_UI_SHOTS") else {
        return;
    };
    let dir = std::path::PathBuf::from(dir);
    std::fs::create_dir_all(&dir).unwrap();
    let (state, account) = chat_with_bob();
    for (lang, name) in [
        (Lang::En, "omemo-undecryptable-en"),
        (Lang::ZhCn, "omemo-undecryptable-zh"),
    ] {
        let size = iced::Size::new(900.0, 500.0);
        let mut ui = iced_test::simulator::Simulator::with_size(
            Default::default(),
            size,
            view(&state, &account, lang),
        );
        let snapshot = ui.snapshot(&iced::Theme::Light).expect("snapshot");
        let path = dir.join(name);
        let _ = std::fs::remove_file(path.with_file_name(format!("{name}-tiny-skia.png")));
        assert!(snapshot.matches_image(&path).expect("write png"));
    }
}

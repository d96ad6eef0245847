//! Headless UI tests of the room tools: the owner's configuration form (any field type,
//! Save), the nick-in-use offer in the room, private messages from the occupant list,
//! browsing rooms from the join dialog. Driven with `iced_test` on the real views.
//!
//! `ICED_TEST_BACKEND=tiny-skia cargo test --test ui_muc_tools`

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test
#![cfg(feature = "gui")]

mod support;

use support::session::jid;

use iced::widget::Id;
use iced_test::simulator;
use loquat::ids::{AccountId, LocalMessageId};
use loquat::model::{ChatMessage, Delivery, Direction};
use loquat::session::Command;
use loquat::session::rooms::{Affiliation, MucError, Role, RoomUpdate};
use loquat::ui::i18n::Lang;
use loquat::ui::room::browse;
use loquat::ui::room::form;
use loquat::ui::room::join;
use loquat::ui::room::joined::{self, Room};
use loquat::ui::screen::main_area::MainArea;
use loquat::xmpp::muc::browse::{Listing, RoomInfo};
use loquat::xmpp::muc::form::DataForm;
use support::view::{click_panel, count, occupant};
use xmpp_parsers::jid::BareJid;
use xmpp_parsers::minidom::Element;

const FORM: &str = "<query xmlns='http://jabber.org/protocol/muc#owner'>\
  <x xmlns='jabber:x:data' type='form'><title>Configuration for tea@conference.localhost</title>\
  <field type='hidden' var='FORM_TYPE'><value>http://jabber.org/protocol/muc#roomconfig</value></field>\
  <field type='fixed'><value>Room information</value></field>\
  <field type='text-single' label='Title' var='muc#roomconfig_roomname'><value>Tea</value></field>\
  <field type='text-multi' label='Description' var='muc#roomconfig_roomdesc'><value>Hot drinks</value></field>\
  <field type='boolean' label='Only allow members to join' var='muc#roomconfig_membersonly'><value>0</value></field>\
  <field type='boolean' label='Persistent room' var='muc#roomconfig_persistentroom'><value>1</value></field>\
  <field type='text-private' label='Password' var='muc#roomconfig_roomsecret'/>\
  <field type='list-single' label='Real addresses may be viewed by' var='muc#roomconfig_whois'>\
    <option label='Moderators only'><value>moderators</value></option>\
    <option label='Anyone'><value>anyone</value></option><value>moderators</value></field>\
  <field type='list-multi' label='Roles that receive presence' var='muc#roomconfig_presencebroadcast'>\
    <option label='Moderator'><value>moderator</value></option><option label='Visitor'><value>visitor</value></option>\
    <value>moderator</value></field>\
  <field type='jid-multi' label='Room admins' var='muc#roomconfig_roomadmins'/>\
  </x></query>";

fn loaded_form() -> form::State {
    let el: Element = FORM.parse().expect("xml");
    let form = DataForm::from_owner_query(&el).expect("form");
    let mut state = form::State::new(AccountId("acc".into()), jid("tea@conference.localhost"));
    assert_eq!(
        count(state.view(Lang::En), "Asking the room for its settings"),
        1
    );
    state.update(form::Message::Loaded(Ok(form)));
    state
}

#[test]
fn config_form_renders_every_field_and_submits_the_changes() {
    let mut state = loaded_form();
    for words in [
        "Settings of tea@conference.localhost",
        "Room information",
        "Title",
        "Only allow members to join",
        "Persistent room",
        "Password",
        "Real addresses may be viewed by",
        "Moderators only",
        "Roles that receive presence",
        "Room admins",
    ] {
        assert!(
            count(state.view(Lang::En), words) >= 1,
            "{words} is not shown"
        );
    }
    // The hidden FORM_TYPE is not shown.
    assert_eq!(count(state.view(Lang::En), "muc#roomconfig"), 0);

    // Tick the boolean, change the name, pick from the list, then Save.
    let messages: Vec<form::Message> = {
        let mut ui = simulator(state.view(Lang::En));
        ui.click("Only allow members to join").expect("checkbox");
        ui.into_messages().collect()
    };
    assert!(!messages.is_empty(), "the checkbox does nothing");
    for m in messages {
        assert_eq!(state.update(m), None);
    }
    let name = state
        .form
        .as_ref()
        .and_then(|f| {
            f.fields
                .iter()
                .position(|x| x.var == "muc#roomconfig_roomname")
        })
        .expect("name field");
    let whois = state
        .form
        .as_ref()
        .and_then(|f| {
            f.fields
                .iter()
                .position(|x| x.var == "muc#roomconfig_whois")
        })
        .expect("whois field");
    state.update(form::Message::Text(name, "Green tea".into()));
    // The list's choices are all in sight; clicking one picks it.
    let messages: Vec<form::Message> = {
        let mut ui = simulator(state.view(Lang::En));
        ui.click("Anyone").expect("list choice");
        ui.into_messages().collect()
    };
    assert!(
        matches!(messages.as_slice(), [form::Message::Pick(i, v)] if *i == whois && v == "anyone"),
        "{messages:?}"
    );
    for m in messages {
        state.update(m);
    }
    let messages: Vec<form::Message> = {
        let mut ui = simulator(state.view(Lang::En));
        ui.click("Save").expect("Save");
        ui.into_messages().collect()
    };
    let events: Vec<_> = messages
        .into_iter()
        .filter_map(|m| state.update(m))
        .collect();
    let [form::Event::Submit(form)] = events.as_slice() else {
        panic!("Save did not submit: {events:?}");
    };
    let value = |var: &str| {
        form.field(var)
            .map(|f| f.values.clone())
            .unwrap_or_default()
    };
    assert_eq!(value("muc#roomconfig_membersonly"), vec!["1"]);
    assert_eq!(value("muc#roomconfig_roomname"), vec!["Green tea"]);
    assert_eq!(value("muc#roomconfig_whois"), vec!["anyone"]);
    assert_eq!(
        value("muc#roomconfig_persistentroom"),
        vec!["1"],
        "untouched"
    );
    assert_eq!(count(state.view(Lang::En), "Saving…"), 1);

    // The service says no: the words, not a code; then Cancel closes.
    state.update(form::Message::Saved(Err(
        loquat::session::roomtools::QueryError::Refused {
            condition: loquat::session::roomtools::Condition::Forbidden,
            text: None,
        },
    )));
    assert_eq!(
        count(
            state.view(Lang::En),
            "You are not allowed to do this in this room."
        ),
        1
    );
    assert_eq!(count(state.view(Lang::ZhCn), "你无权在此群聊中这样做"), 1);
    let messages: Vec<form::Message> = {
        let mut ui = simulator(state.view(Lang::En));
        ui.click("Cancel").expect("Cancel");
        ui.into_messages().collect()
    };
    let events: Vec<_> = messages
        .into_iter()
        .filter_map(|m| state.update(m))
        .collect();
    assert_eq!(events, vec![form::Event::Close]);
}

/// Alice is the owner; Bob is there too.
fn owned_room() -> Room {
    support::view::joined_room(vec![
        occupant("alice", Role::Moderator, Affiliation::Owner),
        occupant("bob", Role::Participant, Affiliation::None),
    ])
}

fn click_room(room: &mut Room, target: &str) -> Vec<joined::Event> {
    let messages: Vec<joined::Message> = {
        let mut ui = simulator(room.view(Lang::En));
        ui.click(target).unwrap_or_else(|_| panic!("no {target}"));
        ui.into_messages().collect()
    };
    messages
        .into_iter()
        .filter_map(|m| room.update(m))
        .collect()
}

#[test]
fn owner_sees_configure_and_a_new_room_offers_it() {
    let mut room = owned_room();
    assert_eq!(count(room.view(Lang::En), "Configure"), 1);
    room.apply(&RoomUpdate::Created {
        room: room.jid.clone(),
    });
    assert_eq!(
        count(
            room.view(Lang::En),
            "You created this room. It is open with the default settings."
        ),
        1
    );
    let events = click_room(&mut room, "Configure now");
    assert!(
        matches!(events.as_slice(), [joined::Event::Configure]),
        "{events:?}"
    );
    assert_eq!(count(room.view(Lang::En), "You created this room"), 0);
    // Bob (not an owner) has no Configure button and no subject button.
    let mut other = owned_room();
    other.nick = "bob".into();
    assert_eq!(count(other.view(Lang::En), "Configure"), 0);
    assert_eq!(count(other.view(Lang::En), "Subject"), 0);
    // …unless the room lets occupants change the subject.
    other.apply(&RoomUpdate::Info {
        room: other.jid.clone(),
        subject_open: true,
    });
    assert_eq!(count(other.view(Lang::En), "Subject"), 1);
}

#[test]
fn nick_in_use_offers_another_nick() {
    let mut room = owned_room();
    assert!(click_room(&mut room, "Nickname").is_empty());
    let messages: Vec<joined::Message> = {
        let mut ui = simulator(room.view(Lang::En));
        ui.click(Id::new(loquat::ui::room::edit_bar::EDIT_ID))
            .expect("edit field");
        ui.typewrite("x");
        ui.into_messages().collect()
    };
    for m in messages {
        room.update(m);
    }
    room.update(joined::Message::Edit(
        loquat::ui::room::edit_bar::Message::Text("bob".into()),
    ));
    let events = click_room(&mut room, "Save");
    assert!(
        matches!(events.as_slice(), [joined::Event::Command(Command::ChangeNick { nick, .. })] if nick == "bob"),
        "{events:?}"
    );
    room.apply(&RoomUpdate::Refused {
        room: room.jid.clone(),
        error: MucError::NicknameInUse,
    });
    assert_eq!(
        count(
            room.view(Lang::En),
            "The nickname bob is already taken in this room. Try bob_?"
        ),
        1
    );
    let events = click_room(&mut room, "Use bob_");
    assert!(
        matches!(events.as_slice(), [joined::Event::Command(Command::ChangeNick { nick, .. })] if nick == "bob_"),
        "{events:?}"
    );
    assert_eq!(count(room.view(Lang::En), "already taken"), 0);
}

#[test]
fn subject_and_invitation_are_sent_from_the_room() {
    let mut room = owned_room();
    click_room(&mut room, "Subject");
    room.update(joined::Message::Edit(
        loquat::ui::room::edit_bar::Message::Text("Oolong today".into()),
    ));
    let events = click_room(&mut room, "Save");
    assert!(
        matches!(events.as_slice(), [joined::Event::Command(Command::SetSubject { subject, .. })] if subject == "Oolong today"),
        "{events:?}"
    );
    click_room(&mut room, "Invite");
    room.update(joined::Message::Edit(
        loquat::ui::room::edit_bar::Message::Text("not a jid".into()),
    ));
    assert!(click_room(&mut room, "Send invitation").is_empty());
    assert_eq!(
        count(room.view(Lang::En), "This is not a valid address."),
        1
    );
    room.update(joined::Message::Edit(
        loquat::ui::room::edit_bar::Message::Text("dave@example.org".into()),
    ));
    room.update(joined::Message::Edit(
        loquat::ui::room::edit_bar::Message::Reason("join us".into()),
    ));
    let events = click_room(&mut room, "Send invitation");
    assert!(
        matches!(events.as_slice(), [joined::Event::Command(Command::InviteToRoom { to, reason: Some(r), direct: true, .. })]
            if to.as_str() == "dave@example.org" && r == "join us"),
        "{events:?}"
    );
    assert_eq!(
        count(room.view(Lang::En), "Invitation sent to dave@example.org."),
        1
    );
}

#[test]
fn message_privately_opens_its_own_conversation() {
    let mut room = owned_room();
    // Opening it the first time asks for its stored history.
    let events = click_room(&mut room, "Message privately");
    assert!(
        matches!(events.as_slice(), [joined::Event::LoadPrivate { nick, before: None }] if nick == "bob"),
        "{events:?}"
    );
    assert_eq!(count(room.view(Lang::En), "Private with bob in tea"), 1);
    let messages: Vec<joined::Message> = {
        let mut ui = simulator(room.view(Lang::En));
        ui.click(Id::new(loquat::ui::room::private::PRIVATE_COMPOSER_ID))
            .expect("composer");
        ui.typewrite("psst, bob");
        ui.click("Send").expect("Send");
        ui.into_messages().collect()
    };
    let events: Vec<_> = messages
        .into_iter()
        .filter_map(|m| room.update(m))
        .collect();
    // Typing told bob (not the room) once, then the message went to him.
    assert!(
        matches!(events.as_slice(), [
            joined::Event::Command(Command::SendChatState {
                conversation: loquat::ids::ConversationId::Private { nick: to, .. },
                state: loquat::session::ChatState::Composing,
            }),
            joined::Event::Command(Command::SendPrivate { nick, body, .. }),
        ] if to == "bob" && nick == "bob" && body == "psst, bob"),
        "{events:?}"
    );
    // Bob's answer lands here, not among the room's lines.
    let lines_before = room.lines.len();
    room.push_private(ChatMessage {
        truncated: false,
        extras: Default::default(),
        id: LocalMessageId::generate(),
        account: room.account.clone(),
        conversation: loquat::ids::ConversationId::Private {
            room: room.jid.clone(),
            nick: "bob".into(),
        },
        direction: Direction::Incoming,
        sender: "bob".into(),
        body: "what is it?".into(),
        timestamp_ms: 0,
        stanza_id_attr: None,
        origin_id: None,
        server_id: None,
        delivery: Delivery::Delivered,
        attachment: None,
    });
    assert_eq!(room.lines.len(), lines_before);
    assert_eq!(count(room.view(Lang::En), "what is it?"), 1);
    let events = click_room(&mut room, "Back to the room");
    assert!(events.is_empty());
    assert_eq!(count(room.view(Lang::En), "what is it?"), 0);
    assert_eq!(count(room.view(Lang::En), "Private messages"), 1);
}

fn listing(room: &str, name: Option<&str>) -> Listing {
    Listing {
        jid: jid(room),
        name: name.map(str::to_owned),
        occupants: None,
        info: None,
    }
}

#[test]
fn browse_lists_rooms_filters_and_fills_the_join_dialog() {
    let mut form = join::State::new("alice");
    let messages: Vec<join::Message> = {
        let mut ui = simulator(form.view(Lang::En));
        ui.click("Browse…").expect("Browse button");
        ui.into_messages().collect()
    };
    let events: Vec<_> = messages
        .into_iter()
        .filter_map(|m| form.update(m))
        .collect();
    assert_eq!(events, vec![join::Event::Browse]);
    assert_eq!(count(form.view(Lang::En), "Looking for rooms…"), 1);
    let event = form.update(join::Message::Browse(browse::Message::Listed(Ok((
        jid("conference.example.org"),
        vec![
            listing("coffee@conference.example.org", None),
            listing("tea@conference.example.org", Some("Tea room")),
        ],
    )))));
    assert!(
        matches!(&event, Some(join::Event::RoomInfos(rooms)) if rooms.len() == 2),
        "details are asked for: {event:?}"
    );
    form.update(join::Message::Browse(browse::Message::Infos(vec![(
        jid("tea@conference.example.org"),
        RoomInfo {
            name: Some("Tea room".into()),
            occupants: Some(3),
            ..RoomInfo::default()
        },
    )])));
    assert_eq!(count(form.view(Lang::En), "Tea room"), 1);
    assert_eq!(count(form.view(Lang::En), "3 in the room"), 1);
    assert_eq!(count(form.view(Lang::ZhCn), "3 人在群聊中"), 1);
    assert_eq!(
        count(form.view(Lang::En), "coffee@conference.example.org"),
        1
    );
    // The filter narrows the list.
    form.update(join::Message::Browse(browse::Message::Filter("TEA".into())));
    assert_eq!(
        count(form.view(Lang::En), "coffee@conference.example.org"),
        0
    );
    form.update(join::Message::Browse(browse::Message::Pick(jid(
        "tea@conference.example.org",
    ))));
    assert_eq!(form.room, "tea@conference.example.org");
    assert!(form.browse.is_none());
    // No service: said in words.
    form.update(join::Message::OpenBrowse);
    form.update(join::Message::Browse(browse::Message::Listed(Err(
        loquat::session::roomtools::QueryError::NoService,
    ))));
    assert_eq!(
        count(
            form.view(Lang::En),
            "This server has no group chat service."
        ),
        1
    );
}

/// `LOQUAT_UI_SHOTS=/tmp/shots cargo test --test ui_muc_tools -- --ignored`.
#[test]
#[ignore = "writes screenshots for review"]
fn render_room_tool_screens_for_review() {
    let Some(dir) = std::env::var_os("LOQUAT_UI_SHOTS") else {
        return;
    };
    let dir = std::path::PathBuf::from(dir);
    fn shoot<M>(dir: &std::path::Path, view: iced::Element<'_, M>, name: &str) {
        let mut ui = simulator(view);
        let snapshot = ui.snapshot(&iced::Theme::Light).expect("snapshot");
        let path = dir.join(name);
        let _ = std::fs::remove_file(path.with_file_name(format!("{name}-tiny-skia.png")));
        assert!(snapshot.matches_image(&path).expect("write png"));
    }
    for (lang, tag) in [(Lang::En, "en"), (Lang::ZhCn, "zh")] {
        let state = loaded_form();
        shoot(&dir, state.view(lang), &format!("config-{tag}"));
        let mut room = owned_room();
        room.apply(&RoomUpdate::Created {
            room: room.jid.clone(),
        });
        room.update(joined::Message::Edit(
            loquat::ui::room::edit_bar::Message::Start(loquat::ui::room::edit_bar::Kind::Invite),
        ));
        room.asked_nick = Some("bob".into());
        room.apply(&RoomUpdate::Refused {
            room: room.jid.clone(),
            error: MucError::NicknameInUse,
        });
        shoot(&dir, room.view(lang), &format!("room-tools-{tag}"));
        room.update(joined::Message::OpenPrivate("bob".into()));
        shoot(&dir, room.view(lang), &format!("private-{tag}"));
        let mut form = join::State::new("alice");
        form.update(join::Message::OpenBrowse);
        form.update(join::Message::Browse(browse::Message::Listed(Ok((
            jid("conference.example.org"),
            vec![
                listing("coffee@conference.example.org", None),
                listing("tea@conference.example.org", Some("Tea room 茶")),
            ],
        )))));
        form.update(join::Message::Browse(browse::Message::Infos(vec![(
            jid("tea@conference.example.org"),
            RoomInfo {
                occupants: Some(3),
                members_only: true,
                ..RoomInfo::default()
            },
        )])));
        shoot(&dir, form.view(lang), &format!("browse-{tag}"));
    }
}

#[test]
fn the_panel_asks_for_the_form_and_says_when_it_is_saved() {
    use loquat::ui::room::tasks::Request;
    use loquat::ui::room::{Message as P, Panel};
    let mut panel = Panel::default();
    let room = owned_room();
    let key = (room.account.clone(), room.jid.clone());
    panel.rooms.insert(key.clone(), room);
    let mut area = MainArea::Room(key.0.clone(), key.1.clone());
    assert!(
        panel
            .update(&mut area, P::Room(joined::Message::Configure), None, None)
            .is_none()
    );
    let requests = std::mem::take(&mut panel.requests);
    assert!(
        matches!(requests.as_slice(), [(a, Request::ConfigForm(r))] if *a == key.0 && *r == key.1),
        "{requests:?}"
    );
    let shown = panel
        .main_view(&area, Lang::En, Vec::new(), Default::default())
        .expect("dialog");
    assert_eq!(count(shown, "Asking the room for its settings"), 1);
    let el: Element = FORM.parse().expect("xml");
    let form = DataForm::from_owner_query(&el).expect("form");
    panel.update(
        &mut area,
        P::Config(form::Message::Loaded(Ok(form))),
        None,
        None,
    );
    panel.update(&mut area, P::Config(form::Message::Save), None, None);
    let requests = std::mem::take(&mut panel.requests);
    assert!(
        matches!(requests.as_slice(), [(_, Request::SubmitConfig(r, _))] if *r == key.1),
        "{requests:?}"
    );
    panel.update(
        &mut area,
        P::Config(form::Message::Saved(Ok(()))),
        None,
        None,
    );
    assert!(matches!(area, MainArea::Room(..)), "back to the room");
    let shown = panel
        .main_view(&area, Lang::En, Vec::new(), Default::default())
        .expect("room");
    assert_eq!(count(shown, "The room settings were saved."), 1);
}

/// The whole app: "Browse…" in the join dialog asks the account's session (a fake one
/// answering with canned disco XML) and shows the rooms with name and occupant count.
#[test]
fn app_browses_rooms_through_the_session() {
    use futures::StreamExt;
    use loquat::model::Account;
    use loquat::session::{Handle, Update, UpdateKind};
    use loquat::ui::app::startup::{LoadedAccount, Startup};
    use loquat::ui::room;
    use loquat::ui::{App, Message};
    let account = Account::new(jid("alice@example.org"));
    let id = account.id.clone();
    let mut app = App::from_startup(
        Lang::En,
        Startup {
            accounts: vec![LoadedAccount::new(account, Some("pw".into()))],
            ..Startup::default()
        },
    );
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let _ = app.update(Message::Session(Update {
        account: id.clone(),
        kind: UpdateKind::Ready(Handle::new(tx)),
    }));
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    // The fake session: answers each disco query by address.
    rt.spawn(async move {
        while let Some(command) = rx.recv().await {
            let Command::Query { to, payload, reply, .. } = command else {
                continue;
            };
            let items = payload.ns() == "http://jabber.org/protocol/disco#items";
            let xml = match (to.as_str(), items) {
                ("example.org", true) => "<query xmlns='http://jabber.org/protocol/disco#items'>\
                    <item jid='upload.example.org'/><item jid='conference.example.org'/></query>",
                ("upload.example.org", false) => "<query xmlns='http://jabber.org/protocol/disco#info'>\
                    <identity category='store' type='file'/></query>",
                ("conference.example.org", false) => "<query xmlns='http://jabber.org/protocol/disco#info'>\
                    <identity category='conference' type='text'/><feature var='http://jabber.org/protocol/muc'/></query>",
                ("conference.example.org", true) => "<query xmlns='http://jabber.org/protocol/disco#items'>\
                    <item jid='tea@conference.example.org' name='Tea room'/><item jid='coffee@conference.example.org'/></query>",
                ("tea@conference.example.org", false) => "<query xmlns='http://jabber.org/protocol/disco#info'>\
                    <identity category='conference' type='text' name='Tea room'/>\
                    <x xmlns='jabber:x:data' type='result'>\
                    <field var='FORM_TYPE' type='hidden'><value>http://jabber.org/protocol/muc#roominfo</value></field>\
                    <field var='muc#roominfo_occupants'><value>2</value></field></x></query>",
                _ => "<query xmlns='http://jabber.org/protocol/disco#info'/>",
            };
            reply.send(Ok(Some(xml.parse().expect("canned xml"))));
        }
    });
    fn run(rt: &tokio::runtime::Runtime, app: &mut App, task: iced::Task<Message>) {
        let Some(stream) = iced_runtime::task::into_stream(task) else {
            return;
        };
        let actions: Vec<_> = rt.block_on(stream.collect());
        for action in actions {
            if let iced_runtime::Action::Output(message) = action {
                let next = app.update(message);
                run(rt, app, next);
            }
        }
    }
    let task = app.update(Message::Rooms(room::Message::OpenJoin));
    run(&rt, &mut app, task);
    let task = app.update(Message::Rooms(room::Message::Join(
        join::Message::OpenBrowse,
    )));
    run(&rt, &mut app, task);
    assert_eq!(count(app.view(), "Service: conference.example.org"), 1);
    assert_eq!(count(app.view(), "Tea room"), 1);
    assert_eq!(count(app.view(), "2 in the room"), 1);
    assert_eq!(count(app.view(), "coffee@conference.example.org"), 1);
}

#[test]
fn a_moderator_takes_voice_with_a_reason_and_bans_from_the_occupant_list() {
    use loquat::ui::room::joined::moderation::REASON_ID;
    let mut room = support::view::joined_room(vec![
        occupant("alice", Role::Moderator, Affiliation::Owner),
        loquat::session::rooms::Occupant {
            real_jid: Some(BareJid::new("bob@example.org").expect("jid")),
            ..occupant("bob", Role::Participant, Affiliation::None)
        },
        occupant("carol", Role::Moderator, Affiliation::Admin),
    ]);
    // Admins and owners are not for a moderator's buttons: one "Moderate…", bob's.
    assert_eq!(count(room.view(Lang::En), "Moderate…"), 1);
    assert!(click_room(&mut room, "Moderate…").is_empty());
    for action in ["Kick", "Take voice", "Make moderator", "Ban"] {
        assert_eq!(count(room.view(Lang::En), action), 1, "{action}");
    }
    let messages: Vec<joined::Message> = {
        let mut ui = simulator(room.view(Lang::En));
        ui.click(iced::widget::Id::new(REASON_ID)).expect("reason");
        ui.typewrite("too loud");
        ui.click("Take voice").expect("Take voice");
        ui.into_messages().collect()
    };
    let events: Vec<_> = messages
        .into_iter()
        .filter_map(|m| room.update(m))
        .collect();
    assert!(
        matches!(events.as_slice(), [joined::Event::Command(Command::SetRole { nick, role: Role::Visitor, reason: Some(r), .. })]
            if nick == "bob" && r == "too loud"),
        "{events:?}"
    );
    assert_eq!(
        count(room.view(Lang::En), "Take voice"),
        0,
        "the box closes"
    );
    click_room(&mut room, "Moderate…");
    let events = click_room(&mut room, "Ban");
    assert!(
        matches!(events.as_slice(), [joined::Event::Command(Command::SetAffiliation { jid, affiliation: Affiliation::Outcast, reason: None, .. })]
            if jid.as_str() == "bob@example.org"),
        "{events:?}"
    );
    // A plain participant sees no moderation at all.
    let plain = support::view::joined_room(vec![
        occupant("alice", Role::Participant, Affiliation::None),
        occupant("bob", Role::Participant, Affiliation::None),
    ]);
    assert_eq!(count(plain.view(Lang::En), "Moderate…"), 0);
}

#[test]
fn the_owner_destroys_the_room_with_a_reason_after_confirming() {
    let mut room = owned_room();
    assert!(click_room(&mut room, "Destroy…").is_empty(), "only asks");
    assert!(click_room(&mut room, "Cancel").is_empty());
    assert_eq!(count(room.view(Lang::En), "Destroy room"), 0);
    click_room(&mut room, "Destroy…");
    let messages: Vec<joined::Message> = {
        let mut ui = simulator(room.view(Lang::En));
        ui.click(Id::new(loquat::ui::room::edit_bar::DESTROY_REASON_ID))
            .expect("reason");
        ui.typewrite("moved to tea2");
        ui.click("Destroy room").expect("Destroy room");
        ui.into_messages().collect()
    };
    let events: Vec<_> = messages
        .into_iter()
        .filter_map(|m| room.update(m))
        .collect();
    assert!(
        matches!(events.as_slice(), [joined::Event::Command(Command::DestroyRoom { reason: Some(r), .. })] if r == "moved to tea2"),
        "{events:?}"
    );
    // Not offered to others.
    let plain = support::view::joined_room(vec![
        occupant("alice", Role::Moderator, Affiliation::Admin),
        occupant("bob", Role::Participant, Affiliation::None),
    ]);
    assert_eq!(count(plain.view(Lang::En), "Destroy…"), 0);
}

fn shows(panel: &loquat::ui::room::Panel, area: &MainArea, lang: Lang, what: &str) -> usize {
    count(
        panel
            .main_view(area, lang, Vec::new(), Default::default())
            .expect("something shown"),
        what,
    )
}

#[test]
fn members_and_bans_lists_entries_bans_with_a_reason_and_says_a_refusal() {
    use loquat::session::roomtools::{Condition, QueryError};
    use loquat::ui::room::members::Message as Mm;
    use loquat::ui::room::tasks::Request;
    use loquat::ui::room::{Message as P, Panel};
    use loquat::xmpp::muc::affiliations::Affiliated;
    let mut panel = Panel::default();
    let room = owned_room();
    let key = (room.account.clone(), room.jid.clone());
    panel.rooms.insert(key.clone(), room);
    let mut area = MainArea::Room(key.0.clone(), key.1.clone());

    // A participant sees no such button; the owner does, and it asks for the members.
    let guest = support::view::joined_room(vec![occupant(
        "alice",
        Role::Participant,
        Affiliation::Member,
    )]);
    assert_eq!(count(guest.view(Lang::En), "Members and bans"), 0);
    click_panel(&mut panel, &mut area, "Members and bans");
    assert!(matches!(area, MainArea::RoomMembers(_)));
    let requests = std::mem::take(&mut panel.requests);
    assert!(
        matches!(requests.as_slice(), [(_, Request::AffiliationList(r, Affiliation::Member))] if *r == key.1),
        "{requests:?}"
    );
    panel.update(
        &mut area,
        P::Members(Mm::Loaded(
            Affiliation::Member,
            Ok(vec![Affiliated {
                jid: jid("bob@localhost"),
                nick: Some("bob".into()),
                reason: None,
            }]),
        )),
        None,
        None,
    );
    assert_eq!(shows(&panel, &area, Lang::En, "bob@localhost"), 1);

    // The Banned list: an address and a reason, Ban.
    click_panel(&mut panel, &mut area, "Banned");
    let requests = std::mem::take(&mut panel.requests);
    assert!(
        matches!(
            requests.as_slice(),
            [(_, Request::AffiliationList(_, Affiliation::Outcast))]
        ),
        "{requests:?}"
    );
    panel.update(
        &mut area,
        P::Members(Mm::Address("spam@evil.example".into())),
        None,
        None,
    );
    panel.update(&mut area, P::Members(Mm::Reason("spam".into())), None, None);
    click_panel(&mut panel, &mut area, "Ban");
    let requests = std::mem::take(&mut panel.requests);
    assert!(
        matches!(requests.as_slice(), [(_, Request::SetAffiliation(r, who, Affiliation::Outcast, Some(why)))]
            if *r == key.1 && who.as_str() == "spam@evil.example" && why == "spam"),
        "{requests:?}"
    );
    // The room refuses: said in words, in Chinese too.
    panel.update(
        &mut area,
        P::Members(Mm::Changed(
            jid("spam@evil.example"),
            Affiliation::Outcast,
            Err(QueryError::Refused {
                condition: Condition::Forbidden,
                text: None,
            }),
        )),
        None,
        None,
    );
    assert_eq!(
        shows(
            &panel,
            &area,
            Lang::En,
            "The room refused the change for spam@evil.example: You are not allowed to do this in this room."
        ),
        1
    );
    assert_eq!(
        shows(
            &panel,
            &area,
            Lang::ZhCn,
            "群聊拒绝了对 spam@evil.example 的更改：你无权在此群聊中这样做。"
        ),
        1
    );
    // Back to the room.
    click_panel(&mut panel, &mut area, "Back to the room");
    assert!(matches!(&area, MainArea::Room(a, r) if *a == key.0 && *r == key.1));
}

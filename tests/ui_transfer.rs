//! Headless UI tests of file transfers (issue #4) with `iced_test`: the progress bar
//! with bytes, speed and Cancel; a failure with its reason and Retry; a received file's
//! card with Download. The real `App::update`/`view`; the transfer tasks are not run
//! (no network): progress and results are fed in as the runtime would deliver them.
//!
//! `ICED_TEST_BACKEND=tiny-skia cargo test --test ui_transfer`; screenshots for review:
//! `LOQUAT_UI_SHOTS=/tmp/shots cargo test --test ui_transfer -- --ignored`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test
#![cfg(feature = "gui")]

mod support;
use support::app::{click, count as count_text, shows};

use futures::future::BoxFuture;
use iced_test::simulator;
use loquat::ids::{AccountId, LocalMessageId};
use loquat::model::{Account, Attachment, ChatMessage, Contact, Delivery, Direction, Subscription};
use loquat::session::{Command, Handle, Update, UpdateKind};
use loquat::transfer::{Progress, TransferError};
use loquat::ui::app::startup::{LoadedAccount, Startup};
use loquat::ui::i18n::Lang;
use loquat::ui::timeline::transfers::{self, FilePicker, Status};
use loquat::ui::{App, Message};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::sync::mpsc;
use xmpp_parsers::jid::BareJid;

/// Never opens a dialog; counts how often it was asked.
struct StubPicker(Arc<AtomicUsize>);

impl FilePicker for StubPicker {
    fn pick(&self) -> BoxFuture<'static, Vec<PathBuf>> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Box::pin(async { Vec::new() })
    }

    fn save_as(&self, _name: String) -> BoxFuture<'static, Option<PathBuf>> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Box::pin(async { None })
    }
}

/// A desktop with no file dialog at all.
struct NoChooser;

impl FilePicker for NoChooser {
    fn pick(&self) -> BoxFuture<'static, Vec<PathBuf>> {
        Box::pin(async { Vec::new() })
    }

    fn save_as(&self, _name: String) -> BoxFuture<'static, Option<PathBuf>> {
        Box::pin(async { None })
    }

    fn missing(&self) -> Option<transfers::ChooserMissing> {
        Some(transfers::ChooserMissing::NoChooser)
    }
}

#[test]
fn attach_without_any_file_dialog_says_what_to_install_and_what_works_instead() {
    let (mut app, _, _, _rx, _) = app_with_bob();
    app.set_file_picker(Arc::new(NoChooser));
    assert!(!shows(&app, "No file dialog can open"));
    let before = texts_at(&app);
    click(&mut app, "Attach");
    assert!(shows(&app, "xdg-desktop-portal-gtk"), "names the packages");
    assert!(
        shows(&app, "drag files onto the window"),
        "and the way that works now"
    );
    // The notice sits in the strip kept for it: nothing that was on screen moved,
    // and nothing is covered by it.
    let after = texts_at(&app);
    assert!(!before.is_empty());
    for (text, at) in &before {
        assert!(
            after.iter().any(|(t, a)| t == text && a == at),
            "{text:?} moved from {at:?}: {after:?}"
        );
    }
    let (_, notice) = after
        .iter()
        .find(|(t, _)| t.starts_with("No file dialog can open"))
        .expect("the notice is drawn");
    for (text, at) in &before {
        assert!(
            !at.intersects(notice),
            "the notice at {notice:?} covers {text:?} at {at:?}"
        );
    }
    // The whole list opens on demand, and Dismiss takes the notice away.
    click(&mut app, "Read all");
    click(&mut app, "Hide");
    click(&mut app, "Dismiss");
    assert!(!shows(&app, "No file dialog can open"));
}

/// Every text on screen with where it is drawn.
fn texts_at(app: &App) -> Vec<(String, iced::Rectangle)> {
    use iced_test::selector::Candidate;
    use std::sync::Mutex;
    let mut ui = simulator(app.view());
    let found = Arc::new(Mutex::new(Vec::new()));
    let seen = found.clone();
    let _ = ui.find(move |c: Candidate<'_>| -> Option<()> {
        if let Candidate::Text {
            content, bounds, ..
        } = c
            && let Ok(mut f) = seen.lock()
        {
            f.push((content.to_owned(), bounds));
        }
        None
    });
    std::mem::take(&mut *found.lock().expect("lock"))
}

/// The main screen with Bob's conversation open and a session handle.
fn app_with_bob() -> (
    App,
    AccountId,
    BareJid,
    mpsc::UnboundedReceiver<Command>,
    Arc<AtomicUsize>,
) {
    let account = Account::new(BareJid::new("alice@example.org").expect("jid"));
    let id = account.id.clone();
    let bob = BareJid::new("bob@example.org").expect("jid");
    let mut loaded = LoadedAccount::new(account, Some("pw".into()));
    loaded.contacts = vec![Contact {
        jid: bob.clone(),
        name: Some("Bob".into()),
        subscription: Subscription::Both,
        pending_out: false,
        groups: Vec::new(),
    }];
    let mut app = App::from_startup(
        Lang::En,
        Startup {
            accounts: vec![loaded],
            ..Startup::default()
        },
    );
    let picks = Arc::new(AtomicUsize::new(0));
    app.set_file_picker(Arc::new(StubPicker(picks.clone())));
    let (tx, rx) = mpsc::unbounded_channel();
    let _ = app.update(Message::Session(Update {
        account: id.clone(),
        kind: UpdateKind::Ready(Handle::new(tx)),
    }));
    click(&mut app, "Bob");
    // The lock knows: Bob publishes no OMEMO device, so files go as they are (while it
    // is still checking they wait: `tests/ui_omemo_files.rs`).
    let _ = app.update(Message::Session(Update {
        account: id.clone(),
        kind: UpdateKind::Omemo(loquat::session::omemo::trust::Report {
            peer: bob.clone(),
            available: true,
            broken: false,
            ours: None,
            own_others: Vec::new(),
            contact: Some(Vec::new()),
            room: None,
        }),
    }));
    (app, id, bob, rx, picks)
}

fn file(dir: &std::path::Path, name: &str, len: usize) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, vec![7u8; len]).expect("write");
    path
}

#[test]
fn an_upload_shows_a_progress_bar_with_bytes_speed_and_cancel() {
    let (mut app, _, _, _rx, picks) = app_with_bob();
    // The attach button asks the picker (a stub here: no dialog ever opens).
    let messages = {
        let mut ui = simulator(app.view());
        ui.click("Attach").expect("attach button");
        ui.into_messages().collect::<Vec<_>>()
    };
    assert!(
        format!("{messages:?}").contains("Attach"),
        "the button asks for files: {messages:?}"
    );
    for m in messages {
        let _ = app.update(m);
    }
    // The stub is only called when the returned task runs (not here); whatever it
    // returns comes back as FilesChosen, as files dropped on the window do.
    assert_eq!(picks.load(Ordering::SeqCst), 0, "no dialog during update");
    let tmp = tempfile::tempdir().expect("tempdir");
    let a = file(tmp.path(), "holiday.mp4", 5 * 1024 * 1024);
    let b = file(tmp.path(), "notes.txt", 1000);
    let _ = app.update(Message::FilesChosen(vec![a, b]));
    assert_eq!(app.transfers().items().len(), 2, "several files at once");
    assert!(shows(&app, "Sending holiday.mp4"));
    assert!(shows(&app, "Sending notes.txt"));
    assert!(shows(&app, "Asking the server for room"));

    let id = app.transfers().items()[0].id.clone();
    let _ = app.update(Message::Transfers(transfers::Message::Progress(
        id.clone(),
        Progress {
            done: 2 * 1024 * 1024,
            total: Some(5 * 1024 * 1024),
            elapsed_ms: 2000,
        },
    )));
    assert!(
        shows(&app, "2 MiB of 5 MiB · 1 MiB/s"),
        "bytes and speed under the bar"
    );
    assert_eq!(count_text(&app, "Cancel"), 2, "one Cancel per transfer");

    // Cancel the first: it disappears (its task handle is dropped, which aborts it).
    click(&mut app, "Cancel");
    assert_eq!(app.transfers().items().len(), 1);
    assert!(!shows(&app, "holiday.mp4"));
    assert!(shows(&app, "Sending notes.txt"));
}

#[test]
fn a_failed_upload_says_why_and_retries() {
    let (mut app, _, _, _rx, _) = app_with_bob();
    let tmp = tempfile::tempdir().expect("tempdir");
    let _ = app.update(Message::FilesChosen(vec![file(
        tmp.path(),
        "notes.txt",
        1000,
    )]));
    let id = app.transfers().items()[0].id.clone();
    let _ = app.update(Message::Transfers(transfers::Message::Finished(
        id.clone(),
        Err(TransferError::Http {
            status: 413,
            reason: "the file is too large for the web server".into(),
        }),
    )));
    assert!(
        shows(
            &app,
            "notes.txt was not sent: the web server answered 413 (the file is too large for the web server)"
        ),
        "the reason in plain words"
    );
    assert!(!shows(&app, "Cancel"));
    click(&mut app, "Retry");
    let item = &app.transfers().items()[0];
    assert_eq!(item.id, id, "the same transfer is tried again");
    assert_eq!(item.status, Status::Running(None));
    assert!(shows(&app, "Sending notes.txt"));
    assert!(!shows(&app, "was not sent"));
}

fn with_file(account: &AccountId, peer: &BareJid) -> ChatMessage {
    let url = "https://upload.example.org/abc/photo%201.jpg".to_owned();
    ChatMessage {
        truncated: false,
        extras: Default::default(),
        id: LocalMessageId::generate(),
        account: account.clone(),
        conversation: loquat::ids::ConversationId::Chat(peer.clone()),
        direction: Direction::Incoming,
        sender: String::new(),
        body: url.clone(),
        timestamp_ms: chrono::Utc::now().timestamp_millis(),
        stanza_id_attr: None,
        origin_id: None,
        server_id: None,
        delivery: Delivery::Delivered,
        attachment: Some(Box::new(Attachment {
            url,
            name: "photo 1.jpg".into(),
            size: Some(1_572_864),
            mime: Some("image/jpeg".into()),
        })),
    }
}

#[test]
fn a_received_file_shows_a_card_with_download() {
    let (mut app, account, bob, _rx, _) = app_with_bob();
    let _ = app.update(Message::Session(Update {
        account: account.clone(),
        kind: UpdateKind::Message(with_file(&account, &bob)),
    }));
    assert!(shows(&app, "photo 1.jpg"), "the file name, not the URL");
    assert!(shows(&app, "1.5 MiB"));
    // The bubble shows the card instead of the URL (the sidebar's preview line may
    // still show the URL as the message text).
    assert!(count_text(&app, "https://upload.example.org") <= 1);
    click(&mut app, "Download");
    assert!(shows(&app, "Downloading photo 1.jpg"));

    // Save as: the dialog's answer (here given directly) names the file and folder.
    let message = with_file(&account, &bob);
    let _ = app.update(Message::SaveTo(
        Box::new(message),
        Some(PathBuf::from("/tmp/elsewhere/beach.jpg")),
    ));
    assert!(shows(&app, "Downloading beach.jpg"));
    let item = app.transfers().items().last().expect("item").clone();
    assert_eq!(item.path, PathBuf::from("/tmp/elsewhere"));
    // A cancelled dialog starts nothing.
    let before = app.transfers().items().len();
    let _ = app.update(Message::SaveTo(Box::new(with_file(&account, &bob)), None));
    assert_eq!(app.transfers().items().len(), before);
}

#[test]
fn a_file_sent_without_its_size_shows_the_size_once_downloaded() {
    let (mut app, account, bob, _rx, _) = app_with_bob();
    let mut message = with_file(&account, &bob);
    if let Some(a) = message.attachment.as_mut() {
        a.size = None;
    }
    let _ = app.update(Message::Session(Update {
        account: account.clone(),
        kind: UpdateKind::Message(message),
    }));
    assert!(shows(&app, "size unknown"));
    click(&mut app, "Download");
    let id = app.transfers().items().last().expect("download").id.clone();
    let _ = app.update(Message::Transfers(transfers::Message::Progress(
        id.clone(),
        Progress {
            done: 3 * 1024 * 1024,
            total: None,
            elapsed_ms: 1000,
        },
    )));
    let _ = app.update(Message::Transfers(transfers::Message::Finished(
        id,
        Ok(Some(PathBuf::from("/tmp/photo 1.jpg"))),
    )));
    assert!(!shows(&app, "size unknown"), "the card learnt the size");
    assert!(shows(&app, "3 MiB"));
}

fn picture() -> loquat::ui::timeline::previews::Picture {
    let mut px = Vec::new();
    for y in 0..90u32 {
        for x in 0..160u32 {
            px.extend_from_slice(&[(x * 255 / 160) as u8, (y * 255 / 90) as u8, 160, 255]);
        }
    }
    loquat::ui::timeline::previews::Picture {
        handle: iced::widget::image::Handle::from_rgba(160, 90, px),
        file: PathBuf::from("/tmp/photo 1.jpg"),
    }
}

#[test]
fn a_received_image_shows_inline_and_opens_full_size() {
    use loquat::ui::timeline::previews::Message as P;
    let (mut app, account, bob, _rx, _) = app_with_bob();
    let message = with_file(&account, &bob);
    let url = message.attachment.as_ref().expect("file").url.clone();
    let _ = app.update(Message::Session(Update {
        account: account.clone(),
        kind: UpdateKind::Message(message),
    }));
    assert!(shows(&app, "Download"), "a card until the preview is there");
    let preview = |m| Message::Transfers(transfers::Message::Preview(m));
    let _ = app.update(preview(P::Loaded(url.clone(), Ok(picture()))));
    assert!(!shows(&app, "Download"), "the thumbnail replaces the card");
    let _ = app.update(preview(P::ShowFull(url.clone())));
    assert!(shows(&app, "Opening the image"));
    let _ = app.update(preview(P::FullLoaded(url.clone(), Ok(picture()))));
    assert!(shows(&app, "Open in system viewer"));
    click(&mut app, "Close");
    assert!(!shows(&app, "Open in system viewer"));
    assert!(shows(&app, "Bob"), "back to the conversation");

    // A picture that could not be decoded leaves the card (a placeholder, no crash).
    let other = with_file(&account, &bob);
    let other_url = other.attachment.as_ref().expect("file").url.clone() + "?2";
    let _ = app.update(preview(P::Loaded(
        other_url,
        Err(TransferError::ImageTooLarge("image too large".into())),
    )));
}

/// Renders the transfer states to PNG for a person to look at.
#[test]
#[ignore = "writes screenshots for review"]
fn render_transfers_for_review() {
    let Some(dir) = std::env::var_os("LOQUAT_UI_SHOTS") else {
        return;
    };
    let dir = PathBuf::from(dir);
    let (mut app, account, bob, _rx, _) = app_with_bob();
    let _ = app.update(Message::Session(Update {
        account: account.clone(),
        kind: UpdateKind::Message(with_file(&account, &bob)),
    }));
    let mut image_message = with_file(&account, &bob);
    if let Some(a) = image_message.attachment.as_mut() {
        a.url.push_str("?inline");
    }
    let image_url = image_message.attachment.as_ref().expect("file").url.clone();
    let _ = app.update(Message::Session(Update {
        account: account.clone(),
        kind: UpdateKind::Message(image_message),
    }));
    let _ = app.update(Message::Transfers(transfers::Message::Preview(
        loquat::ui::timeline::previews::Message::Loaded(image_url, Ok(picture())),
    )));
    let tmp = tempfile::tempdir().expect("tempdir");
    let _ = app.update(Message::FilesChosen(vec![
        file(tmp.path(), "holiday.mp4", 5 * 1024 * 1024),
        file(tmp.path(), "notes.txt", 1000),
    ]));
    let ids: Vec<_> = app
        .transfers()
        .items()
        .iter()
        .map(|i| i.id.clone())
        .collect();
    let _ = app.update(Message::Transfers(transfers::Message::Progress(
        ids[0].clone(),
        Progress {
            done: 2 * 1024 * 1024 + 300_000,
            total: Some(5 * 1024 * 1024),
            elapsed_ms: 1800,
        },
    )));
    let _ = app.update(Message::Transfers(transfers::Message::Finished(
        ids[1].clone(),
        Err(TransferError::Tls(
            "invalid peer certificate: UnknownIssuer".into(),
        )),
    )));
    for (name, theme) in [
        ("transfers-light", iced::Theme::Light),
        ("transfers-dark", iced::Theme::Dark),
    ] {
        let mut ui = simulator(app.view());
        let snapshot = ui.snapshot(&theme).expect("snapshot");
        let path = dir.join(name);
        let _ = std::fs::remove_file(path.with_file_name(format!("{name}-tiny-skia.png")));
        assert!(snapshot.matches_image(&path).expect("write png"));
    }
}

/// XEP-0085 both ways in the open chat: Bob's "composing" shows under the messages
/// until his message arrives; our typing sends "composing" once, not per keystroke,
/// and "paused" 5 s after the last one or when the composer is emptied.
#[test]
fn typing_shows_who_writes_and_ours_is_sent_once_per_burst() {
    use loquat::ids::ConversationId;
    use loquat::session::ChatState;
    let (mut app, account, bob, mut rx, _) = app_with_bob();
    let _ = app.update(Message::Session(Update {
        account: account.clone(),
        kind: UpdateKind::ChatState {
            conversation: ConversationId::Chat(bob.clone()),
            nick: None,
            state: ChatState::Composing,
        },
    }));
    assert!(shows(&app, "Bob is typing…"));
    let mut message = with_file(&account, &bob);
    message.attachment = None;
    message.body = "here it is".into();
    let _ = app.update(Message::Session(Update {
        account: account.clone(),
        kind: UpdateKind::Message(message),
    }));
    assert!(!shows(&app, "is typing"), "his message ends it");

    while rx.try_recv().is_ok() {}
    for c in ['h', 'e', 'y'] {
        let _ = app.update(Message::Conversation(loquat::ui::chat::Message::Edit(
            iced::widget::text_editor::Action::Edit(iced::widget::text_editor::Edit::Insert(c)),
        )));
    }
    let mut states = Vec::new();
    while let Ok(command) = rx.try_recv() {
        if let Command::SendChatState {
            conversation,
            state,
        } = command
        {
            states.push((conversation, state));
        }
    }
    assert_eq!(
        states,
        vec![(ConversationId::Chat(bob.clone()), ChatState::Composing)],
        "one 'composing' for three keystrokes"
    );
    // Five seconds without a keystroke: "paused", once.
    let later = std::time::Instant::now() + std::time::Duration::from_secs(6);
    for _ in 0..2 {
        let _ = app.update(Message::Conversation(loquat::ui::chat::Message::Tick(
            later,
        )));
    }
    let states: Vec<_> = std::iter::from_fn(|| rx.try_recv().ok())
        .filter_map(|c| match c {
            Command::SendChatState {
                conversation,
                state,
            } => Some((conversation, state)),
            _ => None,
        })
        .collect();
    assert_eq!(
        states,
        vec![(ConversationId::Chat(bob.clone()), ChatState::Paused)]
    );
    // Typing again says "composing"; emptying the composer says "paused" at once.
    let _ = app.update(Message::Conversation(loquat::ui::chat::Message::Edit(
        iced::widget::text_editor::Action::Edit(iced::widget::text_editor::Edit::Insert('!')),
    )));
    let _ = app.update(Message::Conversation(loquat::ui::chat::Message::Edit(
        iced::widget::text_editor::Action::SelectAll,
    )));
    let _ = app.update(Message::Conversation(loquat::ui::chat::Message::Edit(
        iced::widget::text_editor::Action::Edit(iced::widget::text_editor::Edit::Backspace),
    )));
    let states: Vec<_> = std::iter::from_fn(|| rx.try_recv().ok())
        .filter_map(|c| match c {
            Command::SendChatState { state, .. } => Some(state),
            _ => None,
        })
        .collect();
    assert_eq!(states, vec![ChatState::Composing, ChatState::Paused]);
    let _ = app.update(Message::Conversation(loquat::ui::chat::Message::Edit(
        iced::widget::text_editor::Action::Edit(iced::widget::text_editor::Edit::Insert('h')),
    )));
    while rx.try_recv().is_ok() {}

    // With "Tell people when I am typing" off, nothing goes out.
    let _ = app.update(Message::Desk(
        loquat::ui::desktop::restore::Message::General(
            loquat::ui::screen::settings::general::Message::ChatStates(false),
        ),
    ));
    let _ = app.update(Message::Conversation(loquat::ui::chat::Message::Send));
    while rx.try_recv().is_ok() {}
    let _ = app.update(Message::Conversation(loquat::ui::chat::Message::Edit(
        iced::widget::text_editor::Action::Edit(iced::widget::text_editor::Edit::Insert('!')),
    )));
    let _ = app.update(Message::Conversation(loquat::ui::chat::Message::Tick(
        std::time::Instant::now() + std::time::Duration::from_secs(6),
    )));
    assert!(
        !std::iter::from_fn(|| rx.try_recv().ok())
            .any(|c| matches!(c, Command::SendChatState { .. })),
        "the privacy setting is respected, for 'paused' too"
    );
}

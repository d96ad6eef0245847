//! Frame time of the chat timeline with a huge message on screen (issue 14); a plain
//! binary (`harness = false`) that prints its figures. No server: the app's state is
//! fed the updates a session would send.
//!
//! `cargo bench --bench timeline`
//!
//! Conversations in one run, each open in a 1280x800 window:
//! - reference: 60 ordinary messages;
//! - the same plus one message of 2,000 characters: what a folded message shows;
//! - the same plus one 100 kB message among the newest, folded as the timeline shows it;
//! - that one after "Show more" (the whole 100 kB laid out and drawn).
//!
//! The 100 kB message is once 1,000 lines of 100 characters, once one "word" of
//! 100,000 digits without a space or a line break (broken anywhere).
//!
//! Then issue #21's scroll-back: a chat with 10,000 stored messages, opened at its
//! newest and scrolled back to its first (2,000 px a frame), the older pages read from
//! the store as the list reaches its top; frame times by how far back it has read (the
//! chat holds a few pages around what is on screen; the store reads run on tokio's
//! blocking pool, as in the app, outside the frame's time).
//!
//! Each frame is what the iced runtime does while the reader scrolls: a mouse wheel
//! event over the message list (3 lines up for 10 frames, then down for 10) given to the
//! interface kept from the last frame, the messages it produced through `App::update`
//! and then the view built and laid out again (only when there were any), drawn
//! and rasterised with tiny-skia as the window does it (iced's tiny-skia compositor on
//! X11: only the regions whose layers changed since the last frame, into the same
//! buffer); one renderer and one layout cache for all frames, as the runtime keeps them.
//! Printed: the first frame (text shaped anew), the mean and the slowest of the others
//! in ms (and how much of the mean is rasterising), and the ratio of the means to the
//! reference. Then the reference and the scroll-back again, rasterising the whole
//! window every frame (into the same buffer). Before stop 32 this bench rasterised
//! into a screenshot: a new 4 MB buffer and clip mask every frame and a copy into RGBA
//! bytes, 17 % of its samples under `perf`, which the window never pays.
//! `LOQUAT_BENCH_DAMAGE=1` prints each frame's layers and damage regions on stderr.
//! `LOQUAT_BENCH_FRAMES=N` sets the frames per conversation (default 200; at most 20
//! for the unfolded ones).
//!
//! Under `cargo test --all-targets` (no `--bench` argument) it is a smoke run with a few
//! frames and no figures worth reading.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use iced::mouse;
use iced_runtime::core::clipboard;
use iced_runtime::core::renderer::Headless;
use loquat::ids::{AccountId, LocalMessageId};
use loquat::model::{Account, ChatMessage, Delivery, Direction};
use loquat::session::{Handle, Update, UpdateKind};
use loquat::ui::app::startup::{LoadedAccount, Startup};
use loquat::ui::{App, Message};
use std::time::{Duration, Instant};
use xmpp_parsers::jid::BareJid;

type Error = Box<dyn std::error::Error>;

const WINDOW: iced::Size = iced::Size::new(1280.0, 800.0);
/// Over the message list (right of the sidebar, above the composer).
const OVER_LIST: iced::Point = iced::Point::new(800.0, 400.0);

type Ui<'a> = iced_runtime::UserInterface<'a, Message, iced::Theme, iced::Renderer>;

fn build<'a>(
    app: &'a App,
    renderer: &mut iced::Renderer,
    cache: iced_runtime::user_interface::Cache,
) -> Ui<'a> {
    iced_runtime::UserInterface::build(app.view(), WINDOW, cache, renderer)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Whether frames rasterise the whole window (set between the bench's two passes).
static WHOLE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

fn whole_window() -> bool {
    WHOLE.load(std::sync::atomic::Ordering::Relaxed)
}

/// What iced's tiny-skia compositor keeps for a window (`window::compositor::present`):
/// one pixel buffer and clip mask, and the last frame's layers. On X11 the buffer's
/// age is 1 after the first frame, so only the regions whose layers changed are
/// rasterised again, into the buffer as it is; nothing is copied or converted. With
/// `whole`, every frame rasterises the whole window into it instead.
struct Surface {
    whole: bool,
    pixels: Vec<u8>,
    clip_mask: tiny_skia::Mask,
    last: Option<Vec<iced_tiny_skia::Layer>>,
}

impl Surface {
    fn new() -> Surface {
        let (w, h) = (WINDOW.width as u32, WINDOW.height as u32);
        Surface {
            whole: whole_window(),
            pixels: vec![0; w as usize * h as usize * 4],
            clip_mask: tiny_skia::Mask::new(w, h).expect("clip mask"),
            last: None,
        }
    }

    /// Rasterises what changed since the last frame; the time it took.
    fn present(&mut self, renderer: &mut iced::Renderer) -> Duration {
        use iced_tiny_skia::graphics::{Viewport, damage};
        let iced_renderer::fallback::Renderer::Secondary(renderer) = renderer else {
            panic!("the bench needs the tiny-skia renderer");
        };
        let t = Instant::now();
        let (w, h) = (WINDOW.width as u32, WINDOW.height as u32);
        let viewport = Viewport::with_physical_size(iced::Size::new(w, h), 1.0);
        let whole = iced::Rectangle::with_size(WINDOW);
        let layers = renderer.layers().to_vec();
        let damage = match &self.last {
            Some(last) if !self.whole => damage::diff(
                last,
                &layers,
                |layer| vec![layer.bounds],
                iced_tiny_skia::Layer::damage,
            ),
            _ => vec![whole],
        };
        if !damage.is_empty() {
            let raw = damage.len();
            let damage = damage::group(damage, whole);
            if std::env::var_os("LOQUAT_BENCH_DAMAGE").is_some() {
                let area: f32 = damage.iter().map(|r| r.width * r.height).sum();
                let hit =
                    |r: &iced::Rectangle| layers.iter().filter(|l| l.bounds.intersects(r)).count();
                let each: Vec<String> = layers
                    .iter()
                    .map(|l| {
                        format!(
                            "{:.0}x{:.0}+{:.0}+{:.0}: {} quads{}, {} texts, {} primitives, {} images",
                            l.bounds.width,
                            l.bounds.height,
                            l.bounds.x,
                            l.bounds.y,
                            l.quads.len(),
                            if l.quads.len() <= 2 {
                                format!(" {:?}", l.quads.iter().map(|(q, b)| (q.bounds, b)).collect::<Vec<_>>())
                            } else {
                                String::new()
                            },
                            l.text.len(),
                            l.primitives.len(),
                            l.images.len()
                        )
                    })
                    .collect();
                eprintln!(
                    "damage: {} layers ({}), {raw} regions grouped into {} ({:?} layers each), {:.0} % of the window",
                    layers.len(),
                    each.join("; "),
                    damage.len(),
                    damage.iter().map(hit).collect::<Vec<_>>(),
                    area * 100.0 / (whole.width * whole.height)
                );
            }
            let mut pixels =
                tiny_skia::PixmapMut::from_bytes(&mut self.pixels, w, h).expect("pixel map");
            renderer.draw(
                &mut pixels,
                &mut self.clip_mask,
                &viewport,
                &damage,
                iced::Color::WHITE,
            );
        }
        self.last = Some(layers);
        t.elapsed()
    }
}

struct Screen {
    app: App,
    renderer: iced::Renderer,
    surface: Surface,
    cache: Option<iced_runtime::user_interface::Cache>,
    account: AccountId,
    peer: BareJid,
    /// Keeps the session's command channel open.
    _commands: tokio::sync::mpsc::UnboundedReceiver<loquat::session::Command>,
}

impl Screen {
    fn new() -> Result<Screen, Error> {
        let account = Account::new(BareJid::new("alice@example.org")?);
        let id = account.id.clone();
        let peer = BareJid::new("bob@example.org")?;
        let mut app = App::from_startup(
            loquat::ui::i18n::Lang::En,
            Startup {
                accounts: vec![LoadedAccount::new(account, Some("pw".into()))],
                ..Startup::default()
            },
        );
        let (tx, commands) = tokio::sync::mpsc::unbounded_channel();
        let _ = app.update(Message::Session(Update {
            account: id.clone(),
            kind: UpdateKind::Ready(Handle::new(tx)),
        }));
        let _ = app.update(Message::WindowFocused(true));
        let _ = app.update(Message::Desktop(loquat::ui::desktop::Event::Open {
            account: id.clone(),
            peer: peer.clone(),
            room: false,
        }));
        let renderer = futures::executor::block_on(<iced::Renderer as Headless>::new(
            iced::Font::DEFAULT,
            iced::Pixels(16.0),
            Some("tiny-skia"),
        ))
        .ok_or("no tiny-skia renderer")?;
        Ok(Screen {
            app,
            renderer,
            surface: Surface::new(),
            cache: None,
            account: id,
            peer,
            _commands: commands,
        })
    }

    /// A message from the peer, `age_s` seconds old; the time `App::update` took.
    fn receive(&mut self, body: String, age_s: i64) -> Duration {
        let message = ChatMessage {
            id: LocalMessageId::generate(),
            account: self.account.clone(),
            conversation: loquat::ids::ConversationId::Chat(self.peer.clone()),
            direction: Direction::Incoming,
            sender: String::new(),
            body,
            timestamp_ms: chrono::Utc::now().timestamp_millis() - age_s * 1000,
            stanza_id_attr: None,
            origin_id: None,
            server_id: None,
            delivery: Delivery::Delivered,
            attachment: None,
            truncated: false,
            extras: Default::default(),
        };
        let t = Instant::now();
        let _ = self.app.update(Message::Session(Update {
            account: self.account.clone(),
            kind: UpdateKind::Message(message),
        }));
        t.elapsed()
    }

    /// Clicks the button labelled `label` (through the simulator).
    fn click(&mut self, label: &str) -> Result<(), Error> {
        let messages: Vec<Message> = {
            let mut ui = iced_test::simulator(self.app.view());
            ui.click(label).map_err(|e| format!("{label}: {e:?}"))?;
            ui.into_messages().collect()
        };
        for message in messages {
            let _ = self.app.update(message);
        }
        Ok(())
    }
}

struct Figures {
    first: Duration,
    mean: Duration,
    /// Of which rasterising, on average.
    raster: Duration,
    slowest: Duration,
    frames: usize,
    scrolled: usize,
}

/// Draws the held interface and rasterises it as the window does; the time rasterising
/// took.
fn draw(
    ui: &mut Ui<'_>,
    app: &App,
    renderer: &mut iced::Renderer,
    surface: &mut Surface,
) -> Duration {
    ui.draw(
        renderer,
        &app.theme().unwrap_or(iced::Theme::Light),
        &iced_runtime::core::renderer::Style::default(),
        mouse::Cursor::Available(OVER_LIST),
    );
    surface.present(renderer)
}

/// `frames` scrolling frames after a first one. As in iced's runtime, the interface is
/// kept from one frame to the next: a wheel event goes to the one built last, and it
/// is built again (the view, its layout) only when the event produced messages.
fn scroll(screen: &mut Screen, frames: usize) -> Figures {
    let Screen {
        app,
        renderer,
        surface,
        cache,
        ..
    } = screen;
    let cursor = mouse::Cursor::Available(OVER_LIST);
    let t = Instant::now();
    let mut ui = build(app, renderer, cache.take().unwrap_or_default());
    draw(&mut ui, app, renderer, surface);
    let first = t.elapsed();
    let (mut total, mut slowest, mut scrolled) = (Duration::ZERO, Duration::ZERO, 0);
    let mut raster = Duration::ZERO;
    for n in 0..frames {
        let lines = if (n / 10) % 2 == 0 { 3.0 } else { -3.0 };
        let wheel = iced::Event::Mouse(mouse::Event::WheelScrolled {
            delta: mouse::ScrollDelta::Lines { x: 0.0, y: lines },
        });
        let t = Instant::now();
        let mut produced = Vec::new();
        let _ = ui.update(
            std::slice::from_ref(&wheel),
            cursor,
            renderer,
            &mut clipboard::Null,
            &mut produced,
        );
        if !produced.is_empty() {
            let kept = ui.into_cache();
            for message in produced.iter().cloned() {
                let _ = app.update(message);
            }
            ui = build(app, renderer, kept);
        }
        let rasterising = draw(&mut ui, app, renderer, surface);
        let took = t.elapsed();
        scrolled += produced.len();
        raster += rasterising;
        total += took;
        slowest = slowest.max(took);
    }
    *cache = Some(ui.into_cache());
    Figures {
        first,
        mean: total / frames.max(1) as u32,
        raster: raster / frames.max(1) as u32,
        slowest,
        frames,
        scrolled,
    }
}

fn ordinary(i: usize) -> String {
    let words = "an ordinary message with a few words in it, as people write them";
    format!(
        "message {i}: {}",
        &words[..20 + (i * 7) % (words.len() - 20)]
    )
}

/// 100 kB in 1,000 lines of 100 characters.
fn huge_lines() -> String {
    (0..1000)
        .map(|i| format!("line {i:04} {}\n", "x".repeat(89)))
        .collect()
}

/// 100 kB without a space or a line break (the text has to be broken anywhere).
fn huge_word() -> String {
    "0123456789".repeat(10_000)
}

fn conversation(huge: Option<String>) -> Result<(Screen, Duration), Error> {
    let mut screen = Screen::new()?;
    let mut arrival = Duration::ZERO;
    let mut huge = huge;
    for i in 0..60 {
        screen.receive(ordinary(i), 600 - i as i64);
        if i == 55
            && let Some(body) = huge.take()
        {
            arrival = screen.receive(body, 600 - i as i64);
        }
    }
    Ok((screen, arrival))
}

fn print(what: &str, f: &Figures, reference: Option<&Figures>) {
    let ratio = reference
        .map(|r| {
            format!(
                ", {:.2}x the reference",
                f.mean.as_secs_f64() / r.mean.as_secs_f64().max(1e-9)
            )
        })
        .unwrap_or_default();
    println!(
        "  {what:<46} first frame {:>8.2} ms; {} scrolling frames: {:>7.2} ms each on average{ratio} \
         (rasterising {:.2} ms), slowest {:.2} ms ({} scroll messages)",
        ms(f.first),
        f.frames,
        ms(f.mean),
        ms(f.raster),
        ms(f.slowest),
        f.scrolled,
    );
}

fn main() -> Result<(), Error> {
    let real_run = std::env::args().any(|a| a == "--bench");
    let frames = match std::env::var("LOQUAT_BENCH_FRAMES") {
        Ok(n) => n.parse()?,
        Err(_) if real_run => 200,
        Err(_) => 4,
    };
    println!(
        "timeline frame time, 1280x800, rasterised with tiny-skia ({} build)",
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "optimised"
        }
    );

    let (mut reference, _) = conversation(None)?;
    let reference = scroll(&mut reference, frames);
    print("60 ordinary messages (reference)", &reference, None);

    let mut scrolled = reference.scrolled;
    for (what, body) in [
        ("1,000 lines", huge_lines()),
        ("one 100 kB word", huge_word()),
    ] {
        // What the folded message shows, as a message of its own (not folded).
        let shown: String = body.chars().take(2_000).collect();
        let (mut same, _) = conversation(Some(shown))?;
        let same = scroll(&mut same, frames);
        print(
            "+ its first 2,000 characters as a message",
            &same,
            Some(&reference),
        );
        let (mut screen, arrival) = conversation(Some(body))?;
        let folded = scroll(&mut screen, frames);
        print(
            &format!("+ 100 kB ({what}), folded"),
            &folded,
            Some(&reference),
        );
        println!(
            "    folded 100 kB / its first 2,000 characters as a message: {:.2}x",
            folded.mean.as_secs_f64() / same.mean.as_secs_f64().max(1e-9)
        );
        screen.click("Show more (98000 more characters)")?;
        let unfolded = scroll(&mut screen, frames.min(20));
        print(
            &format!("+ 100 kB ({what}), after \"Show more\""),
            &unfolded,
            Some(&reference),
        );
        println!(
            "    App::update for the 100 kB message's arrival: {:.2} ms",
            ms(arrival)
        );
        scrolled = scrolled.min(folded.scrolled);
    }
    if scrolled == 0 {
        return Err("the wheel events did not scroll the list".into());
    }
    let total = if real_run { 10_000 } else { 120 };
    scroll_back(total)?;

    // The same reference and scroll-back with the whole window rasterised each frame
    // (what a frame costs without the compositor's damage regions).
    WHOLE.store(true, std::sync::atomic::Ordering::Relaxed);
    println!("the same, rasterising the whole window every frame:");
    let (mut whole, _) = conversation(None)?;
    let whole = scroll(&mut whole, frames);
    print("60 ordinary messages (reference)", &whole, Some(&reference));
    scroll_back(total)?;
    Ok(())
}

/// Runs what a task of the app does (a store read on tokio's blocking pool), feeds the
/// messages it produces back into the app, and the tasks those return, as the runtime
/// would (a few rounds at most).
fn run_task(rt: &tokio::runtime::Runtime, app: &mut App, task: iced::Task<Message>) {
    let mut tasks = vec![task];
    for _ in 0..4 {
        let mut next = Vec::new();
        for task in tasks.drain(..) {
            let Some(stream) = iced_runtime::task::into_stream(task) else {
                continue;
            };
            // Until the task ends or has nothing for a moment (some never end: timers).
            let actions = rt.block_on(async move {
                let mut stream = stream;
                let mut out = Vec::new();
                while let Ok(Some(action)) = tokio::time::timeout(
                    Duration::from_millis(300),
                    futures::StreamExt::next(&mut stream),
                )
                .await
                {
                    out.push(action);
                }
                out
            });
            for action in actions {
                if let iced_runtime::Action::Output(message) = action {
                    next.push(app.update(message));
                }
            }
        }
        if next.is_empty() {
            break;
        }
        tasks = next;
    }
}

/// Issue #21's scale case: a chat with `total` stored messages, opened at its newest and
/// scrolled back to its first with the wheel (2,000 px a frame), the older pages read from
/// the store as the list reaches its top. Prints the frame time by how far back it read.
fn scroll_back(total: usize) -> Result<(), Error> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    let dir = tempfile::tempdir()?;
    let store = loquat::store::Store::open(&dir.path().join("db"))?;
    let account = Account::new(BareJid::new("alice@example.org")?);
    let id = account.id.clone();
    let peer = BareJid::new("bob@example.org")?;
    let now = chrono::Utc::now().timestamp_millis();
    let msgs: Vec<ChatMessage> = (0..total)
        .map(|i| ChatMessage {
            id: LocalMessageId::generate(),
            account: id.clone(),
            conversation: loquat::ids::ConversationId::Chat(peer.clone()),
            direction: if i % 3 == 0 {
                Direction::Outgoing
            } else {
                Direction::Incoming
            },
            sender: String::new(),
            body: ordinary(i),
            timestamp_ms: now - (total - i) as i64 * 60_000,
            stanza_id_attr: None,
            origin_id: None,
            server_id: Some(format!("s{i}")),
            delivery: Delivery::Delivered,
            attachment: None,
            truncated: false,
            extras: Default::default(),
        })
        .collect();
    // How far back the oldest message shown is: the position of each in the history.
    let index: std::collections::HashMap<LocalMessageId, usize> = msgs
        .iter()
        .enumerate()
        .map(|(i, m)| (m.id.clone(), i))
        .collect();
    for chunk in msgs.chunks(5_000) {
        store.insert_old_messages(chunk)?;
    }
    store.save_account(&account)?;
    let mut app = App::from_startup(
        loquat::ui::i18n::Lang::En,
        Startup {
            store: Some(store),
            accounts: vec![LoadedAccount::new(account, Some("pw".into()))],
            ..Startup::default()
        },
    );
    let (tx, _commands) = tokio::sync::mpsc::unbounded_channel();
    let _ = app.update(Message::Session(Update {
        account: id.clone(),
        kind: UpdateKind::Ready(Handle::new(tx)),
    }));
    let task = app.update(Message::Desktop(loquat::ui::desktop::Event::Open {
        account: id,
        peer,
        room: false,
    }));
    run_task(&rt, &mut app, task);
    let mut renderer = futures::executor::block_on(<iced::Renderer as Headless>::new(
        iced::Font::DEFAULT,
        iced::Pixels(16.0),
        Some("tiny-skia"),
    ))
    .ok_or("no tiny-skia renderer")?;
    let mut surface = Surface::new();
    let cursor = mouse::Cursor::Available(OVER_LIST);
    let mut ui = build(&app, &mut renderer, Default::default());
    draw(&mut ui, &app, &mut renderer, &mut surface);
    let wheel = iced::Event::Mouse(mouse::Event::WheelScrolled {
        delta: mouse::ScrollDelta::Pixels { x: 0.0, y: 2_000.0 },
    });
    // Frame times while 0-10 %, ..., 90-100 % of the history has been read back (the
    // chat holds only a few pages around what is on screen: `held`, at most).
    // (sum, slowest, frames, of the sum rasterising)
    let mut bands: Vec<(Duration, Duration, usize, Duration)> =
        vec![(Duration::ZERO, Duration::ZERO, 0, Duration::ZERO); 10];
    let read_back = |app: &App| {
        app.open_chat()
            .and_then(|c| c.messages().first())
            .and_then(|m| index.get(&m.id))
            .map_or(0, |i| total - i)
    };
    let mut loaded = read_back(&app);
    let mut held = 0;
    let mut frames = 0;
    while loaded < total && frames < total {
        let t = Instant::now();
        // The frame, with the store reads its messages ask for run as the runtime would.
        let mut produced = Vec::new();
        let _ = ui.update(
            std::slice::from_ref(&wheel),
            cursor,
            &mut renderer,
            &mut clipboard::Null,
            &mut produced,
        );
        // The store reads run off the UI thread in the app, and what they bring is
        // drawn in the next frame: not part of this frame's time. (In the window that
        // next frame builds the view again; here one build serves both.)
        let mut off_frame = Duration::ZERO;
        if !produced.is_empty() {
            let kept = ui.into_cache();
            for message in produced {
                let task = app.update(message);
                let t = Instant::now();
                run_task(&rt, &mut app, task);
                off_frame += t.elapsed();
            }
            ui = build(&app, &mut renderer, kept);
        }
        let rasterising = draw(&mut ui, &app, &mut renderer, &mut surface);
        let took = t.elapsed().saturating_sub(off_frame);
        let band = (loaded * 10 / total.max(1)).min(9);
        if let Some(b) = bands.get_mut(band) {
            b.0 += took;
            b.1 = b.1.max(took);
            b.2 += 1;
            b.3 += rasterising;
        }
        loaded = read_back(&app);
        held = held.max(app.open_chat().map_or(0, |c| c.messages().len()));
        frames += 1;
    }
    println!(
        "  scrolling back through {total} stored messages ({frames} frames of 2,000 px, {loaded} read \
         back at the end, at most {held} held at once):"
    );
    for (i, (sum, slowest, n, raster)) in bands.iter().enumerate() {
        if *n > 0 {
            println!(
                "    with {:>5}-{:>5} read back: {:>7.2} ms a frame on average (rasterising {:.2} ms), \
                 slowest {:.2} ms ({n} frames)",
                i * total / 10,
                (i + 1) * total / 10,
                ms(*sum / *n as u32),
                ms(*raster / *n as u32),
                ms(*slowest)
            );
        }
    }
    Ok(())
}

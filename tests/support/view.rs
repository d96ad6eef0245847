//! Reading what a view shows, for the headless UI tests (`iced_test`).

use futures::StreamExt;
use iced_test::selector::Candidate;
use iced_test::simulator;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Runs a task's futures (store reads through tokio's blocking pool) and feeds what
/// they produce back into the app, as the runtime would. Widget and window operations
/// are dropped at once, so what waits for their answer ends instead of waiting.
pub fn run_tasks(
    rt: &tokio::runtime::Runtime,
    app: &mut loquat::ui::App,
    task: iced::Task<loquat::ui::Message>,
) {
    let Some(mut stream) = iced_runtime::task::into_stream(task) else {
        return;
    };
    let messages = rt.block_on(async move {
        let mut out = Vec::new();
        while let Some(action) = stream.next().await {
            if let iced_runtime::Action::Output(message) = action {
                out.push(message);
            }
        }
        out
    });
    for message in messages {
        let next = app.update(message);
        run_tasks(rt, app, next);
    }
}

/// How many text widgets (or text inputs) of `view` contain `needle`.
pub fn count<M>(view: iced::Element<'_, M>, needle: &str) -> usize {
    let mut ui = simulator(view);
    let n = Arc::new(AtomicUsize::new(0));
    let seen = n.clone();
    let needle = needle.to_owned();
    let _ = ui.find(move |c: Candidate<'_>| -> Option<()> {
        let hit = match c {
            Candidate::Text { content, .. } => content.contains(&needle),
            Candidate::TextInput { state, .. } => state.text().contains(&needle),
            _ => false,
        };
        if hit {
            seen.fetch_add(1, Ordering::SeqCst);
        }
        None
    });
    n.load(Ordering::SeqCst)
}

/// An occupant of a room, online, for the room views' tests.
pub fn occupant(
    nick: &str,
    role: loquat::session::rooms::Role,
    affiliation: loquat::session::rooms::Affiliation,
) -> loquat::session::rooms::Occupant {
    loquat::session::rooms::Occupant {
        nick: nick.into(),
        role,
        affiliation,
        real_jid: None,
        show: loquat::model::Show::Online,
    }
}

/// The room `tea@conference.example.org` of account `acc`, joined as alice with these
/// occupants.
pub fn joined_room(
    occupants: Vec<loquat::session::rooms::Occupant>,
) -> loquat::ui::room::joined::Room {
    let room_jid = xmpp_parsers::jid::BareJid::new("tea@conference.example.org")
        .expect("a valid room address");
    let mut room = loquat::ui::room::joined::Room::new(
        loquat::ids::AccountId("acc".into()),
        room_jid.clone(),
        "alice".into(),
        None,
    );
    room.apply(&loquat::session::rooms::RoomUpdate::Joined {
        room: room_jid,
        nick: "alice".into(),
        occupants,
    });
    room
}

/// Clicks `label` in what the room panel shows in the main area (English) and feeds the
/// messages back to the panel; returns what the panel asks of the app.
pub fn click_panel(
    panel: &mut loquat::ui::room::Panel,
    area: &mut loquat::ui::screen::main_area::MainArea,
    label: &str,
) -> Vec<loquat::ui::room::Event> {
    let messages: Vec<loquat::ui::room::Message> = {
        let view = panel
            .main_view(
                area,
                loquat::ui::i18n::Lang::En,
                Vec::new(),
                Default::default(),
            )
            .expect("something shown");
        let mut ui = simulator(view);
        ui.click(label).unwrap_or_else(|e| panic!("{label}: {e:?}"));
        ui.into_messages().collect()
    };
    messages
        .into_iter()
        .filter_map(|m| panel.update(area, m, None, None))
        .collect()
}

/// Every text `ui` shows equal to `needle` (`exact`) or containing it, with where it is.
pub fn found_in<M>(
    mut ui: iced_test::Simulator<'_, M>,
    needle: &str,
    exact: bool,
) -> Vec<iced::Rectangle> {
    let hits = Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = hits.clone();
    let needle = needle.to_string();
    let _ = ui.find(move |candidate: Candidate<'_>| -> Option<()> {
        if let Candidate::Text {
            content, bounds, ..
        } = candidate
            && (content == needle || (!exact && content.contains(&needle)))
            && let Ok(mut seen) = seen.lock()
        {
            seen.push(bounds);
        }
        None
    });
    hits.lock().map(|f| f.clone()).unwrap_or_default()
}

/// Where a view's texts are, and where the scrollable with id `id` is and how far it
/// is scrolled (for views run frame by frame in iced's own `UserInterface`).
pub struct Where {
    pub id: &'static str,
    pub list: Option<(iced::Rectangle, iced::Vector)>,
    pub texts: Vec<(String, iced::Rectangle)>,
}

impl Where {
    pub fn new(id: &'static str) -> Self {
        Where {
            id,
            list: None,
            texts: Vec::new(),
        }
    }
}

impl iced::advanced::widget::Operation for Where {
    fn traverse(&mut self, operate: &mut dyn FnMut(&mut dyn iced::advanced::widget::Operation)) {
        operate(self);
    }

    fn scrollable(
        &mut self,
        id: Option<&iced::advanced::widget::Id>,
        bounds: iced::Rectangle,
        _content: iced::Rectangle,
        translation: iced::Vector,
        _state: &mut dyn iced::advanced::widget::operation::Scrollable,
    ) {
        if id == Some(&iced::advanced::widget::Id::new(self.id)) {
            self.list = Some((bounds, translation));
        }
    }

    fn text(
        &mut self,
        _id: Option<&iced::advanced::widget::Id>,
        bounds: iced::Rectangle,
        text: &str,
    ) {
        self.texts.push((text.to_owned(), bounds));
    }
}

/// A tiny-skia renderer without a window, as the headless UI tests draw with.
pub fn headless() -> iced::Renderer {
    futures::executor::block_on(
        <iced::Renderer as iced_runtime::core::renderer::Headless>::new(
            iced::Font::DEFAULT,
            iced::Pixels(16.0),
            Some("tiny-skia"),
        ),
    )
    .expect("tiny-skia")
}

/// The event the runtime sends before drawing a frame (sensors and animations act on it).
pub fn redraw() -> iced::Event {
    iced::Event::Window(iced::window::Event::RedrawRequested(
        std::time::Instant::now(),
    ))
}

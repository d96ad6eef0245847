//! Driving the whole app headless (`iced_test`): the window, what it shows, clicks.
//! Every UI test file uses these instead of its own copies.

use iced::widget::Id;
use iced::{Rectangle, Task};
use iced_test::Simulator;
use loquat::ui::{App, Message};

/// The window the UI tests draw in, unless a test needs a taller one.
pub const WINDOW: (f32, f32) = (1100.0, 800.0);

/// The app's current view in a window of `size` logical pixels.
pub fn sim_sized(app: &App, size: (f32, f32)) -> Simulator<'_, Message> {
    Simulator::with_size(iced::Settings::default(), size, app.view())
}

/// The app's current view in the usual window.
pub fn sim(app: &App) -> Simulator<'_, Message> {
    sim_sized(app, WINDOW)
}

/// Every text on screen equal to `needle` (`exact`) or containing it, with where it is.
pub fn found(app: &App, needle: &str, exact: bool) -> Vec<Rectangle> {
    super::view::found_in(sim(app), needle, exact)
}

/// Every text on screen containing `needle`, with where it is.
pub fn texts(app: &App, needle: &str) -> Vec<Rectangle> {
    found(app, needle, false)
}

/// How many texts (or text inputs) on screen contain `needle`.
pub fn count(app: &App, needle: &str) -> usize {
    super::view::count(app.view(), needle)
}

/// Is a text (or a text input) containing `needle` on screen?
pub fn shows(app: &App, needle: &str) -> bool {
    count(app, needle) > 0
}

/// Is a text containing `needle` inside the widget with this id?
pub fn shows_in(app: &App, id: impl Into<Id>, needle: &str) -> bool {
    let area = sim(app).find(id.into()).expect("widget on screen").bounds();
    texts(app, needle)
        .iter()
        .any(|bounds| area.contains(bounds.center()))
}

/// Feeds messages into the app as the runtime would; the tasks they return are handed
/// back, not run (no network, no disk).
pub fn apply(app: &mut App, messages: Vec<Message>) -> Vec<Task<Message>> {
    messages.into_iter().map(|m| app.update(m)).collect()
}

/// Runs an interaction on a window of `size` and feeds what it produced into the app.
pub fn interact_in(
    size: (f32, f32),
    app: &mut App,
    steps: impl FnOnce(&mut Simulator<'_, Message>),
) -> Vec<Task<Message>> {
    let messages: Vec<Message> = {
        let mut ui = sim_sized(app, size);
        steps(&mut ui);
        ui.into_messages().collect()
    };
    apply(app, messages)
}

/// Runs an interaction on the usual window and feeds what it produced into the app.
pub fn interact(
    app: &mut App,
    steps: impl FnOnce(&mut Simulator<'_, Message>),
) -> Vec<Task<Message>> {
    interact_in(WINDOW, app, steps)
}

/// Clicks the text `label` (fails the test when it is not on screen).
pub fn click(app: &mut App, label: &str) -> Vec<Task<Message>> {
    let label = label.to_owned();
    interact(app, move |ui| {
        ui.click(label.as_str())
            .unwrap_or_else(|e| panic!("{label:?} not found: {e}"));
    })
}

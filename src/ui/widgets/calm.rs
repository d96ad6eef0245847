//! Quiet when nothing happens: the blinking text caret stops (shown steady) ten seconds
//! after the last key or click, as GTK does (`gtk-cursor-blink-timeout`).
//!
//! iced's text input and editor blink by asking for a redraw every 500 ms while they
//! have focus and the window has too: a window left open on a chat drew two frames a
//! second for ever (0.45 % of a core here with tiny-skia, issue #21). [`calm`] wraps the
//! whole view. While the person is active it changes nothing. Once they have been idle
//! for [`QUIET_AFTER`] in a focused window, the widgets' blink clocks are restarted once
//! (by a window-focus event, on which they restart them), the frames that still come (a
//! new message, a resize) are handed to them with a clock stopped in the caret's visible
//! phase, and the timed redraws they ask for in return are dropped. The next key or
//! click restarts the blinking.

use iced::advanced::widget::{Operation, Tree};
use iced::advanced::{Clipboard, Layout, Shell, Widget, mouse};
use iced::{Element, Event, Rectangle, Theme, keyboard, window};
use std::sync::LazyLock;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Idle time after which the caret stops blinking.
pub const QUIET_AFTER: Duration = Duration::from_secs(10);

/// After the blink clocks were restarted: inside the caret's first, visible half-second.
const VISIBLE_PHASE: Duration = Duration::from_millis(250);

static BASE: LazyLock<Instant> = LazyLock::new(Instant::now);
/// Nanoseconds after `BASE` of the last key or click.
static LAST_INPUT: AtomicU64 = AtomicU64::new(0);
/// Nanoseconds after `BASE` when the blink clocks were restarted for this quiet spell
/// (0: not yet).
static CALMED_AT: AtomicU64 = AtomicU64::new(0);
/// Does the window have focus (the widgets blink only then)?
static WINDOW_FOCUSED: AtomicBool = AtomicBool::new(true);

fn at(nanos: &AtomicU64) -> Instant {
    *BASE + Duration::from_nanos(nanos.load(Ordering::Relaxed))
}

fn set(nanos: &AtomicU64, at: Instant) {
    // Never 0, which means "not set" for `CALMED_AT`.
    let n = u64::try_from(at.saturating_duration_since(*BASE).as_nanos()).unwrap_or(u64::MAX);
    nanos.store(n.max(1), Ordering::Relaxed);
}

/// Is `event` the person doing something (cursor movement alone is not)?
fn is_input(event: &Event) -> bool {
    matches!(
        event,
        Event::Keyboard(keyboard::Event::KeyPressed { .. })
            | Event::Mouse(mouse::Event::ButtonPressed(_) | mouse::Event::WheelScrolled { .. })
            | Event::Window(window::Event::Focused)
            | Event::InputMethod(_)
            | Event::Touch(_)
    )
}

/// `content`, calm when idle (see the module).
pub fn calm<'a, M: 'a>(content: Element<'a, M>) -> Element<'a, M> {
    LazyLock::force(&BASE);
    Element::new(Calm { content })
}

struct Calm<'a, M> {
    content: Element<'a, M>,
}

type R = iced::Renderer;

impl<M> Widget<M, Theme, R> for Calm<'_, M> {
    crate::ui::widgets::delegate_to_content!();

    fn operate(
        &mut self,
        tree: &mut Tree,
        layout: Layout<'_>,
        renderer: &R,
        operation: &mut dyn Operation,
    ) {
        self.content
            .as_widget_mut()
            .operate(tree, layout, renderer, operation)
    }
    fn update(
        &mut self,
        tree: &mut Tree,
        event: &Event,
        layout: Layout<'_>,
        cursor: mouse::Cursor,
        renderer: &R,
        clipboard: &mut dyn Clipboard,
        shell: &mut Shell<'_, M>,
        viewport: &Rectangle,
    ) {
        let inner = self.content.as_widget_mut();
        match event {
            Event::Window(window::Event::Focused) => WINDOW_FOCUSED.store(true, Ordering::Relaxed),
            Event::Window(window::Event::Unfocused) => {
                WINDOW_FOCUSED.store(false, Ordering::Relaxed)
            }
            _ => {}
        }
        if is_input(event) {
            set(&LAST_INPUT, Instant::now());
            CALMED_AT.store(0, Ordering::Relaxed);
        }
        if let Event::Window(window::Event::RedrawRequested(now)) = event
            && WINDOW_FOCUSED.load(Ordering::Relaxed)
            && *now >= at(&LAST_INPUT) + QUIET_AFTER
        {
            let before = shell.redraw_request();
            if CALMED_AT.load(Ordering::Relaxed) == 0 {
                // Restart every blink clock now, so the phase is known.
                set(&CALMED_AT, Instant::now());
                let focused = Event::Window(window::Event::Focused);
                inner.update(
                    tree, &focused, layout, cursor, renderer, clipboard, shell, viewport,
                );
            }
            let stopped = Event::Window(window::Event::RedrawRequested(
                at(&CALMED_AT) + VISIBLE_PHASE,
            ));
            inner.update(
                tree, &stopped, layout, cursor, renderer, clipboard, shell, viewport,
            );
            Shell::replace_redraw_request(shell, before);
            return;
        }
        inner.update(
            tree, event, layout, cursor, renderer, clipboard, shell, viewport,
        )
    }
}

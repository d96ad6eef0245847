//! Quitting a headless app the way a person does (Ctrl+Q), for tests that quit and
//! start again: the app's own quit path runs (drafts and window state saved, every
//! account signed out), with its tasks driven as iced's runtime would drive them.

use futures::StreamExt;
use iced::Task;
use loquat::ui::desktop::restore::Message as DeskMessage;
use loquat::ui::desktop::shortcuts::Action;
use loquat::ui::{App, Message};
use std::time::{Duration, Instant};

/// Presses Ctrl+Q and runs what it starts on `rt` (the runtime the app's sessions run
/// on) until the app asks to exit; how long that took. Panics if it never asks.
pub fn ctrl_q(rt: &tokio::runtime::Runtime, app: &mut App) -> Duration {
    let start = Instant::now();
    let task = app.update(Message::Desk(DeskMessage::Shortcut(Action::Quit)));
    assert!(run_until_exit(rt, app, task), "Ctrl+Q did not exit");
    start.elapsed()
}

/// Runs a task as iced's runtime would: its messages go back into the app (and their
/// tasks run in turn), a question for the oldest window is answered "none" (there is
/// no window); true once something asked to exit.
pub fn run_until_exit(rt: &tokio::runtime::Runtime, app: &mut App, task: Task<Message>) -> bool {
    let mut exited = false;
    let mut queue = vec![task];
    while let Some(task) = queue.pop() {
        let Some(mut stream) = iced_runtime::task::into_stream(task) else {
            continue;
        };
        rt.block_on(async {
            while let Some(action) = stream.next().await {
                match action {
                    iced_runtime::Action::Output(message) => queue.push(app.update(message)),
                    iced_runtime::Action::Window(iced_runtime::window::Action::GetOldest(
                        reply,
                    )) => {
                        let _ = reply.send(None);
                    }
                    iced_runtime::Action::Exit => exited = true,
                    _ => {}
                }
            }
        });
    }
    exited
}

//! Reading what a view shows, for the headless UI tests (`iced_test`).

use iced_test::selector::Candidate;
use iced_test::simulator;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

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

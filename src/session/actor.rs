//! The session actor (stub).
use super::{SessionParams, Update};
use futures::Stream;

pub fn run(_params: SessionParams) -> impl Stream<Item = Update> {
    futures::stream::empty()
}

//! Loquat: a desktop XMPP messenger. The core (everything but `ui`) has no GUI dependency;
//! building with `--no-default-features` proves it.

pub mod accounts;
pub mod avatar;
pub mod colors;
pub mod config;
pub mod ids;
pub mod instance;
pub mod logging;
pub mod memory;
pub mod model;
pub mod notify;
pub mod omemo;
pub mod paths;
pub mod quiet;
pub mod search;
pub mod secrets;
pub mod session;
pub mod store;
pub mod transfer;
pub mod uri;
pub mod xmpp;

#[cfg(feature = "gui")]
pub mod ui;

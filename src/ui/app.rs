//! The app's plumbing that is not a screen: loading at start-up, the bridge to the
//! sessions, what the app knows about each account, and what it does with the events of
//! its panels and the updates of its sessions.

pub mod account_actions;
pub mod account_server;
pub mod account_state;
pub mod chat_window;
pub mod handlers;
pub mod omemo;
mod own_avatar;
mod own_profile;
pub mod profile;
pub mod requests;
pub mod searching;
pub mod session_bridge;
pub mod startup;

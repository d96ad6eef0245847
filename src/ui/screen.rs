//! What fills the window: the sign-in form, the main screen's sidebar (the inbox) and
//! the settings. The main area beside the sidebar shows a chat (`ui::chat`) or a room
//! (`ui::room`).

pub mod main_area;
pub mod notices;
pub mod onboarding;
pub mod profile;
pub mod search;
pub mod settings;
pub mod sidebar;

//! The iced application (stub).

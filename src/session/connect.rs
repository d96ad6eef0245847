//! Our own transport to the server (stub).

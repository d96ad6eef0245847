//! One Loquat per user: a second launch hands its request (show the window, open an
//! `xmpp:` URI) to the running instance and exits.
//!
//! The running instance listens on a Unix socket in its data folder (mode 0600, inside
//! the user's own folder). A second process connects, writes one line and waits for
//! `ok`. No connection (no file, or a stale file from a crash) means no instance is
//! running: the stale file is removed and this process becomes the instance.
//!
//! Other systems (Windows) have no hand-over yet: every launch is its own instance.

use std::path::{Path, PathBuf};
use std::time::Duration;

/// The most a request line may hold; a URI longer than this is refused.
pub const MAX_REQUEST: usize = 8 * 1024;
/// How long either side waits for the other.
const TIMEOUT: Duration = Duration::from_secs(3);

/// What a second launch asks of the running instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// Bring the window forward.
    Show,
    /// Bring the window forward and act on an `xmpp:` URI (parsed by the receiver).
    Open(String),
}

impl Request {
    /// The request for a command line: the first argument that looks like a URI.
    pub fn from_args<I: IntoIterator<Item = String>>(args: I) -> Request {
        args.into_iter()
            .find(|a| a.get(..5).is_some_and(|p| p.eq_ignore_ascii_case("xmpp:")))
            .map_or(Request::Show, Request::Open)
    }

    /// The request as the line a second launch writes.
    pub fn encode(&self) -> String {
        match self {
            Request::Show => "show\n".to_owned(),
            // A URI never holds a raw line break (they are percent-encoded); drop any.
            Request::Open(uri) => format!("open {}\n", uri.replace(['\r', '\n'], "")),
        }
    }

    /// A line read from the socket (anyone of this user may write one), as a request.
    pub fn decode(line: &str) -> Option<Request> {
        let line = line.trim_end_matches(['\r', '\n']);
        if line == "show" {
            Some(Request::Show)
        } else {
            line.strip_prefix("open ")
                .map(|uri| Request::Open(uri.to_owned()))
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum InstanceError {
    #[error("cannot use the instance socket {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the running Loquat did not answer")]
    NoAnswer,
}

/// The socket file in a data folder.
pub fn socket_path(data_dir: &Path) -> PathBuf {
    data_dir.join("instance.sock")
}

#[cfg(not(unix))]
pub use other::{Listener, Start, acquire};
#[cfg(unix)]
pub use unix::{Listener, Start, acquire};

/// Without Unix sockets every launch is its own instance (a known gap on Windows).
#[cfg(not(unix))]
mod other {
    use super::{InstanceError, Request};
    use std::path::Path;

    #[derive(Debug)]
    pub enum Start {
        Primary(Listener),
        HandedOver,
    }

    #[derive(Debug)]
    pub struct Listener(());

    pub fn acquire(_path: &Path, _request: &Request) -> Result<Start, InstanceError> {
        Ok(Start::Primary(Listener(())))
    }

    impl Listener {
        pub fn next_request(&self) -> Result<Request, InstanceError> {
            Err(InstanceError::NoAnswer)
        }
    }
}

#[cfg(unix)]
mod unix {
    use super::{InstanceError, MAX_REQUEST, Request, TIMEOUT};
    use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::net::{UnixListener, UnixStream};
    use std::path::{Path, PathBuf};

    /// The outcome of [`acquire`].
    #[derive(Debug)]
    pub enum Start {
        /// No other instance runs: this process is it, and listens here.
        Primary(Listener),
        /// The running instance took the request; this process should exit.
        HandedOver,
    }

    /// The running instance's socket; the file is removed when this is dropped.
    #[derive(Debug)]
    pub struct Listener {
        listener: UnixListener,
        path: PathBuf,
    }

    /// Hands `request` to a running instance, or becomes the instance.
    pub fn acquire(path: &Path, request: &Request) -> Result<Start, InstanceError> {
        let io = |source| InstanceError::Io {
            path: path.to_owned(),
            source,
        };
        // Two tries: another process may bind between our failed connect and our bind.
        for _ in 0..2 {
            match UnixStream::connect(path) {
                Ok(stream) => {
                    hand_over(stream, request)?;
                    return Ok(Start::HandedOver);
                }
                Err(e)
                    if matches!(e.kind(), ErrorKind::NotFound | ErrorKind::ConnectionRefused) =>
                {
                    if e.kind() == ErrorKind::ConnectionRefused {
                        // Left behind by an instance that crashed.
                        let _ = std::fs::remove_file(path);
                    }
                }
                Err(e) => return Err(io(e)),
            }
            if let Some(dir) = path.parent() {
                // 0700: nobody else can reach the socket between its creation and
                // the chmod below.
                crate::paths::ensure_private_dir(dir).map_err(io)?;
            }
            match UnixListener::bind(path) {
                Ok(listener) => {
                    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
                        .map_err(io)?;
                    return Ok(Start::Primary(Listener {
                        listener,
                        path: path.to_owned(),
                    }));
                }
                Err(e) if e.kind() == ErrorKind::AddrInUse => continue,
                Err(e) => return Err(io(e)),
            }
        }
        Err(InstanceError::NoAnswer)
    }

    fn hand_over(mut stream: UnixStream, request: &Request) -> Result<(), InstanceError> {
        let _ = stream.set_read_timeout(Some(TIMEOUT));
        let _ = stream.set_write_timeout(Some(TIMEOUT));
        stream
            .write_all(request.encode().as_bytes())
            .map_err(|_| InstanceError::NoAnswer)?;
        let mut answer = String::new();
        BufReader::new(stream.take(16))
            .read_line(&mut answer)
            .map_err(|_| InstanceError::NoAnswer)?;
        if answer.trim_end() == "ok" {
            Ok(())
        } else {
            Err(InstanceError::NoAnswer)
        }
    }

    impl Listener {
        /// Waits for the next request (blocking). A client that sends nothing sensible
        /// within the timeout is dropped and the wait goes on.
        pub fn next_request(&self) -> Result<Request, InstanceError> {
            loop {
                let (stream, _) = self.listener.accept().map_err(|source| InstanceError::Io {
                    path: self.path.clone(),
                    source,
                })?;
                if let Some(request) = read_request(stream) {
                    return Ok(request);
                }
            }
        }
    }

    fn read_request(mut stream: UnixStream) -> Option<Request> {
        let _ = stream.set_read_timeout(Some(TIMEOUT));
        let _ = stream.set_write_timeout(Some(TIMEOUT));
        let mut line = String::new();
        let mut reader = BufReader::new((&mut stream).take(MAX_REQUEST as u64 + 1));
        reader.read_line(&mut line).ok()?;
        if line.len() > MAX_REQUEST || !line.ends_with('\n') {
            return None;
        }
        let request = Request::decode(&line)?;
        stream.write_all(b"ok\n").ok()?;
        Some(request)
    }

    impl Drop for Listener {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_uri_argument_is_the_request() {
        let args = |a: &[&str]| a.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(Request::from_args(args(&[])), Request::Show);
        assert_eq!(
            Request::from_args(args(&["--verbose", "XMPP:a@b.example?message"])),
            Request::Open("XMPP:a@b.example?message".into())
        );
    }

    #[test]
    fn line_breaks_cannot_smuggle_a_second_request() {
        let encoded = Request::Open("xmpp:a@b\nshow".into()).encode();
        assert_eq!(encoded.matches('\n').count(), 1);
        assert_eq!(
            Request::decode(&encoded),
            Some(Request::Open("xmpp:a@bshow".into()))
        );
        assert_eq!(Request::decode("launch rockets\n"), None);
    }
}

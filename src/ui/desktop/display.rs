//! Is there a display to open a window on? Checked before iced starts, because iced's
//! event loop panics (with a backtrace inside winit) when there is none, and a person
//! who started Loquat over SSH or from a service should read one sentence instead.

use std::path::{Path, PathBuf};

/// Why no window can open, or `None` when a display looks reachable (or cannot be
/// checked, e.g. X over TCP: then iced tries).
pub fn problem() -> Option<String> {
    let wayland = std::env::var_os("WAYLAND_DISPLAY").filter(|w| !w.is_empty());
    let x11 = std::env::var("DISPLAY").ok();
    // X is the display to use: the handshake is the check, and only when it fails do
    // the sockets say why (see `x11_refuses`).
    let x11_refusal = match (&wayland, &x11) {
        (None, Some(display)) if !display.trim().is_empty() => match x11_refuses(display) {
            None => return None,
            refusal => refusal,
        },
        _ => None,
    };
    problem_with(
        wayland.map(PathBuf::from),
        x11,
        std::env::var_os("XDG_RUNTIME_DIR").map(PathBuf::from),
        Path::new("/tmp/.X11-unix"),
    )
    .or(x11_refusal)
}

/// The handshake done before iced starts, held open until Loquat exits (see
/// `x11_refuses`).
#[cfg(target_os = "linux")]
static HELD: std::sync::OnceLock<x11rb::rust_connection::RustConnection> =
    std::sync::OnceLock::new();

/// Does the X server let Loquat in? The X handshake itself, as winit will do it.
///
/// An X server that answers on its socket may still refuse a client: no authorization
/// (started as another user, or without its `XAUTHORITY`), or its client limit reached.
/// winit would then panic; the same handshake here says why.
///
/// The connection stays open until Loquat exits. An X server without other clients
/// (Xvfb, or any server started without `-noreset`) resets itself when its last client
/// leaves, and drops the connections that arrive meanwhile: closing this one, or a bare
/// connection to its socket, right before winit connects made one start in four fail
/// on a fresh Xvfb ("Broken pipe" on the handshake; before this check, winit's panic).
#[cfg(target_os = "linux")]
fn x11_refuses(display: &str) -> Option<String> {
    match x11rb::connect(Some(display)) {
        Ok((connection, _screen)) => {
            let _ = HELD.set(connection);
            None
        }
        // The server's own reason may end with a line break.
        Err(e) => Some(format!(
            "the X server on DISPLAY={display} did not let Loquat in ({})",
            e.to_string().replace(['\n', '\r'], "")
        )),
    }
}

#[cfg(not(target_os = "linux"))]
fn x11_refuses(_display: &str) -> Option<String> {
    None
}

fn problem_with(
    wayland: Option<PathBuf>,
    x11: Option<String>,
    runtime_dir: Option<PathBuf>,
    x11_sockets: &Path,
) -> Option<String> {
    if !cfg!(target_os = "linux") {
        return None;
    }
    let wayland = wayland.filter(|w| !w.as_os_str().is_empty());
    let x11 = x11.filter(|d| !d.trim().is_empty());
    if let Some(name) = &wayland {
        let socket = match (name.is_absolute(), &runtime_dir) {
            (true, _) => Some(name.clone()),
            (false, Some(dir)) => Some(dir.join(name)),
            (false, None) => None,
        };
        if socket.as_deref().is_some_and(answers) {
            return None;
        }
    }
    if let Some(display) = &x11 {
        // ":0", ":0.0", "unix:0": a local socket we can look for; anything else (a host
        // name) is left to X itself.
        let local = display
            .strip_prefix("unix:")
            .or_else(|| display.strip_prefix(':'));
        let number = local.map(|n| n.split('.').next().unwrap_or(n))?;
        let socket = x11_sockets.join(format!("X{number}"));
        if answers(&socket) || abstract_x11_socket(number) {
            return None;
        }
        let why = if socket.exists() {
            "its socket is left but nothing answers there"
        } else {
            "no socket"
        };
        return Some(format!(
            "no X server answers on DISPLAY={display} ({why}: {})",
            socket.display()
        ));
    }
    match wayland {
        Some(name) => Some(format!(
            "the Wayland display {} is not running",
            name.display()
        )),
        None => Some(
            "there is no graphical display (neither DISPLAY nor WAYLAND_DISPLAY is set)".into(),
        ),
    }
}

/// Whether a server answers on the Unix socket at `path`: a socket file left behind by a
/// display server that died (or a plain file) does not count.
fn answers(path: &Path) -> bool {
    std::os::unix::net::UnixStream::connect(path).is_ok()
}

/// X servers on Linux also listen on an abstract socket (seen where `/tmp` is private).
#[cfg(target_os = "linux")]
fn abstract_x11_socket(number: &str) -> bool {
    use std::os::linux::net::SocketAddrExt;
    use std::os::unix::net::{SocketAddr, UnixStream};
    let name = format!("/tmp/.X11-unix/X{number}");
    SocketAddr::from_abstract_name(name.as_bytes())
        .and_then(|addr| UnixStream::connect_addr(&addr))
        .is_ok()
}

#[cfg(not(target_os = "linux"))]
fn abstract_x11_socket(_number: &str) -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_display_at_all_is_said_in_words() {
        let dir = tempfile::tempdir().expect("dir");
        let why = problem_with(None, None, None, dir.path()).expect("a problem");
        assert!(why.contains("no graphical display"), "{why}");
        let why = problem_with(Some("".into()), Some(" ".into()), None, dir.path());
        assert!(why.is_some(), "empty values count as unset");
    }

    #[test]
    fn a_local_x_display_needs_its_socket() {
        let dir = tempfile::tempdir().expect("dir");
        let why = problem_with(None, Some(":479.0".into()), None, dir.path()).expect("no socket");
        assert!(why.contains("DISPLAY=:479.0"), "{why}");
        // A socket file nobody answers on (its server died) is no display.
        std::fs::write(dir.path().join("X479"), b"").expect("stale socket stand-in");
        let why = problem_with(None, Some(":479".into()), None, dir.path()).expect("stale");
        assert!(why.contains("nothing answers"), "{why}");
        std::fs::remove_file(dir.path().join("X479")).expect("remove");
        let _x = std::os::unix::net::UnixListener::bind(dir.path().join("X479")).expect("socket");
        assert_eq!(
            problem_with(None, Some(":479.0".into()), None, dir.path()),
            None
        );
        assert_eq!(
            problem_with(None, Some("unix:479".into()), None, dir.path()),
            None
        );
        // A remote display cannot be checked here: iced tries.
        assert_eq!(
            problem_with(None, Some("otherhost:0".into()), None, dir.path()),
            None
        );
    }

    #[test]
    fn wayland_is_found_in_the_runtime_dir_or_x_is_used() {
        let run = tempfile::tempdir().expect("dir");
        let x = tempfile::tempdir().expect("dir");
        let why = problem_with(
            Some("wayland-1".into()),
            None,
            Some(run.path().into()),
            x.path(),
        );
        assert!(why.expect("not running").contains("wayland-1"));
        let _w =
            std::os::unix::net::UnixListener::bind(run.path().join("wayland-1")).expect("socket");
        assert_eq!(
            problem_with(
                Some("wayland-1".into()),
                None,
                Some(run.path().into()),
                x.path()
            ),
            None
        );
        // A dead Wayland name with a live X display: X it is.
        let _x0 = std::os::unix::net::UnixListener::bind(x.path().join("X0")).expect("socket");
        assert_eq!(
            problem_with(
                Some("gone".into()),
                Some(":0".into()),
                Some(run.path().into()),
                x.path()
            ),
            None
        );
    }
}

//! A TCP relay between a client and a test server that can cut every connection on
//! demand, as a dropped Wi-Fi would, or black-hole them (stop forwarding without closing,
//! as a dead NAT or a sleeping router would). Loopback only; threads stop when it is
//! dropped.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

/// One relayed connection: the client's socket and the server's.
struct Relay {
    client: TcpStream,
    server: Option<TcpStream>,
}

pub struct FaultProxy {
    port: u16,
    live: Arc<Mutex<Vec<Relay>>>,
    stop: Arc<AtomicBool>,
    /// While set, nothing is forwarded in either direction and new connections are
    /// accepted but never reach the server. Bytes read meanwhile are thrown away.
    holed: Arc<AtomicBool>,
}

impl FaultProxy {
    /// Relays 127.0.0.1:`port()` to 127.0.0.1:`target`.
    pub fn start(target: u16) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the proxy");
        listener
            .set_nonblocking(true)
            .expect("non-blocking proxy listener");
        let port = listener.local_addr().expect("proxy address").port();
        let live: Arc<Mutex<Vec<Relay>>> = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let holed = Arc::new(AtomicBool::new(false));
        let (live2, stop2, holed2) = (live.clone(), stop.clone(), holed.clone());
        thread::spawn(move || {
            while !stop2.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((client, _)) => {
                        let _ = client.set_nonblocking(false);
                        if holed2.load(Ordering::Relaxed) {
                            // Accept, then say nothing: the client's connect hangs.
                            if let (Ok(c2), Ok(mut l)) = (client.try_clone(), live2.lock()) {
                                l.push(Relay {
                                    client: c2,
                                    server: None,
                                });
                            }
                            sink(client);
                            continue;
                        }
                        let Ok(server) = TcpStream::connect(("127.0.0.1", target)) else {
                            continue;
                        };
                        if let (Ok(c2), Ok(s2), Ok(mut l)) =
                            (client.try_clone(), server.try_clone(), live2.lock())
                        {
                            l.push(Relay {
                                client: c2,
                                server: Some(s2),
                            });
                        }
                        pipe(&client, &server, holed2.clone());
                        pipe(&server, &client, holed2.clone());
                    }
                    Err(_) => thread::sleep(Duration::from_millis(20)),
                }
            }
        });
        FaultProxy {
            port,
            live,
            stop,
            holed,
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Cuts every connection relayed so far (new ones are still accepted).
    pub fn cut_all(&self) {
        if let Ok(mut l) = self.live.lock() {
            for r in l.drain(..) {
                let _ = r.client.shutdown(Shutdown::Both);
                if let Some(s) = r.server {
                    let _ = s.shutdown(Shutdown::Both);
                }
            }
        }
    }

    /// Stops forwarding in both directions without closing anything: each side keeps
    /// writing into a connection that looks open and hears nothing back.
    pub fn black_hole(&self) {
        self.holed.store(true, Ordering::Relaxed);
    }

    /// Closes the server's side of every relayed connection while the client's side
    /// stays silent and open: what the server sees when its own timeouts give up on a
    /// dead link (the test server would take minutes to notice by itself).
    pub fn drop_server_side(&self) {
        if let Ok(l) = self.live.lock() {
            for r in l.iter() {
                if let Some(s) = &r.server {
                    let _ = s.shutdown(Shutdown::Both);
                }
            }
        }
    }

    /// Forwards again. Connections that were black-holed stay dead (their bytes were
    /// thrown away, so the streams are broken): they are closed, as a router that
    /// forgot them would answer with a reset. New connections work normally.
    pub fn restore(&self) {
        if let Ok(mut l) = self.live.lock() {
            for r in l.drain(..) {
                let _ = r.client.shutdown(Shutdown::Both);
                if let Some(s) = r.server {
                    let _ = s.shutdown(Shutdown::Both);
                }
            }
        }
        self.holed.store(false, Ordering::Relaxed);
    }
}

/// Reads and discards everything until the connection closes.
fn sink(mut from: TcpStream) {
    thread::spawn(move || {
        let mut buf = [0u8; 16 * 1024];
        while let Ok(n) = from.read(&mut buf) {
            if n == 0 {
                break;
            }
        }
    });
}

fn pipe(from: &TcpStream, to: &TcpStream, holed: Arc<AtomicBool>) {
    let (Ok(mut from), Ok(mut to)) = (from.try_clone(), to.try_clone()) else {
        return;
    };
    thread::spawn(move || {
        let mut buf = [0u8; 16 * 1024];
        loop {
            match from.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(_) if holed.load(Ordering::Relaxed) => {}
                Ok(n) => {
                    if to.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
            }
        }
        // A black-holed connection stays open on both sides: silence, not a close (not
        // even when one side finishes writing: a client that closes its stream must
        // hear nothing back). `restore`, `cut_all` or drop close it.
        if !holed.load(Ordering::Relaxed) {
            let _ = to.shutdown(Shutdown::Both);
            let _ = from.shutdown(Shutdown::Both);
        }
    });
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        self.cut_all();
    }
}

//! A TCP relay between a client and a test server that can cut every connection on
//! demand, as a dropped Wi-Fi would. Loopback only; threads stop when it is dropped.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

pub struct FaultProxy {
    port: u16,
    live: Arc<Mutex<Vec<TcpStream>>>,
    stop: Arc<AtomicBool>,
}

impl FaultProxy {
    /// Relays 127.0.0.1:`port()` to 127.0.0.1:`target`.
    pub fn start(target: u16) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the proxy");
        listener
            .set_nonblocking(true)
            .expect("non-blocking proxy listener");
        let port = listener.local_addr().expect("proxy address").port();
        let live: Arc<Mutex<Vec<TcpStream>>> = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let (live2, stop2) = (live.clone(), stop.clone());
        thread::spawn(move || {
            while !stop2.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((client, _)) => {
                        let Ok(server) = TcpStream::connect(("127.0.0.1", target)) else {
                            continue;
                        };
                        let _ = client.set_nonblocking(false);
                        if let (Ok(c2), Ok(s2), Ok(mut l)) =
                            (client.try_clone(), server.try_clone(), live2.lock())
                        {
                            l.push(c2);
                            l.push(s2);
                        }
                        pipe(&client, &server);
                        pipe(&server, &client);
                    }
                    Err(_) => thread::sleep(Duration::from_millis(20)),
                }
            }
        });
        FaultProxy { port, live, stop }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Cuts every connection relayed so far (new ones are still accepted).
    pub fn cut_all(&self) {
        if let Ok(mut l) = self.live.lock() {
            for s in l.drain(..) {
                let _ = s.shutdown(Shutdown::Both);
            }
        }
    }
}

fn pipe(from: &TcpStream, to: &TcpStream) {
    let (Ok(mut from), Ok(mut to)) = (from.try_clone(), to.try_clone()) else {
        return;
    };
    thread::spawn(move || {
        let mut buf = [0u8; 16 * 1024];
        loop {
            match from.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if to.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
            }
        }
        let _ = to.shutdown(Shutdown::Both);
        let _ = from.shutdown(Shutdown::Both);
    });
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        self.cut_all();
    }
}

//! File transfer against the test Prosody's http_file_share over HTTPS, trusting only the
//! test CA (see tests/support): upload, share, receive, download, thumbnails, limits,
//! cancellation, server errors, hostile names and decompression bombs.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

mod support;

use futures::StreamExt;
use loquat::ids::AccountId;
use loquat::model::{Attachment, ChatMessage, Direction, Trust};
use loquat::session::{Handle, SessionParams, UpdateKind};
use loquat::transfer::{self, DownloadLimits, TransferError, TransferEvent};
use loquat::xmpp::upload::SlotError;
use sha2::Digest;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use support::TestServer;
use support::session::{Updates, jid, local_params, online, wait_for};

fn params(server: &TestServer, user: &str, password: &str) -> SessionParams {
    local_params(
        AccountId(format!("acc-{user}")),
        server.c2s_port(),
        server.ca_pem(),
        user,
        password,
        None,
    )
}

fn client(server: &TestServer) -> reqwest::Client {
    transfer::http_client(&Trust {
        extra_roots_pem: Some(server.ca_pem()),
        pinned_sha256: Vec::new(),
    })
    .expect("HTTPS client with the test CA")
}

struct Pair {
    server: TestServer,
    a: Handle,
    a_updates: Updates,
    b_jid: String,
    b_updates: Updates,
    _b: Handle,
}

async fn pair() -> Pair {
    let server = TestServer::start();
    let (a, pa) = server.fresh_user("alice");
    let (b, pb) = server.fresh_user("bob");
    let (a_updates, a_handle, _) = online(params(&server, &a, &pa)).await;
    let (b_updates, b_handle, _) = online(params(&server, &b, &pb)).await;
    Pair {
        server,
        a: a_handle,
        a_updates,
        b_jid: b,
        b_updates,
        _b: b_handle,
    }
}

/// A file of `len` pseudo-random bytes, written in pieces.
fn make_file(dir: &Path, name: &str, len: usize) -> PathBuf {
    let path = dir.join(name);
    let mut f = std::fs::File::create(&path).expect("create test file");
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut left = len;
    let mut buf = vec![0u8; 64 * 1024];
    while left > 0 {
        for b in buf.iter_mut() {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            *b = x as u8;
        }
        let n = left.min(buf.len());
        f.write_all(&buf[..n]).expect("write test file");
        left -= n;
    }
    path
}

fn sha256(path: &Path) -> Vec<u8> {
    sha2::Sha256::digest(std::fs::read(path).expect("read file")).to_vec()
}

async fn received_attachment(updates: &mut Updates) -> (ChatMessage, Attachment) {
    wait_for(updates, 20, "a message with a file", |k| match k {
        UpdateKind::Message(m) if m.attachment.is_some() => {
            Some((m.clone(), *m.attachment.clone().expect("checked")))
        }
        _ => None,
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_mib_file_is_sent_received_and_identical() {
    let mut p = pair().await;
    let tmp = tempfile::tempdir().expect("tempdir");
    let path = make_file(tmp.path(), "report 2026.bin", 5 * 1024 * 1024);
    let mut stream =
        transfer::send_file(p.a.clone(), client(&p.server), jid(&p.b_jid), path.clone());
    let mut last = 0;
    let result = loop {
        match stream.next().await.expect("stream ends with Finished") {
            TransferEvent::Progress(pr) => {
                assert!(pr.done >= last, "progress goes forward");
                assert_eq!(pr.total, Some(5 * 1024 * 1024));
                last = pr.done;
            }
            TransferEvent::Finished(r) => break r,
        }
    };
    assert_eq!(result, Ok(None), "upload succeeded");
    assert_eq!(last, 5 * 1024 * 1024, "progress reached the whole file");

    // Our own copy of the message carries the file too.
    let (mine, _) = received_attachment(&mut p.a_updates).await;
    assert_eq!(mine.direction, Direction::Outgoing);

    let (msg, att) = received_attachment(&mut p.b_updates).await;
    assert_eq!(msg.direction, Direction::Incoming);
    assert_eq!(att.name, "report 2026.bin");
    assert!(att.url.starts_with("https://localhost:"), "{}", att.url);
    assert_eq!(
        msg.body, att.url,
        "the body is the URL, as other clients expect"
    );

    let downloads = tempfile::tempdir().expect("tempdir");
    let saved = transfer::download(
        client(&p.server),
        att.url.clone(),
        downloads.path().to_path_buf(),
        att.name.clone(),
        DownloadLimits::default(),
    )
    .finish()
    .await
    .expect("download")
    .expect("a saved path");
    assert_eq!(saved.parent(), Some(downloads.path()));
    assert_eq!(sha256(&saved), sha256(&path), "same bytes");

    // A second download of the same file never overwrites the first.
    let again = transfer::download(
        client(&p.server),
        att.url,
        downloads.path().to_path_buf(),
        att.name,
        DownloadLimits::default(),
    )
    .finish()
    .await
    .expect("download")
    .expect("a saved path");
    assert_eq!(
        again.file_name().and_then(|n| n.to_str()),
        Some("report 2026 (1).bin")
    );
}

fn png_file(dir: &Path, name: &str, w: u32, h: u32) -> PathBuf {
    let img = image::RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, 90])
    });
    let path = dir.join(name);
    img.save_with_format(&path, image::ImageFormat::Png)
        .expect("write png");
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_image_gets_a_thumbnail() {
    let mut p = pair().await;
    let tmp = tempfile::tempdir().expect("tempdir");
    let path = png_file(tmp.path(), "holiday.png", 1600, 900);
    transfer::send_file(p.a.clone(), client(&p.server), jid(&p.b_jid), path)
        .finish()
        .await
        .expect("upload");
    let (_, att) = received_attachment(&mut p.b_updates).await;
    assert!(att.is_image(), "{att:?}");
    let dl = tempfile::tempdir().expect("tempdir");
    let saved = transfer::download(
        client(&p.server),
        att.url.clone(),
        dl.path().to_path_buf(),
        att.name,
        DownloadLimits::default(),
    )
    .finish()
    .await
    .expect("download")
    .expect("path");
    let cache = tempfile::tempdir().expect("tempdir");
    let thumb = transfer::thumb::make_thumbnail(
        saved,
        cache.path().to_path_buf(),
        transfer::thumb::cache_key(&att.url),
    )
    .await
    .expect("thumbnail");
    assert_eq!((thumb.full_width, thumb.full_height), (1600, 900));
    assert_eq!((thumb.width, thumb.height), (320, 180));
    assert!(thumb.path.starts_with(cache.path()));
    let decoded = image::open(&thumb.path).expect("thumbnail is a PNG");
    assert_eq!(decoded.width(), 320);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_over_the_limit_is_refused_before_any_slot_request() {
    let p = pair().await;
    let tmp = tempfile::tempdir().expect("tempdir");
    let path = tmp.path().join("big.iso");
    // Sparse: 11 MiB on paper, nothing on disk.
    std::fs::File::create(&path)
        .and_then(|f| f.set_len(11 * 1024 * 1024))
        .expect("sparse file");
    let service = transfer::find_service(&p.a).await.expect("upload service");
    assert_eq!(service.jid.as_str(), "upload.localhost");
    assert_eq!(service.max_size, Some(10 * 1024 * 1024));
    let err = transfer::prepare_upload(&p.a, &path)
        .await
        .expect_err("refused");
    // Our own check (TooLarge with both sizes) and not the server's refusal of a slot.
    assert_eq!(
        err,
        TransferError::Slot(SlotError::TooLarge {
            size: 11 * 1024 * 1024,
            limit: 10 * 1024 * 1024
        })
    );
    assert_eq!(
        err.to_string(),
        "the file is 11 MiB but your server accepts at most 10 MiB"
    );
}

/// A TCP relay that forwards client-to-server bytes at about `rate` bytes per second
/// and can cut everything, so an upload can be caught in the middle.
struct SlowRelay {
    port: u16,
    stop: Arc<AtomicBool>,
}

async fn slow_relay(target: u16, rate: usize) -> SlowRelay {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind relay");
    let port = listener.local_addr().expect("addr").port();
    let stop = Arc::new(AtomicBool::new(false));
    let stop2 = stop.clone();
    tokio::spawn(async move {
        while let Ok((inbound, _)) = listener.accept().await {
            let Ok(outbound) = tokio::net::TcpStream::connect(("127.0.0.1", target)).await else {
                continue;
            };
            let stop = stop2.clone();
            tokio::spawn(async move {
                let (mut ci, mut co) = inbound.into_split();
                let (mut si, mut so) = outbound.into_split();
                let up = async {
                    let mut buf = vec![0u8; rate / 10];
                    while !stop.load(Ordering::SeqCst) {
                        let n = match ci.read(&mut buf).await {
                            Ok(0) | Err(_) => break,
                            Ok(n) => n,
                        };
                        if stop.load(Ordering::SeqCst) || so.write_all(&buf[..n]).await.is_err() {
                            break;
                        }
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                };
                let down = tokio::io::copy(&mut si, &mut co);
                tokio::select! { _ = up => {}, _ = down => {} }
            });
        }
    });
    SlowRelay { port, stop }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_an_upload_stops_the_put_and_sends_nothing() {
    let mut p = pair().await;
    let tmp = tempfile::tempdir().expect("tempdir");
    let size = 9 * 1024 * 1024 + 512 * 1024;
    let path = make_file(tmp.path(), "movie.bin", size);
    let mut prepared = transfer::prepare_upload(&p.a, &path).await.expect("slot");
    let relay = slow_relay(p.server.https_port(), 512 * 1024).await;
    let direct = format!("https://localhost:{}/", p.server.https_port());
    assert!(
        prepared.slot.put_url.starts_with(&direct),
        "{}",
        prepared.slot.put_url
    );
    prepared.slot.put_url = prepared
        .slot
        .put_url
        .replace(&direct, &format!("https://localhost:{}/", relay.port));
    let mut stream = transfer::upload(
        client(&p.server),
        prepared.slot.clone(),
        path,
        prepared.size,
        prepared.content_type.clone(),
    );
    let mut done = 0;
    while done < 1024 * 1024 {
        match tokio::time::timeout(Duration::from_secs(20), stream.next()).await {
            Ok(Some(TransferEvent::Progress(pr))) => done = pr.done,
            other => panic!("upload ended before it could be cancelled: {other:?}"),
        }
    }
    assert!(done < size as u64, "caught in the middle ({done} bytes)");
    drop(stream); // Cancel.
    relay.stop.store(true, Ordering::SeqCst);

    // Nothing was stored under the download URL...
    tokio::time::sleep(Duration::from_millis(500)).await;
    let got = transfer::download(
        client(&p.server),
        prepared.slot.get_url.clone(),
        tmp.path().join("check"),
        "x".into(),
        DownloadLimits::default(),
    )
    .finish()
    .await;
    assert!(
        matches!(
            got,
            Err(TransferError::Http {
                status: 404 | 410,
                ..
            })
        ),
        "{got:?}"
    );
    // ...and the contact got no message.
    let quiet = tokio::time::timeout(Duration::from_secs(3), async {
        while let Some(u) = p.b_updates.next().await {
            if let UpdateKind::Message(m) = u.kind {
                return Some(m);
            }
        }
        None
    })
    .await;
    assert!(quiet.is_err() || quiet == Ok(None), "no message: {quiet:?}");
    while let Ok(Some(u)) =
        tokio::time::timeout(Duration::from_millis(200), p.a_updates.next()).await
    {
        assert!(
            !matches!(u.kind, UpdateKind::Message(_)),
            "A sent nothing: {:?}",
            u.kind
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_error_comes_back_with_its_reason() {
    let p = pair().await;
    let tmp = tempfile::tempdir().expect("tempdir");
    let path = make_file(tmp.path(), "notes.txt", 4096);
    let mut prepared = transfer::prepare_upload(&p.a, &path).await.expect("slot");
    // A slot whose authorisation does not match: the web server refuses the PUT.
    for h in prepared.slot.put_headers.iter_mut() {
        if h.0 == "Authorization" {
            h.1 = "Bearer not-the-right-token".into();
        }
    }
    let err = transfer::upload(
        client(&p.server),
        prepared.slot.clone(),
        path,
        prepared.size,
        prepared.content_type.clone(),
    )
    .finish()
    .await
    .expect_err("refused");
    match &err {
        TransferError::Http { status, reason } => {
            assert!(matches!(status, 401 | 403), "{err}");
            assert!(reason.contains("not allowed"), "{err}");
        }
        other => panic!("expected an HTTP error, got {other:?}"),
    }
    assert!(
        err.to_string().starts_with("the web server answered 40"),
        "{err}"
    );

    // A download of something that is not there says so.
    let err = transfer::download(
        client(&p.server),
        format!(
            "https://localhost:{}/file_share/nothing-here/x.bin",
            p.server.https_port()
        ),
        tmp.path().join("dl"),
        "x.bin".into(),
        DownloadLimits::default(),
    )
    .finish()
    .await
    .expect_err("404");
    assert!(
        matches!(err, TransferError::Http { status: 404, .. }),
        "{err:?}"
    );
    assert!(
        std::fs::read_dir(tmp.path().join("dl"))
            .map(|d| d.count())
            .unwrap_or(0)
            == 0,
        "the partial file is removed"
    );

    // A server whose certificate we do not trust is a TLS error, in words.
    let untrusting = transfer::http_client(&Trust::default()).expect("client");
    let err = transfer::download(
        untrusting,
        prepared.slot.get_url,
        tmp.path().join("dl2"),
        "x".into(),
        DownloadLimits::default(),
    )
    .finish()
    .await
    .expect_err("untrusted");
    assert!(matches!(err, TransferError::Tls(_)), "{err:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hostile_file_name_is_saved_safely() {
    let mut p = pair().await;
    let tmp = tempfile::tempdir().expect("tempdir");
    // A name with a right-to-left override and dots, as a peer could send.
    let path = make_file(tmp.path(), "..evil\u{202E}gpj.exe", 1000);
    transfer::send_file(p.a.clone(), client(&p.server), jid(&p.b_jid), path)
        .finish()
        .await
        .expect("upload");
    let (_, att) = received_attachment(&mut p.b_updates).await;
    let dl = tempfile::tempdir().expect("tempdir");
    let inbox = dl.path().join("Downloads");
    for name in [
        att.name.as_str(),
        "../../outside.exe",
        "..%2F..%2Foutside.exe",
    ] {
        let saved = transfer::download(
            client(&p.server),
            att.url.clone(),
            inbox.clone(),
            name.to_owned(),
            DownloadLimits::default(),
        )
        .finish()
        .await
        .expect("download")
        .expect("path");
        assert_eq!(saved.parent(), Some(inbox.as_path()), "{saved:?}");
        let file_name = saved.file_name().and_then(|n| n.to_str()).expect("utf-8");
        assert!(
            !file_name.contains('\u{202E}') && !file_name.starts_with('.'),
            "{file_name:?}"
        );
    }
    let mut names: Vec<String> = std::fs::read_dir(&inbox)
        .expect("inbox")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["evilgpj.exe", "outside (1).exe", "outside.exe"]);
    assert_eq!(
        std::fs::read_dir(dl.path()).expect("dir").count(),
        1,
        "nothing outside"
    );
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for b in bytes {
        crc ^= u32::from(*b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let mut body = kind.to_vec();
    body.extend_from_slice(data);
    out.extend_from_slice(&body);
    out.extend_from_slice(&crc32(&body).to_be_bytes());
}

fn vm_hwm_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_60000_pixel_png_is_refused_without_a_large_allocation() {
    let tmp = tempfile::tempdir().expect("tempdir");
    // 60000 x 60000 RGBA would need 14 GB decoded.
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&60000u32.to_be_bytes());
    ihdr.extend_from_slice(&60000u32.to_be_bytes());
    ihdr.extend_from_slice(&[8, 6, 0, 0, 0]);
    chunk(&mut png, b"IHDR", &ihdr);
    // A tiny zlib stream of zeros.
    chunk(
        &mut png,
        b"IDAT",
        &[0x78, 0x9c, 0x63, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01],
    );
    chunk(&mut png, b"IEND", &[]);
    let path = tmp.path().join("bomb.png");
    std::fs::write(&path, &png).expect("write");
    let before = vm_hwm_kib();
    let err = transfer::thumb::make_thumbnail(path, tmp.path().join("cache"), "bomb".into())
        .await
        .expect_err("refused");
    let grown_mib = vm_hwm_kib().saturating_sub(before) / 1024;
    assert!(matches!(err, TransferError::ImageTooLarge(_)), "{err:?}");
    assert!(
        err.to_string()
            .starts_with("the image is too large to show"),
        "{err}"
    );
    assert!(grown_mib < 64, "peak memory grew by {grown_mib} MiB");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_without_upload_service_says_so() {
    // `example.test` on the test server has no upload component.
    let server = TestServer::start();
    let (user, password) = server.fresh_user_on("carol", "example.test");
    let (_updates, handle, _) = online(params(&server, &user, &password)).await;
    let err = transfer::find_service(&handle)
        .await
        .expect_err("no service");
    assert_eq!(err, TransferError::Slot(SlotError::NoService));
    assert_eq!(err.to_string(), "your server offers no file upload");
    let tmp = tempfile::tempdir().expect("tempdir");
    let path = make_file(tmp.path(), "a.txt", 10);
    let sent = transfer::send_file(handle, client(&server), jid("someone@localhost"), path)
        .finish()
        .await;
    assert_eq!(sent, Err(TransferError::Slot(SlotError::NoService)));
}

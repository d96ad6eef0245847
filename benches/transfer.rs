//! File transfer benchmark (plain binary, `harness = false`); prints its figures.
//!
//! `cargo bench --bench transfer` (or, without an optimised build at hand,
//! `cargo test --bench transfer -- --bench` for the same run unoptimised)
//!
//! Starts the test Prosody (tests/support) with its upload limit raised, signs one
//! account in, and in the same run:
//! - uploads a 200 MiB file with Loquat (slot + streaming PUT) and with `curl` (a fresh
//!   slot, the same PUT with the slot's headers), then downloads it with both; prints
//!   throughput and the ratio Loquat / curl (target: at least 0.9);
//! - measures the process's peak memory (VmHWM) after uploading 20 MiB and again after
//!   uploading 200 MiB (target: the same, i.e. independent of file size).
//!
//! Under `cargo test --all-targets` (no `--bench` argument) it does a quick smoke run
//! with 2 MiB files. `LOQUAT_BENCH_MIB=N` sets the large file's size.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

#[path = "../tests/support/mod.rs"]
mod support;

use loquat::ids::AccountId;
use loquat::model::{ServerOverride, Trust};
use loquat::session::{Handle, SessionParams, UpdateKind};
use loquat::transfer::{self, DownloadLimits};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

type Error = Box<dyn std::error::Error>;

fn make_file(path: &Path, mib: usize) -> Result<(), Error> {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path)?);
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    let mut buf = vec![0u8; 1024 * 1024];
    for _ in 0..mib {
        for b in buf.iter_mut() {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            *b = x as u8;
        }
        f.write_all(&buf)?;
    }
    f.flush()?;
    Ok(())
}

fn vm_hwm_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<f64>().ok())
        })
        .unwrap_or(0.0)
        / 1024.0
}

fn mib_per_s(bytes: u64, d: Duration) -> f64 {
    bytes as f64 / (1024.0 * 1024.0) / d.as_secs_f64().max(1e-9)
}

struct Bench {
    handle: Handle,
    client: reqwest::Client,
    ca_path: PathBuf,
}

impl Bench {
    async fn loquat_upload(&self, path: &Path) -> Result<(Duration, String), Error> {
        let prepared = transfer::prepare_upload(&self.handle, path).await?;
        let started = Instant::now();
        transfer::upload(
            self.client.clone(),
            prepared.slot.clone(),
            path.to_path_buf(),
            prepared.size,
            prepared.content_type.clone(),
        )
        .finish()
        .await?;
        Ok((started.elapsed(), prepared.slot.get_url))
    }

    async fn curl_upload(&self, path: &Path) -> Result<Duration, Error> {
        let prepared = transfer::prepare_upload(&self.handle, path).await?;
        let mut cmd = std::process::Command::new("curl");
        cmd.args([
            "-sS",
            "--fail",
            "-o",
            "/dev/null",
            "-X",
            "PUT",
            "-H",
            "Expect:",
        ])
        .arg("--cacert")
        .arg(&self.ca_path)
        .arg("-H")
        .arg(format!("Content-Type: {}", prepared.content_type))
        .arg("-T")
        .arg(path);
        for (name, value) in &prepared.slot.put_headers {
            cmd.arg("-H").arg(format!("{name}: {value}"));
        }
        cmd.arg(&prepared.slot.put_url);
        let started = Instant::now();
        let status = tokio::task::spawn_blocking(move || cmd.status()).await??;
        let took = started.elapsed();
        if !status.success() {
            return Err(format!("curl PUT failed: {status}").into());
        }
        Ok(took)
    }

    async fn loquat_download(&self, url: &str, dir: &Path) -> Result<Duration, Error> {
        let started = Instant::now();
        let saved = transfer::download(
            self.client.clone(),
            url.to_owned(),
            dir.to_path_buf(),
            "download.bin".into(),
            DownloadLimits::default(),
        )
        .finish()
        .await?;
        let took = started.elapsed();
        if let Some(p) = saved {
            std::fs::remove_file(p)?;
        }
        Ok(took)
    }

    async fn curl_download(&self, url: &str, dir: &Path) -> Result<Duration, Error> {
        let out = dir.join("curl.bin");
        let mut cmd = std::process::Command::new("curl");
        cmd.args(["-sS", "--fail", "--cacert"])
            .arg(&self.ca_path)
            .arg("-o")
            .arg(&out)
            .arg(url);
        let started = Instant::now();
        let status = tokio::task::spawn_blocking(move || cmd.status()).await??;
        let took = started.elapsed();
        if !status.success() {
            return Err(format!("curl GET failed: {status}").into());
        }
        std::fs::remove_file(out)?;
        Ok(took)
    }
}

fn main() -> Result<(), Error> {
    let real_run = std::env::args().any(|a| a == "--bench");
    let big_mib: usize = if real_run {
        std::env::var("LOQUAT_BENCH_MIB")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(200)
    } else {
        2
    };
    let small_mib = (big_mib / 10).max(1);
    support::require_binary("curl", "curl");
    let server = support::TestServer::start_with_upload_limit((big_mib as u64 + 16) * 1024 * 1024);
    let (user, password) = server.fresh_user("bench");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let params = SessionParams {
            account: AccountId("bench".into()),
            jid: xmpp_parsers::jid::BareJid::new(&user)?,
            password,
            server: ServerOverride {
                host: Some("127.0.0.1".into()),
                port: Some(server.c2s_port()),
                direct_tls: false,
            },
            trust: Trust {
                extra_roots_pem: Some(server.ca_pem()),
                pinned_sha256: Vec::new(),
            },
            resource: None,
            store: None,
            verify_only: false,
            allow_plain: false,
            omemo_key: None,
        };
        let trust = params.trust.clone();
        let mut updates = Box::pin(loquat::session::run(params));
        let mut ready = None;
        let handle = loop {
            use futures::StreamExt;
            match tokio::time::timeout(Duration::from_secs(30), updates.next()).await {
                Ok(Some(u)) => match u.kind {
                    UpdateKind::Ready(h) => ready = Some(h),
                    UpdateKind::Online { .. } => {
                        if let Some(h) = ready.take() {
                            break h;
                        }
                    }
                    UpdateKind::Failed(e) => return Err(format!("sign-in failed: {e}").into()),
                    _ => {}
                },
                _ => return Err("the session did not start".into()),
            }
        };
        let bench = Bench {
            handle,
            client: transfer::http_client(&trust)?,
            ca_path: server.ca_path().to_path_buf(),
        };
        let files = tempfile::tempdir()?;
        let small = files.path().join("small.bin");
        let big = files.path().join("big.bin");
        make_file(&small, small_mib)?;
        make_file(&big, big_mib)?;
        let downloads = tempfile::tempdir()?;
        let big_bytes = (big_mib * 1024 * 1024) as u64;

        // Memory first, before anything else raises the high-water mark.
        let (_, _) = bench.loquat_upload(&small).await?;
        let hwm_small = vm_hwm_mib();
        let (up_loquat, url) = bench.loquat_upload(&big).await?;
        let hwm_big = vm_hwm_mib();

        let up_curl = bench.curl_upload(&big).await?;
        let down_loquat = bench.loquat_download(&url, downloads.path()).await?;
        let down_curl = bench.curl_download(&url, downloads.path()).await?;

        let (ul, uc) = (
            mib_per_s(big_bytes, up_loquat),
            mib_per_s(big_bytes, up_curl),
        );
        let (dl, dc) = (
            mib_per_s(big_bytes, down_loquat),
            mib_per_s(big_bytes, down_curl),
        );
        let note = if real_run {
            ""
        } else {
            " (smoke run under cargo test: tiny files, figures not meaningful)"
        };
        println!("transfer benchmark, {big_mib} MiB over HTTPS to the local Prosody{note}");
        println!(
            "  upload:   Loquat {ul:8.1} MiB/s   curl {uc:8.1} MiB/s   ratio {:.2}",
            ul / uc
        );
        println!(
            "  download: Loquat {dl:8.1} MiB/s   curl {dc:8.1} MiB/s   ratio {:.2}",
            dl / dc
        );
        println!(
            "  peak memory (VmHWM): {hwm_small:.1} MiB after a {small_mib} MiB upload, \
             {hwm_big:.1} MiB after a {big_mib} MiB upload (growth {:.1} MiB)",
            hwm_big - hwm_small
        );
        drop(server);
        Ok(())
    })
}

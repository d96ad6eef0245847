//! Loquat's entry point: logging, a panic hook that logs, the single-instance check,
//! then the window.

use loquat::instance::{self, Request, Start};
use std::process::ExitCode;

const USAGE: &str = "Usage: loquat [xmpp:URI]

Opens Loquat, or brings the running Loquat forward. An xmpp: link opens the chat,
group chat or contact it names (xmpp:someone@example.org?message;body=Hello).

Environment:
  LOQUAT_DATA_DIR   where the local history and settings live
  LOQUAT_LANG       the interface language (en, zh_CN)
  LOQUAT_RENDERER   gpu: draw with the graphics card (wgpu); default: software
                    (tiny-skia), lighter and quicker to start for a chat window.
                    ICED_BACKEND (wgpu, tiny-skia), when set, wins over both";

fn main() -> ExitCode {
    choose_renderer();
    limit_malloc_arenas();
    // Through the redacting logger: at trace level tokio-xmpp logs the SASL exchange.
    let logger =
        env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).build();
    let level = logger.filter();
    if log::set_boxed_logger(Box::new(loquat::logging::Redacting::new(Box::new(logger)))).is_ok() {
        log::set_max_level(level);
    }

    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        log::error!("panic: {info}");
        default_hook(info);
    }));

    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--help" || a == "-h") {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    if args.iter().any(|a| a == "--version" || a == "-V") {
        println!("loquat {}", env!("CARGO_PKG_VERSION"));
        return ExitCode::SUCCESS;
    }
    let request = Request::from_args(args);

    let listener = match loquat::paths::data_dir() {
        Some(dir) => match instance::acquire(&instance::socket_path(&dir), &request) {
            Ok(Start::HandedOver) => {
                log::info!("Loquat is already running: handed the request over");
                return ExitCode::SUCCESS;
            }
            Ok(Start::Primary(listener)) => Some(listener),
            Err(e) => {
                // Still usable, only without the hand-over.
                log::warn!("{e}");
                None
            }
        },
        None => None,
    };

    // iced panics inside winit when there is no display: say it in one sentence.
    if let Some(why) = loquat::ui::desktop::display::problem() {
        eprintln!("Loquat could not open its window: {why}.");
        return ExitCode::FAILURE;
    }
    match loquat::ui::run(loquat::ui::Launch { listener, request }) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("Loquat could not open its window: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Software drawing (tiny-skia) unless the person asks for the GPU: on machines without
/// a graphics card wgpu runs on a software Vulkan driver that costs about 100 MiB more
/// and paints later, and a chat window gains nothing from a GPU elsewhere either.
/// iced reads its choice from `ICED_BACKEND`, which is left alone when already set.
fn choose_renderer() {
    if std::env::var_os("ICED_BACKEND").is_some() {
        return;
    }
    // The environment wins over the choice made in Settings > General.
    let gpu = match std::env::var("LOQUAT_RENDERER") {
        Ok(r) => r.eq_ignore_ascii_case("gpu"),
        Err(_) => loquat::paths::data_dir().is_some_and(|d| loquat::config::renderer_wanted(&d)),
    };
    if !gpu {
        // SAFETY: called first thing in `main`, before any other thread exists.
        unsafe { std::env::set_var("ICED_BACKEND", "tiny-skia") };
    }
}

/// glibc gives every thread that allocates an arena of its own (up to 8 per core) and
/// keeps what was freed there for that thread: after a first sign-in's catch-up, which
/// runs on tokio's, sled's and the search index's threads, that was about 10 MiB of PSS
/// that no one used (issue #21; `cargo bench --bench memory`). Two arenas still kept
/// 5-6 MiB more than one, 10 s after the catch-up (two runs of the bench, each measuring
/// both: 87.7 and 88.8 MiB against 82.2 and 83.1). By then the search index's writer is
/// gone (heaptrack finds 40 kB of tantivy live), but its freed pages stay pinned among
/// other threads' small live blocks. One arena it is: the few threads of a chat client
/// rarely allocate at once, and glibc's per-thread caches serve small blocks without the
/// arena's lock. `MALLOC_ARENA_MAX`, when set, still wins.
fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        // SAFETY: called first thing in `main`, before any other thread allocates.
        unsafe { libc::mallopt(libc::M_ARENA_MAX, 1) };
    }
}

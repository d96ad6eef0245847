//! Loquat's entry point: logging, a panic hook that logs, the single-instance check,
//! then the window.

use loquat::instance::{self, Request, Start};
use std::process::ExitCode;

const USAGE: &str = "Usage: loquat [xmpp:URI]

Opens Loquat, or brings the running Loquat forward. An xmpp: link opens the chat,
group chat or contact it names (xmpp:someone@example.org?message;body=Hello).

Environment:
  LOQUAT_DATA_DIR   where the local history and settings live
  LOQUAT_LANG       the interface language (en, zh_CN)";

fn main() -> ExitCode {
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

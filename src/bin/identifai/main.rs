//! `identifai`: the command-line client of the identifAI API.
//!
//! ```text
//! cargo run --features cli -- --mock classify examples/media/sunset.png --heatmap
//! ```
//!
//! | module | what it does |
//! |---|---|
//! | `cli` | the whole command line (clap): the global options and the subcommands |
//! | `cmd/<command>.rs` | one subcommand each: its options and its `run` |
//! | `global` | the options every subcommand takes (the key a `SecretString`) |
//! | `flags` | the flags several subcommands share (submission, waiting, `--kind`) |
//! | `exit` | exit codes, the CLI's own errors and their `--json` `code` |
//! | `context` | the client (and with `--mock` the built-in server), colours, progress bars |
//! | `media` | inputs: files or URLs, their kind, submission options |
//! | `submission` | sending one input and waiting for its verdict (`classify`, `batch`) |
//! | `outcome` | what became of one input: its record, exit and printing |
//! | `output` | the readable summaries and the JSON records |
//! | `picture` | decoding pictures under a cap, the heatmap over an original |
//! | `heatmap_files` | `classify --heatmap`: the heatmap and its overlay saved in the current directory |
//! | `journal` | `batch`'s and `api --journal`'s JSON-lines record of what was sent |
//! | `files` | files at a path the user named, written whole or not at all |
//! | `stdio` | stdout and stderr: a closed pipe ends the program quietly |
//!
//! Exit codes: see `exit::exit_codes` (and `Exit`); killed by SIGPIPE (141 in a shell) when stdout or stderr is a
//! closed pipe. `IDENTIFAI_RATE_SCALE` (hidden `--rate-scale`) multiplies the
//! client's pacing, retry and poll intervals: it exists for tests that run
//! the binary against a time-compressed `MockServer`.

// First: its `print!`/`println!`/`eprint!`/`eprintln!` replace std's in
// every module after it (a closed pipe ends the program, never a panic).
#[macro_use]
mod stdio;

mod cli;
mod cmd;
mod context;
mod exit;
mod files;
mod flags;
mod global;
mod heatmap_files;
mod journal;
mod media;
mod outcome;
mod output;
mod picture;
mod submission;

use std::process::ExitCode;

use clap::{ArgMatches, CommandFactory, FromArgMatches};

use cli::{Cli, Command};
use cmd::api::with_operations;
use context::Context;
use exit::{code_of, Exit};

/// Whether `--json` is on the command line (before a `--`), for errors
/// clap reports before the options are parsed.
fn json_requested() -> bool {
    std::env::args_os()
        .skip(1)
        .take_while(|a| a != "--")
        .any(|a| a == "--json")
}

fn main() -> ExitCode {
    // `api`'s subcommands (one per operation) are made from the spec.
    let parsed = cli::tidy(with_operations(Cli::command()))
        .try_get_matches()
        .and_then(|m| Cli::from_arg_matches(&m).map(|cli| (cli, m)));
    let (mut cli, matches) = match parsed {
        Ok(parsed) => parsed,
        // `--help`, `--version` or a usage error: clap would ignore a
        // closed pipe here; it ends the program as everywhere else.
        Err(e) => {
            let failed = e.use_stderr();
            if failed && json_requested() {
                // A usage error as a JSON object, like every other error.
                let text = e.render().to_string();
                let message = text.trim().trim_start_matches("error: ");
                output::print_json_error("usage", message);
            } else if let Err(io) = e.print() {
                if io.kind() == std::io::ErrorKind::BrokenPipe {
                    stdio::closed();
                }
            }
            stdio::flush_out();
            return ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2));
        }
    };
    // --mock-quirks is --mock with quirks (so it needs no --mock beside it,
    // before or after the subcommand).
    cli.global.mock |= cli.global.mock_quirks;
    init_tracing(cli.global.verbose);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(Exit::Error.code());
        }
    };
    let key = cli.global.key();
    let json = cli.global.json;
    let call = matches
        .subcommand_matches("api")
        .and_then(ArgMatches::subcommand)
        .map(|(name, m)| (name.to_string(), m.clone()));
    let exit = match runtime.block_on(run(cli, call)) {
        Ok(exit) => exit,
        Err(e) => {
            let code = code_of(&e);
            output::print_error(&e, code, json, key.as_ref());
            Exit::of_code(code)
        }
    };
    stdio::flush_out();
    // Don't wait for tasks left behind (a cancelled wait, the mock's idle
    // connections).
    runtime.shutdown_timeout(std::time::Duration::from_millis(100));
    ExitCode::from(exit.code())
}

async fn run(cli: Cli, call: Option<(String, ArgMatches)>) -> anyhow::Result<Exit> {
    let Cli { global, command } = cli;
    match command {
        Command::Completions { shell } => {
            cmd::completions::run(shell, with_operations(Cli::command()))
        }
        Command::Health => cmd::health::run(&Context::new(&global, false)?).await,
        Command::Classify(args) => cmd::classify::run(&Context::new(&global, true)?, args).await,
        Command::Result(args) => cmd::result::run(&Context::new(&global, true)?, args).await,
        Command::Heatmap(args) => cmd::heatmap::run(&Context::new(&global, true)?, args).await,
        Command::Override(args) => cmd::r#override::run(&Context::new(&global, true)?, args).await,
        Command::Batch(args) => cmd::batch::run(&Context::new(&global, true)?, args).await,
        Command::Contract(args) => cmd::contract::run(&global, args).await,
        Command::Mock(args) => cmd::mock::run(args).await,
        Command::Api(args) => cmd::api::run(&global, args, call).await,
    }
}

/// `-v`: the client's tracing on stderr. Only the `identifai` targets go
/// past `warn`, so no dependency ever gets to log a request's headers.
fn init_tracing(verbose: u8) {
    use std::io::IsTerminal;
    use tracing_subscriber::filter::{LevelFilter, Targets};
    use tracing_subscriber::prelude::*;
    if verbose == 0 {
        return;
    }
    let level = match verbose {
        1 => LevelFilter::INFO,
        2 => LevelFilter::DEBUG,
        _ => LevelFilter::TRACE,
    };
    let filter = Targets::new()
        .with_target("identifai", level)
        .with_default(LevelFilter::WARN);
    // Each request's span is printed when it closes: operation, path,
    // status, attempts and timings.
    let layer = tracing_subscriber::fmt::layer()
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
        .with_writer(|| stdio::Guarded(std::io::stderr()))
        .with_ansi(std::io::stderr().is_terminal());
    let _ = tracing_subscriber::registry()
        .with(layer)
        .with(filter)
        .try_init();
}

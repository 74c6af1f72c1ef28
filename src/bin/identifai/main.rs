//! `identifai`: the command-line client of the identifAI API.
//!
//! ```text
//! cargo run --features cli -- --mock classify examples/media/sunset.png --heatmap
//! ```
//!
//! | module | what it does |
//! |---|---|
//! | `args` | the command line (clap) |
//! | `context` | the client (and with `--mock` the built-in server), colours, progress bars |
//! | `media` | inputs: files or URLs, image or video, submission options |
//! | `classify` | `classify` and `result` |
//! | `batch` | `batch`: directories and list files to JSON lines, `--resume` |
//! | `overlay` | `heatmap --overlay`: the heatmap blended over the original |
//! | `heatmap_files` | `classify --heatmap`: the heatmap and its overlay saved in the current directory |
//! | `output` | the readable summaries and the JSON records |
//! | `contract` | `contract`: the contract checks, report, JUnit and drift files |
//! | `api` | `api`: any operation of the spec, its subcommands made from the generated operation list |
//! | `files` | files at a path the user named, written whole or not at all |
//! | `serve` | `mock`: the built-in mock as a standalone server |
//! | `stdio` | stdout and stderr: a closed pipe ends the program quietly |
//!
//! Exit codes: 0 success, 1 error, 2 usage (or no key), 3 `--fail-on`
//! matched; killed by SIGPIPE (141 in a shell) when stdout or stderr is a
//! closed pipe. `IDENTIFAI_RATE_SCALE` (hidden `--rate-scale`) multiplies the
//! client's pacing, retry and poll intervals: it exists for tests that run
//! the binary against a time-compressed `MockServer`.

// First: its `print!`/`println!`/`eprint!`/`eprintln!` replace std's in
// every module after it (a closed pipe ends the program, never a panic).
#[macro_use]
mod stdio;

mod api;
mod args;
mod batch;
mod classify;
mod context;
mod contract;
mod files;
mod heatmap_files;
mod journal;
mod media;
mod output;
mod overlay;
mod serve;
mod verdict_override;

use std::process::ExitCode;

use clap::{ArgMatches, CommandFactory, FromArgMatches};

use args::{Cli, Command};
use context::Context;

/// How the program ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Exit {
    /// 0: everything worked.
    Ok,
    /// 3: `--fail-on` matched a verdict.
    Matched,
    /// 1: something failed (reported on stderr).
    Error,
    /// 4: the service refuses every request of the key (its breaker is
    /// open); `batch` left the rest resumable.
    Refused,
    /// 2: the command line cannot be carried out.
    Usage,
    /// 130: stopped by SIGINT or SIGTERM (a batch is left resumable).
    Interrupted,
}

impl Exit {
    fn code(self) -> u8 {
        match self {
            Exit::Ok => 0,
            Exit::Error => 1,
            Exit::Usage => 2,
            Exit::Matched => 3,
            Exit::Refused => 4,
            Exit::Interrupted => 130,
        }
    }
}

/// An error that is the user's to fix on the command line (exit 2).
#[derive(Debug)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// Shorthand for a usage error.
pub fn usage(message: impl Into<String>) -> anyhow::Error {
    UsageError(message.into()).into()
}

fn main() -> ExitCode {
    // `api`'s subcommands (one per operation) are made from the spec.
    let parsed = api::with_operations(Cli::command())
        .try_get_matches()
        .and_then(|m| Cli::from_arg_matches(&m).map(|cli| (cli, m)));
    let (cli, matches) = match parsed {
        Ok(parsed) => parsed,
        // `--help`, `--version` or a usage error: clap would ignore a
        // closed pipe here; it ends the program as everywhere else.
        Err(e) => {
            if let Err(io) = e.print() {
                if io.kind() == std::io::ErrorKind::BrokenPipe {
                    stdio::closed();
                }
            }
            stdio::flush_out();
            return ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2));
        }
    };
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
    let secret = cli.global.api_key.clone();
    let call = matches
        .subcommand_matches("api")
        .and_then(ArgMatches::subcommand)
        .map(|(name, m)| (name.to_string(), m.clone()));
    let exit = match runtime.block_on(run(cli, call)) {
        Ok(exit) => exit,
        Err(e) => {
            let usage = e.downcast_ref::<UsageError>().is_some();
            output::print_error(&e, secret.as_deref());
            if usage {
                Exit::Usage
            } else {
                Exit::Error
            }
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
            let mut cmd = api::with_operations(Cli::command());
            // Made in memory first: clap_complete panics on a write error
            // (a closed pipe, a full disk).
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut cmd, "identifai", &mut script);
            stdio::write_out_bytes(&script);
            Ok(Exit::Ok)
        }
        Command::Health => {
            let ctx = Context::new(&global, false)?;
            classify::health(&ctx).await
        }
        Command::Classify(args) => {
            let ctx = Context::new(&global, true)?;
            classify::classify(&ctx, args).await
        }
        Command::Result(args) => {
            let ctx = Context::new(&global, true)?;
            classify::result(&ctx, args).await
        }
        Command::Heatmap(args) => {
            let ctx = Context::new(&global, true)?;
            overlay::heatmap(&ctx, args).await
        }
        Command::Override(args) => {
            let ctx = Context::new(&global, true)?;
            verdict_override::run(&ctx, args).await
        }
        Command::Contract(args) => contract::run(&global, args).await,
        Command::Mock(args) => serve::run(args).await,
        Command::Api(args) => api::run(&global, args, call).await,
        Command::Batch(args) => {
            let ctx = Context::new(&global, true)?;
            batch::batch(&ctx, args).await
        }
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

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
//! Exit codes: see `args::exit_codes` (and `Exit`); killed by SIGPIPE (141 in a shell) when stdout or stderr is a
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

/// How the program ends (the numbers are documented in `--help` and
/// README: scripts depend on them).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// 0: everything worked.
    Ok,
    /// 1: something else failed (a local file could not be written, ...).
    Error,
    /// 2: the command line cannot be carried out.
    Usage,
    /// 3: `--fail-on` matched a verdict (and nothing failed).
    Matched,
    /// 4: the service refuses the key's requests (429s); `batch` left the
    /// rest resumable.
    Refused,
    /// 5: no API key, or the service refused it (401, 403).
    Auth,
    /// 6: an input was refused: a file not found, empty, too large, of a
    /// type not taken, a bad URL, an unknown identifier, the service's 400
    /// or 422, a classification that ended `errored`.
    Input,
    /// 7: the service or the way to it failed: 5xx, network, timeout, an
    /// answer not as the spec says, the shared pacer.
    Service,
    /// 8: some inputs failed and some succeeded.
    Partial,
    /// 130: stopped by SIGINT or SIGTERM (a batch is left resumable).
    Interrupted,
}

impl Exit {
    /// The process exit code.
    pub fn code(self) -> u8 {
        match self {
            Exit::Ok => 0,
            Exit::Error => 1,
            Exit::Usage => 2,
            Exit::Matched => 3,
            Exit::Refused => 4,
            Exit::Auth => 5,
            Exit::Input => 6,
            Exit::Service => 7,
            Exit::Partial => 8,
            Exit::Interrupted => 130,
        }
    }

    /// The exit an error of `code` (a `--json` `code`) leads to.
    pub fn of_code(code: &str) -> Exit {
        match code {
            "usage" | "invalid_base_url" | "invalid_setting" => Exit::Usage,
            "unauthorized" | "forbidden" | "no_api_key" | "invalid_api_key" => Exit::Auth,
            "rate_limited" => Exit::Refused,
            "rejected" | "unprocessable" | "not_found" | "errored" | "file_not_found"
            | "not_a_file" | "unreadable" | "empty" | "too_large" | "unsupported_type"
            | "invalid_url" | "invalid_identifier" | "invalid_input" | "not_an_image"
            | "no_heatmap" => Exit::Input,
            "server" | "timeout" | "network" | "decode" | "answer_too_large" | "pacer" => {
                Exit::Service
            }
            _ => Exit::Error,
        }
    }

    /// Which of two failures' exits a run reports: the one that says most
    /// about what to do next.
    fn rank(self) -> u8 {
        match self {
            Exit::Ok => 0,
            Exit::Matched => 1,
            Exit::Error => 2,
            Exit::Input => 3,
            Exit::Service => 4,
            Exit::Partial => 5,
            Exit::Auth => 6,
            Exit::Refused => 7,
            Exit::Usage => 8,
            Exit::Interrupted => 9,
        }
    }

    /// The more telling of two exits.
    pub fn max(self, other: Exit) -> Exit {
        if other.rank() > self.rank() {
            other
        } else {
            self
        }
    }
}

/// The exit of a run over several inputs: 0 (or 3 on a `--fail-on`
/// match) when none failed; the failures' exit when all failed, or when
/// the service refuses the key (4: the rest is resumable); else 8.
#[derive(Debug, Default)]
pub struct Tally {
    succeeded: bool,
    matched: bool,
    failure: Option<Exit>,
}

impl Tally {
    /// An input that succeeded (`matched`: its verdict is `--fail-on`'s).
    pub fn succeeded(&mut self, matched: bool) {
        self.succeeded = true;
        self.matched |= matched;
    }

    /// An input that failed with `exit`.
    pub fn failed(&mut self, exit: Exit) {
        self.failure = Some(self.failure.map_or(exit, |f| f.max(exit)));
    }

    /// How the run ends.
    pub fn exit(&self) -> Exit {
        match self.failure {
            None if self.matched => Exit::Matched,
            None => Exit::Ok,
            Some(Exit::Refused) => Exit::Refused,
            Some(_) if self.succeeded => Exit::Partial,
            Some(f) => f,
        }
    }
}

/// An error the CLI itself raises, with its `--json` `code` and exit.
#[derive(Debug)]
pub struct CliError {
    /// The `--json` `code`.
    pub code: &'static str,
    /// What is printed.
    pub message: String,
}

impl std::fmt::Display for CliError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for CliError {}

/// Shorthand for a usage error (exit 2, `code: usage`).
pub fn usage(message: impl Into<String>) -> anyhow::Error {
    failure("usage", message)
}

/// An error of `code` (see [`Exit::of_code`]).
pub fn failure(code: &'static str, message: impl Into<String>) -> anyhow::Error {
    CliError {
        code,
        message: message.into(),
    }
    .into()
}

/// The `--json` `code` of an error: the CLI's own, else the library's
/// ([`identifai::Error::code`]) anywhere in its causes, else `io` for a
/// file error, else `error`.
pub fn code_of(e: &anyhow::Error) -> &'static str {
    for cause in e.chain() {
        if let Some(c) = cause.downcast_ref::<CliError>() {
            return c.code;
        }
        if let Some(c) = cause.downcast_ref::<identifai::Error>() {
            return c.code();
        }
        if let Some(c) = cause.downcast_ref::<identifai::InputError>() {
            return c.code();
        }
    }
    if e.chain().any(|c| c.is::<std::io::Error>()) {
        return "io";
    }
    "error"
}

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
    let parsed = args::tidy(api::with_operations(Cli::command()))
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
    let secret = cli.global.api_key.clone();
    let json = cli.global.json;
    let call = matches
        .subcommand_matches("api")
        .and_then(ArgMatches::subcommand)
        .map(|(name, m)| (name.to_string(), m.clone()));
    let exit = match runtime.block_on(run(cli, call)) {
        Ok(exit) => exit,
        Err(e) => {
            let code = code_of(&e);
            output::print_error(&e, code, json, secret.as_deref());
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

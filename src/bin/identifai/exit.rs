//! How the program ends: its exit codes (and the `Exit codes:` sections of
//! `--help`), the CLI's own errors with their `--json` `code`, and the exit
//! of a run over several inputs.

/// Every exit code, with what leads to it.
const EXITS: &[(u8, &str)] = &[
    (0, "success"),
    (1, "another error (e.g. a file that could not be written)"),
    (2, "usage: bad arguments or settings"),
    (3, "--fail-on matched: some verdict is the one given to --fail-on\n     (and nothing failed: a failure's code comes first)"),
    (4, "refused: the service refuses the key's requests (429s); batch:\n     what was not sent is left for --resume"),
    (5, "auth: no API key (try --mock), or the key was refused (401, 403)"),
    (6, "input: a file not found, empty, too large or of a type not taken,\n     a bad URL, an unknown identifier, refused by the service (400,\n     422) or not classifiable by it (errored)"),
    (7, "service: a 5xx, the network, a timeout, an answer not as the spec\n     says, an unreachable --pacer"),
    (8, "partial: some inputs failed, others succeeded (each record's\n     `code` says why)"),
    (130, "stopped by SIGINT or SIGTERM; every accepted upload is recorded"),
];

/// The `Exit codes:` section of a `--help`, with the codes in `codes`.
pub fn exit_codes(codes: &[u8]) -> String {
    let mut text = String::from("Exit codes:");
    for (code, what) in EXITS.iter().filter(|(c, _)| codes.contains(c)) {
        text.push_str(&format!("\n{code:>3}  {what}"));
    }
    text.push_str("\nWith --json, errors carry a stable `code` (see README).");
    text
}

/// Every exit code the program has.
pub const ALL_EXITS: &[u8] = &[0, 1, 2, 3, 4, 5, 6, 7, 8, 130];
/// Those of `classify` and `result` (no signal handling of their own).
pub const CLASSIFY_EXITS: &[u8] = &[0, 1, 2, 3, 4, 5, 6, 7, 8];
/// Those of `api`: one operation, no verdict to match.
pub const API_EXITS: &[u8] = &[0, 1, 2, 4, 5, 6, 7];

/// `contract`'s own.
pub const CONTRACT_EXITS: &str = "\
Exit codes:
  0  every check passed (and, with --fail-on-drift, no drift)
  1  a check failed (or drift, with --fail-on-drift), or a report file
     could not be written
  2  usage: bad arguments, an unreadable --spec
  5  no API key (use --mock to check the built-in mock)";

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

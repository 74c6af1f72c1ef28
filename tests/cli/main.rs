//! The `identifai` binary (feature `cli`) as a process: every subcommand
//! against a test-owned `MockServer` (`commands`), `identifai api` and the
//! summary's `other` line (`api_command`), `identifai contract`
//! (`contract_checks`), `identifai mock` (`mock_process`), every
//! subcommand with a closed pipe for stdout or stderr (`pipes`), the
//! files it writes on a full disk (`full_disk`), README's commands
//! (`readme`), a new user's first run: README's main command and the
//! picture README shows (`first_run`), every `--json` error code and exit
//! code (`exit_codes`), and help texts and messages that say exactly what
//! the binary does (`manners`).

#[path = "../support/mod.rs"]
mod support;

mod api_command;
mod commands;
mod contract_checks;
mod crash;
mod exit_codes;
mod first_run;
mod full_disk;
mod manners;
mod mock_process;
mod pipes;
mod readme;

/// The binary with no identifAI variables from the environment (no Redis
/// pacer either), paced for a mock running 100 times faster, stdin closed:
/// for the tests that read exit codes and pipes themselves.
pub(crate) fn bare_process() -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_identifai"));
    cmd.env_remove("IDENTIFAI_API_KEY")
        .env_remove("IDENTIFAI_BASE_URL")
        .env_remove("IDENTIFAI_PACER_URL")
        .env("IDENTIFAI_RATE_SCALE", "0.01")
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::null());
    cmd
}

/// [`bare_process`] as an `assert_cmd::Command`, a minute at most.
pub(crate) fn bare() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::from_std(bare_process());
    cmd.timeout(std::time::Duration::from_secs(60));
    cmd
}

/// The flags that point the binary at `server` with its key.
fn at(server: &identifai::mock::MockServer) -> [String; 4] {
    [
        "--base-url".into(),
        server.base_url(),
        "--api-key".into(),
        server.api_key().into(),
    ]
}

/// [`bare`] pointed at `server` with its key.
pub(crate) fn cli(server: &identifai::mock::MockServer) -> assert_cmd::Command {
    let mut cmd = bare();
    cmd.args(at(server));
    cmd
}

/// [`bare_process`] pointed at `server` with its key.
pub(crate) fn cli_process(server: &identifai::mock::MockServer) -> std::process::Command {
    let mut cmd = bare_process();
    cmd.args(at(server));
    cmd
}

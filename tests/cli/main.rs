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

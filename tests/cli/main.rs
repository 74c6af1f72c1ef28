//! The `identifai` binary (feature `cli`) as a process: every subcommand
//! against a test-owned `MockServer` (`commands`), `identifai contract`
//! (`contract_checks`), `identifai mock` (`mock_process`), and every
//! subcommand with a closed pipe for stdout or stderr (`pipes`).

#[path = "../support/mod.rs"]
mod support;

mod commands;
mod contract_checks;
mod mock_process;
mod pipes;

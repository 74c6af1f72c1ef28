//! The `identifai` binary (feature `cli`) as a process: every subcommand
//! against a test-owned `MockServer` (`commands`), `identifai contract`
//! (`contract_checks`) and `identifai mock` (`mock_process`).

#[path = "../support/mod.rs"]
mod support;

mod commands;
mod contract_checks;
mod mock_process;

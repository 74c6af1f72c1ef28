//! `identifai completions SHELL`: a shell completion script.

use crate::exit::Exit;

/// Prints the completion script of `cmd` (the whole command line, with
/// `api`'s operations) for `shell`.
pub fn run(shell: clap_complete::Shell, mut cmd: clap::Command) -> anyhow::Result<Exit> {
    // Made in memory first: clap_complete panics on a write error (a
    // closed pipe, a full disk).
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut cmd, "identifai", &mut script);
    crate::stdio::write_out_bytes(&script);
    Ok(Exit::Ok)
}

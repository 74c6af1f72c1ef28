//! `cargo xtask contract`: the contract checks of `identifai::contract`,
//! run by the `identifai contract` command, against the live service when
//! `IDENTIFAI_API_KEY` is set, otherwise against the built-in `MockServer`
//! (said on stderr).

use std::process::Command;

use anyhow::{bail, Context, Result};

/// Runs the contract checks; fails when one fails.
pub fn run(root: &std::path::Path) -> Result<()> {
    let live = std::env::var("IDENTIFAI_API_KEY").is_ok_and(|k| !k.trim().is_empty());
    if live {
        let base = std::env::var("IDENTIFAI_BASE_URL")
            .unwrap_or_else(|_| "https://backend.identifai.net".into());
        eprintln!(
            "contract: IDENTIFAI_API_KEY is set: checking {base} (spends one small image by URL)"
        );
    } else {
        eprintln!(
            "contract: no IDENTIFAI_API_KEY: running the checks against the built-in MockServer \
             (set IDENTIFAI_API_KEY, and optionally IDENTIFAI_BASE_URL, to check the real service)"
        );
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    // `--all-features`: the build `cargo test --all-features` made already
    // (the command needs feature `cli`; another feature set rebuilds the crate).
    cmd.current_dir(root).args([
        "run",
        "--quiet",
        "--package",
        "identifai",
        "--all-features",
        "--bin",
        "identifai",
        "--",
    ]);
    if !live {
        cmd.arg("--mock");
    }
    cmd.arg("contract");
    // The image the live run submits by URL, when not the default.
    if let Ok(url) = std::env::var("IDENTIFAI_CONTRACT_IMAGE_URL") {
        if live && !url.trim().is_empty() {
            cmd.args(["--image-url", url.trim()]);
        }
    }
    let status = cmd
        .status()
        .context("running the identifai contract command")?;
    if !status.success() {
        bail!("contract checks failed");
    }
    Ok(())
}

//! `cargo xtask contract`: the contract checks (`tests/contract.rs`)
//! against the live service when `IDENTIFAI_API_KEY` is set, otherwise
//! against the built-in `MockServer` (said on stderr).

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
    let status = Command::new(cargo)
        .current_dir(root)
        .args([
            "test",
            "--package",
            "identifai",
            "--features",
            "mock",
            "--test",
            "contract",
            "--",
            "--nocapture",
        ])
        .env("IDENTIFAI_CONTRACT_LIVE", if live { "1" } else { "0" })
        .status()
        .context("running cargo test --test contract")?;
    if !status.success() {
        bail!("contract checks failed");
    }
    Ok(())
}

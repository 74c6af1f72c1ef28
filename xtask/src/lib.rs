//! Repository automation for the `identifai` crate (`cargo xtask ...`).
//!
//! * [`vendor`]: copy the OpenAPI fragments out of the published API pages
//!   into `openapi/upstream/`.
//! * [`merge`] + [`overlay`] + [`spec`]: build `openapi/identifai.yaml` from
//!   those fragments and the documented fixes in `openapi/overlay.yaml`.
//! * [`contract`]: the contract checks, live or against the mock.
//! * [`bench`](mod@bench): the benchmarks and BENCHMARKS.md.
//! * [`mutate`]: check that the conformance tests catch a client that drifted
//!   from the spec; [`added_kind`]: that a kind the spec adds reaches
//!   everything by regeneration alone.
//! * [`surface`]: the crate's whole public API, pinned in `tests/public-api.txt`.

pub mod added_kind;
pub mod bench;
pub mod contract;
pub mod merge;
pub mod mutate;
pub mod spec;
pub mod surface;
pub mod vendor;

// The overlay engine and its evidence rules are a crate of their own, which
// the library's contract checks use too.
pub use identifai_overlay as overlay;
pub use identifai_overlay::evidence;

use std::path::{Path, PathBuf};

/// The repository root: the workspace that holds the working directory
/// (found at run time, so one `xtask` binary built in a shared target dir
/// works on the checkout it is run in, not the one it was compiled from).
///
/// Exits with a message if the working directory is not inside the
/// repository.
pub fn repo_root() -> PathBuf {
    let cwd = std::env::current_dir().unwrap_or_else(|e| {
        eprintln!("error: reading the working directory: {e}");
        std::process::exit(2)
    });
    find_repo(&cwd).unwrap_or_else(|| {
        eprintln!(
            "error: {} is not inside the identifai repository (no Cargo.toml with \
             [workspace] beside xtask/ above it); run cargo xtask from the checkout",
            cwd.display()
        );
        std::process::exit(2)
    })
}

/// The nearest directory at or above `start` whose `Cargo.toml` declares a
/// `[workspace]` and which has `xtask/Cargo.toml`.
pub fn find_repo(start: &Path) -> Option<PathBuf> {
    start.ancestors().find_map(|dir| {
        let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).ok()?;
        let is_workspace = manifest.lines().any(|l| l.trim() == "[workspace]");
        (is_workspace && dir.join("xtask/Cargo.toml").is_file()).then(|| dir.to_path_buf())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_repo_is_found_from_the_working_directory_not_the_build() {
        let dir = std::env::temp_dir().join(format!("xtask-find-repo-{}", std::process::id()));
        let root = dir.join("checkout");
        std::fs::create_dir_all(root.join("xtask/src")).unwrap();
        std::fs::create_dir_all(root.join("src/api")).unwrap();
        std::fs::write(
            root.join("Cargo.toml"),
            "[package]\nname = \"x\"\n\n[workspace]\n",
        )
        .unwrap();
        std::fs::write(
            root.join("xtask/Cargo.toml"),
            "[package]\nname = \"xtask\"\n",
        )
        .unwrap();
        assert_eq!(find_repo(&root.join("src/api")), Some(root.clone()));
        assert_eq!(find_repo(&root.join("xtask/src")), Some(root.clone()));
        assert_eq!(find_repo(&root), Some(root.clone()));
        // Outside any checkout: none (not the checkout this was built in).
        assert_eq!(find_repo(&dir), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

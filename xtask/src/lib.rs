//! Repository automation for the `identifai` crate (`cargo xtask ...`).
//!
//! * [`vendor`]: copy the OpenAPI fragments out of the published API pages
//!   into `openapi/upstream/`.
//! * [`merge`] + [`overlay`] + [`spec`]: build `openapi/identifai.yaml` from
//!   those fragments and the documented fixes in `openapi/overlay.yaml`.
//! * [`contract`]: the contract checks, live or against the mock.
//! * [`bench`]: the benchmarks and BENCHMARKS.md.
//! * [`mutate`]: check that the conformance tests catch a client that drifted
//!   from the spec.

pub mod bench;
pub mod contract;
pub mod merge;
pub mod mutate;
pub mod overlay;
pub mod spec;
pub mod vendor;

use std::path::{Path, PathBuf};

/// The repository root (the parent of the `xtask` crate).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

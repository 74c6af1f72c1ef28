//! The one spec loader of the tests: the document at `IDENTIFAI_SPEC` when
//! set (`cargo xtask mutate` points it at mutated copies), else
//! `openapi/identifai.yaml`. Every test that reads the spec reads it here.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::LazyLock;

use serde_json::Value;

/// Where the spec under test is.
pub fn path() -> PathBuf {
    match std::env::var_os("IDENTIFAI_SPEC") {
        Some(p) => PathBuf::from(p),
        None => PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/openapi/identifai.yaml"
        )),
    }
}

/// The spec's text; panics (the test fails) naming the file if unreadable.
pub fn text() -> String {
    let path = path();
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading the spec {}: {e}", path.display()))
}

/// The spec as JSON, read and parsed once per test binary, every object's
/// keys in sorted order.
///
/// A `serde_json::Map` keeps keys sorted, or in insertion order when some
/// crate in the build enables serde_json's `preserve_order` (`cargo test
/// --workspace` does: the generator crate needs it). Snapshots list statuses,
/// content types and named examples in the order the spec's maps give them,
/// so that order must not depend on which packages a command builds.
pub fn doc() -> &'static Value {
    static DOC: LazyLock<Value> = LazyLock::new(|| {
        let mut doc: Value = serde_yaml_ng::from_str(&text())
            .unwrap_or_else(|e| panic!("parsing the spec {}: {e}", path().display()));
        doc.sort_all_objects();
        doc
    });
    &DOC
}

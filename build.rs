//! Generates the API module (`src/api/`) from `openapi/identifai.yaml` at
//! build time. The generator is the `identifai-codegen` crate
//! (`xtask/codegen/`); this file only calls it and says when to run again.

use std::{env, path::PathBuf};

const SPEC: &str = "openapi/identifai.yaml";

fn main() {
    println!("cargo:rerun-if-changed=openapi");
    println!("cargo:rerun-if-changed=build.rs");
    // `cargo xtask mutate` regenerates once against a scratch copy of the
    // spec (an added operation) through IDENTIFAI_CODEGEN_SPEC. It is not the
    // tests' IDENTIFAI_SPEC: the other mutations need a client that stays
    // generated from the committed spec while the tests read a mutated one.
    println!("cargo:rerun-if-env-changed=IDENTIFAI_CODEGEN_SPEC");
    let spec = match env::var_os("IDENTIFAI_CODEGEN_SPEC") {
        Some(scratch) => {
            let scratch = PathBuf::from(scratch);
            println!("cargo:rerun-if-changed={}", scratch.display());
            scratch
        }
        None => PathBuf::from(SPEC),
    };
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    // progenitor's typed httpmock helpers are for the `mock` feature only.
    let httpmock = env::var_os("CARGO_FEATURE_MOCK").is_some();
    if let Err(e) = identifai_codegen::write(&spec, &out, httpmock) {
        // A build script reports by failing; the message names what to fix.
        eprintln!("error: generating the identifAI client from {e}");
        std::process::exit(1);
    }
}

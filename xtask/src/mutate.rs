//! `cargo xtask mutate`: proves the spec-conformance suite catches a client
//! that drifted from its spec.
//!
//! The client's types are generated from `openapi/identifai.yaml` at build
//! time; the conformance tests read the spec at run time from
//! `IDENTIFAI_SPEC`. Pointing that at a mutated copy is exactly a client that
//! no longer matches the spec, so each [`MUTATIONS`] entry must make at least
//! one of the `examples` / `roundtrip` modules of the `conformance` test
//! binary (`tests/conformance/examples.rs`, `tests/conformance/roundtrip.rs`)
//! fail. The unmutated copy must pass first, so a failure means the mutation.
//!
//! Last, [`crate::added_kind::prove`]: in a scratch copy of the checkout,
//! two published pages of a new kind and [`crate::added_kind::ADDED_OPERATION`] (a raw
//! operation added through an overlay action), the regeneration steps of ARCHITECTURE.md,
//! and the build: the wire matrix, robustness, the examples, the mock and
//! the command line must cover them with no test or source edit. That one
//! must PASS.

use std::fs::{self, File};
use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{anyhow, bail, Context, Result};
use serde_json::Value;

use crate::added_kind::ADDED_OPERATION;

/// One way a spec can drift from the client.
pub struct Mutation {
    pub name: &'static str,
    pub apply: fn(&mut Value) -> Result<()>,
}

/// The mutations, each applied alone.
pub const MUTATIONS: &[Mutation] = &[
    Mutation {
        name: "change a field's type: Verdict.confidence number -> string",
        apply: |doc| {
            let t = at(
                doc,
                "/components/schemas/Verdict/properties/confidence/type",
            )?;
            *t = "string".into();
            Ok(())
        },
    },
    Mutation {
        name: "add a required field: ImageResponse requires brand_new_field",
        apply: |doc| {
            let schema = at(doc, "/components/schemas/ImageResponse")?;
            let obj = schema
                .as_object_mut()
                .ok_or_else(|| anyhow!("not an object"))?;
            let required = obj
                .entry("required")
                .or_insert_with(|| Value::Array(vec![]));
            required
                .as_array_mut()
                .ok_or_else(|| anyhow!("required is not a list"))?
                .push("brand_new_field".into());
            Ok(())
        },
    },
    Mutation {
        name:
            "change a new schema's field type: VideoFrame.verdict (the per-frame verdict) -> string",
        apply: |doc| {
            let v = at(doc, "/components/schemas/VideoFrame/properties/verdict")?;
            *v = serde_json::json!({ "type": "string" });
            Ok(())
        },
    },
    Mutation {
        name: "undo a page's correction: VideoVerdict.unknown boolean -> integer",
        apply: |doc| {
            let t = at(
                doc,
                "/components/schemas/VideoVerdict/properties/unknown/type",
            )?;
            *t = "integer".into();
            Ok(())
        },
    },
    Mutation {
        name: "rename an enum value: Classification artificial -> synthetic",
        apply: |doc| {
            let values = at(doc, "/components/schemas/Classification/enum")?;
            let v = values
                .as_array_mut()
                .and_then(|vs| vs.iter_mut().find(|v| *v == "artificial"))
                .ok_or_else(|| anyhow!("no `artificial` value"))?;
            *v = "synthetic".into();
            Ok(())
        },
    },
];

fn at<'a>(doc: &'a mut Value, pointer: &str) -> Result<&'a mut Value> {
    doc.pointer_mut(pointer)
        .ok_or_else(|| anyhow!("the spec has no {pointer}"))
}

/// What the conformance tests did with one spec.
#[derive(Debug)]
pub struct Outcome {
    /// `binary::test` of every failed test.
    pub failed_tests: Vec<String>,
    /// The distinct `CONFORMANCE-FAIL ...` summary lines the tests printed.
    pub summaries: Vec<String>,
}

/// Runs the conformance tests against `spec` (a path) from `root`.
pub fn run_tests(root: &Path, spec: &Path, log: &Path) -> Result<Outcome> {
    let out = File::create(log).with_context(|| format!("creating {}", log.display()))?;
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .args([
            "test",
            // The same features as README's test command, so CI reuses its build.
            "--all-features",
            "--no-fail-fast",
            "--test",
            "conformance",
            "--",
            // libtest runs the tests whose name contains any filter.
            "examples::",
            "roundtrip::",
        ])
        .env("IDENTIFAI_SPEC", spec)
        .current_dir(root)
        .stdin(Stdio::null())
        .stdout(Stdio::from(out.try_clone()?))
        .stderr(Stdio::from(out))
        .status()
        .context("running cargo test")?;
    let text = fs::read_to_string(log)?;
    let outcome = parse(&text);
    if !status.success() && outcome.failed_tests.is_empty() {
        bail!(
            "cargo test failed without a failing test (see {})",
            log.display()
        );
    }
    Ok(outcome)
}

/// Reads `cargo test` output: failed tests (with their binary) and the
/// conformance summary lines.
pub fn parse(text: &str) -> Outcome {
    let mut binary = String::new();
    let mut failed_tests = Vec::new();
    let mut summaries = Vec::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if let Some(rest) = trimmed.strip_prefix("Running tests/") {
            // `tests/NAME.rs` or `tests/NAME/main.rs`: the binary is NAME.
            let file = rest.split(' ').next().unwrap_or(rest);
            let stem = file
                .strip_suffix("/main.rs")
                .or_else(|| file.strip_suffix(".rs"));
            binary = stem.unwrap_or(file).to_string();
        } else if let Some(name) = trimmed
            .strip_prefix("test ")
            .and_then(|l| l.strip_suffix(" ... FAILED"))
        {
            failed_tests.push(format!("{binary}::{name}"));
        }
        if let Some(i) = line.find("CONFORMANCE-FAIL ") {
            let summary = line[i..].to_string();
            if !summaries.contains(&summary) {
                summaries.push(summary);
            }
        }
    }
    Outcome {
        failed_tests,
        summaries,
    }
}

/// Applies every mutation in turn; prints which tests caught it. Fails if the
/// unmutated spec does not pass or a mutation is caught by no test.
pub fn run(root: &Path) -> Result<()> {
    let spec_path = root.join("openapi/identifai.yaml");
    let text = fs::read_to_string(&spec_path)
        .with_context(|| format!("reading {}", spec_path.display()))?;
    let doc: Value = serde_yaml_ng::from_str(&text).context("parsing the spec")?;
    let dir = std::env::temp_dir().join(format!("identifai-mutate-{}", std::process::id()));
    fs::create_dir_all(&dir)?;

    let baseline = dir.join("unmutated.yaml");
    fs::write(&baseline, serde_yaml_ng::to_string(&doc)?)?;
    println!("mutate: unmutated copy of {} ...", spec_path.display());
    let outcome = run_tests(root, &baseline, &dir.join("unmutated.log"))?;
    if !outcome.failed_tests.is_empty() {
        bail!(
            "the conformance tests fail on the unmutated spec ({}); fix that first",
            outcome.failed_tests.join(", ")
        );
    }
    println!("  passes\n");

    let mut uncaught = Vec::new();
    for (i, m) in MUTATIONS.iter().enumerate() {
        let mut mutated = doc.clone();
        (m.apply)(&mut mutated).with_context(|| format!("applying mutation `{}`", m.name))?;
        let path = dir.join(format!("mutation-{}.yaml", i + 1));
        fs::write(&path, serde_yaml_ng::to_string(&mutated)?)?;
        println!("mutation {}: {}", i + 1, m.name);
        let outcome = run_tests(root, &path, &dir.join(format!("mutation-{}.log", i + 1)))?;
        if outcome.failed_tests.is_empty() {
            println!("  NOT CAUGHT: every conformance test passed\n");
            uncaught.push(m.name);
            continue;
        }
        println!("  caught by {} test(s):", outcome.failed_tests.len());
        for t in &outcome.failed_tests {
            println!("    {t}");
        }
        for s in &outcome.summaries {
            println!("      {}", s.chars().take(200).collect::<String>());
        }
        println!();
    }
    // Last: the additions that must pass (and the one extra build).
    addition(root, &dir)?;
    println!("mutate: specs and test logs in {}", dir.display());
    if !uncaught.is_empty() {
        bail!(
            "mutations not caught by the conformance suite: {}",
            uncaught.join("; ")
        );
    }
    println!("mutate: all {} mutations caught", MUTATIONS.len());
    Ok(())
}

/// `cargo xtask mutate --addition`: the scratch-copy proof alone.
pub fn run_addition(root: &Path) -> Result<()> {
    let dir = std::env::temp_dir().join(format!("identifai-mutate-{}", std::process::id()));
    fs::create_dir_all(&dir)?;
    addition(root, &dir)?;
    println!("mutate: the copy and its log in {}", dir.display());
    Ok(())
}

/// A new kind and a raw operation, in a scratch copy (see
/// [`crate::added_kind`]).
fn addition(root: &Path, dir: &Path) -> Result<()> {
    println!(
        "addition: a `{}` kind (two pages: {} and {}) and {ADDED_OPERATION} (an overlay action), in a scratch copy regenerated by the documented steps",
        crate::added_kind::KIND,
        crate::added_kind::SUBMIT,
        crate::added_kind::RESULT
    );
    let proved = crate::added_kind::prove(root, dir);
    // The copy's target dir is a copy of the checkout's: gone either way.
    let _ = fs::remove_dir_all(dir.join("target"));
    let lines = proved?;
    println!("  passes, covered with no test or source edit:");
    for l in &lines {
        println!("    {l}");
    }
    println!();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_attributes_failures_to_their_binary() {
        let text = "\
     Running tests/client/main.rs (target/debug/deps/client-1)
test wait::a ... ok
     Running tests/conformance/main.rs (target/debug/deps/conformance-2)
CONFORMANCE-FAIL roundtrip Verdict: does not decode
test roundtrip::every_component_roundtrips ... FAILED
CONFORMANCE-FAIL roundtrip Verdict: does not decode
";
        let o = parse(text);
        assert_eq!(
            o.failed_tests,
            vec!["conformance::roundtrip::every_component_roundtrips"]
        );
        assert_eq!(
            o.summaries,
            vec!["CONFORMANCE-FAIL roundtrip Verdict: does not decode"]
        );
    }

    #[test]
    fn every_mutation_applies_to_the_committed_spec() {
        let doc =
            crate::spec::read_yaml(&crate::repo_root().join("openapi/identifai.yaml")).unwrap();
        for m in MUTATIONS {
            let mut d = doc.clone();
            (m.apply)(&mut d).unwrap_or_else(|e| panic!("{}: {e}", m.name));
            assert_ne!(d, doc, "{} changes the spec", m.name);
        }
    }
}

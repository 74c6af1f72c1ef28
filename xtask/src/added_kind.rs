//! The last proof of `cargo xtask mutate`: a media kind identifAI adds
//! reaches everything by regeneration alone.
//!
//! In a scratch copy of the checkout (its files as git lists them, with
//! `../shared/seeds` and `../shared/docs` beside it when this machine has
//! them), two published pages
//! are added for a new kind, `document`, with only a submit
//! (`POST /api/classification_document`) and a result
//! (`GET /api/classification_document/{identifier}`): no URL form, no list,
//! no override. Then the regeneration steps of ARCHITECTURE.md, with no test or source
//! edit: a line per page in `openapi/pages.txt`, the overlay actions that
//! name the operations and their kind ([`OVERLAY`]), `cargo xtask vendor`,
//! `cargo xtask spec`, and the build. On that copy:
//!
//! * the conformance tests (wire matrix, robustness, documented examples,
//!   the operation list, the API surface) must pass and name both new
//!   operations; so must the mock's tests, whose kind test calls
//!   `classify_document(..).wait()` (through `Client::classify_as`);
//! * `identifai --mock api classify_document --file document=@FILE` must
//!   print the mock's JSON answer (an identifier);
//! * `identifai --mock classify FILE --kind document` must print a summary
//!   whose `other` line shows `watermark`, a field of the new result that no
//!   hand-written code names.
//!
//! The made-up operation [`ADDED_OPERATION`] (a raw
//! operation of no kind) is added in the same copy, through its own overlay
//! action, so one extra build proves both.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{anyhow, bail, Context, Result};
use serde_json::{json, Value};

/// The new kind.
pub const KIND: &str = "document";
/// Its submit operation (the operationId the overlay gives it).
pub const SUBMIT: &str = "classify_document";
/// Its result operation.
pub const RESULT: &str = "get_document_classification";
/// The field of the new result no hand-written code names.
pub const UNNAMED_FIELD: &str = "watermark";

/// The operation the scratch-spec proof adds (a copy of
/// `get_image_classification` at a new path, without `x-identifai`): named
/// so that no real page would add it (a real new page, for instance a text
/// classification, must not collide with it).
pub const ADDED_OPERATION: &str = "get_xtask_mutate_probe";
const ADDED_PATH: &str = "/api/xtask_mutate_probe/{identifier}";

/// The overlay (Overlay 1.0, applied by `crate::overlay`) that adds
/// [`ADDED_OPERATION`] to `doc`.
pub fn added_operation_overlay(doc: &Value) -> Result<Value> {
    let mut op = doc
        .pointer("/paths/~1api~1classification~1{identifier}/get")
        .cloned()
        .ok_or_else(|| anyhow!("the spec has no GET /api/classification/{{identifier}}"))?;
    let obj = op.as_object_mut().ok_or_else(|| anyhow!("not an object"))?;
    obj.remove("x-identifai");
    obj.insert("operationId".into(), ADDED_OPERATION.into());
    obj.insert(
        "summary".into(),
        "A made-up operation (added by xtask mutate)".into(),
    );
    Ok(serde_json::json!({
        "overlay": "1.0.0",
        "info": { "title": "xtask mutate: an added operation", "version": "1" },
        "actions": [{
            "target": "$.paths",
            "description": "[mutation] a new operation: the wire matrix, robustness, the API surface and the mock must cover it by regeneration alone",
            "update": { ADDED_PATH: { "get": op } },
            "x-evidence": { "level": "none", "reason": "a made-up operation, to test the tests" },
        }],
    }))
}

/// The coverage lines a run on the added operation must print for it.
pub const COVERAGE: &[&str] = &["WIRE-MATRIX", "ROBUSTNESS", "MOCK-ROUTE", "MOCK-FAULT"];

/// The lines of `--nocapture` test output that carry `marker`, each from
/// the marker on. With parallel tests libtest writes `test NAME ... ` and the
/// result apart, so a test's line may land right after that prefix.
pub fn marked<'a>(text: &'a str, marker: &'a str) -> impl Iterator<Item = &'a str> {
    text.lines()
        .filter_map(move |l| l.find(marker).map(|i| l[i..].trim_end()))
}

/// The coverage lines ([`COVERAGE`]) that name operation `op`.
pub fn covered(text: &str, op: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for prefix in COVERAGE {
        let marker = format!("{prefix} {op}");
        for line in marked(text, &marker) {
            let rest = &line[marker.len()..];
            if rest.starts_with(':') || rest.starts_with(' ') {
                out.push(line.to_string());
            }
        }
    }
    out.dedup();
    out
}

const SUBMIT_PATH: &str = "/api/classification_document";
const RESULT_PATH: &str = "/api/classification_document/{identifier}";
const SUBMIT_URL: &str =
    "https://docs.identifai.net/api-reference/classification/submit-a-document-for-classification";
const RESULT_URL: &str =
    "https://docs.identifai.net/api-reference/classification/get-classification-result-document";
const SUBMIT_FILE: &str = "900_submit_document.txt";
const RESULT_FILE: &str = "901_get_document.txt";

/// The overlay actions a maintainer writes for the two pages (README's
/// step 2): operation ids, the kind and role of each, the options group.
pub const OVERLAY: &str = r#"
  # -------------------------------------------- added by cargo xtask mutate
  - target: $.paths['/api/classification_document'].post
    x-evidence: {level: published, reason: "the operation of https://docs.identifai.net/api-reference/classification/submit-a-document-for-classification"}
    description: '[naming] operationId and kind (a scratch copy: the new kind proof).'
    update:
      operationId: classify_document
      x-identifai: {kind: document, role: submit}
  - target: $.paths['/api/classification_document/{identifier}'].get
    x-evidence: {level: published, reason: "the operation of https://docs.identifai.net/api-reference/classification/get-classification-result-document"}
    description: '[naming] operationId and kind.'
    update:
      operationId: get_document_classification
      x-identifai: {kind: document, role: result}
  - target: $.paths['/api/classification_document'].post.requestBody.content['multipart/form-data'].schema
    x-evidence: {level: published, reason: "the options https://docs.identifai.net/api-reference/classification/submit-a-document-for-classification publishes"}
    description: '[naming] The document options group.'
    update:
      x-options-group: DocumentOptions
"#;

/// A page as the documentation site publishes it: a title, a line of text
/// and the OpenAPI block `cargo xtask vendor` reads.
fn page(title: &str, method: &str, path: &str, doc: &Value) -> Result<String> {
    Ok(format!(
        "# {title}\n\n> {title}.\n\n## OpenAPI\n\n````yaml {method} {path}\n{}````\n",
        serde_yaml_ng::to_string(doc)?
    ))
}

/// The two pages, built from the published pages of the same shape (the
/// video submit and the image result) so their shared components are the
/// published ones, byte for byte.
fn pages(upstream: &Path) -> Result<[(String, &'static str, String); 2]> {
    let read = |name: &str| crate::spec::read_yaml(&upstream.join(name));

    let mut submit = read("post-api-classification_video.yaml")?;
    let mut op = submit
        .pointer("/paths/~1api~1classification_video/post")
        .cloned()
        .ok_or_else(|| anyhow!("the video page has no POST /api/classification_video"))?;
    op["summary"] = "Classify a document".into();
    op["description"] = "Submit a document for classification".into();
    let form = op
        .pointer_mut("/requestBody/content/multipart~1form-data")
        .ok_or_else(|| anyhow!("the video submit is not multipart"))?;
    let props = &form["schema"]["properties"];
    let keep = |name: &str| {
        props
            .get(name)
            .cloned()
            .unwrap_or(json!({"type": "string"}))
    };
    let properties = json!({
        "document": {
            "type": "string",
            "format": "binary",
            "description": "The document to be classified. **MIME types:** application/pdf. **Maximum file size:** 20MB."
        },
        "ref_id": keep("ref_id"),
        "webhook_url": keep("webhook_url"),
        "no_cache": keep("no_cache"),
    });
    form["schema"] =
        json!({ "type": "object", "properties": properties, "required": ["document"] });
    form["encoding"] = json!({ "document": { "contentType": "application/pdf" } });
    submit["paths"] = json!({ SUBMIT_PATH: { "post": op } });

    let mut result = read("get-api-classification-identifier.yaml")?;
    let mut op = result
        .pointer("/paths/~1api~1classification~1{identifier}/get")
        .cloned()
        .ok_or_else(|| anyhow!("the image page has no GET /api/classification/{{identifier}}"))?;
    op["summary"] = "Get single document classification result".into();
    op["description"] = "Retrieve the classification result for a specific document.".into();
    op["parameters"][0]["description"] = "The identifier of the document.".into();
    op["responses"]["200"] = json!({
        "description": "The classification result.",
        "content": { "application/json": {
            "schema": { "$ref": "#/components/schemas/DocumentResponse" },
            "example": {
                "hash": "6f1ed002ab5595859014ebf0951522d9",
                "identifier": "d0c5a7e3b1f24c6e8a9d0b1c2e3f4a5b",
                "name": "contract.pdf",
                "api_version": "1.1.0",
                "status": "done",
                "errors": null,
                "verdict": { "models": ["doc-v1"], "heuristic": "Majority", "confidence": 0.91, "classification": "human" },
                "watermark": { "detected": true, "vendor": "SynthID" }
            }
        } }
    });
    result["paths"] = json!({ RESULT_PATH: { "get": op } });
    let schemas = result
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
        .ok_or_else(|| anyhow!("the image result page has no components"))?;
    schemas.insert(
        "DocumentResponse".into(),
        json!({
            "type": "object",
            "description": "The answer for document classification",
            "properties": {
                "hash": { "type": "string", "description": "SHA-256 hash of the classified document" },
                "identifier": { "type": "string", "description": "The identifier of the classified document" },
                "name": { "type": "string", "description": "The name of the classified document" },
                "api_version": { "type": "string", "nullable": true },
                "status": { "$ref": "#/components/schemas/Status" },
                "errors": { "type": "string", "nullable": true },
                "result_url": { "type": "string" },
                "verdict": { "$ref": "#/components/schemas/Verdict" },
                "watermark": {
                    "type": "object",
                    "description": "A generator's watermark found in the document",
                    "properties": {
                        "detected": { "type": "boolean" },
                        "vendor": { "type": "string", "nullable": true }
                    }
                }
            }
        }),
    );
    Ok([
        (
            SUBMIT_URL.to_string(),
            SUBMIT_FILE,
            page(
                "Submit a document for classification",
                "post",
                SUBMIT_PATH,
                &submit,
            )?,
        ),
        (
            RESULT_URL.to_string(),
            RESULT_FILE,
            page(
                "Get classification result (document)",
                "get",
                RESULT_PATH,
                &result,
            )?,
        ),
    ])
}

/// Copies the checkout's files (tracked, and new ones git does not ignore)
/// to `to`.
fn copy_checkout(root: &Path, to: &Path) -> Result<()> {
    let out = Command::new("git")
        .args([
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
        ])
        .current_dir(root)
        .output()
        .context("running git ls-files")?;
    if !out.status.success() {
        bail!("git ls-files failed in {}", root.display());
    }
    for name in out.stdout.split(|b| *b == 0).filter(|n| !n.is_empty()) {
        let rel = PathBuf::from(String::from_utf8_lossy(name).into_owned());
        let from = root.join(&rel);
        if !from.is_file() {
            continue; // deleted in the work tree
        }
        let dest = to.join(&rel);
        if let Some(parent) = dest.parent() {
            fs::create_dir_all(parent)?;
        }
        fs::copy(&from, &dest).with_context(|| format!("copying {}", rel.display()))?;
    }
    Ok(())
}

fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    fs::create_dir_all(to)?;
    for entry in fs::read_dir(from).with_context(|| format!("reading {}", from.display()))? {
        let entry = entry?;
        let dest = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &dest)?;
        } else {
            fs::copy(entry.path(), &dest)?;
        }
    }
    Ok(())
}

/// Copies `from/debug` (without its incremental caches) to `to/debug`,
/// times kept, so cargo finds the dependencies fresh.
fn seed_target(from: &Path, to: &Path) -> Result<()> {
    if to.exists() {
        fs::remove_dir_all(to)?;
    }
    fs::create_dir_all(to)?;
    if !from.join("debug").is_dir() {
        return Ok(());
    }
    let status = Command::new("sh")
        .arg("-c")
        .arg(r#"tar -C "$1" -cf - --exclude=debug/incremental debug | tar -C "$2" -xf -"#)
        .args([
            "seed",
            &from.display().to_string(),
            &to.display().to_string(),
        ])
        .status()
        .context("copying the target dir")?;
    if !status.success() {
        bail!("copying {} to {} failed", from.display(), to.display());
    }
    Ok(())
}

/// Runs `cmd`, its output appended to `log`; fails naming `what`.
fn run(mut cmd: Command, what: &str, log: &Path) -> Result<String> {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("running {what}"))?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let mut all = fs::read_to_string(log).unwrap_or_default();
    all.push_str(&format!("\n===== {what}\n{text}"));
    fs::write(log, all)?;
    if !out.status.success() {
        bail!("{what} failed (see {})", log.display());
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The proof, in `dir`: fails unless every step passes; returns the lines
/// that show what covered the new operations.
pub fn prove(root: &Path, dir: &Path) -> Result<Vec<String>> {
    // The evidence folders beside the checkout, when this machine has them:
    // without `../shared/seeds` the pages' blocks go straight to
    // `openapi/upstream/` (what `cargo xtask vendor` would write) and the
    // vendor steps are left out.
    let shared = root.parent().map(|p| p.join("shared"));
    let published = shared
        .as_ref()
        .map(|s| s.join("seeds"))
        .filter(|s| s.is_dir());
    let scratch = dir.join("checkout");
    if scratch.exists() {
        fs::remove_dir_all(&scratch)?;
    }
    copy_checkout(root, &scratch)?;
    let seeds = dir.join("shared/seeds");
    if seeds.exists() {
        fs::remove_dir_all(&seeds)?;
    }
    match &published {
        Some(from) => copy_dir(from, &seeds)?,
        None => fs::create_dir_all(&seeds)?,
    }
    let docs = dir.join("shared/docs");
    if !docs.exists() {
        // The rendered pages: the evidence folder, else the checkout's copies.
        let from = shared
            .as_ref()
            .map(|s| s.join("docs"))
            .filter(|d| d.is_dir())
            .unwrap_or_else(|| root.join("openapi/pages"));
        copy_dir(&from, &docs)?;
    }
    let log = dir.join("added-kind.log");
    fs::write(&log, "")?;

    // The two published pages, and the documented regeneration steps.
    let mut list = fs::read_to_string(scratch.join("openapi/pages.txt"))?;
    for (url, file, text) in pages(&root.join("openapi/upstream"))? {
        if published.is_none() {
            let block = crate::vendor::extract(&text).ok_or_else(|| anyhow!("{file}: no block"))?;
            fs::write(
                scratch.join("openapi/upstream").join(block.file_name),
                block.body,
            )?;
        }
        fs::write(seeds.join(file), text)?;
        list.push_str(&format!("{url} {file}\n"));
    }
    fs::write(scratch.join("openapi/pages.txt"), list)?;
    let overlay_path = scratch.join("openapi/overlay.yaml");
    let mut overlay = fs::read_to_string(&overlay_path)?;
    // The actions are appended: `actions:` must be the last top-level key.
    let last_key = overlay
        .lines()
        .rfind(|l| l.starts_with(|c: char| c.is_ascii_alphabetic()));
    if last_key != Some("actions:") {
        bail!("openapi/overlay.yaml does not end with its actions list");
    }
    overlay.push_str(OVERLAY);
    overlay.push_str(&probe_action(root)?);
    fs::write(&overlay_path, overlay)?;

    // The same xtask (its sources are the checkout's), run in the copy.
    let xtask = std::env::current_exe().context("finding the xtask binary")?;
    let steps: &[&[&str]] = match published {
        Some(_) => &[&["vendor"], &["spec"], &["vendor", "--check"]],
        None => &[&["spec"]],
    };
    for &args in steps {
        let mut cmd = Command::new(&xtask);
        cmd.args(args).current_dir(&scratch);
        run(cmd, &format!("cargo xtask {}", args.join(" ")), &log)?;
    }

    // The copy builds in a target dir of its own, seeded with the
    // checkout's debug build (its dependencies are built already). Not the
    // checkout's own: cargo names a workspace's crates by their path within
    // the workspace, so the copy's crates would overwrite the checkout's.
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let checkout_target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let target = dir.join("target");
    seed_target(&checkout_target, &target)?;
    let cargo_in_copy = |args: &[&str]| {
        let mut cmd = Command::new(&cargo);
        cmd.args(args)
            .current_dir(&scratch)
            .env("CARGO_TARGET_DIR", &target)
            .env("INSTA_UPDATE", "no")
            .env("INSTA_FORCE_PASS", "1")
            .env_remove("IDENTIFAI_SPEC")
            .env_remove("IDENTIFAI_CODEGEN_SPEC")
            .env_remove("IDENTIFAI_API_KEY")
            .env_remove("IDENTIFAI_BASE_URL");
        cmd
    };
    let tests = run(
        cargo_in_copy(&[
            "test",
            "--all-features",
            "--test",
            "conformance",
            "--test",
            "mock",
            "--",
            "--nocapture",
            "wire_matrix::",
            "operations::",
            "robustness::",
            "api_surface::",
            "examples::",
            "kinds::",
            "documented::",
        ]),
        "the conformance and mock tests on the copy",
        &log,
    )?;
    let mut shown = Vec::new();
    for op in [SUBMIT, RESULT, ADDED_OPERATION] {
        let lines = covered(&tests, op);
        for prefix in COVERAGE {
            if !lines.iter().any(|l| l.starts_with(prefix)) {
                bail!(
                    "{op} is missing from the {prefix} lines (see {})",
                    log.display()
                );
            }
        }
        shown.extend(lines);
    }
    // Each page's own answer examples (its 200s), not only the shared
    // error examples, must decode into the regenerated types.
    for op in [SUBMIT, RESULT] {
        let marker = format!("EXAMPLES {op}:");
        let line = marked(&tests, &marker)
            .find(|l| l.ends_with("(examples)"))
            .ok_or_else(|| {
                anyhow!(
                    "no documented answer example of {op} was checked (see {})",
                    log.display()
                )
            })?;
        shown.push(line.to_string());
    }
    let marker = format!("KIND-WAIT {KIND}:");
    let waited = marked(&tests, &marker).next().ok_or_else(|| {
        anyhow!(
            "the kind test did not wait for a {KIND} (see {})",
            log.display()
        )
    })?;
    if !waited.contains(SUBMIT) || !waited.contains(RESULT) {
        bail!("the {KIND} wait did not use {SUBMIT} and {RESULT}: {waited}");
    }
    shown.push(waited.to_string());

    // The command line, built from the copy.
    let sample = dir.join("contract.pdf");
    fs::write(
        &sample,
        b"%PDF-1.7\n%identifai sample\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n",
    )?;
    let file_arg = format!("document=@{}", sample.display());
    let sample_arg = sample.display().to_string();
    let answer = run(
        cargo_in_copy(&[
            "run",
            "--quiet",
            "--features",
            "cli",
            "--",
            "--mock",
            "api",
            SUBMIT,
            "--file",
            &file_arg,
        ]),
        &format!("identifai --mock api {SUBMIT}"),
        &log,
    )?;
    let json: Value = serde_json::from_str(answer.trim())
        .with_context(|| format!("identifai --mock api {SUBMIT} printed no JSON: {answer}"))?;
    if json.get("identifier").and_then(Value::as_str).is_none() {
        bail!("identifai --mock api {SUBMIT} printed no identifier: {answer}");
    }
    shown.push(format!("CLI-API {SUBMIT}: {}", answer.trim()));
    let summary = run(
        cargo_in_copy(&[
            "run",
            "--quiet",
            "--features",
            "cli",
            "--",
            "--mock",
            "classify",
            &sample_arg,
            "--kind",
            KIND,
        ]),
        &format!("identifai --mock classify --kind {KIND}"),
        &log,
    )?;
    let other = summary
        .lines()
        .find(|l| l.trim_start().starts_with("other") && l.contains(UNNAMED_FIELD))
        .ok_or_else(|| {
            anyhow!("the {KIND} summary has no `other` line with {UNNAMED_FIELD}:\n{summary}")
        })?;
    shown.push(format!("CLI-SUMMARY {KIND}: {}", other.trim()));
    Ok(shown)
}

/// The overlay action of the made-up raw operation, as YAML list text.
fn probe_action(root: &Path) -> Result<String> {
    let doc = crate::spec::read_yaml(&root.join("openapi/identifai.yaml"))?;
    let overlay = added_operation_overlay(&doc)?;
    let actions = serde_yaml_ng::to_string(&overlay["actions"])?;
    Ok(actions
        .lines()
        .map(|l| format!("  {l}\n"))
        .collect::<String>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pages_are_published_pages_vendor_reads() {
        let upstream = crate::repo_root().join("openapi/upstream");
        for (url, file, text) in pages(&upstream).unwrap() {
            let fragment = crate::vendor::extract(&text).unwrap_or_else(|| panic!("{file}"));
            assert!(url.starts_with("https://docs.identifai.net/api-reference/"));
            assert!(!fragment.body.is_empty());
        }
    }

    #[test]
    fn the_overlay_actions_and_the_probe_parse_as_a_list() {
        let text = format!(
            "actions:{OVERLAY}{}",
            probe_action(&crate::repo_root()).unwrap()
        );
        let doc: Value = serde_yaml_ng::from_str(&text).unwrap();
        assert_eq!(doc["actions"].as_array().unwrap().len(), 4);
    }

    #[test]
    fn the_added_operation_applies_through_the_overlay() {
        let doc =
            crate::spec::read_yaml(&crate::repo_root().join("openapi/identifai.yaml")).unwrap();
        let mut added = doc.clone();
        let overlay = added_operation_overlay(&doc).unwrap();
        assert_eq!(crate::overlay::apply(&mut added, &overlay).unwrap(), 1);
        let op = &added["paths"][ADDED_PATH]["get"];
        assert_eq!(op["operationId"], ADDED_OPERATION);
        assert!(op.get("x-identifai").is_none());
        let count = |d: &Value| d["paths"].as_object().unwrap().len();
        assert_eq!(count(&added), count(&doc) + 1);
    }

    #[test]
    fn coverage_lines_name_only_that_operation() {
        let text = "WIRE-MATRIX get_xtask_mutate_probe: 14 answers\n\
                    WIRE-MATRIX get_xtask_mutate_probe_alias: 3 answers\n\
                    ROBUSTNESS get_xtask_mutate_probe: 8 fixed answers\n\
                    MOCK-ROUTE get_xtask_mutate_probe -> Operation(\"get_xtask_mutate_probe\")\n\
                    test x ... ok\n";
        assert_eq!(
            covered(text, "get_xtask_mutate_probe"),
            vec![
                "WIRE-MATRIX get_xtask_mutate_probe: 14 answers",
                "ROBUSTNESS get_xtask_mutate_probe: 8 fixed answers",
                "MOCK-ROUTE get_xtask_mutate_probe -> Operation(\"get_xtask_mutate_probe\")",
            ]
        );
    }

    #[test]
    fn a_marked_line_after_the_harness_prefix_is_found() {
        // libtest wrote `test NAME ... `, a test printed its line, then `ok`.
        let text = "test kinds::each_kind_waits ... KIND-WAIT document: classify_document then x
                    ok
                    test examples::a ... EXAMPLES classify_document: 2 decode (examples)
                    ok
                    test wire_matrix::b ... WIRE-MATRIX classify_document: 25 answers
";
        assert_eq!(
            marked(text, "KIND-WAIT document:").collect::<Vec<_>>(),
            ["KIND-WAIT document: classify_document then x"]
        );
        assert_eq!(
            marked(text, "EXAMPLES classify_document:").collect::<Vec<_>>(),
            ["EXAMPLES classify_document: 2 decode (examples)"]
        );
        assert_eq!(
            covered(text, "classify_document"),
            ["WIRE-MATRIX classify_document: 25 answers"]
        );
    }
}

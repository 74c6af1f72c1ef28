//! Every page example is in the spec: each concrete JSON example of the
//! rendered pages (`openapi/pages/`, vendored from `../shared/docs` by
//! `cargo xtask vendor`) is an `example` of its operation in the spec under
//! test, equal under the documented normalisation and decoding into the same
//! value through the generated types.
//!
//! What counts as an example: a JSON value starting at a line that is `{` or
//! `[` alone, read up to its closing bracket (or, for a capture the page cut
//! short, up to the next `[[gap]]`). One after a curl `--data '` line is a
//! request body, checked against the request's examples; the others are
//! answers, checked against the examples of the operation's responses (and
//! of their component schemas). Mintlify's templates (any `"<string>"`-like
//! placeholder) are not examples. An answer the capture cut short is checked
//! by its complete top-level fields: some example of the operation must have
//! each of them, equal.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use identifai::api::conformance;
use serde_json::{json, Map, Value};

use crate::support::conformance::{spec, Spec, Target, FAIL};

/// Each vendored page (file name) and the operation its examples belong to;
/// `None` for pages that are no operation's (guides, the overview). A page
/// that is not listed, or one listed `None` with a concrete example, fails.
const PAGES: &[(&str, Option<&str>)] = &[
    ("README.md", None),
    (
        "api-reference__classification__get-all-classifications-audio.txt",
        Some("list_audio_classifications"),
    ),
    (
        "api-reference__classification__get-all-classifications-video.txt",
        Some("list_video_classifications"),
    ),
    (
        "api-reference__classification__get-all-classifications.txt",
        Some("list_image_classifications"),
    ),
    (
        "api-reference__classification__get-classification-heatmap.md.txt",
        Some("get_image_heatmap"),
    ),
    (
        "api-reference__classification__get-classification-result-speech.md.txt",
        Some("get_audio_classification"),
    ),
    (
        "api-reference__classification__get-classification-result-speech.txt",
        Some("get_audio_classification"),
    ),
    (
        "api-reference__classification__get-classification-result-video.txt",
        Some("get_video_classification"),
    ),
    (
        "api-reference__classification__get-classification-result.md.txt",
        Some("get_image_classification"),
    ),
    (
        "api-reference__classification__get-classification-result.txt",
        Some("get_image_classification"),
    ),
    (
        "api-reference__classification__override-video-classification.md.txt",
        Some("override_video_classification"),
    ),
    (
        "api-reference__classification__report-audio-classification.txt",
        Some("override_audio_classification"),
    ),
    (
        "api-reference__classification__report-image-classification.txt",
        Some("override_image_classification"),
    ),
    (
        "api-reference__classification__report-video-classification.txt",
        Some("override_video_classification"),
    ),
    (
        "api-reference__classification__submit-a-speech-for-classification.md.txt",
        Some("classify_audio"),
    ),
    (
        "api-reference__classification__submit-a-speech-for-classification.txt",
        Some("classify_audio"),
    ),
    (
        "api-reference__classification__submit-a-video-for-classification.md.txt",
        Some("classify_video"),
    ),
    (
        "api-reference__classification__submit-a-video-for-classification.txt",
        Some("classify_video"),
    ),
    (
        "api-reference__classification__submit-an-image-for-classification.txt",
        Some("classify_image"),
    ),
    (
        "api-reference__classification__submit-image-from-url.md.txt",
        Some("classify_image_from_url"),
    ),
    (
        "api-reference__classification__submit-image-from-url.txt",
        Some("classify_image_from_url"),
    ),
    (
        "api-reference__classification__submit-speech-from-url.txt",
        Some("classify_audio_from_url"),
    ),
    (
        "api-reference__classification__submit-video-from-url.txt",
        Some("classify_video_from_url"),
    ),
    (
        "api-reference__infrastructure__health.md.txt",
        Some("health"),
    ),
    (
        "api-reference__partner__create-new-user.md.txt",
        Some("save_partner_user"),
    ),
    (
        "api-reference__partner__create-new-user.txt",
        Some("save_partner_user"),
    ),
    (
        "api-reference__partner__retrieve-users.txt",
        Some("list_partner_users"),
    ),
    (
        "api-reference__partner__get-pricings.md.txt",
        Some("get_partner_pricings"),
    ),
    // The published rate limits: the 429 body every rate-limited operation
    // documents (checked against one of them).
    ("api-reference__rate-limits.md.txt", Some("classify_image")),
    ("api-reference__rate-limits.txt", Some("classify_image")),
    ("classification.txt", None),
    ("classification__classify-image.txt", None),
    ("classification__classify-speech.md.txt", None),
    ("classification__classify-speech.txt", None),
    ("classification__classify-video.md.txt", None),
    ("classification__classify-video.txt", None),
];

/// Where the vendored rendered pages are.
fn pages_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("openapi/pages")
}

/// One JSON example found on a page.
#[derive(Clone, Debug)]
pub struct PageExample {
    /// `file:line` of its first line.
    pub at: String,
    /// A request body (after a curl `--data '`), else an answer.
    pub request: bool,
    /// The whole value, or (`complete` false) an object of the complete
    /// top-level fields of an answer the capture cut short.
    pub value: Value,
    pub complete: bool,
}

/// The concrete JSON examples of one page's text.
pub fn extract(file: &str, text: &str) -> Vec<PageExample> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    let mut i = 1; // line 0 is the page's URL
    while i < lines.len() {
        let line = lines[i].trim_end();
        if line != "{" && line != "[" {
            i += 1;
            continue;
        }
        let request = i > 0 && {
            let prev = lines[i - 1].trim();
            prev.ends_with('\'') && prev.contains("--data")
        };
        // The block: to its closing bracket, or to the capture's end.
        let mut block = String::new();
        let mut scan = Scan::default();
        let mut end = None;
        let mut j = i;
        while j < lines.len() && lines[j].trim_end() != "[[gap]]" {
            block.push_str(lines[j]);
            block.push('\n');
            if scan.feed(lines[j]) {
                end = Some(j);
                break;
            }
            j += 1;
        }
        let at = format!("{file}:{}", i + 1);
        let template = block.contains("\"<") || block.contains("[email");
        let parsed = end.and_then(|_| serde_json::from_str::<Value>(&block).ok());
        if !template {
            match parsed {
                Some(value) => out.push(PageExample {
                    at,
                    request,
                    value,
                    complete: true,
                }),
                None if !request => {
                    let members = complete_members(&block);
                    if !members.is_empty() {
                        out.push(PageExample {
                            at,
                            request,
                            value: Value::Object(members),
                            complete: false,
                        });
                    }
                }
                None => {}
            }
        }
        i = j + 1;
    }
    out
}

/// A bracket counter over JSON text, string-aware.
#[derive(Default)]
struct Scan {
    depth: usize,
    in_string: bool,
    escaped: bool,
    started: bool,
}

impl Scan {
    /// Feeds one line; true when the outermost bracket closed in it.
    fn feed(&mut self, line: &str) -> bool {
        for c in line.chars() {
            if self.in_string {
                match (self.escaped, c) {
                    (true, _) => self.escaped = false,
                    (false, '\\') => self.escaped = true,
                    (false, '"') => self.in_string = false,
                    _ => {}
                }
                continue;
            }
            match c {
                '"' => self.in_string = true,
                '{' | '[' => {
                    self.depth += 1;
                    self.started = true;
                }
                '}' | ']' => {
                    self.depth = self.depth.saturating_sub(1);
                    if self.started && self.depth == 0 {
                        return true;
                    }
                }
                _ => {}
            }
        }
        // A line break ends no string in JSON; a capture's torn string does.
        self.in_string = false;
        false
    }
}

/// The top-level fields of an object cut short whose values are complete
/// (each followed by `,` or `}`), in order, up to the first incomplete one.
fn complete_members(text: &str) -> Map<String, Value> {
    let b = text.as_bytes();
    let mut members = Map::new();
    let skip_ws = |mut p: usize| {
        while p < b.len() && b[p].is_ascii_whitespace() {
            p += 1;
        }
        p
    };
    let string_end = |p: usize| -> Option<usize> {
        // b[p] is the opening quote; the index after the closing one.
        let mut q = p + 1;
        while q < b.len() {
            match b[q] {
                b'\\' => q += 2,
                b'"' => return Some(q + 1),
                b'\n' => return None,
                _ => q += 1,
            }
        }
        None
    };
    let mut p = skip_ws(0);
    if b.get(p) != Some(&b'{') {
        return members;
    }
    p += 1;
    loop {
        p = skip_ws(p);
        if b.get(p) != Some(&b'"') {
            break;
        }
        let Some(key_end) = string_end(p) else { break };
        let Ok(key) = serde_json::from_str::<String>(&text[p..key_end]) else {
            break;
        };
        p = skip_ws(key_end);
        if b.get(p) != Some(&b':') {
            break;
        }
        let start = skip_ws(p + 1);
        let end = match b.get(start) {
            Some(b'"') => string_end(start),
            Some(b'{' | b'[') => {
                let mut scan = Scan::default();
                let mut end = None;
                let mut offset = start;
                for line in text[start..].split_inclusive('\n') {
                    if scan.feed(line) {
                        // The closing bracket is the last one the scan saw.
                        let close = line.rfind(['}', ']']).unwrap_or(0);
                        end = Some(offset + close + 1);
                        break;
                    }
                    offset += line.len();
                }
                end.filter(|e| serde_json::from_str::<Value>(&text[start..*e]).is_ok())
            }
            Some(_) => {
                let len = text[start..].find([',', '}', '\n']);
                len.map(|l| start + l)
            }
            None => None,
        };
        let Some(end) = end else { break };
        let Ok(value) = serde_json::from_str::<Value>(text[start..end].trim()) else {
            break;
        };
        // Complete only if a `,` or `}` follows.
        let after = skip_ws(end);
        match b.get(after) {
            Some(b',') => {
                members.insert(key, value);
                p = after + 1;
            }
            Some(b'}') => {
                members.insert(key, value);
                break;
            }
            _ => break,
        }
    }
    members
}

/// One example the spec gives for an operation: its value and schema.
struct SpecExample {
    location: String,
    schema: Value,
    value: Value,
}

/// The spec's examples of `op`'s answers (every status and JSON media type,
/// and the component schemas they name) or of its request body.
fn spec_examples(spec: &Spec, op: &str, request: bool) -> Vec<SpecExample> {
    let mut out = Vec::new();
    let doc = &spec.doc;
    let resolve = |v: &Value| -> Value {
        match v.get("$ref").and_then(Value::as_str) {
            Some(r) => {
                let parts: Vec<&str> = r.trim_start_matches("#/").split('/').collect();
                parts.iter().fold(doc.clone(), |acc, p| acc[*p].clone())
            }
            None => v.clone(),
        }
    };
    let media_examples = |at: String, content: &Value, out: &mut Vec<SpecExample>| {
        for (media, mt) in content.as_object().into_iter().flatten() {
            if !media.contains("json") {
                continue;
            }
            let schema = mt.get("schema").cloned().unwrap_or(json!({}));
            if let Some(v) = mt.get("example") {
                out.push(SpecExample {
                    location: format!("{at}.{media}.example"),
                    schema: schema.clone(),
                    value: v.clone(),
                });
            }
            for (k, ex) in mt
                .get("examples")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                if let Some(v) = ex.get("value") {
                    out.push(SpecExample {
                        location: format!("{at}.{media}.examples.{k}"),
                        schema: schema.clone(),
                        value: v.clone(),
                    });
                }
            }
            if let Some(v) = resolve(&schema).get("example") {
                out.push(SpecExample {
                    location: format!("{at}.{media}.schema.example"),
                    schema: schema.clone(),
                    value: v.clone(),
                });
            }
        }
    };
    for (path, item) in doc["paths"].as_object().into_iter().flatten() {
        for (method, o) in item.as_object().into_iter().flatten() {
            if o.get("operationId").and_then(Value::as_str) != Some(op) {
                continue;
            }
            let at = format!("paths.{path}.{method}");
            if request {
                let body = resolve(&o["requestBody"]);
                media_examples(format!("{at}.requestBody"), &body["content"], &mut out);
            } else {
                for (status, resp) in o["responses"].as_object().into_iter().flatten() {
                    let resp = resolve(resp);
                    media_examples(
                        format!("{at}.responses.{status}"),
                        &resp["content"],
                        &mut out,
                    );
                }
            }
        }
    }
    out
}

/// The value re-encoded by the generated type of `schema`, if it has one
/// (a component, or an array of one).
fn decoded(schema: &Value, value: &Value) -> Option<Result<Value, String>> {
    match Target::of_schema(schema) {
        Target::Component(name) => {
            conformance::roundtrip(&name, value).map(|r| r.map_err(|e| e.to_string()))
        }
        Target::ArrayOf(name) => {
            let items = value.as_array()?;
            let mut out = Vec::new();
            for item in items {
                match conformance::roundtrip(&name, item)? {
                    Ok(v) => out.push(v),
                    Err(e) => return Some(Err(e.to_string())),
                }
            }
            Some(Ok(Value::Array(out)))
        }
        _ => None,
    }
}

/// Whether the page example is `candidate`: equal under the normalisation
/// and, where a generated type reads them, decoding into the same value.
fn matches(spec: &Spec, page: &PageExample, candidate: &SpecExample) -> Result<(), String> {
    let schema = spec.schema(&candidate.schema);
    let (a, b) = (
        spec.normalise(&schema, &page.value),
        spec.normalise(&schema, &candidate.value),
    );
    if !page.complete {
        let (Some(a), Some(b)) = (a.as_object(), b.as_object()) else {
            return Err("not an object".into());
        };
        for (k, v) in a {
            if b.get(k) != Some(v) {
                return Err(format!("`{k}` differs"));
            }
        }
        return Ok(());
    }
    if a != b {
        return Err("differs".into());
    }
    match (
        decoded(&candidate.schema, &page.value),
        decoded(&candidate.schema, &candidate.value),
    ) {
        (None, _) => Ok(()),
        (Some(Ok(x)), Some(Ok(y))) if x == y => Ok(()),
        (Some(Ok(_)), Some(Ok(_))) => Err("decodes into another value".into()),
        (Some(Err(e)), _) => Err(format!("does not decode: {e}")),
        (_, other) => Err(format!("the spec's example does not decode: {other:?}")),
    }
}

/// Checks every page of `pages` against `spec`; the failures, one line each.
pub fn check_pages(spec: &Spec, pages: &BTreeMap<String, String>) -> Vec<String> {
    let mut failures = Vec::new();
    for (file, text) in pages {
        let Some((_, op)) = PAGES.iter().find(|(f, _)| f == file) else {
            failures.push(format!(
                "{file}: a vendored page this test does not map to an operation (add it to PAGES)"
            ));
            continue;
        };
        for ex in extract(file, text) {
            let Some(op) = op else {
                failures.push(format!(
                    "{}: a concrete example on a page of no operation",
                    ex.at
                ));
                continue;
            };
            let candidates = spec_examples(spec, op, ex.request);
            let found = candidates.iter().find(|c| matches(spec, &ex, c).is_ok());
            match found {
                Some(c) => println!(
                    "ok   {:<80} {} = {}{}",
                    ex.at,
                    if ex.request { "request" } else { "answer" },
                    c.location,
                    if ex.complete {
                        ""
                    } else {
                        " (the capture's complete fields)"
                    }
                ),
                None => failures.push(format!(
                    "{}: this {}{} is no example of {op} in the spec ({} candidates: {}): {}",
                    ex.at,
                    if ex.request { "request" } else { "answer" },
                    if ex.complete {
                        ""
                    } else {
                        " (cut short; its complete fields)"
                    },
                    candidates.len(),
                    candidates
                        .iter()
                        .map(|c| format!("{} {}", c.location, matches(spec, &ex, c).unwrap_err()))
                        .collect::<Vec<_>>()
                        .join("; "),
                    ex.value.to_string().chars().take(160).collect::<String>()
                )),
            }
        }
    }
    failures
}

/// The vendored pages, by file name.
fn vendored() -> BTreeMap<String, String> {
    let dir = pages_dir();
    let mut pages = BTreeMap::new();
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let entry = entry.unwrap();
        let name = entry.file_name().into_string().unwrap();
        let text = std::fs::read_to_string(entry.path()).unwrap();
        pages.insert(name, text);
    }
    pages
}

#[test]
fn every_concrete_page_example_is_an_example_of_its_operation() {
    let pages = vendored();
    let found: usize = pages.iter().map(|(f, t)| extract(f, t).len()).sum();
    // The pages' concrete examples, counted so that an extractor that finds
    // nothing cannot pass: answers of the submissions, the overrides, the
    // results, the partner pages, the rate limits, and the overrides'
    // request bodies.
    assert!(found >= 20, "only {found} page examples found");
    let failures = check_pages(spec(), &pages);
    for f in &failures {
        println!("{FAIL} page-examples {f}");
    }
    assert!(
        failures.is_empty(),
        "{} page examples are not in the spec:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn the_three_examples_the_spec_lacked_are_found_on_the_pages() {
    // The image result `image.jpg`, the speech result of model `Phantom`
    // and the video verdict with `count: 3` are concrete page examples.
    let pages = vendored();
    let all: Vec<PageExample> = pages.iter().flat_map(|(f, t)| extract(f, t)).collect();
    let text = |e: &PageExample| e.value.to_string();
    assert!(all
        .iter()
        .any(|e| e.complete && text(e).contains("\"image.jpg\"")));
    assert!(all.iter().any(|e| e.complete
        && e.value["results"][0]["model"] == "Phantom"
        && e.value["results"][0]["classification_details"] == json!({"confidence": 1})));
    assert!(all.iter().any(|e| !e.complete
        && e.value["verdict"]["count"] == 3
        && e.value["verdict"]["unknown"] == false));
    // Requests are told apart from answers.
    assert!(all
        .iter()
        .any(|e| e.request && e.value == json!({"classification": "human"})));
}

#[test]
fn the_check_fails_when_an_example_is_dropped_from_the_spec() {
    let pages = vendored();
    let base = spec();
    assert!(check_pages(base, &pages).is_empty());
    let drops: [(&[&str], &str); 3] = [
        (
            &[
                "paths",
                "/api/classification_audio/{identifier}",
                "get",
                "responses",
                "200",
                "content",
                "application/json",
                "examples",
                "phantom",
            ],
            "get-classification-result-speech.txt",
        ),
        (
            &[
                "paths",
                "/api/classification/{identifier}",
                "get",
                "responses",
                "200",
                "content",
                "application/json",
                "example",
            ],
            "get-classification-result.txt",
        ),
        (
            &[
                "paths",
                "/api/classification_video/{identifier}",
                "get",
                "responses",
                "200",
                "content",
                "application/json",
                "examples",
                "revelio_capture",
            ],
            "get-classification-result-video.txt",
        ),
    ];
    for (path, page) in drops {
        let mut doc = base.doc.clone();
        let (last, parents) = path.split_last().unwrap();
        let parent = parents.iter().fold(&mut doc, |v, k| &mut v[*k]);
        assert!(
            parent.as_object_mut().unwrap().remove(*last).is_some(),
            "the spec has {path:?}"
        );
        let dropped = Spec::from_doc(base.path.clone(), doc);
        let failures = check_pages(&dropped, &pages);
        assert!(!failures.is_empty(), "dropping {path:?} is not noticed");
        assert!(
            failures.iter().all(|f| f.contains(page)),
            "dropping {path:?} fails only for {page}: {failures:#?}"
        );
    }
    // An example that changed in the spec fails too: the Phantom result's
    // confidence altered.
    let mut doc = base.doc.clone();
    doc["paths"]["/api/classification_audio/{identifier}"]["get"]["responses"]["200"]["content"]
        ["application/json"]["examples"]["phantom"]["value"]["results"][0]
        ["classification_details"]["confidence"] = json!(0.5);
    let failures = check_pages(&Spec::from_doc(base.path.clone(), doc), &pages);
    assert_eq!(failures.len(), 1, "{failures:#?}");
    assert!(
        failures[0].contains("get-classification-result-speech.txt"),
        "{failures:#?}"
    );
}

//! Every example the spec publishes conforms, and the generated client reads
//! it: walked from the spec (`IDENTIFAI_SPEC`, else `openapi/identifai.yaml`),
//! no case is listed by hand.
//!
//! Each JSON example (a) validates against the JSON Schema form of its
//! schema, (b) decodes into its generated type (a `$ref` response schema:
//! that component; an inline array of `$ref`: a `Vec` of it), and (c)
//! re-encodes to JSON that still validates and equals the input under the
//! documented normalisation (`support::conformance::Spec::normalise`), decoding again to an
//! equal Rust value; and (d) has no property the spec does not name, so
//! nothing of it is dropped by the typed decode (the normalisation then only
//! forgives `null`/`[]`/`{}` of optional fields, which read as absent). Examples of error responses also decode into `ErrorBody`
//! with a message; `text/plain` examples are non-empty identifiers.

#[allow(dead_code)]
use crate::support::conformance::{spec, Example, FAIL};

/// Checks `examples`, prints one line each, and fails listing every failure.
fn check_all(group: &str, examples: &[&Example]) {
    let spec = spec();
    let mut failures = Vec::new();
    // Examples that decoded, per operation: the coverage line
    // `cargo xtask mutate` reads for an operation the spec adds.
    let mut covered: std::collections::BTreeMap<&str, usize> = Default::default();
    println!();
    for ex in examples {
        let ops: Vec<&str> = ex.operations.iter().map(String::as_str).collect();
        match spec.check_example(ex) {
            Ok(decoded) => {
                println!("ok   {:<95} -> {decoded} [{}]", ex.location, ops.join(", "));
                for op in &ops {
                    *covered.entry(op).or_default() += 1;
                }
            }
            Err(e) => {
                println!("{FAIL} {group} {}: {e}", ex.location);
                failures.push(format!("{}: {e}", ex.location));
            }
        }
    }
    for (op, n) in covered {
        println!("EXAMPLES {op}: {n} decode ({group})");
    }
    assert!(
        failures.is_empty(),
        "{} of {} examples fail:\n{}",
        failures.len(),
        examples.len(),
        failures.join("\n")
    );
}

#[test]
fn response_json_examples_validate_decode_and_reencode() {
    let examples = spec().examples();
    let json: Vec<&Example> = examples
        .iter()
        .filter(|e| {
            e.response
                .as_ref()
                .is_some_and(|r| r.media.contains("json"))
        })
        .collect();
    assert!(!json.is_empty(), "the spec has JSON response examples");
    check_all("examples", &json);
}

#[test]
fn error_response_examples_decode_into_error_body() {
    let examples = spec().examples();
    let errors: Vec<&Example> = examples
        .iter()
        .filter(|e| {
            e.response
                .as_ref()
                .is_some_and(|r| r.statuses.iter().any(|s| !s.starts_with('2')))
        })
        .collect();
    assert!(!errors.is_empty(), "the spec has error examples");
    for ex in &errors {
        // ErrorBody, or Laravel's 422 ValidationErrorBody (the layer reads
        // it into `identifai::FieldErrors`).
        assert!(
            ex.target.components() == ["ErrorBody"]
                || ex.target.components() == ["ValidationErrorBody"],
            "{FAIL} examples {}: an error response's schema must be ErrorBody or ValidationErrorBody, not {:?}",
            ex.location,
            ex.target
        );
    }
    // check_example decodes every error example into its schema and requires a message.
    check_all("error-examples", &errors);
}

#[test]
fn text_plain_examples_are_identifiers() {
    let examples = spec().examples();
    let text: Vec<&Example> = examples
        .iter()
        .filter(|e| {
            e.response
                .as_ref()
                .is_some_and(|r| r.media.starts_with("text/"))
        })
        .collect();
    assert!(!text.is_empty(), "the spec has text/plain examples");
    check_all("text-examples", &text);
}

#[test]
fn schema_examples_validate_decode_and_reencode() {
    let examples = spec().examples();
    let schema: Vec<&Example> = examples.iter().filter(|e| e.response.is_none()).collect();
    assert!(!schema.is_empty(), "the spec has schema examples");
    check_all("schema-examples", &schema);
}

#[test]
fn every_example_is_checked_by_one_of_the_groups() {
    // The groups above filter the one list; none may fall through.
    for ex in spec().examples() {
        let grouped = match &ex.response {
            None => true,
            Some(r) => r.media.contains("json") || r.media.starts_with("text/"),
        };
        assert!(
            grouped,
            "{FAIL} examples {}: media type {:?} is checked by no group",
            ex.location, ex.response
        );
    }
}

#[test]
fn an_example_with_a_field_the_spec_does_not_name_fails() {
    // The check (d) above can fail: the same published example with one
    // more field, at the top and inside a frame, is refused.
    let spec = spec();
    let examples = spec.examples();
    let newest = examples
        .iter()
        .find(|e| e.location.ends_with("examples.newest"))
        .expect("the newest video example");
    assert!(spec.check_example(newest).is_ok());
    let mut top = newest.clone();
    top.value["brand_new"] = serde_json::json!(1);
    let err = spec.check_example(&top).unwrap_err();
    assert!(err.contains("example.brand_new"), "{err}");
    let mut deep = newest.clone();
    deep.value["results"]["images"][2]["frame_only"] = serde_json::json!({"x": 1});
    let err = spec.check_example(&deep).unwrap_err();
    assert!(
        err.contains("example.results.images[2].frame_only"),
        "{err}"
    );
}

// The rendered pages' concrete examples are checked one by one against the
// spec in `page_examples.rs`.

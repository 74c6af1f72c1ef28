//! Every component schema of the spec round-trips through its generated
//! Rust type, on values proptest generates from the schema itself
//! (`support::conformance::schema_strategy`): iterated from the spec (`IDENTIFAI_SPEC`,
//! else `openapi/identifai.yaml`), so a new schema is covered with no new
//! code. For each generated value: it validates and decodes, the re-encoded
//! JSON validates and equals it under the documented normalisation
//! (`support::conformance::Spec::normalise`), and decode -> encode -> decode gives an equal
//! Rust value.
//!
//! `every_component_roundtrips` also prints the coverage table (run with
//! `-- --nocapture` to see it): every operation and every component schema
//! with the conformance groups that cover it.

#[allow(dead_code)]
use std::collections::{BTreeMap, BTreeSet};

use crate::support::conformance::schema_strategy::Options;
use crate::support::conformance::{
    check_component_cases, check_forward_compat, rust_type, spec, Target, FAIL,
};
use identifai::api::conformance;
use serde_json::Value;

#[test]
fn registry_has_a_rust_type_for_every_spec_component() {
    let spec = spec();
    let in_spec: BTreeSet<String> = spec.components().into_iter().collect();
    let generated: BTreeSet<String> = conformance::COMPONENTS
        .iter()
        .map(|s| s.to_string())
        .collect();
    let mut problems = Vec::new();
    for name in in_spec.difference(&generated) {
        problems.push(format!(
            "{FAIL} registry {name}: in the spec but the client has no type for it"
        ));
    }
    for name in generated.difference(&in_spec) {
        problems.push(format!(
            "{FAIL} registry {name}: the client has a type for it but the spec no longer has it"
        ));
    }
    for p in &problems {
        println!("{p}");
    }
    assert!(
        problems.is_empty(),
        "the client was not generated from {}:\n{}",
        spec.path.display(),
        problems.join("\n")
    );
}

#[test]
fn enum_components_match_the_generated_open_enums() {
    let spec = spec();
    let mut problems = Vec::new();
    let mut count = 0;
    for (name, def) in &spec.defs {
        let Some(values) = def.get("enum").and_then(Value::as_array) else {
            continue;
        };
        count += 1;
        let in_spec: BTreeSet<&str> = values.iter().filter_map(Value::as_str).collect();
        let known: BTreeSet<&str> = crate::support::conformance::enum_values(name)
            .unwrap_or_default()
            .iter()
            .copied()
            .collect();
        // A closed enum (the spec's kind enum, `Kind`) may know more: a kind
        // the operations add before the enum names it.
        let closed = conformance::CLOSED_ENUMS.contains(&name.as_str());
        if (closed && !in_spec.is_subset(&known)) || (!closed && in_spec != known) {
            problems.push(format!(
                "{FAIL} enums {name}: the spec names {in_spec:?}, {} knows {known:?}",
                rust_type(name)
            ));
        }
    }
    for p in &problems {
        println!("{p}");
    }
    assert!(count > 0, "the spec has enum components");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// What each group did for one component.
#[derive(Default)]
struct Row {
    roundtrip: Option<Result<(), String>>,
    examples: Vec<Result<(), String>>,
    forward: Option<Result<(), String>>,
}

#[test]
fn every_component_roundtrips() {
    let spec = spec();
    let cases = crate::support::conformance::cases();
    let mut rows: BTreeMap<String, Row> = BTreeMap::new();
    let mut failures = Vec::new();
    for name in spec.components() {
        let result = check_component_cases(&name, &Options::default(), cases);
        if let Err(e) = &result {
            println!("{FAIL} roundtrip {name}: {e}");
            failures.push(format!("{name}: {e}"));
        }
        rows.entry(name).or_default().roundtrip = Some(result);
    }

    // The other groups, for the table (each asserts in its own test).
    let examples = spec.examples();
    let mut op_examples: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut response_examples = (0, 0); // (found, checked)
    for ex in &examples {
        let result = spec.check_example(ex).map(|_| ());
        let decodes = !matches!(ex.target, Target::Inline(_));
        if ex.response.is_some() {
            response_examples.0 += 1;
            // Checked: decoded into a generated type, or a text identifier.
            let text = ex
                .response
                .as_ref()
                .is_some_and(|r| r.media.starts_with("text/"));
            if decodes || text {
                response_examples.1 += 1;
            }
        }
        for op in &ex.operations {
            let e = op_examples.entry(op.clone()).or_default();
            e.0 += 1;
            e.1 += usize::from(result.is_ok());
        }
        for c in ex.target.components() {
            rows.entry(c.to_string())
                .or_default()
                .examples
                .push(result.clone());
        }
    }
    for name in spec.components() {
        let result = check_forward_compat(&name, 16);
        rows.entry(name).or_default().forward = Some(result);
    }

    print_table(&rows, &op_examples);

    let roundtripped = rows
        .values()
        .filter(|r| matches!(r.roundtrip, Some(Ok(()))))
        .count();
    println!(
        "\ncomponents round-tripped: {roundtripped}/{} ({cases} cases each); response examples checked: {}/{}",
        rows.len(),
        response_examples.1,
        response_examples.0
    );
    assert!(
        failures.is_empty(),
        "components that do not round-trip:\n{}",
        failures.join("\n")
    );
    assert_eq!(
        roundtripped,
        spec.components().len(),
        "100% of component schemas are round-tripped"
    );
    assert!(response_examples.0 > 0, "the spec has response examples");
    assert_eq!(
        response_examples.1, response_examples.0,
        "every response example is checked"
    );
}

fn mark(r: &Option<Result<(), String>>) -> &'static str {
    match r {
        Some(Ok(())) => "ok",
        Some(Err(_)) => "FAIL",
        None => "-",
    }
}

fn print_table(rows: &BTreeMap<String, Row>, op_examples: &BTreeMap<String, (usize, usize)>) {
    let spec = spec();
    println!("\nCONFORMANCE COVERAGE of {}", spec.path.display());
    println!(
        "\n{:<22} {:<30} {:<10} {:<10} {:<14}",
        "component", "rust type", "roundtrip", "examples", "forward-compat"
    );
    for (name, row) in rows {
        let ex = if row.examples.is_empty() {
            "-".to_string()
        } else {
            format!(
                "{}/{} ok",
                row.examples.iter().filter(|r| r.is_ok()).count(),
                row.examples.len()
            )
        };
        println!(
            "{:<22} {:<30} {:<10} {:<10} {:<14}",
            name,
            rust_type(name),
            mark(&row.roundtrip),
            ex,
            mark(&row.forward)
        );
    }

    println!(
        "\n{:<33} {:<10} {:<10} {:<14} request -> response bodies (statuses type)",
        "operation", "roundtrip", "examples", "forward-compat"
    );
    for (op_id, method, path, bodies) in operations() {
        let components: BTreeSet<&str> =
            bodies.iter().flat_map(|(_, _, t)| t.components()).collect();
        // A group covers an operation when it passed for every component the
        // operation answers with.
        let all = |group: fn(&Row) -> &Option<Result<(), String>>| {
            if components.is_empty() {
                "n/a"
            } else if components
                .iter()
                .all(|c| matches!(rows.get(*c).map(group), Some(Some(Ok(())))))
            {
                "ok"
            } else {
                "FAIL"
            }
        };
        let examples = match op_examples.get(&op_id) {
            Some((n, ok)) => format!("{ok}/{n} ok"),
            None => "-".into(),
        };
        let mut summary: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (status, media, target) in &bodies {
            let ty = match target {
                _ if media.is_empty() => "no body".to_string(),
                Target::Component(n) => rust_type(n).trim_start_matches("types::").to_string(),
                Target::ArrayOf(n) => {
                    format!("Vec<{}>", rust_type(n).trim_start_matches("types::"))
                }
                Target::Primitive if media.starts_with("text/") => "text".into(),
                Target::Primitive => "bytes".into(),
                Target::Inline(w) => w.clone(),
            };
            summary.entry(ty).or_default().insert(status.clone());
        }
        let summary: Vec<String> = summary
            .iter()
            .map(|(ty, st)| format!("{} {ty}", st.iter().cloned().collect::<Vec<_>>().join(",")))
            .collect();
        println!(
            "{:<33} {:<10} {:<10} {:<14} {} {path} -> {}",
            op_id,
            all(|r| &r.roundtrip),
            examples,
            all(|r| &r.forward),
            method.to_uppercase(),
            summary.join("; "),
        );
    }
}

type Body = (String, String, Target);

/// Every operation: (operationId, method, path, [(status, media type, target)]).
fn operations() -> Vec<(String, String, String, Vec<Body>)> {
    let spec = spec();
    let mut out = Vec::new();
    for (path, item) in spec.doc["paths"].as_object().into_iter().flatten() {
        for (method, op) in item.as_object().into_iter().flatten() {
            let Some(op_id) = op.get("operationId").and_then(Value::as_str) else {
                continue;
            };
            let mut bodies = Vec::new();
            for (status, resp) in op["responses"].as_object().into_iter().flatten() {
                let resp = match resp.get("$ref").and_then(Value::as_str) {
                    Some(r) => &spec.doc["components"]["responses"][r.rsplit('/').next().unwrap()],
                    None => resp,
                };
                match resp.get("content").and_then(Value::as_object) {
                    None => bodies.push((status.clone(), String::new(), Target::Primitive)),
                    Some(content) => {
                        for (media, mt) in content {
                            let target =
                                Target::of_schema(mt.get("schema").unwrap_or(&Value::Null));
                            bodies.push((status.clone(), media.clone(), target));
                        }
                    }
                }
            }
            out.push((op_id.to_string(), method.clone(), path.clone(), bodies));
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

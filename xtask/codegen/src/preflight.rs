//! What the generators cannot take, found before they run: each is an error
//! naming the operation, the status or parameter, and the overlay action
//! that fixes it, where progenitor would panic (`not yet implemented: media
//! type encoding, no schema`) or typify would make a closed enum.

use openapiv3::{OpenAPI, Operation, Parameter, ReferenceOr, Schema};

use crate::open_enums::find_inline_enums;
use crate::resolve::{resolve_body, resolve_parameter, resolve_response};

/// The place of an operation in errors: `GET /x/{id} (operationId get_x)`.
fn place(method: &str, path: &str, op: &Operation) -> String {
    format!(
        "{} {path} (operationId {})",
        method.to_uppercase(),
        op.operation_id.as_deref().unwrap_or("none")
    )
}

/// The overlay target of operation `method path`.
fn target(method: &str, path: &str) -> String {
    format!("$.paths['{path}'].{method}")
}

/// The Overlay 1.0 action to write, as YAML for an error message.
fn action(target: &str, description: &str, update: &str) -> String {
    let mut out = format!(
        "  - target: {target}\n    description: >-\n      {description}\n    x-evidence: {{level: published, reason: \"<the page that shows it, or level none/analogy and why>\"}}\n    update:\n"
    );
    for line in update.lines() {
        out.push_str("      ");
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// Checks every operation of `spec` for what the generators cannot take.
/// The first problem found is the error.
pub(crate) fn preflight(spec: &OpenAPI) -> Result<(), String> {
    let error_schema = spec
        .components
        .as_ref()
        .is_some_and(|c| c.schemas.contains_key("ErrorBody"));
    for (path, method, op) in spec.operations() {
        let at = place(method, path, op);
        if op.operation_id.is_none() {
            return Err(format!(
                "{at}: an operation needs an operationId (the generated method's name). Add one \
                 in openapi/overlay.yaml:\n{}",
                action(
                    &target(method, path),
                    "[naming] the generated method's name.",
                    "operationId: <snake_case_name>"
                )
            ));
        }
        check_path_parameters(spec, method, path, op, &at)?;
        check_parameters(spec, method, path, op, &at)?;
        check_request_body(spec, method, path, op, &at)?;
        check_responses(spec, method, path, op, &at, error_schema)?;
    }
    Ok(())
}

/// No inline string enum in a parameter's schema.
fn check_parameters(
    spec: &OpenAPI,
    method: &str,
    path: &str,
    op: &Operation,
    at: &str,
) -> Result<(), String> {
    for p in &op.parameters {
        let p = resolve_parameter(spec, p).map_err(|e| format!("{at}: {e}"))?;
        let data = p.parameter_data_ref();
        if let openapiv3::ParameterSchemaOrContent::Schema(ReferenceOr::Item(s)) = &data.format {
            inline_enum(s, &format!("{at}: parameter `{}`", data.name)).map_err(|where_| {
                let index = op
                    .parameters
                    .iter()
                    .position(|q| resolve_parameter(spec, q).is_ok_and(|q| q.parameter_data_ref().name == data.name))
                    .unwrap_or(0);
                format!(
                    "{where_} is an inline string enum with no name: its type would decode \
                     closed (an unknown value fails). Name it as a component schema with an \
                     overlay action in openapi/overlay.yaml, then refer to it:\n{}",
                    action(
                        &format!("{}.parameters[{index}]", target(method, path)),
                        "[naming] a named enum, so that it decodes open.",
                        "schema: {$ref: '#/components/schemas/<Name>'}   # and add <Name> under $.components.schemas"
                    )
                )
            })?;
        }
    }
    Ok(())
}

/// One request content type, with a schema, and no inline string enum in
/// it (a form's are taken).
fn check_request_body(
    spec: &OpenAPI,
    method: &str,
    path: &str,
    op: &Operation,
    at: &str,
) -> Result<(), String> {
    if let Some(body) = &op.request_body {
        let body = resolve_body(spec, body).map_err(|e| format!("{at}: {e}"))?;
        if body.content.len() > 1 {
            let types: Vec<&String> = body.content.keys().collect();
            return Err(format!(
                "{at}: the request body lists {} content types ({}); the generators take \
                 one. Keep one with an overlay action in openapi/overlay.yaml:\n{}",
                types.len(),
                types.iter().map(|t| t.as_str()).collect::<Vec<_>>().join(", "),
                action(
                    &format!("{}.requestBody", target(method, path)),
                    "[progenitor] one request content type.",
                    "content: {<the one to keep>: ...}   # or `remove: true` on the others' targets"
                )
            ));
        }
        for (ct, media) in &body.content {
            if ct == "multipart/form-data" {
                continue; // `forms` takes inline enums (closed: the client only sends them)
            }
            let t = format!("{}.requestBody.content['{ct}']", target(method, path));
            match &media.schema {
                None => {
                    return Err(format!(
                        "{at}: the request body ({ct}) has no schema, so no type can be \
                         generated for it. Give it one with an overlay action in \
                         openapi/overlay.yaml:\n{}",
                        action(
                            &t,
                            "[progenitor] the body's schema.",
                            "schema: {$ref: '#/components/schemas/<Name>'}"
                        )
                    ))
                }
                Some(ReferenceOr::Item(s)) => inline_enum(s, &format!("{at}: request body"))
                    .map_err(|w| {
                        format!(
                            "{w} is an inline string enum with no name. Name it as a component \
                         schema with an overlay action in openapi/overlay.yaml:\n{}",
                            action(
                                &format!("{t}.schema"),
                                "[naming] a named enum, so that it decodes open.",
                                "<property>: {$ref: '#/components/schemas/<Name>'}"
                            )
                        )
                    })?,
                Some(ReferenceOr::Reference { .. }) => {}
            }
        }
    }
    Ok(())
}

/// Every JSON answer has a schema, no `encoding`, no inline string enum,
/// and the success answers share one schema. `error_schema`: the spec has
/// an `ErrorBody` to suggest for an error answer.
fn check_responses(
    spec: &OpenAPI,
    method: &str,
    path: &str,
    op: &Operation,
    at: &str,
    error_schema: bool,
) -> Result<(), String> {
    let mut success_schemas: Vec<(String, String)> = Vec::new();
    for (status, resp) in &op.responses.responses {
        let resp = resolve_response(spec, resp).map_err(|e| format!("{at}: {e}"))?;
        for (ct, media) in &resp.content {
            let json = ct == "application/json" || ct.starts_with("application/json;");
            if !json {
                continue;
            }
            let t = format!(
                "{}.responses['{status}'].content['{ct}']",
                target(method, path)
            );
            let Some(schema) = &media.schema else {
                let what = if media.example.is_some() || !media.examples.is_empty() {
                    "an example and no schema"
                } else {
                    "no schema"
                };
                let suggested = if status_is_error(status) && error_schema {
                    "schema: {$ref: '#/components/schemas/ErrorBody'}"
                } else {
                    "schema: {$ref: '#/components/schemas/<Name>'}   # a schema its example validates against"
                };
                return Err(format!(
                    "{at}: response {status} ({ct}) has {what}: the generator cannot decode \
                     an answer without a schema (progenitor stops at it). Give it one with \
                     an overlay action in openapi/overlay.yaml:\n{}",
                    action(&t, "[progenitor] the answer's schema.", suggested)
                ));
            };
            if !media.encoding.is_empty() {
                return Err(format!(
                    "{at}: response {status} ({ct}) declares an `encoding`, which a JSON \
                     answer cannot use (progenitor stops at it). Drop it with an overlay \
                     action in openapi/overlay.yaml:\n  - target: {t}.encoding\n    \
                     description: >-\n      [progenitor] JSON has no encoding.\n    \
                     x-evidence: {{level: published, reason: \"...\"}}\n    remove: true\n"
                ));
            }
            if let ReferenceOr::Item(s) = schema {
                inline_enum(s, &format!("{at}: response {status}")).map_err(|w| {
                    format!(
                        "{w} is an inline string enum with no name: it would decode closed \
                         (an unknown value fails). Name it as a component schema with an \
                         overlay action in openapi/overlay.yaml:\n{}",
                        action(
                            &format!("{t}.schema"),
                            "[naming] a named enum, so that it decodes open.",
                            "<property>: {$ref: '#/components/schemas/<Name>'}"
                        )
                    )
                })?;
            }
            if matches!(status, openapiv3::StatusCode::Code(200..=299)) {
                let key = match schema {
                    ReferenceOr::Reference { reference } => reference.clone(),
                    ReferenceOr::Item(i) => format!("{i:?}"),
                };
                success_schemas.push((status.to_string(), key));
            }
        }
    }
    if let Some((first_status, first)) = success_schemas.first() {
        if let Some((status, _)) = success_schemas.iter().find(|(_, s)| s != first) {
            return Err(format!(
                "{at}: responses {first_status} and {status} answer JSON of different \
                 schemas; the generated method answers one type. Make them one schema (a \
                 component both refer to) with an overlay action in openapi/overlay.yaml:\n{}",
                action(
                    &format!(
                        "{}.responses['{status}'].content['application/json']",
                        target(method, path)
                    ),
                    "[progenitor] one answer type for every success status.",
                    &format!("schema: {{$ref: '<the schema of {first_status}>'}}")
                )
            ));
        }
    }
    Ok(())
}

fn status_is_error(status: &openapiv3::StatusCode) -> bool {
    match status {
        openapiv3::StatusCode::Code(c) => *c >= 300,
        openapiv3::StatusCode::Range(r) => *r >= 3,
    }
}

/// Every `{name}` of the path template is a path parameter, and every path
/// parameter is in the template (progenitor panics on either).
fn check_path_parameters(
    spec: &OpenAPI,
    method: &str,
    path: &str,
    op: &Operation,
    at: &str,
) -> Result<(), String> {
    let in_template: Vec<&str> = path
        .split('/')
        .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .collect();
    let mut declared = Vec::new();
    // Parameters of the path item count for each of its operations.
    let shared = spec
        .paths
        .paths
        .get(path)
        .and_then(|i| i.as_item())
        .map(|i| i.parameters.as_slice())
        .unwrap_or_default();
    for p in shared.iter().chain(&op.parameters) {
        let p = resolve_parameter(spec, p).map_err(|e| format!("{at}: {e}"))?;
        if let Parameter::Path { parameter_data, .. } = p {
            declared.push(parameter_data.name.clone());
        }
    }
    if let Some(missing) = in_template
        .iter()
        .find(|n| !declared.iter().any(|d| d == *n))
    {
        return Err(format!(
            "{at}: the path names `{{{missing}}}` but the operation declares no such path \
             parameter. Declare it with an overlay action in openapi/overlay.yaml:\n{}",
            action(
                &format!("{}.parameters", target(method, path)),
                "[fix] the path parameter the path names.",
                &format!(
                    "- {{name: {missing}, in: path, required: true, schema: {{type: string}}}}"
                )
            )
        ));
    }
    if let Some(extra) = declared.iter().find(|d| !in_template.contains(&d.as_str())) {
        return Err(format!(
            "{at}: path parameter `{extra}` is not in the path. Remove it, or fix the path, \
             with an overlay action in openapi/overlay.yaml (target {}.parameters[?@.name == '{extra}'], remove: true)",
            target(method, path)
        ));
    }
    Ok(())
}

/// `Err(place)` if `schema` holds an inline string enum (one with no
/// component name), else `Ok`.
fn inline_enum(schema: &Schema, at: &str) -> Result<(), String> {
    find_inline_enums(schema, at).map_err(|e| match e.find(" is an inline") {
        Some(i) => e[..i].to_string(),
        None => at.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::spec;

    const BASE: &str = r##"
openapi: 3.0.3
info: {title: t, version: "1"}
components:
  schemas:
    ErrorBody: {type: object, properties: {error: {type: string}}}
    Thing: {type: object, properties: {id: {type: string}}}
paths:
  /api/thing/{identifier}:
    get:
      operationId: get_thing
      parameters: [{name: identifier, in: path, required: true, schema: {type: string}}]
      responses:
        "200": {description: ok, content: {application/json: {schema: {$ref: "#/components/schemas/Thing"}}}}
        "404":
          description: unknown
          content:
            application/json:
              example: {error: Not found}
"##;

    #[test]
    fn a_schema_less_404_names_the_operation_the_status_and_the_action() {
        let e = preflight(&spec(BASE)).unwrap_err();
        assert!(
            e.contains("GET /api/thing/{identifier} (operationId get_thing)"),
            "{e}"
        );
        assert!(
            e.contains("response 404 (application/json) has an example and no schema"),
            "{e}"
        );
        assert!(
            e.contains("target: $.paths['/api/thing/{identifier}'].get.responses['404'].content['application/json']"),
            "{e}"
        );
        assert!(
            e.contains("schema: {$ref: '#/components/schemas/ErrorBody'}"),
            "{e}"
        );
        assert!(e.contains("x-evidence"), "{e}");
        // With the schema the action gives, it passes.
        let fixed = BASE.replace(
            "example: {error: Not found}",
            "example: {error: Not found}\n              schema: {$ref: \"#/components/schemas/ErrorBody\"}",
        );
        preflight(&spec(&fixed)).unwrap();
    }

    #[test]
    fn generate_fails_with_that_error_not_a_panic() {
        // The whole generator (progenitor included) on that spec: an error, no panic.
        let e = crate::generate(BASE, true).unwrap_err();
        assert!(e.contains("get_thing") && e.contains("404"), "{e}");
    }

    #[test]
    fn an_inline_enum_names_its_operation_and_place() {
        let with_enum = BASE.replace(
            "schema: {$ref: \"#/components/schemas/Thing\"}",
            "schema: {type: object, properties: {state: {type: string, enum: [a, b]}}}",
        );
        let with_enum = with_enum.replace(
            "example: {error: Not found}",
            "schema: {$ref: \"#/components/schemas/ErrorBody\"}",
        );
        let e = preflight(&spec(&with_enum)).unwrap_err();
        assert!(
            e.contains("(operationId get_thing): response 200.state is an inline string enum"),
            "{e}"
        );
        assert!(
            e.contains("responses['200'].content['application/json'].schema"),
            "{e}"
        );

        let param = BASE
            .replace(
                "example: {error: Not found}",
                "schema: {$ref: \"#/components/schemas/ErrorBody\"}",
            )
            .replace(
                "required: true, schema: {type: string}}",
                "required: true, schema: {type: string}}, {name: order, in: query, schema: {type: string, enum: [asc, desc]}}",
            );
        let e = preflight(&spec(&param)).unwrap_err();
        assert!(
            e.contains("parameter `order` is an inline string enum"),
            "{e}"
        );
        assert!(e.contains(".get.parameters[1]"), "{e}");
    }

    #[test]
    fn path_parameters_and_the_template_agree() {
        let fixed = BASE.replace(
            "example: {error: Not found}",
            "schema: {$ref: \"#/components/schemas/ErrorBody\"}",
        );
        let undeclared = fixed.replace(
            "parameters: [{name: identifier, in: path, required: true, schema: {type: string}}]",
            "parameters: []",
        );
        let e = preflight(&spec(&undeclared)).unwrap_err();
        assert!(
            e.contains("names `{identifier}`") && e.contains("get_thing"),
            "{e}"
        );
        let two = fixed.replace(
            "\"200\": {description: ok, content: {application/json: {schema: {$ref: \"#/components/schemas/Thing\"}}}}",
            "\"200\": {description: ok, content: {application/json: {schema: {$ref: \"#/components/schemas/Thing\"}}}}\n        \"201\": {description: ok, content: {application/json: {schema: {$ref: \"#/components/schemas/ErrorBody\"}}}}",
        );
        let e = preflight(&spec(&two)).unwrap_err();
        assert!(
            e.contains("responses 200 and 201 answer JSON of different schemas"),
            "{e}"
        );
    }

    #[test]
    fn the_repo_spec_passes() {
        preflight(&crate::parse(&crate::test_support::repo_spec_text()).unwrap()).unwrap();
    }
}

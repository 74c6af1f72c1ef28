//! Which operations progenitor generates, and which this crate generates itself
//! (`forms`): multipart bodies and mixed success answers. Both take one
//! error body type per operation: an error status documented with another
//! schema (Laravel's 422 `ValidationErrorBody` beside `ErrorBody`) is a
//! [`side_errors`] status, left out of the generated match and decoded by
//! the layer (`Error::from_api` reads it by its status).

use openapiv3::{OpenAPI, Operation, ReferenceOr, Response};

use crate::resolve::{resolve_body, resolve_response};

/// An operation generated here rather than by progenitor.
pub(crate) struct OwnOp {
    pub(crate) path: String,
    pub(crate) method: &'static str,
    pub(crate) op: Operation,
}

/// Splits the spec: a copy for progenitor without the operations it cannot
/// take, and those operations.
pub(crate) fn partition(spec: &OpenAPI) -> Result<(OpenAPI, Vec<OwnOp>), String> {
    let mut for_progenitor = spec.clone();
    let mut own = Vec::new();
    for (path, item) in for_progenitor.paths.paths.iter_mut() {
        let ReferenceOr::Item(item) = item else {
            return Err(format!("path {path}: $ref path items are not supported"));
        };
        let slots: [(&'static str, &mut Option<Operation>); 5] = [
            ("get", &mut item.get),
            ("post", &mut item.post),
            ("put", &mut item.put),
            ("patch", &mut item.patch),
            ("delete", &mut item.delete),
        ];
        for (method, slot) in slots {
            let Some(op) = slot.as_mut() else { continue };
            for status in side_errors(spec, op)? {
                op.responses.responses.shift_remove(&status);
            }
            if progenitor_cannot_take(spec, op)? {
                own.push(OwnOp {
                    path: path.clone(),
                    method,
                    op: slot.take().expect("checked above"),
                });
            }
        }
    }
    for_progenitor.paths.paths.retain(|_, item| match item {
        ReferenceOr::Item(i) => i.iter().next().is_some(),
        ReferenceOr::Reference { .. } => true,
    });
    Ok((for_progenitor, own))
}

/// True for multipart bodies and for success responses of different body
/// kinds (progenitor asserts on both).
pub(crate) fn progenitor_cannot_take(spec: &OpenAPI, op: &Operation) -> Result<bool, String> {
    if let Some(body) = &op.request_body {
        let body = resolve_body(spec, body)?;
        if body.content.contains_key("multipart/form-data") {
            return Ok(true);
        }
    }
    let mut kinds = std::collections::BTreeSet::new();
    for (status, resp) in &op.responses.responses {
        if matches!(status, openapiv3::StatusCode::Code(200..=299)) {
            let resp = resolve_response(spec, resp)?;
            kinds.insert(body_kind(resp));
        }
    }
    Ok(kinds.len() > 1)
}

/// The error statuses of `op` whose JSON schema is not the operation's
/// error schema: the `$ref` most error statuses share (on a tie, the lowest
/// status's). progenitor asserts one error type per operation, and the own
/// generator makes one `Error<T>`; these statuses are left out of both, so
/// their answers reach the layer undecoded (`UnexpectedResponse`), which
/// decodes them by status.
pub(crate) fn side_errors(
    spec: &OpenAPI,
    op: &Operation,
) -> Result<Vec<openapiv3::StatusCode>, String> {
    let mut schemas: Vec<(openapiv3::StatusCode, Option<String>)> = Vec::new();
    for (status, resp) in &op.responses.responses {
        let is_error = match status {
            openapiv3::StatusCode::Code(c) => *c >= 300,
            openapiv3::StatusCode::Range(r) => *r >= 3,
        };
        if !is_error {
            continue;
        }
        let resp = resolve_response(spec, resp)?;
        let schema = resp
            .content
            .get("application/json")
            .and_then(|m| m.schema.as_ref())
            .map(|s| match s {
                ReferenceOr::Reference { reference } => reference.clone(),
                ReferenceOr::Item(i) => format!("{i:?}"),
            });
        schemas.push((status.clone(), schema));
    }
    let mut counts: Vec<(&Option<String>, usize)> = Vec::new();
    for (_, s) in &schemas {
        match counts.iter_mut().find(|(t, _)| *t == s) {
            Some((_, n)) => *n += 1,
            None => counts.push((s, 1)),
        }
    }
    // The first with the highest count: statuses come in the spec's order.
    let Some(main) = counts
        .iter()
        .fold(
            None::<(&Option<String>, usize)>,
            |best, &(s, n)| match best {
                Some((_, m)) if m >= n => best,
                _ => Some((s, n)),
            },
        )
        .map(|(s, _)| s.clone())
    else {
        return Ok(Vec::new());
    };
    Ok(schemas
        .into_iter()
        .filter(|(_, s)| *s != main)
        .map(|(status, _)| status)
        .collect())
}

pub(crate) fn body_kind(resp: &Response) -> &'static str {
    if resp
        .content
        .keys()
        .any(|k| k.starts_with("application/json"))
    {
        "json"
    } else if resp.content.is_empty() {
        "none"
    } else {
        "raw"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::spec;

    const SPEC: &str = r##"
openapi: 3.0.3
info: {title: t, version: "1"}
paths:
  /json:
    get:
      operationId: json
      responses: {"200": {description: ok, content: {application/json: {schema: {type: object}}}}}
  /form:
    post:
      operationId: form
      requestBody: {$ref: "#/components/requestBodies/Upload"}
      responses: {"200": {description: ok, content: {application/json: {schema: {type: object}}}}}
  /mixed:
    get:
      operationId: mixed
      responses:
        "200": {description: png, content: {image/png: {schema: {type: string, format: binary}}}}
        "204": {description: none yet}
        "404": {description: unknown, content: {application/json: {schema: {type: object}}}}
components:
  requestBodies:
    Upload:
      content: {multipart/form-data: {schema: {type: object}}}
"##;

    #[test]
    fn multipart_and_mixed_success_answers_are_ours_the_rest_progenitors() {
        let s = spec(SPEC);
        let (for_progenitor, own) = partition(&s).unwrap();
        let mut ours: Vec<_> = own
            .iter()
            .map(|o| {
                (
                    o.method,
                    o.path.as_str(),
                    o.op.operation_id.as_deref().unwrap(),
                )
            })
            .collect();
        ours.sort();
        assert_eq!(
            ours,
            [("get", "/mixed", "mixed"), ("post", "/form", "form")]
        );
        let left: Vec<_> = for_progenitor
            .operations()
            .filter_map(|(_, _, op)| op.operation_id.clone())
            .collect();
        assert_eq!(left, ["json"]);
    }

    #[test]
    fn an_error_of_another_schema_is_left_out_of_both_generators() {
        let s = spec(
            r##"
openapi: 3.0.3
info: {title: t, version: "1"}
paths:
  /x:
    post:
      operationId: x
      requestBody: {content: {application/json: {schema: {$ref: "#/components/schemas/E"}}}}
      responses:
        "200": {description: ok, content: {application/json: {schema: {$ref: "#/components/schemas/E"}}}}
        "400": {$ref: "#/components/responses/Bad"}
        "401": {$ref: "#/components/responses/Bad"}
        "422": {description: laravel, content: {application/json: {schema: {$ref: "#/components/schemas/V"}}}}
components:
  schemas:
    E: {type: object}
    V: {type: object}
  responses:
    Bad: {description: bad, content: {application/json: {schema: {$ref: "#/components/schemas/E"}}}}
"##,
        );
        let op = s.operations().next().unwrap().2;
        assert_eq!(
            side_errors(&s, op).unwrap(),
            [openapiv3::StatusCode::Code(422)],
            "the schema most error statuses share is the operation's"
        );
        let (for_progenitor, own) = partition(&s).unwrap();
        assert!(own.is_empty());
        let op = for_progenitor.operations().next().unwrap().2;
        let left: Vec<String> = op
            .responses
            .responses
            .keys()
            .map(|k| k.to_string())
            .collect();
        assert_eq!(left, ["200", "400", "401"]);
    }

    #[test]
    fn a_dangling_reference_is_an_error() {
        let s = spec(&SPEC.replace("requestBodies/Upload", "requestBodies/Nope"));
        assert!(partition(&s).is_err());
    }
}

//! Which operations progenitor generates, and which this crate generates itself
//! (`forms`): multipart bodies and mixed success answers.

#[allow(unused_imports)]
use crate::prelude::*;

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
            let Some(op) = slot.as_ref() else { continue };
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
    fn a_dangling_reference_is_an_error() {
        let s = spec(&SPEC.replace("requestBodies/Upload", "requestBodies/Nope"));
        assert!(partition(&s).is_err());
    }
}

//! Following `$ref`s within one spec.

use openapiv3::{OpenAPI, Parameter, ReferenceOr, RequestBody, Response, Schema};

/// `r` itself, or the component of `map` (one of `spec.components`' maps)
/// its `$ref` names; `what` names the kind in the error.
fn resolve<'a, T>(
    spec: &'a OpenAPI,
    r: &'a ReferenceOr<T>,
    what: &str,
    map: impl Fn(&'a openapiv3::Components) -> &'a indexmap::IndexMap<String, ReferenceOr<T>>,
) -> Result<&'a T, String> {
    match r {
        ReferenceOr::Item(b) => Ok(b),
        ReferenceOr::Reference { reference } => spec
            .components
            .as_ref()
            .and_then(|c| map(c).get(ref_name(reference)))
            .and_then(|b| b.as_item())
            .ok_or_else(|| format!("unresolved {what} {reference}")),
    }
}

/// A request body, followed through its `$ref`.
pub(crate) fn resolve_body<'a>(
    spec: &'a OpenAPI,
    r: &'a ReferenceOr<RequestBody>,
) -> Result<&'a RequestBody, String> {
    resolve(spec, r, "request body", |c| &c.request_bodies)
}

/// A response, followed through its `$ref`.
pub(crate) fn resolve_response<'a>(
    spec: &'a OpenAPI,
    r: &'a ReferenceOr<Response>,
) -> Result<&'a Response, String> {
    resolve(spec, r, "response", |c| &c.responses)
}

/// A parameter, followed through its `$ref`.
pub(crate) fn resolve_parameter<'a>(
    spec: &'a OpenAPI,
    r: &'a ReferenceOr<Parameter>,
) -> Result<&'a Parameter, String> {
    resolve(spec, r, "parameter", |c| &c.parameters)
}

/// The schema of operation `op_id`'s multipart body, followed through its
/// `$ref`.
pub(crate) fn multipart_schema<'a>(
    spec: &'a OpenAPI,
    media: &'a openapiv3::MediaType,
    op_id: &str,
) -> Result<&'a Schema, String> {
    match media.schema.as_ref() {
        Some(ReferenceOr::Item(s)) => Ok(s),
        Some(ReferenceOr::Reference { reference }) => spec
            .components
            .as_ref()
            .and_then(|c| c.schemas.get(ref_name(reference)))
            .and_then(|s| s.as_item())
            .ok_or_else(|| format!("{op_id}: unresolved {reference}")),
        None => Err(format!("{op_id}: multipart body without schema")),
    }
}

/// The last segment of a `$ref` (`#/components/schemas/X` -> `X`).
pub(crate) fn ref_name(reference: &str) -> &str {
    reference.rsplit('/').next().unwrap_or(reference)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::spec;

    #[test]
    fn references_resolve_and_dangling_ones_are_named() {
        let s = spec(
            r##"
openapi: 3.0.3
info: {title: t, version: "1"}
paths: {}
components:
  responses:
    Gone: {description: gone}
"##,
        );
        let ok = ReferenceOr::Reference {
            reference: "#/components/responses/Gone".into(),
        };
        assert_eq!(resolve_response(&s, &ok).unwrap().description, "gone");
        let bad = ReferenceOr::<Response>::Reference {
            reference: "#/components/responses/Nope".into(),
        };
        assert_eq!(
            resolve_response(&s, &bad).unwrap_err(),
            "unresolved response #/components/responses/Nope"
        );
        assert_eq!(ref_name("#/components/schemas/X"), "X");
    }
}

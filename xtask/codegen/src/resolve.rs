//! Following `$ref`s within one spec.

#[allow(unused_imports)]
use crate::prelude::*;

pub(crate) fn resolve_body<'a>(
    spec: &'a OpenAPI,
    r: &'a ReferenceOr<RequestBody>,
) -> Result<&'a RequestBody, String> {
    match r {
        ReferenceOr::Item(b) => Ok(b),
        ReferenceOr::Reference { reference } => spec
            .components
            .as_ref()
            .and_then(|c| c.request_bodies.get(ref_name(reference)))
            .and_then(|b| b.as_item())
            .ok_or_else(|| format!("unresolved request body {reference}")),
    }
}

pub(crate) fn resolve_response<'a>(
    spec: &'a OpenAPI,
    r: &'a ReferenceOr<Response>,
) -> Result<&'a Response, String> {
    match r {
        ReferenceOr::Item(b) => Ok(b),
        ReferenceOr::Reference { reference } => spec
            .components
            .as_ref()
            .and_then(|c| c.responses.get(ref_name(reference)))
            .and_then(|b| b.as_item())
            .ok_or_else(|| format!("unresolved response {reference}")),
    }
}

pub(crate) fn resolve_parameter<'a>(
    spec: &'a OpenAPI,
    r: &'a ReferenceOr<Parameter>,
) -> Result<&'a Parameter, String> {
    match r {
        ReferenceOr::Item(b) => Ok(b),
        ReferenceOr::Reference { reference } => spec
            .components
            .as_ref()
            .and_then(|c| c.parameters.get(ref_name(reference)))
            .and_then(|b| b.as_item())
            .ok_or_else(|| format!("unresolved parameter {reference}")),
    }
}

pub(crate) fn ref_name(reference: &str) -> &str {
    reference.rsplit('/').next().unwrap_or(reference)
}

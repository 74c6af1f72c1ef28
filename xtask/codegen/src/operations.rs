//! The operation list: one entry per operation of the spec, for the code
//! that must know every operation (the mock's routes and fault targets, the
//! wire matrix, the tests' dispatchers), so a new operation reaches them by
//! regeneration alone.

use openapiv3::OpenAPI;
use proc_macro2::TokenStream;
use quote::quote;

use crate::resolve::resolve_body;

/// What the generator records of one operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OperationEntry {
    pub(crate) name: String,
    /// Upper case: `GET`, `POST`, ...
    pub(crate) method: String,
    /// The path template, `{name}` for a path parameter.
    pub(crate) path: String,
    /// `x-identifai.kind`, if any.
    pub(crate) kind: Option<String>,
    /// `x-identifai.role`, if any.
    pub(crate) role: Option<String>,
    /// The request body's content type (the first the spec lists), if any.
    pub(crate) request_content_type: Option<String>,
    /// The documented statuses, ascending (`default` and ranges left out).
    pub(crate) statuses: Vec<u16>,
    /// Whether the effective `security` asks for the API key.
    pub(crate) api_key: bool,
}

/// Every operation of the spec, sorted by operationId. An operation without
/// an operationId, or two with the same one, is an error naming the place.
pub(crate) fn operation_entries(spec: &OpenAPI) -> Result<Vec<OperationEntry>, String> {
    let secured = crate::secured_operations(spec);
    let mut out: Vec<OperationEntry> = Vec::new();
    for (path, method, op) in spec.operations() {
        let method = method.to_uppercase();
        let name = op
            .operation_id
            .clone()
            .ok_or_else(|| format!("{method} {path}: an operation needs an operationId"))?;
        if out.iter().any(|e| e.name == name) {
            return Err(format!(
                "{method} {path}: operationId `{name}` is used twice"
            ));
        }
        let ext = op.extensions.get("x-identifai");
        let text = |key: &str| -> Result<Option<String>, String> {
            match ext.and_then(|e| e.get(key)) {
                None => Ok(None),
                Some(v) => v
                    .as_str()
                    .map(|s| Some(s.to_string()))
                    .ok_or_else(|| format!("{name}: x-identifai.{key} must be a string")),
            }
        };
        let request_content_type = match &op.request_body {
            Some(body) => resolve_body(spec, body)?.content.keys().next().cloned(),
            None => None,
        };
        let mut statuses: Vec<u16> = op
            .responses
            .responses
            .keys()
            .filter_map(|code| match code {
                openapiv3::StatusCode::Code(c) => Some(*c),
                openapiv3::StatusCode::Range(_) => None,
            })
            .collect();
        statuses.sort_unstable();
        out.push(OperationEntry {
            kind: text("kind")?,
            role: text("role")?,
            request_content_type,
            statuses,
            api_key: secured.contains(&name),
            name,
            method,
            path: path.to_string(),
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// The generated `Operation` type and `OPERATIONS` list, with lookups by
/// name and by request (method and path, matched against the templates).
pub(crate) fn operation_list(spec: &OpenAPI) -> Result<TokenStream, String> {
    let entries = operation_entries(spec)?;
    let opt = |v: &Option<String>| match v {
        Some(s) => quote! { Some(#s) },
        None => quote! { None },
    };
    let items = entries.iter().map(|e| {
        let (name, method, path) = (&e.name, &e.method, &e.path);
        let (kind, role, ct) = (opt(&e.kind), opt(&e.role), opt(&e.request_content_type));
        let statuses = &e.statuses;
        let api_key = e.api_key;
        quote! {
            Operation {
                name: #name,
                method: #method,
                path: #path,
                kind: #kind,
                role: #role,
                request_content_type: #ct,
                statuses: &[#(#statuses),*],
                api_key: #api_key,
            }
        }
    });
    Ok(quote! {
        /// One operation of the spec, as generated from it: every consumer
        /// that must know every operation (the mock's routes and faults, the
        /// conformance tests) reads [`OPERATIONS`], so a new operation
        /// reaches them by regeneration alone.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub struct Operation {
            /// The operationId, also the generated client's method name.
            pub name: &'static str,
            /// The HTTP method, upper case.
            pub method: &'static str,
            /// The path template (`{name}` for a path parameter).
            pub path: &'static str,
            /// The media kind (`x-identifai.kind`: `image`, `video`,
            /// `audio`, ...), if the operation has one.
            pub kind: Option<&'static str>,
            /// Its role for that kind (`x-identifai.role`: `submit`,
            /// `submit_url`, `result`, `list`, `override`, `heatmap`).
            pub role: Option<&'static str>,
            /// The request body's content type, if it has a body.
            pub request_content_type: Option<&'static str>,
            /// The statuses the spec documents, ascending.
            pub statuses: &'static [u16],
            /// Whether it needs the API key (`X-Api-Key`).
            pub api_key: bool,
        }

        /// Every operation of the spec, sorted by name.
        pub const OPERATIONS: &[Operation] = &[#(#items),*];

        impl Operation {
            /// The operation named `name` (its operationId).
            pub fn named(name: &str) -> Option<&'static Operation> {
                OPERATIONS.iter().find(|op| op.name == name)
            }

            /// The operation a request is for: the method (`HEAD` counts as
            /// `GET`) and a path matching the template, a `{parameter}`
            /// standing for one non-empty segment. When several templates
            /// match, the one with the most literal segments wins (so
            /// `/x/heatmap/{id}` beats `/x/{id}/override` for
            /// `/x/heatmap/override`).
            pub fn recognize(method: &str, path: &str) -> Option<&'static Operation> {
                let method = if method.eq_ignore_ascii_case("HEAD") { "GET" } else { method };
                let path = path.split(['?', '#']).next().unwrap_or(path);
                let segments: Vec<&str> = path.split('/').collect();
                OPERATIONS
                    .iter()
                    .filter(|op| op.method.eq_ignore_ascii_case(method))
                    .filter_map(|op| {
                        let template: Vec<&str> = op.path.split('/').collect();
                        if template.len() != segments.len() {
                            return None;
                        }
                        let mut literals = 0;
                        for (t, s) in template.iter().zip(&segments) {
                            if t.starts_with('{') && t.ends_with('}') {
                                if s.is_empty() {
                                    return None;
                                }
                            } else if t == s {
                                literals += 1;
                            } else {
                                return None;
                            }
                        }
                        Some((literals, op))
                    })
                    .max_by_key(|(literals, _)| *literals)
                    .map(|(_, op)| op)
            }

            /// The path with each `{parameter}` replaced by `value(name)`.
            pub fn path_with(&self, mut value: impl FnMut(&str) -> String) -> String {
                self.path
                    .split('/')
                    .map(|t| match t.strip_prefix('{').and_then(|t| t.strip_suffix('}')) {
                        Some(name) => value(name),
                        None => t.to_string(),
                    })
                    .collect::<Vec<_>>()
                    .join("/")
            }

            /// Whether it is a POST (the POST rate limit applies).
            pub fn is_post(&self) -> bool {
                self.method == "POST"
            }

            /// Whether it submits media (role `submit` or `submit_url`).
            pub fn is_submission(&self) -> bool {
                matches!(self.role, Some("submit" | "submit_url"))
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::*;

    const SMALL: &str = r##"
openapi: 3.0.3
info: {title: t, version: "1"}
security: [{key: []}]
components:
  securitySchemes: {key: {type: apiKey, in: header, name: X-Api-Key}}
  requestBodies:
    Upload:
      content:
        multipart/form-data: {schema: {type: object}}
paths:
  /api/health:
    get: {operationId: health, security: [], responses: {"200": {description: ok}}}
  /api/x/{id}:
    get:
      operationId: get_x
      x-identifai: {kind: image, role: result}
      parameters: [{name: id, in: path, required: true, schema: {type: string}}]
      responses: {"429": {description: slow}, "200": {description: ok}, "4XX": {description: bad}}
  /api/x/heatmap/{id}:
    get:
      operationId: heatmap_x
      parameters: [{name: id, in: path, required: true, schema: {type: string}}]
      responses: {"200": {description: ok}}
  /api/x/{id}/override:
    post:
      operationId: override_x
      parameters: [{name: id, in: path, required: true, schema: {type: string}}]
      requestBody: {content: {application/json: {schema: {type: object}}}}
      responses: {"200": {description: ok}}
  /api/x:
    post:
      operationId: classify_x
      x-identifai: {kind: image, role: submit}
      requestBody: {$ref: "#/components/requestBodies/Upload"}
      responses: {"200": {description: ok}}
"##;

    #[test]
    fn every_operation_is_listed_with_what_the_spec_says() {
        let ops = operation_entries(&spec(SMALL)).unwrap();
        let names: Vec<&str> = ops.iter().map(|o| o.name.as_str()).collect();
        assert_eq!(
            names,
            ["classify_x", "get_x", "health", "heatmap_x", "override_x"]
        );
        let get = &ops[1];
        assert_eq!(
            get,
            &OperationEntry {
                name: "get_x".into(),
                method: "GET".into(),
                path: "/api/x/{id}".into(),
                kind: Some("image".into()),
                role: Some("result".into()),
                request_content_type: None,
                statuses: vec![200, 429],
                api_key: true,
            }
        );
        assert_eq!(
            ops[0].request_content_type.as_deref(),
            Some("multipart/form-data"),
            "a $ref request body is followed"
        );
        assert_eq!(
            ops[4].request_content_type.as_deref(),
            Some("application/json")
        );
        assert!(!ops[2].api_key, "health has `security: []`");
        assert_eq!(ops[4].method, "POST");
    }

    #[test]
    fn an_operation_without_an_id_or_a_duplicate_id_is_an_error() {
        let no_id = SMALL.replace("operationId: heatmap_x", "summary: no id");
        let e = operation_entries(&spec(&no_id)).unwrap_err();
        assert!(e.contains("GET /api/x/heatmap/{id}"), "{e}");
        let twice = SMALL.replace("operationId: heatmap_x", "operationId: get_x");
        let e = operation_entries(&spec(&twice)).unwrap_err();
        assert!(e.contains("`get_x` is used twice"), "{e}");
        let bad_kind = SMALL.replace("{kind: image, role: result}", "{kind: 3, role: result}");
        let e = operation_entries(&spec(&bad_kind)).unwrap_err();
        assert!(e.contains("get_x: x-identifai.kind"), "{e}");
    }

    #[test]
    fn the_generated_list_parses_and_names_every_operation() {
        let tokens = operation_list(&spec(SMALL)).unwrap();
        let file: syn::File = syn::parse2(tokens).unwrap();
        let text = prettyplease::unparse(&file);
        for name in ["classify_x", "get_x", "health", "heatmap_x", "override_x"] {
            assert!(text.contains(&format!("name: \"{name}\"")), "{name}");
        }
        assert!(text.contains("statuses: &[200u16, 429u16]"), "{text}");
        assert!(text.contains("pub fn recognize"));
    }

    #[test]
    fn the_repo_spec_lists_every_path_operation() {
        let text = repo_spec_text();
        let ops = operation_entries(&crate::parse(&text).unwrap()).unwrap();
        let doc: serde_json::Value = serde_yaml_ng::from_str(&text).unwrap();
        let mut in_doc = 0;
        for (_, item) in doc["paths"].as_object().unwrap() {
            for m in ["get", "post", "put", "patch", "delete"] {
                in_doc += usize::from(item.get(m).is_some());
            }
        }
        assert_eq!(ops.len(), in_doc);
        assert!(ops.iter().any(|o| o.name == "classify_audio"
            && o.kind.as_deref() == Some("audio")
            && o.role.as_deref() == Some("submit")));
    }
}

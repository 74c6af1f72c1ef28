//! The typed httpmock helpers of every operation (the `mock` feature's
//! `identifai::mock::httpmock`).
//!
//! progenitor's `Generator::httpmock` writes them for the operations it
//! generates (JSON bodies and answers). The operations `forms` generates
//! instead (multipart submissions, the heatmap's PNG-or-204) get theirs here,
//! from the spec, in the same shape (`XWhen`, `XThen`, one `MockServerExt`
//! method per `operationId`), so a new operation of either kind gets its
//! helper by regeneration alone:
//!
//! - `XWhen::new` matches the method and the path; for a form, also (through
//!   the hand-written `identifai::mock::httpmock::form`) a body that parses,
//!   holds every required field, no field the spec does not name, and file
//!   parts of the content types the `encoding` allows. One matcher per path
//!   parameter, header parameter and form field (a text field's value or its
//!   absence; a file part's bytes, content type and file name).
//! - `XThen` has one method per documented status and media type: a JSON
//!   answer takes the schema's type, text a `&str`, any other media bytes,
//!   a response without content nothing.
//!
//! Then, for every operation's `Then` (progenitor's and ours):
//! [`UNDOCUMENTED`] answers the pages do not list but every operation meets
//! (503), unless the operation documents that status itself, and
//! `retry_after(seconds)`. And the list of the helpers, `OPERATION_IDS`.

#[allow(unused_imports)]
use openapiv3::{OpenAPI, Operation, Parameter, ReferenceOr, SchemaKind, Type};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use std::collections::BTreeMap;

use crate::forms::{field_kind, param_type, FieldKind, Forms};
use crate::naming::{component_type, pascal, snake};
use crate::partition::OwnOp;
use crate::resolve::{multipart_schema, resolve_body, resolve_parameter, resolve_response};

/// Answers every operation can get though no published page lists them:
/// (status, helper name, JSON body). 503 is what the backend (Laravel) and
/// its proxies answer in maintenance or overload, the body Laravel's; the
/// client retries it (GETs) and reports it as `Error::Server`.
pub(crate) const UNDOCUMENTED: &[(u16, &str, &str)] = &[(
    503,
    "service_unavailable",
    r#"{"message":"Service Unavailable"}"#,
)];

/// Adds the helpers of `own_ops` (the operations `forms` generates) to
/// progenitor's httpmock output `file`, then the undocumented answers and
/// `retry_after` to every operation's `Then`, and `OPERATION_IDS`.
pub(crate) fn extend_httpmock(
    spec: &OpenAPI,
    own_ops: &[OwnOp],
    file: &mut syn::File,
) -> Result<(), String> {
    // The form enums get the names `forms` gave them: the same operations,
    // in the same order, into a fresh `Forms`.
    let mut forms = Forms::default();
    let mut op_items = Vec::new();
    let mut trait_items = Vec::new();
    let mut impl_items = Vec::new();
    for own in own_ops {
        let m = own_mock(spec, own, &mut forms)?;
        op_items.push(m.items);
        let (op, when, then) = (&m.op, &m.when, &m.then);
        let doc = format!(
            "Mocks `{} {}` (`{op}`): see [`operations::{when}`] and [`operations::{then}`].",
            own.method.to_uppercase(),
            own.path
        );
        trait_items.push(quote! {
            #[doc = #doc]
            fn #op<F>(&self, config_fn: F) -> ::httpmock::Mock<'_>
            where
                F: FnOnce(operations::#when, operations::#then);
        });
        impl_items.push(quote! {
            fn #op<F>(&self, config_fn: F) -> ::httpmock::Mock<'_>
            where
                F: FnOnce(operations::#when, operations::#then)
            {
                self.mock(|when, then| {
                    config_fn(operations::#when::new(when), operations::#then::new(then))
                })
            }
        });
    }

    let mut names = Vec::new();
    for item in &mut file.items {
        match item {
            syn::Item::Mod(m) if m.ident == "operations" => {
                let content = &mut m.content.as_mut().ok_or("empty `operations`")?.1;
                for tokens in &op_items {
                    let parsed: syn::File = syn::parse2(tokens.clone())
                        .map_err(|e| format!("generated httpmock helpers do not parse: {e}"))?;
                    content.extend(parsed.items);
                }
                undocumented_answers(content)?;
            }
            syn::Item::Trait(t) if t.ident == "MockServerExt" => {
                for tokens in &trait_items {
                    t.items
                        .push(syn::parse2(tokens.clone()).map_err(|e| e.to_string())?);
                }
                names = t
                    .items
                    .iter()
                    .filter_map(|i| match i {
                        syn::TraitItem::Fn(f) => Some(f.sig.ident.to_string()),
                        _ => None,
                    })
                    .collect();
            }
            syn::Item::Impl(i)
                if i.trait_.as_ref().is_some_and(|(_, p, _)| {
                    p.segments
                        .last()
                        .is_some_and(|s| s.ident == "MockServerExt")
                }) =>
            {
                for tokens in &impl_items {
                    i.items
                        .push(syn::parse2(tokens.clone()).map_err(|e| e.to_string())?);
                }
            }
            _ => {}
        }
    }
    if names.is_empty() {
        return Err("progenitor's httpmock output has no `MockServerExt`".into());
    }
    names.sort();
    file.items.push(syn::parse_quote! {
        /// The `operationId` of every operation with a [`MockServerExt`]
        /// helper (every operation of the spec), sorted.
        pub const OPERATION_IDS: &[&str] = &[#(#names),*];
    });
    Ok(())
}

/// One operation's helper types.
pub(crate) struct OwnMock {
    pub(crate) op: syn::Ident,
    pub(crate) when: syn::Ident,
    pub(crate) then: syn::Ident,
    pub(crate) items: TokenStream,
}

/// `^...$` of `path` with each `{param}` as `[^/]*`, or as `value` for the
/// parameter `only` (a format string: `{}` where the escaped value goes).
fn path_regex(path: &str, only: Option<&str>) -> String {
    let mut out = String::from("^");
    let mut rest = path;
    while let Some(start) = rest.find('{') {
        out.push_str(&regex_escape(&rest[..start]));
        let end = rest[start..]
            .find('}')
            .map_or(rest.len(), |e| start + e + 1);
        let name = &rest[start + 1..end.saturating_sub(1).max(start + 1)];
        out.push_str(if Some(name) == only { "{}" } else { "[^/]*" });
        rest = &rest[end..];
    }
    out.push_str(&regex_escape(rest));
    out.push('$');
    out
}

fn regex_escape(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if "\\.+*?()|[]{}^$#&-~".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The names an operation's matchers take, each once (`new` and `into_inner`
/// are the wrappers' own).
struct Names<'a> {
    op_id: &'a str,
    seen: std::collections::BTreeSet<String>,
}

impl Names<'_> {
    fn claim(&mut self, name: &str) -> Result<syn::Ident, String> {
        if self.seen.insert(name.to_string()) {
            Ok(format_ident!("{}", name))
        } else {
            Err(format!(
                "{}: two httpmock matchers would be named `{name}`",
                self.op_id
            ))
        }
    }
}

/// The helper types of one operation `forms` generates.
pub(crate) fn own_mock(spec: &OpenAPI, own: &OwnOp, forms: &mut Forms) -> Result<OwnMock, String> {
    let op = &own.op;
    let op_id = op
        .operation_id
        .as_deref()
        .ok_or_else(|| format!("{} {}: no operationId", own.method, own.path))?;
    let when = format_ident!("{}", pascal(&format!("{op_id}_when")));
    let then = format_ident!("{}", pascal(&format!("{op_id}_then")));
    let method = format_ident!("{}", own.method.to_uppercase());
    let path_re = path_regex(&own.path, None);
    let mut names = Names {
        op_id,
        seen: std::collections::BTreeSet::from(["new".to_string(), "into_inner".to_string()]),
    };
    let mut when_fns = param_matchers(spec, own, op_id, &mut names)?;
    when_fns.extend(json_body_matcher(spec, op, op_id, &mut names)?);
    let (form_fns, new_matchers) = form_matchers(spec, op, op_id, forms, &mut names)?;
    when_fns.extend(form_fns);
    let then_fns = answer_fns(spec, op, op_id)?;

    let when_doc = format!(
        "Matches `{} {}` (`{op_id}`), generated by identifai-codegen from the spec.",
        own.method.to_uppercase(),
        own.path
    );
    let new_doc = if new_matchers.is_empty() {
        "The method and the path.".to_string()
    } else {
        "The method, the path, and a `multipart/form-data` body with every field the spec \
         requires, no field it does not name, and file parts of the content types its \
         `encoding` allows."
            .to_string()
    };
    let then_doc = format!("The answers the spec documents for `{op_id}`.");
    let op_ident = format_ident!("{}", op_id);
    let items = quote! {
        #[doc = #when_doc]
        pub struct #when(::httpmock::When);
        impl #when {
            #[doc = #new_doc]
            pub fn new(inner: ::httpmock::When) -> Self {
                Self(inner
                    .method(::httpmock::Method::#method)
                    .path_matches(regex::Regex::new(#path_re).unwrap())
                    #(#new_matchers)*)
            }
            /// The plain httpmock `When`.
            pub fn into_inner(self) -> ::httpmock::When {
                self.0
            }
            #(#when_fns)*
        }

        #[doc = #then_doc]
        pub struct #then(::httpmock::Then);
        impl #then {
            /// Wraps a plain httpmock `Then`.
            pub fn new(inner: ::httpmock::Then) -> Self {
                Self(inner)
            }
            /// The plain httpmock `Then`.
            pub fn into_inner(self) -> ::httpmock::Then {
                self.0
            }
            #(#then_fns)*
        }
    };
    Ok(OwnMock {
        op: op_ident,
        when,
        then,
        items,
    })
}

/// The matchers of an operation's path, header and query parameters.
fn param_matchers(
    spec: &OpenAPI,
    own: &OwnOp,
    op_id: &str,
    names: &mut Names,
) -> Result<Vec<TokenStream>, String> {
    let op = &own.op;
    let mut when_fns = Vec::new();
    for p in &op.parameters {
        let p = resolve_parameter(spec, p)?;
        let data = p.parameter_data_ref();
        let ident = names.claim(&snake(data.name.trim_end_matches("[]")))?;
        match p {
            Parameter::Path { .. } => {
                let re = path_regex(&own.path, Some(&data.name));
                let doc = format!("The path parameter `{}` is `value`.", data.name);
                when_fns.push(quote! {
                    #[doc = #doc]
                    pub fn #ident(self, value: &str) -> Self {
                        let re = regex::Regex::new(&format!(#re, regex::escape(value))).unwrap();
                        Self(self.0.path_matches(re))
                    }
                });
            }
            Parameter::Header { .. } => {
                let ty = param_type(spec, data, op_id)?;
                let name = data.name.to_ascii_lowercase();
                let doc = format!("The header `{}` is `value`.", data.name);
                when_fns.push(quote! {
                    #[doc = #doc]
                    pub fn #ident(self, value: #ty) -> Self {
                        Self(self.0.header(#name, value.to_string()))
                    }
                });
            }
            Parameter::Query { .. } => {
                let name = &data.name;
                let doc = format!("The query parameter `{name}` is `value` (every value, in order, for an array).");
                when_fns.push(quote! {
                    #[doc = #doc]
                    pub fn #ident(self, value: &[&str]) -> Self {
                        let mut inner = self.0;
                        for v in value {
                            inner = inner.query_param(#name, *v);
                        }
                        Self(inner)
                    }
                });
            }
            _ => {
                return Err(format!(
                    "{op_id}: parameter {} is not supported by the httpmock generator",
                    data.name
                ))
            }
        }
    }

    Ok(when_fns)
}

/// The matcher of a JSON body of a component schema: matched whole, as
/// progenitor's helpers match theirs.
fn json_body_matcher(
    spec: &OpenAPI,
    op: &Operation,
    op_id: &str,
    names: &mut Names,
) -> Result<Option<TokenStream>, String> {
    let mut when_fns = None;
    if let Some(body) = &op.request_body {
        let body = resolve_body(spec, body)?;
        let json_ref = body
            .content
            .get("application/json")
            .and_then(|m| m.schema.as_ref());
        match (body.content.get("multipart/form-data"), json_ref) {
            (Some(_), _) => {}
            (None, Some(ReferenceOr::Reference { reference })) => {
                // A JSON body of a component schema: matched whole, as
                // progenitor's helpers match theirs.
                let ty = component_type(spec, reference, op_id)?;
                let ident = names.claim("body")?;
                when_fns = Some(quote! {
                    /// The JSON body equals `value`.
                    pub fn #ident(self, value: &types::#ty) -> Self {
                        Self(self.0.json_body_obj(value))
                    }
                });
            }
            _ => {
                return Err(format!(
                    "{op_id}: only multipart/form-data and JSON component bodies are generated here"
                ))
            }
        }
    }
    Ok(when_fns)
}

/// The matchers of a multipart body's fields, and the matcher `new` adds
/// (the body conforms to the form's schema).
fn form_matchers(
    spec: &OpenAPI,
    op: &Operation,
    op_id: &str,
    forms: &mut Forms,
    names: &mut Names,
) -> Result<(Vec<TokenStream>, Vec<TokenStream>), String> {
    let mut when_fns = Vec::new();
    let mut new_matchers = Vec::new();
    let multipart = match &op.request_body {
        Some(body) => resolve_body(spec, body)?.content.get("multipart/form-data"),
        None => None,
    };
    if let Some(media) = multipart {
        let schema = multipart_schema(spec, media, op_id)?;
        let SchemaKind::Type(Type::Object(obj)) = &schema.schema_kind else {
            return Err(format!("{op_id}: multipart schema must be an object"));
        };
        let mut fields = Vec::new();
        let mut files = Vec::new();
        for (name, prop) in &obj.properties {
            let ReferenceOr::Item(prop) = prop else {
                return Err(format!(
                    "{op_id}.{name}: $ref form fields are not supported"
                ));
            };
            fields.push(name.clone());
            let field = snake(name);
            let required = obj.required.contains(name);
            match field_kind(op_id, name, prop, media, forms)? {
                FieldKind::File { content_types } => {
                    files.push(quote! { (#name, &[#(#content_types),*]) });
                    let ident = names.claim(&field)?;
                    let ct = names.claim(&format!("{field}_content_type"))?;
                    let file_name = names.claim(&format!("{field}_file_name"))?;
                    let doc = format!("The file part `{name}` holds exactly these bytes.");
                    let ct_doc = format!(
                        "The part `{name}` has this content type (parameters and case ignored)."
                    );
                    let fname_doc = format!("The part `{name}` has this file name.");
                    when_fns.push(quote! {
                        #[doc = #doc]
                        pub fn #ident(self, content: impl AsRef<[u8]>) -> Self {
                            let content = content.as_ref().to_vec();
                            Self(self.0.is_true(move |req| super::form::file_is(req, #name, &content)))
                        }
                        #[doc = #ct_doc]
                        pub fn #ct(self, value: &str) -> Self {
                            let value = value.to_string();
                            Self(self.0.is_true(move |req| super::form::content_type_is(req, #name, &value)))
                        }
                        #[doc = #fname_doc]
                        pub fn #file_name(self, value: &str) -> Self {
                            let value = value.to_string();
                            Self(self.0.is_true(move |req| super::form::file_name_is(req, #name, &value)))
                        }
                    });
                    if !required {
                        let missing = names.claim(&format!("{field}_missing"))?;
                        let doc = format!("The file part `{name}` is not sent.");
                        when_fns.push(quote! {
                            #[doc = #doc]
                            pub fn #missing(self) -> Self {
                                Self(self.0.is_true(|req| super::form::text_is(req, #name, None)))
                            }
                        });
                    }
                }
                kind => when_fns.push(text_field_matcher(
                    name,
                    &field,
                    kind,
                    required,
                    prop.schema_data.nullable,
                    names,
                )?),
            }
        }
        let required: Vec<&String> = obj.required.iter().collect();
        new_matchers.push(quote! {
            .is_true(|req| super::form::conforms(req, &super::form::FormSpec {
                required: &[#(#required),*],
                fields: &[#(#fields),*],
                files: &[#(#files),*],
            }))
        });
    }

    Ok((when_fns, new_matchers))
}

/// The matcher of a text or enum form field `name` (`field` in Rust).
fn text_field_matcher(
    name: &str,
    field: &str,
    kind: FieldKind,
    required: bool,
    nullable: bool,
    names: &mut Names,
) -> Result<TokenStream, String> {
    let ty = match kind {
        FieldKind::Text(t) if t.to_string() == "String" => quote! { &'a str },
        FieldKind::Text(t) => t,
        FieldKind::Enum(e) => quote! { forms::#e },
        FieldKind::File { .. } => unreachable!("form_matchers matches file parts itself"),
    };
    let ident = names.claim(field)?;
    let lifetime = ty.to_string().contains("'a").then(|| quote! { 'a, });
    if required && nullable {
        let doc = format!(
            "`Some(value)`: the field `{name}` is sent with `value` (as the \
             client writes it); `None`: it is sent empty (null)."
        );
        Ok(quote! {
            #[doc = #doc]
            pub fn #ident<#lifetime T>(self, value: T) -> Self
            where
                T: Into<Option<#ty>>,
            {
                let value = value.into().map_or_else(String::new, |v| v.to_string());
                Self(self.0.is_true(move |req| super::form::text_is(req, #name, Some(&value))))
            }
        })
    } else if required {
        let doc = format!("The field `{name}` is sent with `value` (as the client writes it).");
        Ok(quote! {
            #[doc = #doc]
            pub fn #ident<#lifetime>(self, value: #ty) -> Self {
                let value = value.to_string();
                Self(self.0.is_true(move |req| super::form::text_is(req, #name, Some(&value))))
            }
        })
    } else {
        let doc = format!(
            "`Some(value)`: the field `{name}` is sent with `value` (as the \
             client writes it); `None`: it is not sent."
        );
        Ok(quote! {
            #[doc = #doc]
            pub fn #ident<#lifetime T>(self, value: T) -> Self
            where
                T: Into<Option<#ty>>,
            {
                let value = value.into().map(|v| v.to_string());
                Self(self.0.is_true(move |req| super::form::text_is(req, #name, value.as_deref())))
            }
        })
    }
}

/// The `Then` helpers of an operation: one per documented status and
/// content type.
fn answer_fns(spec: &OpenAPI, op: &Operation, op_id: &str) -> Result<Vec<TokenStream>, String> {
    let mut then_fns = Vec::new();
    let mut then_seen = std::collections::BTreeSet::new();
    for (status, resp) in &op.responses.responses {
        let openapiv3::StatusCode::Code(code) = status else {
            return Err(format!("{op_id}: status ranges are not supported here"));
        };
        let resp = resolve_response(spec, resp)?;
        let reason = reason(*code)
            .ok_or_else(|| format!("{op_id}: status {code} has no standard reason phrase"))?;
        let doc_base = format!("Answers `{code}`: {}", resp.description);
        if resp.content.is_empty() {
            let ident = format_ident!("{}", reason);
            then_seen.insert(reason.clone());
            then_fns.push(quote! {
                #[doc = #doc_base]
                pub fn #ident(self) -> Self {
                    Self(self.0.status(#code))
                }
            });
            continue;
        }
        let bare = resp
            .content
            .keys()
            .position(|k| k.starts_with("application/json"))
            .unwrap_or(0);
        for (i, (media_type, media)) in resp.content.iter().enumerate() {
            let name = if i == bare {
                reason.clone()
            } else {
                format!("{reason}_{}", snake(media_type))
            };
            if !then_seen.insert(name.clone()) {
                return Err(format!(
                    "{op_id}: two httpmock answers would be named `{name}`"
                ));
            }
            let ident = format_ident!("{}", name);
            let doc = format!("{doc_base} (`{media_type}`)");
            let is_json = media_type.starts_with("application/json");
            let string_schema = matches!(
                &media.schema,
                Some(ReferenceOr::Item(s)) if matches!(&s.schema_kind, SchemaKind::Type(Type::String(st))
                    if st.format != openapiv3::VariantOrUnknownOrEmpty::Item(openapiv3::StringFormat::Binary))
            );
            then_fns.push(if is_json {
                let ty = match &media.schema {
                    Some(ReferenceOr::Reference { reference }) => {
                        let ty = component_type(spec, reference, op_id)?;
                        quote! { &types::#ty }
                    }
                    _ => quote! { &::serde_json::Value },
                };
                quote! {
                    #[doc = #doc]
                    pub fn #ident(self, value: #ty) -> Self {
                        Self(self.0.status(#code).header("content-type", #media_type).json_body_obj(value))
                    }
                }
            } else if string_schema || media_type.starts_with("text/") {
                quote! {
                    #[doc = #doc]
                    pub fn #ident(self, value: &str) -> Self {
                        Self(self.0.status(#code).header("content-type", #media_type).body(value))
                    }
                }
            } else {
                quote! {
                    #[doc = #doc]
                    pub fn #ident(self, value: impl AsRef<[u8]>) -> Self {
                        Self(self.0.status(#code).header("content-type", #media_type).body(value))
                    }
                }
            });
        }
    }

    Ok(then_fns)
}

/// The helper name of a status: its reason phrase in snake case, as
/// progenitor names them (`200` -> `ok`, `204` -> `no_content`).
fn reason(code: u16) -> Option<String> {
    let phrase = match code {
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        206 => "Partial Content",
        301 => "Moved Permanently",
        302 => "Found",
        304 => "Not Modified",
        400 => "Bad Request",
        401 => "Unauthorized",
        402 => "Payment Required",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        410 => "Gone",
        413 => "Payload Too Large",
        415 => "Unsupported Media Type",
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => return None,
    };
    Some(phrase.to_ascii_lowercase().replace(' ', "_"))
}

/// For every `XThen` of the `operations` module: [`UNDOCUMENTED`]'s
/// answers it lacks, and `retry_after`.
fn undocumented_answers(content: &mut Vec<syn::Item>) -> Result<(), String> {
    let mut has: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for item in content.iter() {
        match item {
            syn::Item::Struct(s) if s.ident.to_string().ends_with("Then") => {
                has.entry(s.ident.to_string()).or_default();
            }
            syn::Item::Impl(i) if i.trait_.is_none() => {
                let syn::Type::Path(p) = &*i.self_ty else {
                    continue;
                };
                let Some(name) = p.path.segments.last().map(|s| s.ident.to_string()) else {
                    continue;
                };
                let fns = i.items.iter().filter_map(|f| match f {
                    syn::ImplItem::Fn(f) => Some(f.sig.ident.to_string()),
                    _ => None,
                });
                has.entry(name).or_default().extend(fns);
            }
            _ => {}
        }
    }
    for (then, fns) in has {
        if !then.ends_with("Then") {
            continue;
        }
        let ident = format_ident!("{}", then);
        let mut added = Vec::new();
        for (code, name, body) in UNDOCUMENTED {
            if fns.iter().any(|f| f == name) {
                continue;
            }
            let fn_ident = format_ident!("{}", name);
            let doc = format!(
                "Answers `{code}` with `{body}` (and `Retry-After: retry_after` when given): \
                 an answer every operation can meet though the published pages do not list it."
            );
            added.push(quote! {
                #[doc = #doc]
                pub fn #fn_ident(self, retry_after: Option<u64>) -> Self {
                    let mut inner = self.0
                        .status(#code)
                        .header("content-type", "application/json")
                        .body(#body);
                    if let Some(seconds) = retry_after {
                        inner = inner.header("retry-after", seconds.to_string());
                    }
                    Self(inner)
                }
            });
        }
        if !fns.iter().any(|f| f == "retry_after") {
            added.push(quote! {
                /// Adds `Retry-After: seconds` to the answer (a 429's or a 503's).
                pub fn retry_after(self, seconds: u64) -> Self {
                    Self(self.0.header("retry-after", seconds.to_string()))
                }
            });
        }
        content.push(syn::parse_quote! {
            impl #ident {
                #(#added)*
            }
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::partition::partition;
    use crate::test_support::spec;

    const SPEC: &str = r##"
openapi: 3.0.3
info: {title: t, version: "1"}
paths:
  /api/things/{id}:
    get:
      operationId: get_thing
      parameters: [{name: id, in: path, required: true, schema: {type: string}}]
      responses:
        "200": {description: one, content: {application/json: {schema: {$ref: "#/components/schemas/Thing"}}}}
        "401": {description: no key, content: {application/json: {schema: {$ref: "#/components/schemas/Err"}}}}
  /api/picture/{id}:
    get:
      operationId: get_picture
      parameters: [{name: id, in: path, required: true, schema: {type: string}}]
      responses:
        "200": {description: png, content: {image/png: {schema: {type: string, format: binary}}}}
        "204": {description: none yet}
        "429": {description: slow down, content: {application/json: {schema: {$ref: "#/components/schemas/Err"}}}}
  /api/upload:
    post:
      operationId: upload
      parameters:
        - {name: Accept, in: header, schema: {type: string}}
      requestBody:
        content:
          multipart/form-data:
            schema:
              type: object
              required: [file]
              properties:
                file: {type: string, format: binary}
                note: {type: string}
                count: {type: integer}
                mode: {type: string, enum: [fast, slow]}
            encoding:
              file: {contentType: "image/png, image/*"}
      responses:
        "200":
          description: id
          content:
            application/json: {schema: {$ref: "#/components/schemas/Thing"}}
            text/plain: {schema: {type: string}}
        "400": {description: bad, content: {application/json: {schema: {$ref: "#/components/schemas/Err"}}}}
        "503": {description: down, content: {application/json: {schema: {$ref: "#/components/schemas/Err"}}}}
components:
  schemas:
    Thing: {type: object, properties: {id: {type: string}}}
    Err: {type: object, properties: {error: {type: string}}}
"##;

    /// progenitor's helpers for the spec's JSON operations, extended.
    fn generated(yaml: &str) -> syn::File {
        let s = spec(yaml);
        let (for_progenitor, own) = partition(&s).unwrap();
        let mut generator =
            progenitor_impl::Generator::new(&progenitor_impl::GenerationSettings::default());
        let tokens = generator.httpmock(&for_progenitor, "crate::api").unwrap();
        let mut file: syn::File = syn::parse2(tokens).unwrap();
        extend_httpmock(&s, &own, &mut file).unwrap();
        file
    }

    fn operations_mod(file: &syn::File) -> &Vec<syn::Item> {
        file.items
            .iter()
            .find_map(|i| match i {
                syn::Item::Mod(m) if m.ident == "operations" => {
                    Some(&m.content.as_ref().unwrap().1)
                }
                _ => None,
            })
            .unwrap()
    }

    /// The methods of every inherent impl of `ty` in `operations`, sorted.
    fn fns_of(file: &syn::File, ty: &str) -> Vec<String> {
        let mut out = Vec::new();
        for item in operations_mod(file) {
            if let syn::Item::Impl(i) = item {
                let self_ty = &i.self_ty;
                if quote!(#self_ty).to_string() == ty {
                    for f in &i.items {
                        if let syn::ImplItem::Fn(f) = f {
                            out.push(f.sig.ident.to_string());
                        }
                    }
                }
            }
        }
        out.sort();
        out
    }

    /// The strings of `OPERATION_IDS`.
    fn operation_ids(file: &syn::File) -> Vec<String> {
        let konst = file
            .items
            .iter()
            .find_map(|i| match i {
                syn::Item::Const(c) if c.ident == "OPERATION_IDS" => Some(c),
                _ => None,
            })
            .expect("OPERATION_IDS");
        let expr = &konst.expr;
        let text = quote!(#expr).to_string();
        text.split('"')
            .skip(1)
            .step_by(2)
            .map(str::to_string)
            .collect()
    }

    #[test]
    fn every_operation_gets_a_helper_with_every_documented_answer() {
        let file = generated(SPEC);
        let text = prettyplease::unparse(&file);
        // One MockServerExt method per operation, listed in OPERATION_IDS.
        assert_eq!(operation_ids(&file), ["get_picture", "get_thing", "upload"]);
        for op in ["fn get_thing<F>", "fn get_picture<F>", "fn upload<F>"] {
            assert_eq!(text.matches(op).count(), 2, "{op} in trait and impl");
        }
        // The heatmap-like operation: bytes, 204, the error, 503 added.
        assert_eq!(
            fns_of(&file, "GetPictureThen"),
            [
                "into_inner",
                "new",
                "no_content",
                "ok",
                "retry_after",
                "service_unavailable",
                "too_many_requests"
            ]
        );
        assert!(text.contains("pub fn ok(self, value: impl AsRef<[u8]>) -> Self"));
        assert!(text.contains(r#".header("content-type", "image/png")"#));
        // The form: JSON and text answers; its own 503 (documented, typed) wins.
        assert_eq!(
            fns_of(&file, "UploadThen"),
            [
                "bad_request",
                "into_inner",
                "new",
                "ok",
                "ok_text_plain",
                "retry_after",
                "service_unavailable"
            ]
        );
        assert!(text.contains("pub fn service_unavailable(self, value: &types::Err) -> Self"));
        assert!(text.contains("pub fn ok_text_plain(self, value: &str) -> Self"));
        // progenitor's JSON operation gets the 503 too.
        assert!(fns_of(&file, "GetThingThen").contains(&"service_unavailable".to_string()));
    }

    #[test]
    fn a_form_is_matched_by_path_method_required_and_named_fields() {
        let file = generated(SPEC);
        let text = prettyplease::unparse(&file);
        assert_eq!(
            fns_of(&file, "UploadWhen"),
            [
                "accept",
                "count",
                "file",
                "file_content_type",
                "file_file_name",
                "into_inner",
                "mode",
                "new",
                "note"
            ]
        );
        assert!(text.contains(".method(::httpmock::Method::POST)"), "{text}");
        assert!(
            text.contains(r#"regex::Regex::new("^/api/upload$")"#),
            "{text}"
        );
        assert!(text.contains(r#"required: &["file"]"#), "{text}");
        assert!(
            text.contains(r#"fields: &["file", "note", "count", "mode"]"#),
            "{text}"
        );
        assert!(
            text.contains(r#"files: &[("file", &["image/png", "image/*"])]"#),
            "{text}"
        );
        // Optional text fields take Into<Option<..>>; the enum is the form's type.
        assert!(text.contains("T: Into<Option<&'a str>>"), "{text}");
        assert!(text.contains("T: Into<Option<forms::Mode>>"), "{text}");
        assert!(text.contains("T: Into<Option<i64>>"), "{text}");
        // A path parameter matches its escaped value in place.
        assert!(
            text.contains(r#"&format!("^/api/picture/{}$", regex::escape(value))"#),
            "{text}"
        );
    }

    #[test]
    fn the_repo_spec_has_a_helper_for_every_operation() {
        let s = spec(&crate::test_support::repo_spec_text());
        let file = generated(&crate::test_support::repo_spec_text());
        let mut ids: Vec<String> = s
            .operations()
            .filter_map(|(_, _, o)| o.operation_id.clone())
            .collect();
        ids.sort();
        assert_eq!(operation_ids(&file), ids);
        assert!(fns_of(&file, "ClassifyImageWhen").contains(&"image".to_string()));
        assert!(fns_of(&file, "GetImageHeatmapThen").contains(&"no_content".to_string()));
        assert!(fns_of(&file, "ClassifyImageFromUrlThen").contains(&"ok_text_plain".to_string()));
        for then in [
            "HealthThen",
            "SavePartnerUserThen",
            "OverrideImageClassificationThen",
        ] {
            assert!(
                fns_of(&file, then).contains(&"service_unavailable".to_string()),
                "{then}"
            );
        }
    }

    #[test]
    fn path_regexes_escape_literals_and_place_parameters() {
        assert_eq!(path_regex("/a.b/{id}/x", None), r"^/a\.b/[^/]*/x$");
        assert_eq!(path_regex("/a/{id}/{h}", Some("h")), r"^/a/[^/]*/{}$");
        assert_eq!(path_regex("/a-{id}", Some("id")), r"^/a\-{}$");
    }

    #[test]
    fn a_status_without_reason_phrase_is_an_error() {
        let odd = SPEC.replace("\"400\": {description: bad", "\"499\": {description: bad");
        let s = spec(&odd);
        let (_, own) = partition(&s).unwrap();
        let upload = own.iter().find(|o| o.path == "/api/upload").unwrap();
        let err = own_mock(&s, upload, &mut Forms::default()).err().unwrap();
        assert!(err.contains("499"), "{err}");
    }
}

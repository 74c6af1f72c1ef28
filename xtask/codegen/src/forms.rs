//! The operations progenitor cannot take (multipart forms, the heatmap):
//! form structs, options groups and `Client` methods.

use openapiv3::{OpenAPI, Operation, Parameter, ReferenceOr, Schema, SchemaKind, Type};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use std::collections::BTreeMap;

use crate::naming::{component_type, pascal, snake};
use crate::partition::{side_errors, OwnOp};
use crate::resolve::{multipart_schema, resolve_body, resolve_parameter, resolve_response};

/// An `x-options-group` member: the form and its optional non-file fields
/// (name, type, doc).
pub(crate) type GroupMember = (syn::Ident, Vec<(String, TokenStream, String)>);

#[derive(Default)]
pub(crate) struct Forms {
    pub(crate) items: Vec<TokenStream>,
    /// `x-options-group` name -> the member forms and their optional,
    /// non-file fields (name -> (type, doc)).
    pub(crate) groups: BTreeMap<String, Vec<GroupMember>>,
    /// Closed enums of form fields, by type name, with their values (so two
    /// forms with the same field share one type).
    pub(crate) enums: BTreeMap<String, Vec<String>>,
}

/// How one form field travels.
pub(crate) enum FieldKind {
    File { content_types: Vec<String> },
    Text(TokenStream),
    Enum(syn::Ident),
}

pub(crate) fn own_method(
    spec: &OpenAPI,
    own: &OwnOp,
    forms: &mut Forms,
    fn_name: Option<&str>,
) -> Result<TokenStream, String> {
    let op = &own.op;
    let op_id = op
        .operation_id
        .as_deref()
        .ok_or_else(|| format!("{} {}: no operationId", own.method, own.path))?;
    let fn_ident = format_ident!("{}", fn_name.unwrap_or(op_id));
    let doc = method_doc(own, op_id, fn_name);
    let Params {
        mut args,
        path_fmt,
        path_args,
        mut header_stmts,
        query_stmts,
        has_accept,
    } = params(spec, own, op_id)?;
    let (body_arg, body_stmt) = body_arg(spec, op, op_id, forms)?;
    args.extend(body_arg);

    // Responses: success statuses hand back the body as a stream (the layer
    // above decides by content type), unless every one is JSON of one
    // component schema: then it is decoded into that type, as progenitor
    // does; documented errors decode ErrorBody.
    // A `*_raw` twin (`fn_name`) always hands back the body undecoded: the
    // layer keeps the JSON text beside the typed value.
    // `optional`: JSON of one schema or no body at all (an override's 200 or
    // 201 next to its 204): the answer is `Option<T>`, `None` for no body.
    let (json_type, optional) = match fn_name {
        Some(_) => (None, false),
        None => match json_success_type(spec, op)? {
            Some(t) => (Some(t), false),
            None => (json_or_empty_success_type(spec, op)?, true),
        },
    };
    let Arms {
        success,
        errors,
        error_type,
    } = status_arms(spec, op, op_id, json_type.is_some(), optional)?;
    let error_type = error_type.unwrap_or(quote! { () });
    let method_ident = format_ident!("{}", own.method);
    // Without an Accept parameter, an operation whose every success answer
    // is JSON asks for JSON, as progenitor's operations do (exactly one
    // Accept: reqwest adds `*/*` only when none is set).
    if !has_accept && (answers_only_json(spec, op)? || (optional && json_type.is_some())) {
        header_stmts.push(quote! {
            header_map.append(
                ::reqwest::header::ACCEPT,
                ::reqwest::header::HeaderValue::from_static("application/json"),
            );
        });
    }
    // The headers go straight into the request, with no map of their own
    // merged in afterwards, and no `reserve` of their number: the request's
    // map is sized on its first insert for the few more the client adds
    // (key, user agent), where a reserved map of two would grow once more.
    let success_type = match &json_type {
        Some(ty) if optional => quote! { Option<types::#ty> },
        Some(ty) => quote! { types::#ty },
        None => quote! { ByteStream },
    };

    Ok(quote! {
        #[doc = #doc]
        pub async fn #fn_ident<'a>(
            &'a self,
            #(#args,)*
        ) -> Result<ResponseValue<#success_type>, Error<#error_type>> {
            let url = format!(concat!("{}", #path_fmt), self.baseurl, #(#path_args,)*);
            let mut request = self
                .client
                .#method_ident(url)
                #(#query_stmts)*
                #body_stmt
                .build()?;
            let header_map = request.headers_mut();
            header_map.append(
                ::reqwest::header::HeaderName::from_static("api-version"),
                ::reqwest::header::HeaderValue::from_static(Self::api_version()),
            );
            #(#header_stmts)*
            let info = OperationInfo { operation_id: #op_id };
            self.pre(&mut request, &info).await?;
            let result = self.exec(request, &info).await;
            self.post(&result, &info).await?;
            let response = result?;
            match response.status().as_u16() {
                #(#success)*
                #(#errors)*
                _ => Err(Error::UnexpectedResponse(response)),
            }
        }
    })
}

/// The doc of an operation's method (`fn_name`: of its `*_raw` twin).
fn method_doc(own: &OwnOp, op_id: &str, fn_name: Option<&str>) -> String {
    let op = &own.op;
    let mut doc = String::new();
    if let Some(s) = &op.summary {
        doc.push_str(s);
        doc.push_str("\n\n");
    }
    if let Some(d) = &op.description {
        doc.push_str(d);
        doc.push_str("\n\n");
    }
    match fn_name {
        None => doc.push_str(&format!(
            "Sends `{} {}`. Generated by `identifai-codegen` (progenitor does not take this operation).",
            own.method.to_uppercase(),
            own.path
        )),
        Some(_) => doc.push_str(&format!(
            "Sends `{} {}` like [`Client::{op_id}`], but hands back the success body \\
             undecoded (generated by `identifai-codegen`'s `media_kinds`, for the layer's \\
             whole answers: `identifai::Classified`).",
            own.method.to_uppercase(),
            own.path
        )),
    }

    doc
}

/// A method's parameters and what it does with them.
#[derive(Default)]
struct Params {
    args: Vec<TokenStream>,
    /// The path, `{}` for each path parameter.
    path_fmt: String,
    path_args: Vec<TokenStream>,
    header_stmts: Vec<TokenStream>,
    query_stmts: Vec<TokenStream>,
    /// Whether the operation has an `Accept` parameter of its own.
    has_accept: bool,
}

/// The path, query and header parameters of an operation's method.
fn params(spec: &OpenAPI, own: &OwnOp, op_id: &str) -> Result<Params, String> {
    let op = &own.op;
    // Parameters: path parameters, and the Accept header.
    let mut out = Params {
        path_fmt: own.path.clone(),
        ..Params::default()
    };
    for p in &op.parameters {
        let p = resolve_parameter(spec, p)?;
        let data = p.parameter_data_ref();
        match p {
            Parameter::Path { .. } => {
                let ident = format_ident!("{}", snake(&data.name));
                out.path_fmt = out.path_fmt.replace(&format!("{{{}}}", data.name), "{}");
                out.args.push(quote! { #ident: &str });
                out.path_args
                    .push(quote! { crate::api::runtime::encode_path(#ident) });
            }
            Parameter::Query { .. } => {
                let ident = format_ident!("{}", snake(data.name.trim_end_matches("[]")));
                let name = &data.name;
                let is_array = matches!(
                    &data.format,
                    openapiv3::ParameterSchemaOrContent::Schema(ReferenceOr::Item(s))
                        if matches!(s.schema_kind, SchemaKind::Type(Type::Array(_)))
                );
                if is_array {
                    out.args.push(quote! { #ident: &[::std::string::String] });
                    out.query_stmts.push(quote! {
                        .query(&progenitor_client::QueryParam::new(#name, &#ident))
                    });
                } else {
                    out.args.push(quote! { #ident: Option<&str> });
                    out.query_stmts.push(quote! {
                        .query(&progenitor_client::QueryParam::new(#name, &#ident))
                    });
                }
            }
            Parameter::Header { .. } => {
                out.has_accept |= data.name.eq_ignore_ascii_case("accept");
                let ident = format_ident!("{}", snake(&data.name));
                let ty = param_type(spec, data, op_id)?;
                let name = data.name.to_ascii_lowercase();
                out.args.push(quote! { #ident: Option<#ty> });
                out.header_stmts.push(quote! {
                    if let Some(v) = #ident {
                        header_map.append(
                            ::reqwest::header::HeaderName::from_static(#name),
                            ::reqwest::header::HeaderValue::try_from(v.to_string())?,
                        );
                    }
                });
            }
            _ => {
                return Err(format!(
                    "{op_id}: parameter {} ({:?}) is not supported by identifai-codegen",
                    data.name, p
                ))
            }
        }
    }

    Ok(out)
}

/// The body argument of an operation's method (its form, or its JSON
/// component type; a form struct goes into `forms`) and how it is sent.
fn body_arg(
    spec: &OpenAPI,
    op: &Operation,
    op_id: &str,
    forms: &mut Forms,
) -> Result<(Option<TokenStream>, TokenStream), String> {
    let mut arg = None;
    let mut body_stmt = quote! {};
    if let Some(body) = &op.request_body {
        let body = resolve_body(spec, body)?;
        if let Some(media) = body.content.get("multipart/form-data") {
            let form_ident = format_ident!("{}Form", pascal(op_id));
            let form = form_struct(spec, op_id, &form_ident, media, forms)?;
            forms.items.push(form);
            arg = Some(quote! { body: forms::#form_ident });
            body_stmt = quote! { .multipart(body.into_multipart()?) };
        } else if let Some(ReferenceOr::Reference { reference }) = body
            .content
            .get("application/json")
            .and_then(|m| m.schema.as_ref())
        {
            // A JSON body of a component schema, as progenitor takes it.
            let ty = component_type(spec, reference, op_id)?;
            arg = Some(quote! { body: &'a types::#ty });
            body_stmt = quote! { .json(&body) };
        } else {
            return Err(format!(
                "{op_id}: only multipart/form-data and JSON component bodies are generated here"
            ));
        }
    }

    Ok((arg, body_stmt))
}

/// The match arms of a method's answer by status.
struct Arms {
    success: Vec<TokenStream>,
    /// The documented errors'.
    errors: Vec<TokenStream>,
    /// The error body's type, when an error is documented.
    error_type: Option<TokenStream>,
}

/// The match arms of a method's answer by status (success, documented
/// errors) and the error body's type. `json`: the success answer is decoded
/// JSON (`optional`: or no body at all).
fn status_arms(
    spec: &OpenAPI,
    op: &Operation,
    op_id: &str,
    json: bool,
    optional: bool,
) -> Result<Arms, String> {
    let mut success = Vec::new();
    let mut errors = Vec::new();
    let mut error_type: Option<TokenStream> = None;
    // Error statuses of another schema than the operation's (Laravel's 422)
    // are left to the layer, as for progenitor's operations (`side_errors`).
    let side = side_errors(spec, op)?;
    for (status, resp) in &op.responses.responses {
        if side.contains(status) {
            continue;
        }
        let openapiv3::StatusCode::Code(code) = status else {
            return Err(format!("{op_id}: status ranges are not supported here"));
        };
        let resp = resolve_response(spec, resp)?;
        if (200..300).contains(code) {
            success.push(match json {
                true if optional && resp.content.is_empty() => {
                    quote! { #code => Ok(crate::api::body::no_body(response)), }
                }
                true if optional => {
                    quote! { #code => crate::api::body::from_response_some(response).await, }
                }
                true => quote! { #code => crate::api::body::from_response(response).await, },
                false => quote! { #code => Ok(crate::api::body::stream(response)), },
            });
        } else {
            let schema = resp
                .content
                .get("application/json")
                .and_then(|m| m.schema.as_ref())
                .ok_or_else(|| format!("{op_id}: error {code} has no JSON schema"))?;
            let ReferenceOr::Reference { reference } = schema else {
                return Err(format!(
                    "{op_id}: error {code} must use a $ref error schema"
                ));
            };
            let ty = component_type(spec, reference, op_id)?;
            let ty = quote! { types::#ty };
            match &error_type {
                Some(t) if t.to_string() != ty.to_string() => {
                    return Err(format!("{op_id}: all error bodies must share one schema"))
                }
                _ => error_type = Some(ty),
            }
            errors.push(quote! {
                #code => Err(Error::ErrorResponse(crate::api::body::from_response(response).await?)),
            });
        }
    }
    Ok(Arms {
        success,
        errors,
        error_type,
    })
}

/// The Rust type of the one component schema every success response of `op`
/// answers with as JSON (and nothing else), if there is one.
pub(crate) fn json_success_type(
    spec: &OpenAPI,
    op: &Operation,
) -> Result<Option<syn::Ident>, String> {
    if !answers_only_json(spec, op)? {
        return Ok(None);
    }
    let mut refs = std::collections::BTreeSet::new();
    for (status, resp) in &op.responses.responses {
        if matches!(status, openapiv3::StatusCode::Code(200..=299)) {
            let resp = resolve_response(spec, resp)?;
            for media in resp.content.values() {
                match &media.schema {
                    Some(ReferenceOr::Reference { reference }) => {
                        refs.insert(reference.clone());
                    }
                    _ => return Ok(None),
                }
            }
        }
    }
    let refs: Vec<String> = refs.into_iter().collect();
    let [reference] = &refs[..] else {
        return Ok(None);
    };
    let op_id = op.operation_id.as_deref().unwrap_or_default();
    Ok(Some(component_type(spec, reference, op_id)?))
}

/// The Rust type of the one component schema the success responses of `op`
/// that have a body answer with as JSON, when the others have no body (an
/// override's 200/201 and 204): the answer is then `Option` of it.
pub(crate) fn json_or_empty_success_type(
    spec: &OpenAPI,
    op: &Operation,
) -> Result<Option<syn::Ident>, String> {
    let mut refs = std::collections::BTreeSet::new();
    let mut empty = false;
    for (status, resp) in &op.responses.responses {
        if !matches!(status, openapiv3::StatusCode::Code(200..=299)) {
            continue;
        }
        let resp = resolve_response(spec, resp)?;
        if resp.content.is_empty() {
            empty = true;
            continue;
        }
        for (media, mt) in &resp.content {
            match &mt.schema {
                Some(ReferenceOr::Reference { reference })
                    if media.starts_with("application/json") =>
                {
                    refs.insert(reference.clone());
                }
                _ => return Ok(None),
            }
        }
    }
    let refs: Vec<String> = refs.into_iter().collect();
    let ([reference], true) = (&refs[..], empty) else {
        return Ok(None);
    };
    let op_id = op.operation_id.as_deref().unwrap_or_default();
    Ok(Some(component_type(spec, reference, op_id)?))
}

/// Whether every success response of `op` has a body, all of it JSON.
pub(crate) fn answers_only_json(spec: &OpenAPI, op: &Operation) -> Result<bool, String> {
    let mut any = false;
    for (status, resp) in &op.responses.responses {
        if matches!(status, openapiv3::StatusCode::Code(200..=299)) {
            let resp = resolve_response(spec, resp)?;
            if resp.content.is_empty()
                || !resp
                    .content
                    .keys()
                    .all(|k| k.starts_with("application/json"))
            {
                return Ok(false);
            }
            any = true;
        }
    }
    Ok(any)
}

pub(crate) fn param_type(
    spec: &OpenAPI,
    data: &openapiv3::ParameterData,
    op_id: &str,
) -> Result<TokenStream, String> {
    match &data.format {
        openapiv3::ParameterSchemaOrContent::Schema(ReferenceOr::Reference { reference }) => {
            let ty = component_type(spec, reference, op_id)?;
            Ok(quote! { types::#ty })
        }
        openapiv3::ParameterSchemaOrContent::Schema(ReferenceOr::Item(s))
            if matches!(s.schema_kind, SchemaKind::Type(Type::String(_))) =>
        {
            Ok(quote! { &str })
        }
        _ => Err(format!(
            "parameter {}: only $ref and string schemas are supported here",
            data.name
        )),
    }
}

pub(crate) fn form_struct(
    spec: &OpenAPI,
    op_id: &str,
    ident: &syn::Ident,
    media: &openapiv3::MediaType,
    forms: &mut Forms,
) -> Result<TokenStream, String> {
    let schema = multipart_schema(spec, media, op_id)?;
    let SchemaKind::Type(Type::Object(obj)) = &schema.schema_kind else {
        return Err(format!("{op_id}: multipart schema must be an object"));
    };

    let mut fields = Vec::new();
    let mut setters = Vec::new();
    let mut ctor_args = Vec::new();
    let mut ctor_fields = Vec::new();
    let mut parts = Vec::new();
    let mut consts = Vec::new();
    let mut optional = Vec::new();
    for (name, prop) in &obj.properties {
        let field = format_ident!("{}", snake(name));
        let required = obj.required.contains(name);
        let (prop_schema, doc) = match prop {
            ReferenceOr::Item(s) => (&**s, s.schema_data.description.clone().unwrap_or_default()),
            ReferenceOr::Reference { .. } => {
                return Err(format!(
                    "{op_id}.{name}: $ref form fields are not supported"
                ))
            }
        };
        let kind = field_kind(op_id, name, prop_schema, media, forms)?;
        let (ty, part) = match &kind {
            FieldKind::File { content_types } => {
                let konst = format_ident!("{}_CONTENT_TYPES", name.to_ascii_uppercase());
                let const_doc = format!(
                    "The content types the service accepts for the `{name}` file (`*` matches any subtype)."
                );
                consts.push(quote! {
                    #[doc = #const_doc]
                    pub const #konst: &'static [&'static str] = &[#(#content_types),*];
                });
                (
                    quote! { crate::api::FilePart },
                    quote! { form = form.part(#name, v.into_part(#name, Self::#konst)?); },
                )
            }
            FieldKind::Text(ty) => (
                ty.clone(),
                quote! { form = form.text(#name, v.to_string()); },
            ),
            FieldKind::Enum(e) => (
                quote! { #e },
                quote! { form = form.text(#name, v.to_string()); },
            ),
        };
        let nullable = prop_schema.schema_data.nullable;
        if required && nullable && !matches!(kind, FieldKind::File { .. }) {
            // Required but nullable (the partner user's `id`: "null for
            // creation"): `None` is sent as an empty field, which Laravel
            // (its ConvertEmptyStringsToNull middleware) reads as null.
            let doc = format!("{doc} `None` is sent as an empty field (null).");
            fields.push(quote! { #[doc = #doc] pub #field: Option<#ty>, });
            ctor_args.push(quote! { #field: Option<#ty> });
            ctor_fields.push(quote! { #field, });
            parts.push(quote! {
                match self.#field {
                    Some(v) => { #part }
                    None => { form = form.text(#name, ""); }
                }
            });
        } else if required {
            fields.push(quote! { #[doc = #doc] pub #field: #ty, });
            ctor_args.push(quote! { #field: #ty });
            ctor_fields.push(quote! { #field, });
            parts.push(quote! { { let v = self.#field; #part } });
        } else {
            if !matches!(kind, FieldKind::File { .. }) {
                optional.push((name.clone(), ty.clone(), doc.clone()));
            }
            fields.push(quote! { #[doc = #doc] pub #field: Option<#ty>, });
            ctor_fields.push(quote! { #field: None, });
            let setter_doc = format!("Sets `{name}`: {doc}");
            let (arg_ty, conv) = match &kind {
                FieldKind::Text(t) if t.to_string() == quote! { String }.to_string() => {
                    (quote! { impl Into<String> }, quote! { value.into() })
                }
                _ => (ty.clone(), quote! { value }),
            };
            setters.push(quote! {
                #[doc = #setter_doc]
                pub fn #field(mut self, value: #arg_ty) -> Self {
                    self.#field = Some(#conv);
                    self
                }
            });
            parts.push(quote! { if let Some(v) = self.#field { #part } });
        }
    }
    if let Some(group) = schema.schema_data.extensions.get("x-options-group") {
        let group = group
            .as_str()
            .ok_or_else(|| format!("{op_id}: x-options-group must be a string"))?;
        forms
            .groups
            .entry(group.to_string())
            .or_default()
            .push((ident.clone(), optional));
    }
    let struct_doc = format!(
        "The form `{op_id}` sends (`multipart/form-data`). \
         Build it with [`{ident}::new`] (the required fields) and the setters."
    );
    Ok(quote! {
        #[doc = #struct_doc]
        #[derive(Debug)]
        #[non_exhaustive]
        pub struct #ident {
            #(#fields)*
        }

        impl #ident {
            #(#consts)*

            /// A form with the required fields set and every optional one unset.
            pub fn new(#(#ctor_args),*) -> Self {
                Self { #(#ctor_fields)* }
            }

            #(#setters)*

            /// The multipart form sent on the wire (file parts are streamed).
            pub fn into_multipart(self) -> Result<::reqwest::multipart::Form, crate::api::PartError> {
                let mut form = ::reqwest::multipart::Form::new();
                #(#parts)*
                Ok(form)
            }
        }
    })
}

/// The options struct of an `x-options-group`: every optional field of its
/// member forms (the same name has the same type in each), and, on each
/// form, `with_options` and `options_not_taken`. Where the forms differ (an
/// audio upload takes `prevent_c2pa_forces`, an audio URL does not), the
/// struct has the union, each field naming the forms that take it, and the
/// layer refuses an option set for a form that does not take it.
pub(crate) fn options_group(group: &str, members: &[GroupMember]) -> Result<TokenStream, String> {
    if members.is_empty() {
        return Err("empty options group".into());
    }
    let mut union: Vec<(String, TokenStream, String)> = Vec::new();
    for (form, fields) in members {
        for (name, ty, doc) in fields {
            match union.iter().find(|(n, _, _)| n == name) {
                Some((_, t, _)) if t.to_string() != ty.to_string() => {
                    return Err(format!(
                        "options group {group}: `{name}` is {t} in one form and {ty} in {form}"
                    ))
                }
                Some(_) => {}
                None => union.push((name.clone(), ty.clone(), doc.clone())),
            }
        }
    }
    let takers = |name: &str| -> Vec<&syn::Ident> {
        members
            .iter()
            .filter(|(_, fields)| fields.iter().any(|(n, _, _)| n == name))
            .map(|(m, _)| m)
            .collect()
    };
    let shared_docs: Vec<(String, TokenStream, String)> = union
        .iter()
        .map(|(n, t, d)| {
            let by = takers(n);
            let d = if by.len() == members.len() {
                d.clone()
            } else {
                let names: Vec<String> = by.iter().map(|m| format!("[`{m}`]")).collect();
                format!("{d} Only {} take{} it: set for another form, the submission is refused before anything is sent.", names.join(", "), if by.len() == 1 { "s" } else { "" })
            };
            (n.clone(), t.clone(), d)
        })
        .collect();
    let shared: Vec<&(String, TokenStream, String)> = shared_docs.iter().collect();
    let ident = format_ident!("{}", group);
    let idents: Vec<syn::Ident> = shared
        .iter()
        .map(|(n, _, _)| format_ident!("{}", snake(n)))
        .collect();
    let tys: Vec<&TokenStream> = shared.iter().map(|(_, t, _)| t).collect();
    let docs: Vec<&String> = shared.iter().map(|(_, _, d)| d).collect();
    let setter_docs: Vec<String> = shared
        .iter()
        .map(|(n, _, d)| format!("Sets `{n}`: {d}"))
        .collect();
    let (arg_tys, convs): (Vec<TokenStream>, Vec<TokenStream>) = tys
        .iter()
        .map(|t| {
            if t.to_string() == "String" {
                (quote! { impl Into<String> }, quote! { value.into() })
            } else {
                (quote! { #t }, quote! { value })
            }
        })
        .unzip();
    let names: Vec<String> = members.iter().map(|(m, _)| format!("[`{m}`]")).collect();
    let doc = format!(
        "The options of {}: every optional field of them (a field only some of them take \
         says so). Every field starts unset; unset fields are not sent.",
        names.join(", ")
    );
    let member_impls: Vec<TokenStream> = members
        .iter()
        .map(|(m, fields)| {
            let mut taken: Vec<&syn::Ident> = Vec::new();
            let mut not_taken: Vec<&syn::Ident> = Vec::new();
            for (i, (n, _, _)) in idents.iter().zip(&shared) {
                if fields.iter().any(|(f, _, _)| f == n) {
                    taken.push(i);
                } else {
                    not_taken.push(i);
                }
            }
            let not_taken_names: Vec<String> = not_taken.iter().map(|i| i.to_string()).collect();
            let not_taken_doc = format!(
                "The options set in `options` that [`{m}`] does not take (their names): \
                 [`{m}::with_options`] leaves them out."
            );
            let not_taken_body = if not_taken.is_empty() {
                quote! { let _ = options; Vec::new() }
            } else {
                quote! {
                    let mut out: Vec<&'static str> = Vec::new();
                    #( if options.#not_taken.is_some() { out.push(#not_taken_names); } )*
                    out
                }
            };
            quote! {
                impl #m {
                    /// Replaces every option of this form with `options`' value
                    /// (an option this form does not take is left out: see
                    /// `options_not_taken`).
                    #[allow(unused_variables, unused_mut)]
                    pub fn with_options(mut self, options: #ident) -> Self {
                        #( self.#taken = options.#taken; )*
                        self
                    }

                    #[doc = #not_taken_doc]
                    pub fn options_not_taken(options: &#ident) -> Vec<&'static str> {
                        #not_taken_body
                    }
                }
            }
        })
        .collect();
    Ok(quote! {
        #[doc = #doc]
        #[derive(Clone, Debug, Default, PartialEq)]
        #[non_exhaustive]
        pub struct #ident {
            #( #[doc = #docs] pub #idents: Option<#tys>, )*
        }

        impl #ident {
            /// No option set.
            pub fn new() -> Self {
                Self::default()
            }
            #(
                #[doc = #setter_docs]
                pub fn #idents(mut self, value: #arg_tys) -> Self {
                    self.#idents = Some(#convs);
                    self
                }
            )*
        }

        #(#member_impls)*
    })
}

pub(crate) fn field_kind(
    op_id: &str,
    name: &str,
    s: &Schema,
    media: &openapiv3::MediaType,
    forms: &mut Forms,
) -> Result<FieldKind, String> {
    let unsupported =
        || format!("{op_id}.{name}: form field type not supported by identifai-codegen");
    let SchemaKind::Type(t) = &s.schema_kind else {
        return Err(unsupported());
    };
    Ok(match t {
        Type::String(st)
            if st.format
                == openapiv3::VariantOrUnknownOrEmpty::Item(openapiv3::StringFormat::Binary) =>
        {
            let content_types = media
                .encoding
                .get(name)
                .and_then(|e| e.content_type.clone())
                .unwrap_or_else(|| "application/octet-stream".to_string())
                .split(',')
                .map(|t| t.trim().to_string())
                .filter(|t| !t.is_empty())
                .collect();
            FieldKind::File { content_types }
        }
        Type::String(st) if !st.enumeration.is_empty() => {
            let values = st.enumeration.iter().flatten().cloned().collect();
            FieldKind::Enum(form_enum(op_id, name, values, false, forms))
        }
        Type::String(_) => FieldKind::Text(quote! { String }),
        Type::Boolean(_) => FieldKind::Text(quote! { bool }),
        Type::Integer(it) if !it.enumeration.is_empty() => {
            let values = it
                .enumeration
                .iter()
                .flatten()
                .map(|v| v.to_string())
                .collect();
            FieldKind::Enum(form_enum(op_id, name, values, true, forms))
        }
        Type::Integer(_) => FieldKind::Text(quote! { i64 }),
        Type::Number(_) => FieldKind::Text(quote! { f64 }),
        _ => return Err(unsupported()),
    })
}

/// A closed enum for a form field (the client only sends these, so a closed
/// set is what catches a typo at compile time). Shared across forms when the
/// field name and values agree.
pub(crate) fn form_enum(
    op_id: &str,
    name: &str,
    values: Vec<String>,
    integer: bool,
    forms: &mut Forms,
) -> syn::Ident {
    let mut type_name = pascal(name);
    if let Some(existing) = forms.enums.get(&type_name) {
        if existing == &values {
            return format_ident!("{}", type_name);
        }
        type_name = format!("{}{}", pascal(op_id), pascal(name));
    }
    forms.enums.insert(type_name.clone(), values.clone());
    let ident = format_ident!("{}", type_name);
    let variants: Vec<syn::Ident> = values
        .iter()
        .map(|v| {
            if integer {
                format_ident!("V{}", v)
            } else {
                format_ident!("{}", pascal(v))
            }
        })
        .collect();
    let docs: Vec<String> = values.iter().map(|v| format!("`{v}`")).collect();
    let doc = format!("The values the form field `{name}` accepts.");
    let try_from = if integer {
        let nums: Vec<i64> = values
            .iter()
            .map(|v| v.parse().unwrap_or_default())
            .collect();
        let err = format!("{name} must be one of {}", values.join(", "));
        quote! {
            impl ::std::convert::TryFrom<i64> for #ident {
                type Error = crate::api::PartError;
                fn try_from(value: i64) -> Result<Self, Self::Error> {
                    match value {
                        #( #nums => Ok(Self::#variants), )*
                        _ => Err(crate::api::PartError::InvalidValue { field: #name, message: #err.to_string() }),
                    }
                }
            }
        }
    } else {
        let err = format!("{name} must be one of {}", values.join(", "));
        quote! {
            impl ::std::str::FromStr for #ident {
                type Err = crate::api::PartError;
                fn from_str(value: &str) -> Result<Self, Self::Err> {
                    match value {
                        #( #values => Ok(Self::#variants), )*
                        _ => Err(crate::api::PartError::InvalidValue { field: #name, message: #err.to_string() }),
                    }
                }
            }
        }
    };
    forms.items.push(quote! {
        #[doc = #doc]
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum #ident {
            #( #[doc = #docs] #variants, )*
        }

        impl #ident {
            /// The value as sent on the wire.
            pub fn as_str(&self) -> &'static str {
                match self { #( Self::#variants => #values, )* }
            }
        }

        impl ::std::fmt::Display for #ident {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        #try_from
    });
    ident
}

//! The "call every operation" dispatcher of the conformance tests:
//! `api::conformance::call_operation`, one arm per operation of the spec,
//! calling its generated method with sample arguments from the spec, so a
//! test that must call every operation (robustness, the wire matrix) needs
//! no hand-written arm for a new one.
//!
//! The arguments are read off the generated methods' signatures (whatever
//! types progenitor and `forms` chose) and filled from the spec: a
//! parameter's or body's example, else a value made from its schema
//! ([`sample_json`]), decoded into the argument's type at run time; an
//! optional argument is `None`; a form is built with its `new` (its file
//! parts a few bytes of the first content type the spec lists).

use openapiv3::{OpenAPI, Operation, Parameter, ReferenceOr, Schema, SchemaKind, Type};
use proc_macro2::TokenStream;
use quote::{format_ident, quote, ToTokens};
use std::collections::BTreeMap;

use crate::naming::snake;
use crate::resolve::{multipart_schema, resolve_body, resolve_parameter};
use crate::samples::{sample, Purpose};

/// A sample argument of `schema`, by the one sample generator
/// ([`Purpose::Call`]); `doc` is the spec as JSON.
pub(crate) fn sample_json(
    doc: &serde_json::Value,
    schema: &ReferenceOr<Schema>,
) -> serde_json::Value {
    let schema = serde_json::to_value(schema).unwrap_or_default();
    sample(doc, &schema, 0, Purpose::Call).unwrap_or_default()
}

/// What the spec says of one argument: its name there, its sample value,
/// and for a form field, what kind of field it is.
#[derive(Clone, Debug)]
struct SpecArg {
    name: String,
    sample: serde_json::Value,
    field: FieldSample,
}

#[derive(Clone, Debug, PartialEq)]
enum FieldSample {
    Plain,
    /// A file part: the content types its encoding lists.
    File(Vec<String>),
    /// A form enum: built from its first value, by `FromStr` (string) or
    /// `TryFrom<i64>` (integer).
    Enum {
        integer: bool,
    },
}

/// Arguments by their name in Rust.
type SpecArgs = BTreeMap<String, SpecArg>;

/// A generated method's signature, as the dispatcher needs it.
struct Signature {
    args: Vec<(String, String)>,
    ok_stream: bool,
    err_stream: bool,
    upgrade: bool,
}

/// Type tokens without spaces (`&'astr`, `Option<&'astr>`, `forms::XForm`).
fn squash(ty: &impl ToTokens) -> String {
    ty.to_token_stream()
        .to_string()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect()
}

/// Drops the lifetimes of references (`&'a str` -> `&str`).
struct NoLifetimes;

impl syn::visit_mut::VisitMut for NoLifetimes {
    fn visit_type_reference_mut(&mut self, r: &mut syn::TypeReference) {
        r.lifetime = None;
        syn::visit_mut::visit_type_reference_mut(self, r);
    }
}

/// (argument name, its type without lifetimes, squashed) of each typed
/// argument.
fn typed_args(
    inputs: &syn::punctuated::Punctuated<syn::FnArg, syn::token::Comma>,
) -> Vec<(String, String)> {
    inputs
        .iter()
        .filter_map(|a| match a {
            syn::FnArg::Typed(t) => {
                let mut ty = (*t.ty).clone();
                syn::visit_mut::VisitMut::visit_type_mut(&mut NoLifetimes, &mut ty);
                Some((squash(&t.pat), squash(&ty)))
            }
            syn::FnArg::Receiver(_) => None,
        })
        .collect()
}

/// The public methods of `impl Client` blocks, by name.
fn client_methods(items: &[syn::Item]) -> BTreeMap<String, Signature> {
    let mut out = BTreeMap::new();
    for item in items {
        let syn::Item::Impl(i) = item else { continue };
        if i.trait_.is_some() || squash(&i.self_ty) != "Client" {
            continue;
        }
        for it in &i.items {
            let syn::ImplItem::Fn(f) = it else { continue };
            let ret = match &f.sig.output {
                syn::ReturnType::Type(_, t) => squash(t),
                syn::ReturnType::Default => String::new(),
            };
            out.insert(
                f.sig.ident.to_string(),
                Signature {
                    args: typed_args(&f.sig.inputs),
                    ok_stream: ret.contains("ResponseValue<ByteStream>"),
                    err_stream: ret.contains("Error<ByteStream>"),
                    upgrade: ret.contains("Upgraded"),
                },
            );
        }
    }
    out
}

/// The arguments of every form's `new`, by form name.
fn form_constructors(items: &[syn::Item]) -> BTreeMap<String, Vec<(String, String)>> {
    let mut out = BTreeMap::new();
    for item in items {
        let syn::Item::Mod(m) = item else { continue };
        if m.ident != "forms" {
            continue;
        }
        for item in m.content.iter().flat_map(|(_, items)| items) {
            let syn::Item::Impl(i) = item else { continue };
            if i.trait_.is_some() {
                continue;
            }
            for it in &i.items {
                let syn::ImplItem::Fn(f) = it else { continue };
                if f.sig.ident == "new" {
                    out.insert(squash(&i.self_ty), typed_args(&f.sig.inputs));
                }
            }
        }
    }
    out
}

/// An argument's name as the generators spell it (progenitor's snake case,
/// `identifiers[]` as `identifiers`).
fn arg_key(name: &str) -> String {
    snake(name.trim_end_matches("[]"))
        .trim_matches('_')
        .to_ascii_lowercase()
}

/// The spec's arguments of `op`: its parameters and JSON body by argument
/// name, and its form fields (for the form's `new`).
fn spec_args(spec: &OpenAPI, op: &Operation) -> Result<(SpecArgs, SpecArgs), String> {
    let mut params = BTreeMap::new();
    let mut fields = BTreeMap::new();
    let doc = serde_json::to_value(spec).map_err(|e| format!("the spec as JSON: {e}"))?;
    for p in &op.parameters {
        let p = resolve_parameter(spec, p)?;
        let data = p.parameter_data_ref();
        let sample = match (&data.example, &data.format) {
            (Some(e), _) => e.clone(),
            (None, openapiv3::ParameterSchemaOrContent::Schema(s)) => sample_json(&doc, s),
            (None, _) => serde_json::Value::Null,
        };
        params.insert(
            arg_key(&data.name),
            SpecArg {
                name: data.name.clone(),
                sample,
                field: FieldSample::Plain,
            },
        );
    }
    if let Some(body) = &op.request_body {
        let body = resolve_body(spec, body)?;
        for (ct, media) in &body.content {
            if ct == "multipart/form-data" {
                let schema = multipart_schema(spec, media, "")?;
                let SchemaKind::Type(Type::Object(o)) = &schema.schema_kind else {
                    continue;
                };
                for (name, prop) in &o.properties {
                    let prop_ref = match prop {
                        ReferenceOr::Item(b) => ReferenceOr::Item((**b).clone()),
                        ReferenceOr::Reference { reference } => ReferenceOr::Reference {
                            reference: reference.clone(),
                        },
                    };
                    let field = match prop {
                        ReferenceOr::Item(s) => match &s.schema_kind {
                            SchemaKind::Type(Type::String(st))
                                if st.format
                                    == openapiv3::VariantOrUnknownOrEmpty::Item(
                                        openapiv3::StringFormat::Binary,
                                    ) =>
                            {
                                let types = media
                                    .encoding
                                    .get(name)
                                    .and_then(|e| e.content_type.clone())
                                    .unwrap_or_else(|| "application/octet-stream".into());
                                FieldSample::File(
                                    types
                                        .split(',')
                                        .map(|t| t.trim().to_string())
                                        .filter(|t| !t.is_empty())
                                        .collect(),
                                )
                            }
                            SchemaKind::Type(Type::String(st)) if !st.enumeration.is_empty() => {
                                FieldSample::Enum { integer: false }
                            }
                            SchemaKind::Type(Type::Integer(it)) if !it.enumeration.is_empty() => {
                                FieldSample::Enum { integer: true }
                            }
                            _ => FieldSample::Plain,
                        },
                        ReferenceOr::Reference { .. } => FieldSample::Plain,
                    };
                    fields.insert(
                        arg_key(name),
                        SpecArg {
                            name: name.clone(),
                            sample: sample_json(&doc, &prop_ref),
                            field,
                        },
                    );
                }
            } else if let Some(schema) = &media.schema {
                params.insert(
                    "body".into(),
                    SpecArg {
                        name: "body".into(),
                        sample: media
                            .example
                            .clone()
                            .unwrap_or_else(|| sample_json(&doc, schema)),
                        field: FieldSample::Plain,
                    },
                );
            }
        }
    }
    Ok((params, fields))
}

/// A sample value when the spec names no such argument: by its Rust type.
fn fallback_json(ty: &str) -> serde_json::Value {
    use serde_json::json;
    if ty.contains("Vec<") || ty.starts_with("&[") {
        json!(["sample"])
    } else if ty.contains("str") || ty.contains("String") {
        json!("sample")
    } else if ["i64", "u64", "i32", "u32", "NonZero", "usize"]
        .iter()
        .any(|t| ty.contains(t))
    {
        json!(1)
    } else if ty.contains("f64") || ty.contains("f32") {
        json!(0.5)
    } else if ty.contains("bool") {
        json!(false)
    } else {
        json!({})
    }
}

/// The owned type to decode a sample into for an argument of type `ty`
/// (tokens squashed), and whether the call borrows it.
fn owned_type(ty: &str) -> (String, bool) {
    let Some(inner) = ty.strip_prefix('&') else {
        return (ty.to_string(), false);
    };
    let owned = if inner == "str" {
        "::std::string::String".to_string()
    } else if let Some(item) = inner.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
        format!("::std::vec::Vec<{item}>")
    } else {
        inner.to_string()
    };
    (owned, true)
}

fn parse_type(ty: &str) -> Result<syn::Type, String> {
    syn::parse_str(ty).map_err(|e| format!("the dispatcher cannot read type `{ty}`: {e}"))
}

/// One argument's binding statement and the expression passed.
fn bind_arg(
    var: &syn::Ident,
    ident: &str,
    ty: &str,
    spec_arg: Option<&SpecArg>,
    path_params: &[String],
    forms: &BTreeMap<String, Vec<(String, String)>>,
    fields: &SpecArgs,
) -> Result<(TokenStream, TokenStream), String> {
    if ty.starts_with("Option<") {
        return Ok((quote! {}, quote! { None }));
    }
    let name = spec_arg.map_or(ident.to_string(), |a| a.name.clone());
    if path_params.contains(&name) {
        let fallback = spec_arg
            .and_then(|a| a.sample.as_str().map(str::to_string))
            .unwrap_or_else(|| "sample".into());
        return Ok((
            quote! { let #var: ::std::string::String = path_arg(#name, sample, #fallback); },
            quote! { &#var },
        ));
    }
    if let Some(form) = ty.strip_prefix("forms::") {
        let ctor = forms
            .get(form)
            .ok_or_else(|| format!("the dispatcher finds no `forms::{form}::new`"))?;
        let mut exprs = Vec::new();
        for (fident, fty) in ctor {
            let field = fields.get(fident.as_str());
            let fname = field.map_or(fident.clone(), |f| f.name.clone());
            if fty.starts_with("Option<") {
                exprs.push(quote! { None });
                continue;
            }
            match field.map(|f| &f.field) {
                Some(FieldSample::File(types)) => {
                    exprs.push(quote! { file_sample(&[#(#types),*]) });
                }
                Some(FieldSample::Enum { integer }) => {
                    let qualified = if fty.contains("::") {
                        fty.clone()
                    } else {
                        format!("forms::{fty}")
                    };
                    let ty: syn::Type = parse_type(&qualified)?;
                    let json = field.map(|f| f.sample.to_string()).unwrap_or_default();
                    exprs.push(if *integer {
                        quote! { form_enum_int::<#ty>(#fname, sample, #json)? }
                    } else {
                        quote! { form_enum_str::<#ty>(#fname, sample, #json)? }
                    });
                }
                _ => {
                    let qualified = if fty.contains("::") || is_std_type(fty) {
                        fty.clone()
                    } else {
                        format!("forms::{fty}")
                    };
                    let ty = parse_type(&qualified)?;
                    let json = field
                        .map(|f| f.sample.clone())
                        .unwrap_or_else(|| fallback_json(fty))
                        .to_string();
                    exprs.push(quote! { arg::<#ty>(#fname, sample, #json)? });
                }
            }
        }
        let ty = parse_type(ty)?;
        return Ok((
            quote! { let #var = #ty::new(#(#exprs),*); },
            quote! { #var },
        ));
    }
    let (owned, borrowed) = owned_type(ty);
    let owned_ty = parse_type(&owned)?;
    let json = spec_arg
        .map(|a| a.sample.clone())
        .unwrap_or_else(|| fallback_json(ty))
        .to_string();
    let bind = quote! { let #var: #owned_ty = arg(#name, sample, #json)?; };
    Ok((
        bind,
        if borrowed {
            quote! { &#var }
        } else {
            quote! { #var }
        },
    ))
}

fn is_std_type(ty: &str) -> bool {
    matches!(
        ty,
        "String" | "bool" | "i64" | "u64" | "i32" | "u32" | "f64" | "f32" | "usize"
    )
}

/// `call_operation` and its helpers, for the `conformance` module: one arm
/// per operation of the spec, read off the generated methods in `items`.
pub(crate) fn call_dispatcher(spec: &OpenAPI, items: &[syn::Item]) -> Result<TokenStream, String> {
    let methods = client_methods(items);
    let forms = form_constructors(items);
    let mut arms = Vec::new();
    for (path, method, op) in spec.operations() {
        arms.extend(call_arm(spec, path, method, op, &methods, &forms)?);
    }
    let helpers = dispatcher_helpers();
    Ok(quote! {
        /// What an operation answered through the generated client, whatever
        /// its Rust type: the status and the decoded value as JSON, or the
        /// bytes of a streamed answer.
        #[derive(Debug, Clone, PartialEq)]
        pub struct Called {
            /// The answer's status.
            pub status: u16,
            /// What it carried.
            pub body: CalledBody,
        }

        /// The body of a [`Called`].
        #[derive(Debug, Clone, PartialEq)]
        pub enum CalledBody {
            /// A decoded answer, encoded back to JSON (`null` for none).
            Json(Value),
            /// A streamed answer, read to its end.
            Bytes(::std::vec::Vec<u8>),
        }

        /// Calls operation `op` through its generated method, with sample
        /// arguments from the spec: `sample(name)` where it gives a value
        /// (a parameter, `body` or a form field, by its spec name), else the
        /// spec's example or a value made from its schema; optional
        /// arguments are left out; file parts are a few bytes of the first
        /// content type the spec lists. Errors are the generated client's,
        /// with any decoded error body as JSON; a sample that does not fit
        /// its argument's type is `Error::InvalidRequest` naming it.
        /// Generated from the spec, so a new operation needs no hand-written
        /// call in the tests.
        pub async fn call_operation(
            client: &super::Client,
            op: &super::Operation,
            sample: &(dyn Fn(&str) -> Option<Value> + Sync),
        ) -> Result<Called, super::Error<Value>> {
            #[allow(unused_imports)]
            use super::{forms, types, Error};
            match op.name {
                #(#arms)*
                other => Err(Error::InvalidRequest(format!("no generated call for `{other}`"))),
            }
        }

        #helpers
    })
}

/// The arm of `call_operation` that calls `op` (none without an
/// operationId).
fn call_arm(
    spec: &OpenAPI,
    path: &str,
    method: &str,
    op: &Operation,
    methods: &BTreeMap<String, Signature>,
    forms: &BTreeMap<String, Vec<(String, String)>>,
) -> Result<Option<TokenStream>, String> {
    let Some(name) = op.operation_id.as_deref() else {
        return Ok(None);
    };
    let Some(sig) = methods.get(name) else {
        return Err(format!(
            "{} {path} ({name}): no generated method of that name for the conformance \
             dispatcher",
            method.to_uppercase()
        ));
    };
    if sig.upgrade {
        let why = format!("{name} upgrades the connection: not called by the dispatcher");
        return Ok(Some(
            quote! { #name => Err(Error::InvalidRequest(#why.to_string())), },
        ));
    }
    let (params, fields) = spec_args(spec, op)?;
    let path_params: Vec<String> = op
        .parameters
        .iter()
        .filter_map(|p| resolve_parameter(spec, p).ok())
        .filter(|p| matches!(p, Parameter::Path { .. }))
        .map(|p| p.parameter_data_ref().name.clone())
        .collect();
    let mut binds = Vec::new();
    let mut exprs = Vec::new();
    for (i, (ident, ty)) in sig.args.iter().enumerate() {
        let var = format_ident!("a{}", i);
        let (bind, expr) = bind_arg(
            &var,
            ident,
            ty,
            params.get(ident.as_str()),
            &path_params,
            forms,
            &fields,
        )
        .map_err(|e| format!("{name}: {e}"))?;
        binds.push(bind);
        exprs.push(expr);
    }
    let method_ident = format_ident!("{}", name);
    let ok = if sig.ok_stream {
        quote! { ok_stream(v).await }
    } else {
        quote! { ok_json(v) }
    };
    let err = if sig.err_stream {
        quote! { err_stream(e).await }
    } else {
        quote! { err_json(e) }
    };
    Ok(Some(quote! {
        #name => {
            #(#binds)*
            match client.#method_ident(#(#exprs),*).await {
                Ok(v) => #ok,
                Err(e) => Err(#err),
            }
        }
    }))
}

/// The helpers `call_operation`'s arms use: sample arguments, and the
/// answer or error of any generated method as `Called` or JSON.
fn dispatcher_helpers() -> TokenStream {
    quote! {
        #[allow(dead_code)]
        fn arg<T: ::serde::de::DeserializeOwned>(
            name: &str,
            sample: &(dyn Fn(&str) -> Option<Value> + Sync),
            fallback: &str,
        ) -> Result<T, super::Error<Value>> {
            let value = match sample(name) {
                Some(v) => v,
                None => ::serde_json::from_str(fallback).unwrap_or(Value::Null),
            };
            ::serde_json::from_value(value.clone()).map_err(|e| {
                super::Error::InvalidRequest(format!("sample argument `{name}` = {value}: {e}"))
            })
        }

        #[allow(dead_code)]
        fn path_arg(
            name: &str,
            sample: &(dyn Fn(&str) -> Option<Value> + Sync),
            fallback: &str,
        ) -> ::std::string::String {
            match sample(name) {
                Some(Value::String(s)) => s,
                Some(other) => other.to_string(),
                None => fallback.to_string(),
            }
        }

        #[allow(dead_code)]
        fn form_enum_str<T: ::std::str::FromStr>(
            name: &str,
            sample: &(dyn Fn(&str) -> Option<Value> + Sync),
            fallback: &str,
        ) -> Result<T, super::Error<Value>> {
            let text: ::std::string::String = arg(name, sample, fallback)?;
            text.parse().map_err(|_| {
                super::Error::InvalidRequest(format!("sample argument `{name}` = {text}: not a value of the field"))
            })
        }

        #[allow(dead_code)]
        fn form_enum_int<T: ::std::convert::TryFrom<i64>>(
            name: &str,
            sample: &(dyn Fn(&str) -> Option<Value> + Sync),
            fallback: &str,
        ) -> Result<T, super::Error<Value>> {
            let n: i64 = arg(name, sample, fallback)?;
            T::try_from(n).map_err(|_| {
                super::Error::InvalidRequest(format!("sample argument `{name}` = {n}: not a value of the field"))
            })
        }

        /// A file part of the first content type listed (a PNG's bytes when
        /// `image/png` is among them).
        #[allow(dead_code)]
        fn file_sample(types: &[&str]) -> super::FilePart {
            const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89\0\0\0\rIDATx\x9cc\xf8\xff\xff?\0\x05\xfe\x02\xfe\xa7\x35\x81\x84\0\0\0\0IEND\xaeB`\x82";
            let png = types.iter().any(|t| *t == "image/png" || *t == "image/*");
            let ct = if png { "image/png" } else { types.first().copied().unwrap_or("application/octet-stream") };
            let ext = ct.rsplit('/').next().unwrap_or("bin").split(['+', ';', '*']).next().unwrap_or("bin");
            let ext = if ext.is_empty() { "bin" } else { ext };
            let bytes: ::std::vec::Vec<u8> = if png { PNG.to_vec() } else { b"identifai sample file".to_vec() };
            super::FilePart::bytes(format!("sample.{ext}"), bytes).with_content_type(ct)
        }

        #[allow(dead_code)]
        fn ok_json<T: ::serde::Serialize>(
            v: super::ResponseValue<T>,
        ) -> Result<Called, super::Error<Value>> {
            let status = v.status().as_u16();
            let value = ::serde_json::to_value(v.into_inner()).map_err(|e| {
                super::Error::InvalidRequest(format!("a decoded answer does not encode: {e}"))
            })?;
            Ok(Called { status, body: CalledBody::Json(value) })
        }

        #[allow(dead_code)]
        async fn ok_stream(
            v: super::ResponseValue<super::ByteStream>,
        ) -> Result<Called, super::Error<Value>> {
            use ::futures::TryStreamExt;
            let status = v.status().as_u16();
            let bytes = v
                .into_inner()
                .into_inner()
                .try_fold(::std::vec::Vec::new(), |mut acc, b| async move {
                    acc.extend_from_slice(&b);
                    Ok(acc)
                })
                .await
                .map_err(super::Error::ResponseBodyError)?;
            Ok(Called { status, body: CalledBody::Bytes(bytes) })
        }

        /// The generated error, its decoded body (if any) as JSON (what
        /// [`call_operation`]'s errors carry).
        pub fn err_json<E: ::serde::Serialize>(e: super::Error<E>) -> super::Error<Value> {
            use super::Error;
            match e {
                Error::ErrorResponse(rv) => {
                    let (status, headers) = (rv.status(), rv.headers().clone());
                    let value = ::serde_json::to_value(rv.into_inner()).unwrap_or(Value::Null);
                    Error::ErrorResponse(super::ResponseValue::new(value, status, headers))
                }
                Error::InvalidRequest(s) => Error::InvalidRequest(s),
                Error::CommunicationError(e) => Error::CommunicationError(e),
                Error::InvalidUpgrade(e) => Error::InvalidUpgrade(e),
                Error::ResponseBodyError(e) => Error::ResponseBodyError(e),
                Error::InvalidResponsePayload(b, e) => Error::InvalidResponsePayload(b, e),
                Error::UnexpectedResponse(r) => Error::UnexpectedResponse(r),
                Error::Custom(s) => Error::Custom(s),
            }
        }

        /// A streamed error body, read and kept as a JSON string.
        #[allow(dead_code)]
        async fn err_stream(e: super::Error<super::ByteStream>) -> super::Error<Value> {
            use super::Error;
            match e {
                Error::ErrorResponse(rv) => {
                    let (status, headers) = (rv.status(), rv.headers().clone());
                    match ok_stream(rv).await {
                        Ok(Called { body: CalledBody::Bytes(b), .. }) => Error::ErrorResponse(
                            super::ResponseValue::new(
                                Value::String(::std::string::String::from_utf8_lossy(&b).into_owned()),
                                status,
                                headers,
                            ),
                        ),
                        Ok(_) => Error::ErrorResponse(super::ResponseValue::new(Value::Null, status, headers)),
                        Err(e) => e,
                    }
                }
                Error::InvalidRequest(s) => Error::InvalidRequest(s),
                Error::CommunicationError(e) => Error::CommunicationError(e),
                Error::InvalidUpgrade(e) => Error::InvalidUpgrade(e),
                Error::ResponseBodyError(e) => Error::ResponseBodyError(e),
                Error::InvalidResponsePayload(b, e) => Error::InvalidResponsePayload(b, e),
                Error::UnexpectedResponse(r) => Error::UnexpectedResponse(r),
                Error::Custom(s) => Error::Custom(s),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::operations::operation_entries;
    use crate::test_support::*;

    #[test]
    fn owned_types_of_borrowed_arguments() {
        assert_eq!(owned_type("&str"), ("::std::string::String".into(), true));
        assert_eq!(
            owned_type("&[::std::string::String]"),
            ("::std::vec::Vec<::std::string::String>".into(), true)
        );
        assert_eq!(
            owned_type("&types::OverrideRequest"),
            ("types::OverrideRequest".into(), true)
        );
        // Lifetimes are gone from the signatures read.
        let f: syn::ItemFn = syn::parse_quote! {
            async fn f<'a>(&'a self, id: &'a str, o: Option<&'a str>) {}
        };
        assert_eq!(
            typed_args(&f.sig.inputs),
            [
                ("id".to_string(), "&str".to_string()),
                ("o".into(), "Option<&str>".into())
            ]
        );
        assert_eq!(owned_type("i64"), ("i64".into(), false));
    }

    #[test]
    fn samples_follow_examples_enums_and_types() {
        let s = spec(
            r##"
openapi: 3.0.3
info: {title: t, version: "1"}
paths: {}
components:
  schemas:
    C: {type: string, enum: [human, artificial]}
    O:
      type: object
      required: [c, n, when, tags]
      properties:
        c: {$ref: "#/components/schemas/C"}
        n: {type: integer, minimum: 5}
        when: {type: string, format: date-time}
        tags: {type: array, items: {type: string, example: t1}}
        optional: {type: string}
"##,
        );
        let r = ReferenceOr::Reference {
            reference: "#/components/schemas/O".into(),
        };
        assert_eq!(
            sample_json(&serde_json::to_value(&s).unwrap(), &r),
            serde_json::json!({"c": "human", "n": 5, "when": "2024-01-02T03:04:05Z", "tags": ["t1"]})
        );
    }

    #[test]
    fn the_repo_spec_has_an_arm_per_operation() {
        let generated = crate::generate(&repo_spec_text(), false).unwrap().api;
        let conformance = &generated[generated.find("pub mod conformance").unwrap()..];
        let ops = operation_entries(&crate::parse(&repo_spec_text()).unwrap()).unwrap();
        for op in &ops {
            assert!(
                conformance.contains(&format!("\"{}\" =>", op.name)),
                "no arm for {}",
                op.name
            );
        }
        // A form is built with its `new`, a file part from the spec's types.
        let arm = &conformance[conformance.find("\"classify_audio\" =>").unwrap()..];
        let arm = &arm[..arm.find("Err(e) =>").unwrap()];
        assert!(arm.contains("forms::ClassifyAudioForm::new("), "{arm}");
        assert!(
            arm.contains("file_sample(") && arm.contains("\"audio/"),
            "{arm}"
        );
        // An optional argument is left out; a path parameter is asked for.
        assert!(conformance.contains("path_arg(\"identifier\", sample"));
    }
}

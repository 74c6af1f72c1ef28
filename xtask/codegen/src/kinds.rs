//! Media kinds: the per-kind code of the layer from the operations marked
//! `x-identifai: {kind, role}`.

use std::collections::BTreeMap;

use openapiv3::{OpenAPI, Operation, ReferenceOr, Schema, SchemaKind, Type};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::forms::{json_success_type, own_method, Forms};
use crate::naming::{component_type, pascal};
use crate::partition::OwnOp;
use crate::resolve::{multipart_schema, ref_name, resolve_body, resolve_response};

/// The kinds in the order `Client::result` tries them (image, then video,
/// then audio); a kind the spec adds later comes after these, by name.
pub(crate) const KIND_ORDER: [&str; 3] = ["image", "video", "audio"];

/// One operation of a kind, from its `x-identifai: {kind, role}`.
pub(crate) struct KindOp {
    pub(crate) path: String,
    pub(crate) method: &'static str,
    pub(crate) op: Operation,
    pub(crate) op_id: String,
}

/// What the generator knows of one media kind.
#[derive(Default)]
pub(crate) struct KindSpec {
    pub(crate) ops: BTreeMap<String, KindOp>,
}

/// The generated per-kind code, in two files: the bottom (`Kind`'s methods,
/// `AnyResult`, the marker types and their trait impls, `include!`d by
/// `src/media_kind.rs`) names nothing of the client, the submissions or the
/// waits; the top (`AnyClassify` and `impl Client`, `include!`d by
/// `src/client.rs`) builds on them.
pub(crate) struct KindsCode {
    /// The bottom: `Kind`, `AnyResult`, marker types, trait impls.
    pub(crate) kinds: TokenStream,
    /// The top: `AnyClassify` and the `Client` methods per kind.
    pub(crate) client: TokenStream,
    /// The `<operation>_raw` methods of `api::Client`.
    pub(crate) raw_methods: Vec<TokenStream>,
}

/// What one kind contributes to the generated code.
struct KindParts {
    /// The marker type and its trait impls.
    item: TokenStream,
    /// Its `Client` variant name (`Image`).
    ident: syn::Ident,
    /// Its result type (`ClassificationResult`).
    output: syn::Ident,
    /// Its override's answer type, when the spec has an override.
    override_type: Option<TokenStream>,
}

/// `a image` / `an audio`.
fn article(kind: &str) -> String {
    let a = if kind.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("{a} {kind}")
}

/// The per-kind code, generated from the operations the spec marks with
/// `x-identifai: {kind: image|video|audio, role: ...}`:
///
/// - a marker type per kind (`kinds::Image`, ...) implementing
///   `crate::media_kind::MediaKind` and its sealed plumbing: its options group
///   (the submit form's `x-options-group`), result type (the `result`
///   operation's 200 schema), accepted content types (the file part's
///   `encoding`), size limit (`x-identifai.max_bytes`, else the file field's
///   `maxLength`, else the "Maximum file size" its description states) and
///   which operations submit, fetch, list and override;
/// - `Kind` (every kind, in [`KIND_ORDER`]) and `AnyResult` (one variant per
///   kind);
/// - `Client` methods per kind (`classify_<kind>`, `<kind>_result`,
///   `<kind>_results`, `wait_<kind>`), a `Classify<Kind>` alias per kind and
///   the dispatch by `Kind` the layer needs (`result`, `wait_all`,
///   `override_classification`);
/// - and, for each `result`/`list` operation, a `<operation>_raw` method
///   that hands back the body undecoded, so the layer keeps the server's
///   JSON beside the typed value.
///
/// A kind needs `submit` and `result` (else the build fails, naming it);
/// `submit_url`, `list` and `override` are used when the spec has them: a
/// kind without a list is polled one result at a time.
pub(crate) fn media_kinds(spec: &OpenAPI, forms: &mut Forms) -> Result<KindsCode, String> {
    let (kinds, order) = kind_operations(spec)?;
    let mut parts = Vec::new();
    let mut raw_methods = Vec::new();
    for kind in &order {
        parts.push(kind_parts(
            spec,
            forms,
            kind,
            &kinds[kind],
            &mut raw_methods,
        )?);
    }
    if parts.is_empty() {
        return Err("no operation carries x-identifai: the layer has no media kinds".into());
    }
    let override_types: Vec<&TokenStream> = parts
        .iter()
        .filter_map(|p| p.override_type.as_ref())
        .collect();
    let override_type = match override_types.first() {
        Some(t)
            if override_types
                .iter()
                .all(|o| o.to_string() == t.to_string()) =>
        {
            (*t).clone()
        }
        Some(_) => return Err("the override operations answer different schemas".into()),
        None => quote! { ::serde_json::Value },
    };
    let kinds_code: TokenStream = [
        kind_methods(&parts),
        any_result(&parts, &order),
        quote! {
            /// The answer of an override (the same schema for every kind).
            pub(crate) type OverrideOutput = #override_type;
        },
    ]
    .into_iter()
    .chain(parts.iter().map(|p| p.item.clone()))
    .collect();
    Ok(KindsCode {
        kinds: quote! {
            // The media kinds of the API and their per-kind code, generated
            // from the operations the spec marks with `x-identifai`. Layer
            // code: `src/media_kind.rs` includes it, outside `api`.
            #[allow(unused_imports)]
            use crate::api::{forms, types};

            #kinds_code
        },
        client: client_code(&parts, &order, &override_type),
        raw_methods,
    })
}

/// The kinds in [`KIND_ORDER`] (then the others by name).
pub(crate) fn kind_order(spec: &OpenAPI) -> Result<Vec<String>, String> {
    kind_operations(spec).map(|(_, order)| order)
}

/// The operations of every kind by role, and the kinds in [`KIND_ORDER`]
/// (then the others by name).
fn kind_operations(spec: &OpenAPI) -> Result<(BTreeMap<String, KindSpec>, Vec<String>), String> {
    let mut kinds: BTreeMap<String, KindSpec> = BTreeMap::new();
    for (path, item) in &spec.paths.paths {
        let ReferenceOr::Item(item) = item else {
            continue;
        };
        let slots: [(&'static str, &Option<Operation>); 5] = [
            ("get", &item.get),
            ("post", &item.post),
            ("put", &item.put),
            ("patch", &item.patch),
            ("delete", &item.delete),
        ];
        for (method, op) in slots {
            let Some(op) = op else { continue };
            let Some(ext) = op.extensions.get("x-identifai") else {
                continue;
            };
            let op_id = op
                .operation_id
                .clone()
                .ok_or_else(|| format!("{method} {path}: x-identifai without operationId"))?;
            let kind = ext
                .get("kind")
                .and_then(|v| v.as_str())
                .ok_or_else(|| format!("{op_id}: x-identifai.kind must be a string"))?;
            let role = ext
                .get("role")
                .and_then(|v| v.as_str())
                .ok_or_else(|| format!("{op_id}: x-identifai.role must be a string"))?;
            let entry = kinds.entry(kind.to_string()).or_default();
            if entry.ops.contains_key(role) {
                // An alias path (e.g. /api/classification_image/...) of a
                // role already seen: the first in the spec is the one called.
                continue;
            }
            entry.ops.insert(
                role.to_string(),
                KindOp {
                    path: path.clone(),
                    method,
                    op: op.clone(),
                    op_id,
                },
            );
        }
    }
    let mut order: Vec<String> = KIND_ORDER
        .iter()
        .filter(|k| kinds.contains_key(**k))
        .map(|k| k.to_string())
        .collect();
    order.extend(
        kinds
            .keys()
            .filter(|k| !KIND_ORDER.contains(&k.as_str()))
            .cloned(),
    );
    Ok((kinds, order))
}

/// One kind's marker type and trait impls, after checking what the layer
/// needs of its operations; its `_raw` methods go to `raw_methods`.
fn kind_parts(
    spec: &OpenAPI,
    forms: &mut Forms,
    kind: &str,
    k: &KindSpec,
    raw_methods: &mut Vec<TokenStream>,
) -> Result<KindParts, String> {
    let need = |role: &str| {
        k.ops.get(role).ok_or_else(|| {
            format!("kind {kind}: no operation with x-identifai role `{role}` in the spec")
        })
    };
    // `submit` and `result` make a kind; a URL form, a list and an
    // override are used when the spec has them.
    let submit = need("submit")?;
    let result = need("result")?;
    let submit_url = k.ops.get("submit_url");
    let list = k.ops.get("list");
    let ident = format_ident!("{}", pascal(kind));

    // The file form: its part, content types, options group and limit.
    let (file_field, content_types, group, max_bytes) = file_form(spec, kind, submit)?;
    if let Some(submit_url) = submit_url {
        let (_, url_group) = form_group(spec, submit_url)?;
        if url_group.as_deref() != Some(group.as_str()) {
            return Err(format!(
                "kind {kind}: {} and {} must share one x-options-group",
                submit.op_id, submit_url.op_id
            ));
        }
    }
    let output = json_ref_type(spec, result, false)?;
    if let Some(list) = list {
        let list_output = json_ref_type(spec, list, true)?;
        if output != list_output {
            return Err(format!(
                "kind {kind}: {} answers items of another type than {}",
                list.op_id, result.op_id
            ));
        }
    }
    check_pollable(spec, result)?;
    for op in std::iter::once(result).chain(list) {
        let own = OwnOp {
            path: op.path.clone(),
            method: op.method,
            op: op.op.clone(),
        };
        raw_methods.push(own_method(
            spec,
            &own,
            forms,
            Some(&format!("{}_raw", op.op_id)),
        )?);
    }
    let (override_body, override_type) = override_code(spec, kind, k.ops.get("override"))?;
    let form = format_ident!("{}Form", pascal(&submit.op_id));
    let (submit_url_body, url_options) = submit_url_code(kind, &form, submit_url);
    let list_body = list_code(kind, list);
    let public = public_impl(
        kind,
        &ident,
        &output,
        &group,
        &form,
        &file_field,
        max_bytes,
        k,
    );
    let submit_fn = format_ident!("{}", submit.op_id);
    let get_raw = format_ident!("{}_raw", result.op_id);
    let what = article(kind);
    let group_ident = format_ident!("{}", group);
    // `infer` tells every image format apart by content; video and
    // audio containers it may not, so there the file name may tell.
    let extension_fallback = !content_types.iter().all(|t| t.starts_with("image/"));
    let item = quote! {
        #public

        impl sealed::Plumbing for #ident {
            const WHAT: &'static str = #what;
            const EXTENSION_FALLBACK: bool = #extension_fallback;
            fn wrap(result: crate::answer::Classified<types::#output>) -> AnyResult {
                AnyResult::#ident(result)
            }
            fn unwrap(result: AnyResult) -> Option<crate::answer::Classified<types::#output>> {
                #[allow(unreachable_patterns)]
                match result { AnyResult::#ident(r) => Some(r), _ => None }
            }
            fn state(result: &types::#output) -> State {
                state_of(result.status.as_ref(), result.errors.as_ref(), result.verdict.is_some())
            }
            fn options_not_taken(options: &forms::#group_ident, by_url: bool) -> Vec<&'static str> {
                if by_url {
                    #url_options
                } else {
                    forms::#form::options_not_taken(options)
                }
            }
            async fn submit_file(
                api: &crate::api::Client,
                accept: types::ResponseFormat,
                file: crate::api::FilePart,
                options: forms::#group_ident,
            ) -> ApiResult {
                let form = forms::#form::new(file).with_options(options);
                api.#submit_fn(Some(accept), form).await
            }
            async fn submit_url(
                api: &crate::api::Client,
                accept: types::ResponseFormat,
                url: ::std::string::String,
                options: forms::#group_ident,
            ) -> ApiResult {
                #submit_url_body
            }
            async fn get(api: &crate::api::Client, id: &str) -> ApiResult {
                api.#get_raw(id).await
            }
            async fn list(api: &crate::api::Client, ids: &[::std::string::String]) -> ApiResult {
                #list_body
            }
            async fn override_classification(
                api: &crate::api::Client,
                hash: &str,
                body: ::serde_json::Value,
            ) -> crate::Result<OverrideOutput> {
                #override_body
            }
        }
    };
    Ok(KindParts {
        item,
        ident,
        output,
        override_type,
    })
}

/// A kind's marker type and its public `MediaKind` impl.
#[allow(clippy::too_many_arguments)]
fn public_impl(
    kind: &str,
    ident: &syn::Ident,
    output: &syn::Ident,
    group: &str,
    form: &syn::Ident,
    file_field: &str,
    max_bytes: u64,
    k: &KindSpec,
) -> TokenStream {
    let op_line = |role: &str| {
        k.ops
            .get(role)
            .map(|o| format!("`{} {}`", o.method.to_uppercase(), o.path))
    };
    let kind_doc = format!(
        "{}s: {} (file){}, results from {}{}. \
         Generated from the spec's `x-identifai` operations.",
        pascal(kind),
        op_line("submit").unwrap_or_default(),
        op_line("submit_url")
            .map(|u| format!(", {u} (URL)"))
            .unwrap_or_else(|| ", no URL submission".into()),
        op_line("result").unwrap_or_default(),
        op_line("list")
            .map(|l| format!(" and {l}"))
            .unwrap_or_else(|| " (one at a time: the spec has no list)".into()),
    );
    let max_doc = format!("{max_bytes} bytes: the limit the spec states for {kind}s.");
    let group = format_ident!("{}", group);
    let konst = format_ident!("{}_CONTENT_TYPES", file_field.to_ascii_uppercase());
    let by_url = k.ops.contains_key("submit_url");
    let lists = k.ops.contains_key("list");
    quote! {
        #[doc = #kind_doc]
        #[derive(Debug)]
        pub enum #ident {}

        impl MediaKind for #ident {
            type Options = forms::#group;
            type Output = types::#output;
            const KIND: Kind = Kind::#ident;
            const NAME: &'static str = #kind;
            const CONTENT_TYPES: &'static [&'static str] = forms::#form::#konst;
            #[doc = #max_doc]
            const MAX_BYTES: u64 = #max_bytes;
            const BY_URL: bool = #by_url;
            const LISTS: bool = #lists;
            const FILE_PART: &'static str = #file_field;
        }
    }
}

/// The URL submission's body and the options it does not take; without a
/// URL form the layer never calls it (it checks `BY_URL` first): a typed
/// refusal.
fn submit_url_code(
    kind: &str,
    form: &syn::Ident,
    submit_url: Option<&KindOp>,
) -> (TokenStream, TokenStream) {
    match submit_url {
        Some(u) => {
            let url_form = format_ident!("{}Form", pascal(&u.op_id));
            let f = format_ident!("{}", u.op_id);
            (
                quote! {
                    let form = forms::#url_form::new(url).with_options(options);
                    api.#f(Some(accept), form).await
                },
                quote! { forms::#url_form::options_not_taken(options) },
            )
        }
        None => {
            let reason = format!("the spec has no URL submission for {kind}s");
            (
                quote! {
                    let _ = (api, accept, url, options);
                    Err(::progenitor_client::Error::InvalidRequest(#reason.into()))
                },
                quote! { forms::#form::options_not_taken(options) },
            )
        }
    }
}

/// The list call's body; without a list the layer never calls it (it
/// checks `LISTS` first): a typed refusal.
fn list_code(kind: &str, list: Option<&KindOp>) -> TokenStream {
    match list {
        Some(l) => {
            let f = format_ident!("{}_raw", l.op_id);
            quote! { api.#f(ids).await }
        }
        None => {
            let reason = format!("the spec has no list operation for {kind}s");
            quote! {
                let _ = (api, ids);
                Err(::progenitor_client::Error::InvalidRequest(#reason.into()))
            }
        }
    }
}

/// The override call's body, and its answer type when the spec has one.
fn override_code(
    spec: &OpenAPI,
    kind: &str,
    over: Option<&KindOp>,
) -> Result<(TokenStream, Option<TokenStream>), String> {
    let Some(o) = over else {
        let reason = format!("the spec has no override operation for {kind}s");
        return Ok((
            quote! {
                let _ = (api, hash, body);
                Err(crate::error::InputError::InvalidSetting { setting: "kind", reason: #reason.into() }.into())
            },
            None,
        ));
    };
    let f = format_ident!("{}", o.op_id);
    let body = json_body_type(spec, o)?;
    let answer = json_ref_type(spec, o, false)?;
    // An override that may answer without a body (204) answers `Option` of
    // its JSON type (`None`: stored, nothing said).
    let ty = if json_success_type(spec, &o.op)?.is_some() {
        quote! { types::#answer }
    } else {
        quote! { ::std::option::Option<types::#answer> }
    };
    Ok((
        quote! {
            let body: types::#body = ::serde_json::from_value(body).map_err(|e| {
                crate::error::InputError::InvalidSetting { setting: "classification", reason: e.to_string() }
            })?;
            match api.#f(hash, &body).await {
                Ok(v) => Ok(v.into_inner()),
                Err(e) => Err(crate::Error::from_api(e).await),
            }
        },
        Some(ty),
    ))
}

/// What the spec says of each kind, as methods of `Kind` (the enum itself
/// is generated into the API module: [`crate::kind_enum`]).
fn kind_methods(parts: &[KindParts]) -> TokenStream {
    let variants: Vec<&syn::Ident> = parts.iter().map(|p| &p.ident).collect();
    quote! {
        impl Kind {
            /// The size limit the spec states for this kind, in bytes.
            pub fn spec_max_bytes(&self) -> u64 {
                match self { #( Kind::#variants => <#variants as MediaKind>::MAX_BYTES, )* }
            }

            /// The content types the spec allows for this kind's file part.
            pub fn content_types(&self) -> &'static [&'static str] {
                match self { #( Kind::#variants => <#variants as MediaKind>::CONTENT_TYPES, )* }
            }

            /// Whether the spec has a URL form for this kind
            /// (else only files are sent).
            pub fn takes_urls(&self) -> bool {
                match self { #( Kind::#variants => <#variants as MediaKind>::BY_URL, )* }
            }

            /// Whether the spec has a list operation for this kind
            /// (else its results are fetched one at a time).
            pub fn lists(&self) -> bool {
                match self { #( Kind::#variants => <#variants as MediaKind>::LISTS, )* }
            }

            /// The multipart part that carries this kind's file.
            pub fn file_part(&self) -> &'static str {
                match self { #( Kind::#variants => <#variants as MediaKind>::FILE_PART, )* }
            }
        }
    }
}

/// `AnyResult`: a result of any kind, one variant per kind.
fn any_result(parts: &[KindParts], order: &[String]) -> TokenStream {
    let variants: Vec<&syn::Ident> = parts.iter().map(|p| &p.ident).collect();
    let outputs: Vec<&syn::Ident> = parts.iter().map(|p| &p.output).collect();
    let variant_docs: Vec<String> = order.iter().map(|k| format!("`{k}`")).collect();
    let as_fns: Vec<syn::Ident> = order.iter().map(|k| format_ident!("as_{}", k)).collect();
    let into_fns: Vec<syn::Ident> = order.iter().map(|k| format_ident!("into_{}", k)).collect();
    let as_docs: Vec<String> = order
        .iter()
        .map(|k| format!("The {k} result, if this is one."))
        .collect();
    quote! {
        /// A result of any kind, typed, with the server's JSON. Returned by
        /// [`crate::Client::result`] and [`crate::Client::wait_all`].
        #[derive(Clone, Debug, PartialEq)]
        #[non_exhaustive]
        pub enum AnyResult {
            #( #[doc = #variant_docs] #variants(crate::answer::Classified<types::#outputs>), )*
        }

        impl AnyResult {
            /// Decodes `json` as a result of `kind`, keeping the text as its raw JSON.
            pub fn from_json(kind: Kind, json: &str) -> ::serde_json::Result<AnyResult> {
                match kind { #( Kind::#variants => crate::answer::Classified::from_json(json).map(AnyResult::#variants), )* }
            }

            /// Which kind this is.
            pub fn kind(&self) -> Kind {
                match self { #( AnyResult::#variants(_) => Kind::#variants, )* }
            }

            /// The JSON the server sent, verbatim.
            pub fn raw(&self) -> &::serde_json::value::RawValue {
                match self { #( AnyResult::#variants(r) => r.raw(), )* }
            }

            /// The JSON the server sent, as a value.
            pub fn raw_value(&self) -> ::serde_json::Value {
                match self { #( AnyResult::#variants(r) => r.raw_value(), )* }
            }

            /// The classification's identifier, when the answer has one.
            pub fn identifier(&self) -> Option<&str> {
                match self { #( AnyResult::#variants(r) => r.identifier.as_deref(), )* }
            }

            /// The file's SHA-256 (what overrides take), when the answer has one.
            pub fn hash(&self) -> Option<&str> {
                match self { #( AnyResult::#variants(r) => r.hash.as_deref(), )* }
            }

            /// The classification's status, when the answer has one.
            pub fn status(&self) -> Option<&types::Status> {
                match self { #( AnyResult::#variants(r) => r.status.as_ref(), )* }
            }

            /// The server's default verdict, when there is one: the same
            /// [`types::Verdict`] as the typed results' `server_verdict()`.
            /// See [`Self::effective_verdict`] for the one to act on.
            pub fn verdict(&self) -> Option<::std::borrow::Cow<'_, types::Verdict>> {
                match self { #( AnyResult::#variants(r) => r.server_verdict(), )* }
            }

            /// The classification the account forced with an override, if any.
            pub fn forced_classification(&self) -> Option<&types::Classification> {
                match self { #( AnyResult::#variants(r) => r.forced_classification(), )* }
            }

            /// The verdict to act on: the account's forced classification when
            /// there is one, else the server's verdict.
            pub fn effective_verdict(&self) -> Option<crate::Effective> {
                match self { #( AnyResult::#variants(r) => r.effective_verdict(), )* }
            }

            #(
                #[doc = #as_docs]
                pub fn #as_fns(&self) -> Option<&crate::answer::Classified<types::#outputs>> {
                    #[allow(unreachable_patterns)]
                    match self { AnyResult::#variants(r) => Some(r), _ => None }
                }

                #[doc = #as_docs]
                pub fn #into_fns(self) -> Option<crate::answer::Classified<types::#outputs>> {
                    #[allow(unreachable_patterns)]
                    match self { AnyResult::#variants(r) => Some(r), _ => None }
                }
            )*

            pub(crate) fn state(&self) -> State {
                use sealed::Plumbing;
                match self { #( AnyResult::#variants(r) => #variants::state(r), )* }
            }
        }

        impl ::serde::Serialize for AnyResult {
            /// The server's JSON, verbatim.
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> ::std::result::Result<S::Ok, S::Error> {
                self.raw().serialize(s)
            }
        }
    }
}

/// The top half: a `Classify<Kind>` alias per kind, `AnyClassify` and the
/// `Client` methods per kind and by `Kind`.
fn client_code(parts: &[KindParts], order: &[String], override_type: &TokenStream) -> TokenStream {
    let variants: Vec<&syn::Ident> = parts.iter().map(|p| &p.ident).collect();
    let outputs: Vec<&syn::Ident> = parts.iter().map(|p| &p.output).collect();
    let variant_docs: Vec<String> = order.iter().map(|k| format!("`{k}`")).collect();
    let fns = |f: &dyn Fn(&str) -> String| -> Vec<syn::Ident> {
        order.iter().map(|k| format_ident!("{}", f(k))).collect()
    };
    let classify_fns = fns(&|k| format!("classify_{k}"));
    let result_fns = fns(&|k| format!("{k}_result"));
    let results_fns = fns(&|k| format!("{k}_results"));
    let wait_fns = fns(&|k| format!("wait_{k}"));
    let aliases: Vec<syn::Ident> = fns(&|k| format!("Classify{}", pascal(k)));
    let alias_docs: Vec<String> = order
        .iter()
        .map(|k| format!("{} submission.", pascal(&article(k))))
        .collect();
    let classify_docs: Vec<String> = order.iter().map(|k| format!("Starts {} submission: a path, bytes, a reader, a stream or a URL, checked before anything is sent.", article(k))).collect();
    let result_docs: Vec<String> = order.iter().map(|k| format!("The current result of {k} classification `id` (one GET, no waiting), typed and with the server's JSON.")).collect();
    let results_docs: Vec<String> = order.iter().map(|k| format!("The current results of 1 to 100 {k} classifications, in one GET. Identifiers the server does not know are left out of the answer.")).collect();
    let wait_docs: Vec<String> = order.iter().map(|k| format!("Waits for {k} classification `id` to finish; `.await` the returned wait, after tuning it if needed.")).collect();
    quote! {
        // The client's per-kind methods, generated from the operations the
        // spec marks with `x-identifai`: `src/client.rs` includes it.
        #[allow(unused_imports)]
        use crate::api::types;
        use crate::media_kind::{AnyResult, Kind, #(#variants),*};

        #(
            #[doc = #alias_docs]
            pub type #aliases<'c> = crate::submit::Classify<'c, #variants>;
        )*

        /// A submission of a kind chosen at run time, from
        /// [`crate::Client::classify_as`]: the same calls as
        /// [`crate::Classify`], with options left at their defaults.
        #[derive(Debug)]
        #[non_exhaustive]
        pub enum AnyClassify<'c> {
            #( #[doc = #variant_docs] #variants(crate::submit::Classify<'c, #variants>), )*
        }

        impl AnyClassify<'_> {
            /// Which kind is submitted.
            pub fn kind(&self) -> Kind {
                match self { #( AnyClassify::#variants(_) => Kind::#variants, )* }
            }

            /// See [`crate::Classify::response_format`].
            pub fn response_format(self, format: types::ResponseFormat) -> Self {
                match self { #( AnyClassify::#variants(c) => AnyClassify::#variants(c.response_format(format)), )* }
            }

            /// See [`crate::Classify::on_progress`].
            pub fn on_progress(self, f: impl Fn(crate::Progress) + Send + Sync + 'static) -> Self {
                match self { #( AnyClassify::#variants(c) => AnyClassify::#variants(c.on_progress(f)), )* }
            }

            /// See [`crate::Classify::on_accepted`].
            pub fn on_accepted(self, f: impl Fn(&crate::Receipt) -> ::std::io::Result<()> + Send + Sync + 'static) -> Self {
                match self { #( AnyClassify::#variants(c) => AnyClassify::#variants(c.on_accepted(f)), )* }
            }

            /// See [`crate::Classify::send`].
            pub async fn send(self) -> crate::Result<crate::Identifier> {
                match self { #( AnyClassify::#variants(c) => c.send().await, )* }
            }

            /// See [`crate::Classify::send_receipt`].
            pub async fn send_receipt(self) -> crate::Result<crate::Receipt> {
                match self { #( AnyClassify::#variants(c) => c.send_receipt().await, )* }
            }

            /// See [`crate::Classify::wait`]: the result as an [`AnyResult`].
            pub async fn wait(self) -> crate::Result<AnyResult> {
                match self { #( AnyClassify::#variants(c) => c.wait().await.map(AnyResult::#variants), )* }
            }
        }

        impl crate::Client {
            /// Starts a submission of kind `kind` (chosen at run time):
            /// `classify_as(Kind::Image, source)` is
            /// `classify_image(source)`, options left at their defaults.
            pub fn classify_as(&self, kind: Kind, source: impl Into<crate::Source>) -> AnyClassify<'_> {
                match kind { #( Kind::#variants => AnyClassify::#variants(self.#classify_fns(source)), )* }
            }

            #(
                #[doc = #classify_docs]
                pub fn #classify_fns(&self, source: impl Into<crate::Source>) -> crate::submit::Classify<'_, #variants> {
                    crate::submit::Classify::new(self, source.into())
                }

                #[doc = #result_docs]
                pub async fn #result_fns(&self, id: &crate::Identifier) -> crate::Result<crate::answer::Classified<types::#outputs>> {
                    self.result_of::<#variants>(id).await
                }

                #[doc = #results_docs]
                pub async fn #results_fns(&self, ids: &[crate::Identifier]) -> crate::Result<Vec<crate::answer::Classified<types::#outputs>>> {
                    self.results_of::<#variants>(ids).await
                }

                #[doc = #wait_docs]
                pub fn #wait_fns(&self, id: &crate::Identifier) -> crate::wait::Wait<'_, #variants> {
                    crate::wait::Wait::new(self, id)
                }
            )*

            /// The current result of `id` as kind `kind` (one GET).
            pub async fn result_as(&self, kind: Kind, id: &crate::Identifier) -> crate::Result<AnyResult> {
                match kind { #( Kind::#variants => self.result_of::<#variants>(id).await.map(AnyResult::#variants), )* }
            }

            /// The current results of 1 to 100 classifications of kind `kind` (one GET).
            pub async fn results_as(&self, kind: Kind, ids: &[crate::Identifier]) -> crate::Result<Vec<AnyResult>> {
                match kind { #( Kind::#variants => Ok(self.results_of::<#variants>(ids).await?.into_iter().map(AnyResult::#variants).collect()), )* }
            }

            /// Overrides the verdict of the `kind` file whose SHA-256 is `hash`
            /// (the `hash` of its result, not its identifier): later answers
            /// carry `classification` as their `force_classification`.
            pub async fn override_classification(
                &self,
                kind: Kind,
                hash: &str,
                classification: types::Classification,
            ) -> crate::Result<#override_type> {
                match kind { #( Kind::#variants => self.override_of::<#variants>(hash, classification).await, )* }
            }
        }
    }
}

/// The submit form of a kind: its file field, that field's content types,
/// its options group and its size limit.
pub(crate) fn file_form(
    spec: &OpenAPI,
    kind: &str,
    submit: &KindOp,
) -> Result<(String, Vec<String>, String, u64), String> {
    let op_id = &submit.op_id;
    let (schema, group) = form_group(spec, submit)?;
    let group =
        group.ok_or_else(|| format!("{op_id}: the submit form needs an x-options-group"))?;
    let SchemaKind::Type(Type::Object(obj)) = &schema.schema_kind else {
        return Err(format!("{op_id}: multipart schema must be an object"));
    };
    let media = multipart_media(spec, submit)?;
    for (name, prop) in &obj.properties {
        let ReferenceOr::Item(prop) = prop else {
            continue;
        };
        let SchemaKind::Type(Type::String(st)) = &prop.schema_kind else {
            continue;
        };
        if st.format != openapiv3::VariantOrUnknownOrEmpty::Item(openapiv3::StringFormat::Binary) {
            continue;
        }
        let content_types: Vec<String> = media
            .encoding
            .get(name)
            .and_then(|e| e.content_type.clone())
            .ok_or_else(|| {
                format!("{op_id}.{name}: the file part needs its content types in `encoding`")
            })?
            .split(',')
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
            .collect();
        let ext = submit.op.extensions.get("x-identifai");
        let max = ext
            .and_then(|e| e.get("max_bytes"))
            .and_then(|v| v.as_u64())
            .or(st.max_length.map(|m| m as u64))
            .or_else(|| stated_max_size(prop.schema_data.description.as_deref().unwrap_or("")))
            .ok_or_else(|| {
                format!(
                    "{op_id}.{name}: no size limit for {kind}s (x-identifai.max_bytes, maxLength, \
                     or \"Maximum file size: N MB\" in the description)"
                )
            })?;
        return Ok((name.clone(), content_types, group, max));
    }
    Err(format!(
        "{op_id}: the submit form has no file (format: binary) field"
    ))
}

/// "Maximum file size: 50MB" / "**Maximum file size:** 5GB" in a
/// description, in bytes (MB = 2^20, GB = 2^30, as the API counts).
pub(crate) fn stated_max_size(description: &str) -> Option<u64> {
    let lower = description.to_ascii_lowercase();
    let at = lower.find("maximum file size")? + "maximum file size".len();
    let rest = lower[at..].trim_start_matches(|c: char| c == ':' || c == '*' || c.is_whitespace());
    let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
    let n: u64 = digits.parse().ok()?;
    let unit = rest[digits.len()..].trim_start();
    let scale = if unit.starts_with("gb") {
        1 << 30
    } else if unit.starts_with("mb") {
        1 << 20
    } else if unit.starts_with("kb") {
        1 << 10
    } else {
        return None;
    };
    Some(n * scale)
}

pub(crate) fn multipart_media<'a>(
    spec: &'a OpenAPI,
    op: &'a KindOp,
) -> Result<&'a openapiv3::MediaType, String> {
    let body = op
        .op
        .request_body
        .as_ref()
        .ok_or_else(|| format!("{}: no request body", op.op_id))?;
    resolve_body(spec, body)?
        .content
        .get("multipart/form-data")
        .ok_or_else(|| format!("{}: a submission must be multipart/form-data", op.op_id))
}

/// A multipart operation's schema and its `x-options-group`.
pub(crate) fn form_group<'a>(
    spec: &'a OpenAPI,
    op: &'a KindOp,
) -> Result<(&'a Schema, Option<String>), String> {
    let media = multipart_media(spec, op)?;
    let schema = multipart_schema(spec, media, &op.op_id)?;
    let group = schema
        .schema_data
        .extensions
        .get("x-options-group")
        .and_then(|g| g.as_str())
        .map(str::to_string);
    Ok((schema, group))
}

/// The Rust type of an operation's 200 JSON answer (`list`: of its items),
/// which must be a component `$ref`.
pub(crate) fn json_ref_type(spec: &OpenAPI, op: &KindOp, list: bool) -> Result<syn::Ident, String> {
    let resp = op
        .op
        .responses
        .responses
        .get(&openapiv3::StatusCode::Code(200))
        .ok_or_else(|| format!("{}: no 200 answer", op.op_id))?;
    let resp = resolve_response(spec, resp)?;
    let schema = resp
        .content
        .get("application/json")
        .and_then(|m| m.schema.as_ref())
        .ok_or_else(|| format!("{}: the 200 answer has no JSON schema", op.op_id))?;
    let schema = if list {
        let item = match schema {
            ReferenceOr::Item(s) => s,
            ReferenceOr::Reference { reference } => spec
                .components
                .as_ref()
                .and_then(|c| c.schemas.get(ref_name(reference)))
                .and_then(|s| s.as_item())
                .ok_or_else(|| format!("{}: unresolved {reference}", op.op_id))?,
        };
        match &item.schema_kind {
            SchemaKind::Type(Type::Array(a)) => match &a.items {
                Some(ReferenceOr::Reference { reference }) => {
                    return component_type(spec, reference, &op.op_id)
                }
                _ => return Err(format!("{}: list items must be a component $ref", op.op_id)),
            },
            _ => return Err(format!("{}: a list answer must be an array", op.op_id)),
        }
    } else {
        schema
    };
    match schema {
        ReferenceOr::Reference { reference } => component_type(spec, reference, &op.op_id),
        ReferenceOr::Item(_) => Err(format!(
            "{}: the 200 answer must be a component $ref",
            op.op_id
        )),
    }
}

/// The Rust type of an operation's JSON request body (a component `$ref`,
/// else progenitor's `<OperationId>Body`).
pub(crate) fn json_body_type(spec: &OpenAPI, op: &KindOp) -> Result<syn::Ident, String> {
    let body = op
        .op
        .request_body
        .as_ref()
        .ok_or_else(|| format!("{}: an override needs a JSON body", op.op_id))?;
    let schema = resolve_body(spec, body)?
        .content
        .get("application/json")
        .and_then(|m| m.schema.as_ref())
        .ok_or_else(|| format!("{}: an override needs a JSON body", op.op_id))?;
    match schema {
        ReferenceOr::Reference { reference } => component_type(spec, reference, &op.op_id),
        ReferenceOr::Item(_) => Ok(format_ident!("{}Body", pascal(&op.op_id))),
    }
}

/// A result schema must have `status`, `errors` and `verdict` for waiting.
pub(crate) fn check_pollable(spec: &OpenAPI, op: &KindOp) -> Result<(), String> {
    let ty = json_ref_type(spec, op, false)?;
    let resp = resolve_response(
        spec,
        op.op
            .responses
            .responses
            .get(&openapiv3::StatusCode::Code(200))
            .ok_or("no 200")?,
    )?;
    let Some(ReferenceOr::Reference { reference }) = resp
        .content
        .get("application/json")
        .and_then(|m| m.schema.as_ref())
    else {
        return Err(format!(
            "{}: the 200 answer must be a component $ref",
            op.op_id
        ));
    };
    let schema = spec
        .components
        .as_ref()
        .and_then(|c| c.schemas.get(ref_name(reference)))
        .and_then(|s| s.as_item())
        .ok_or_else(|| format!("{}: unresolved {reference}", op.op_id))?;
    let props: Vec<&String> = match &schema.schema_kind {
        SchemaKind::Type(Type::Object(o)) => o.properties.keys().collect(),
        _ => Vec::new(),
    };
    for field in ["status", "errors", "verdict", "identifier", "hash"] {
        if !props.iter().any(|p| *p == field) {
            return Err(format!(
                "{ty} (answer of {}): a result needs `{field}` for the layer to wait on it",
                op.op_id
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stated_maximum_size_in_bytes() {
        assert_eq!(stated_max_size("Maximum file size: 50MB"), Some(50 << 20));
        assert_eq!(
            stated_max_size("x. **Maximum file size:** 5GB."),
            Some(5 << 30)
        );
        assert_eq!(stated_max_size("maximum file size 10 kb"), Some(10 << 10));
        assert_eq!(stated_max_size("Maximum file size: large"), None);
        assert_eq!(stated_max_size("no size here"), None);
    }

    #[test]
    fn a_spec_without_kinds_is_refused() {
        let s = crate::test_support::spec(
            "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\n",
        );
        let e = media_kinds(&s, &mut Forms::default()).err().unwrap();
        assert!(e.contains("x-identifai"), "{e}");
    }
}

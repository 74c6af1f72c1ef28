//! The effective verdict: every generated type that carries a `verdict`
//! (results, frames, clips, audio tracks) gets methods that read it the
//! way a pipeline must, with the account's `force_classification` winning
//! over the server's verdict (a pass over the generated types).

use quote::{format_ident, quote};
use std::collections::BTreeMap;

/// The spec's verdict type, which [`verdict_methods`]' `server_verdict`
/// returns for every kind.
const VERDICT: &str = "Verdict";

/// Adds, to every struct with a field `verdict: Option<T>` where `T` is a
/// generated struct with `classification: Classification` and `confidence:
/// f64`, the inherent methods
///
/// * `server_verdict()`: the server's verdict as a `Verdict` (borrowed when
///   `T` is `Verdict`, else copied field by field, so every kind answers with
///   one type; `T` must have `Verdict`'s fields);
/// * `forced_classification()`: `force_classification`, when the struct has
///   that field (else always `None`);
/// * `effective_verdict()`: `crate::api::verdict::Effective` of the two.
///
/// Types are recognised by their Rust shape, so a schema the spec adds gets
/// the methods by regeneration.
pub(crate) fn verdict_methods(items: &mut Vec<syn::Item>) -> Result<(), String> {
    let structs: BTreeMap<String, &syn::ItemStruct> = items
        .iter()
        .filter_map(|i| match i {
            syn::Item::Struct(s) => Some((s.ident.to_string(), s)),
            _ => None,
        })
        .collect();
    let Some(verdict) = structs.get(VERDICT) else {
        return Ok(());
    };
    let verdict_fields = named_fields(verdict);
    let mut impls: Vec<syn::Item> = Vec::new();
    for s in structs.values() {
        let fields = named_fields(s);
        let Some(inner) = fields
            .iter()
            .find(|(name, _)| name == "verdict")
            .and_then(|(_, ty)| option_of(ty))
        else {
            continue;
        };
        let Some(verdict_ty) = structs.get(&inner) else {
            continue;
        };
        let verdict_ty_fields = named_fields(verdict_ty);
        let field_ty = |name: &str| {
            verdict_ty_fields
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, t)| t.as_str())
        };
        if field_ty("classification") != Some(CLASSIFICATION)
            || field_ty("confidence") != Some("f64")
        {
            continue;
        }
        let ident = &s.ident;
        let as_verdict = if inner == VERDICT {
            quote!(::std::borrow::Cow::Borrowed(v))
        } else {
            let mut copies = Vec::new();
            for (name, ty) in &verdict_fields {
                if field_ty(name) != Some(ty.as_str()) {
                    return Err(format!(
                        "{ident}.verdict: its type {inner} has no field `{name}: {ty}` of {VERDICT}, \
                         so it cannot be read as one"
                    ));
                }
                let f = format_ident!("{name}");
                copies.push(quote!(#f: ::std::clone::Clone::clone(&v.#f)));
            }
            quote!(::std::borrow::Cow::Owned(Verdict { #(#copies),* }))
        };
        let forced = if fields.iter().any(|(n, t)| {
            n == "force_classification" && option_of(t).as_deref() == Some(CLASSIFICATION)
        }) {
            quote!(self.force_classification.as_ref())
        } else {
            quote!(None)
        };
        impls.push(syn::parse_quote! {
            impl #ident {
                /// The server's default verdict, as a [`Verdict`] (one type for
                /// every kind). See [`Self::effective_verdict`] for the one to act on.
                pub fn server_verdict(&self) -> ::std::option::Option<::std::borrow::Cow<'_, Verdict>> {
                    self.verdict.as_ref().map(|v| #as_verdict)
                }

                /// The classification the account forced with an override, if any.
                pub fn forced_classification(&self) -> ::std::option::Option<&crate::api::types::Classification> {
                    #forced
                }

                /// The verdict to act on: the forced classification when there is
                /// one, else the server's verdict.
                pub fn effective_verdict(&self) -> ::std::option::Option<crate::api::verdict::Effective> {
                    crate::api::verdict::Effective::of(
                        self.verdict.as_ref().map(|v| (&v.classification, v.confidence)),
                        self.forced_classification(),
                    )
                }
            }
        });
    }
    items.extend(impls);
    Ok(())
}

/// How the generated code spells the classification type.
const CLASSIFICATION: &str = "crate :: api :: types :: Classification";

/// A struct's named fields as (name, type as token text).
fn named_fields(s: &syn::ItemStruct) -> Vec<(String, String)> {
    match &s.fields {
        syn::Fields::Named(n) => n
            .named
            .iter()
            .filter_map(|f| {
                let ty = &f.ty;
                Some((f.ident.as_ref()?.to_string(), quote!(#ty).to_string()))
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// `T` of a type written `::std::option::Option<T>`, as token text.
fn option_of(ty: &str) -> Option<String> {
    ty.strip_prefix(":: std :: option :: Option <")
        .and_then(|t| t.strip_suffix('>'))
        .map(|t| t.trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_verdict_holder_gets_the_methods() {
        let file: syn::File = syn::parse_quote! {
            pub struct Verdict {
                pub classification: crate::api::types::Classification,
                pub confidence: f64,
                pub heuristic: ::std::string::String,
            }
            pub struct VideoVerdict {
                pub classification: crate::api::types::Classification,
                pub confidence: f64,
                pub count: ::std::option::Option<i64>,
                pub heuristic: ::std::string::String,
            }
            pub struct Result {
                pub force_classification: ::std::option::Option<crate::api::types::Classification>,
                pub verdict: ::std::option::Option<Verdict>,
            }
            pub struct Video {
                pub force_classification: ::std::option::Option<crate::api::types::Classification>,
                pub verdict: ::std::option::Option<VideoVerdict>,
            }
            pub struct Clip { pub verdict: ::std::option::Option<Verdict> }
            pub struct DetectionVerdict { pub classification: ::std::string::String, pub confidence: f64 }
            pub struct Detection { pub verdict: ::std::option::Option<DetectionVerdict> }
        };
        let mut items = file.items;
        verdict_methods(&mut items).unwrap();
        let text = crate::test_support::unparse(items);
        for holder in ["Result", "Video", "Clip"] {
            assert!(
                text.contains(&format!("impl {holder} {{")),
                "{holder}: {text}"
            );
        }
        assert!(!text.contains("impl Detection {"), "{text}");
        assert!(text.contains("::std::borrow::Cow::Borrowed(v)"), "{text}");
        assert!(
            text.contains("heuristic: ::std::clone::Clone::clone(&v.heuristic)"),
            "{text}"
        );
        assert_eq!(
            text.matches("self.force_classification.as_ref()").count(),
            2,
            "{text}"
        );
    }

    #[test]
    fn a_verdict_type_without_verdicts_fields_fails_the_build() {
        let file: syn::File = syn::parse_quote! {
            pub struct Verdict {
                pub classification: crate::api::types::Classification,
                pub confidence: f64,
                pub heuristic: ::std::string::String,
            }
            pub struct Short {
                pub classification: crate::api::types::Classification,
                pub confidence: f64,
            }
            pub struct Odd { pub verdict: ::std::option::Option<Short> }
        };
        let mut items = file.items;
        let err = verdict_methods(&mut items).unwrap_err();
        assert!(
            err.contains("Odd.verdict") && err.contains("heuristic"),
            "{err}"
        );
    }
}

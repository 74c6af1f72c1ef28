//! PHP's booleans: wherever the spec says `boolean`, `0` and `1` are `false`
//! and `true` (a pass over the generated types).

use crate::laravel::{derives, serde_attr_has};

/// The adaptor the pass wires in (`src/api/php.rs`).
const ADAPTOR: &str = "crate::api::php::boolean";

/// The decoding rule "wherever the spec says `boolean`, the integers `0` and
/// `1` are `false` and `true`" (a MySQL boolean column without a Laravel
/// cast), applied once to progenitor's (typify's) generated types:
///
/// every field of a struct that derives `Deserialize` (named, or the one
/// field of a newtype) whose type is `bool`, or `bool` inside
/// `Option`/`Vec` at any depth, gets `deserialize_with =
/// "crate::api::php::boolean"`, and `default` if it is an `Option` (which
/// serde then no longer defaults by itself). Serialization is unchanged.
///
/// Types are recognised by their Rust shape, not their name, so a new schema
/// gets the rule by regeneration. Enum variants are left alone: an untagged
/// `oneOf` tries its branches in order, and the rule could change which one
/// a `0` or `1` matches.
///
/// Runs after [`laravel_empty_maps`], whose fields hold maps and so are
/// never boolean; a boolean field that already has a `deserialize_with`
/// (two adaptors on one field) is an error naming it.
pub(crate) fn php_bools(items: &mut [syn::Item]) -> Result<(), String> {
    for item in items.iter_mut() {
        let syn::Item::Struct(s) = item else { continue };
        if !derives(&s.attrs, "Deserialize") {
            continue;
        }
        let owner = s.ident.to_string();
        let fields: Vec<&mut syn::Field> = match &mut s.fields {
            syn::Fields::Named(named) => named.named.iter_mut().collect(),
            syn::Fields::Unnamed(t) if t.unnamed.len() == 1 => t.unnamed.iter_mut().collect(),
            _ => continue,
        };
        for f in fields {
            if !is_boolish(&f.ty) {
                continue;
            }
            if serde_attr_has(&f.attrs, "deserialize_with") || serde_attr_has(&f.attrs, "with") {
                let name = f.ident.as_ref().map_or("0".into(), ToString::to_string);
                return Err(format!(
                    "php_bools: the boolean field `{owner}.{name}` already has its own \
                     deserializer (`deserialize_with` or `with`)"
                ));
            }
            f.attrs
                .push(syn::parse_quote!(#[serde(deserialize_with = #ADAPTOR)]));
            if option_inner(&f.ty).is_some() && !serde_attr_has(&f.attrs, "default") {
                f.attrs.push(syn::parse_quote!(#[serde(default)]));
            }
        }
    }
    Ok(())
}

/// Whether `ty` is `bool`, or `bool` inside `Option`/`Vec` (any depth).
fn is_boolish(ty: &syn::Type) -> bool {
    match wrapped(ty, &[OPTION, VEC].concat()) {
        Some(inner) => is_boolish(inner),
        None => path_name(ty).is_some_and(|(name, _)| BOOL.contains(&name.as_str())),
    }
}

const BOOL: &[&str] = &["bool", "::std::primitive::bool", "::core::primitive::bool"];
const OPTION: &[&str] = &["Option", "::std::option::Option", "::core::option::Option"];
const VEC: &[&str] = &["Vec", "::std::vec::Vec", "::alloc::vec::Vec"];

/// `T` of `Option<T>`.
fn option_inner(ty: &syn::Type) -> Option<&syn::Type> {
    wrapped(ty, OPTION)
}

/// `T` of `W<T>`, when `W` is one of `names`.
fn wrapped<'a>(ty: &'a syn::Type, names: &[&str]) -> Option<&'a syn::Type> {
    let (name, args) = path_name(ty)?;
    match (names.contains(&name.as_str()), args.map(|a| &a.args)) {
        (true, Some(args)) if args.len() == 1 => match args.first()? {
            syn::GenericArgument::Type(t) => Some(t),
            _ => None,
        },
        _ => None,
    }
}

/// A path type's path written without spaces or generic arguments
/// (`::std::option::Option`), and the last segment's `<...>` if any; `None`
/// for any other type, or arguments before the last segment.
fn path_name(ty: &syn::Type) -> Option<(String, Option<&syn::AngleBracketedGenericArguments>)> {
    let syn::Type::Path(p) = ty else { return None };
    if p.qself.is_some() {
        return None;
    }
    let mut name = String::new();
    let mut args = None;
    for (i, seg) in p.path.segments.iter().enumerate() {
        if i > 0 || p.path.leading_colon.is_some() {
            name.push_str("::");
        }
        name.push_str(&seg.ident.to_string());
        match &seg.arguments {
            syn::PathArguments::None => {}
            syn::PathArguments::AngleBracketed(a) if i + 1 == p.path.segments.len() => {
                args = Some(a)
            }
            _ => return None,
        }
    }
    Some((name, args))
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;
    use std::collections::BTreeMap;

    fn run(file: syn::File) -> Result<Vec<syn::Item>, String> {
        let mut items = file.items;
        php_bools(&mut items)?;
        Ok(items)
    }

    /// Each field of each struct (`Type.field`, `Type.0`) with its serde
    /// attributes, as text.
    fn fields(items: &[syn::Item]) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        for item in items {
            let syn::Item::Struct(s) = item else { continue };
            for (i, f) in s.fields.iter().enumerate() {
                let name = f.ident.as_ref().map_or(i.to_string(), ToString::to_string);
                let attrs = f.attrs.iter().filter(|a| a.path().is_ident("serde"));
                let attrs: Vec<String> = attrs.map(|a| quote!(#a).to_string()).collect();
                out.insert(format!("{}.{name}", s.ident), attrs.join(" "));
            }
        }
        out
    }

    #[test]
    fn boolean_fields_get_the_rule_and_the_rest_does_not() {
        let items = run(syn::parse_quote! {
            #[derive(::serde::Serialize, ::serde::Deserialize)]
            pub struct ModelResult {
                #[serde(skip_serializing_if = "::std::option::Option::is_none")]
                pub unknown: ::std::option::Option<bool>,
                pub required: bool,
                #[serde(default)]
                pub defaulted: bool,
                #[serde(default, skip_serializing_if = "::std::vec::Vec::is_empty")]
                pub flags: ::std::vec::Vec<bool>,
                pub maybe_flags: ::std::option::Option<::std::vec::Vec<bool>>,
                pub name: ::std::option::Option<::std::string::String>,
                pub count: i64,
                pub by_name: ::std::collections::HashMap<String, bool>,
            }
            #[derive(::serde::Deserialize)]
            #[serde(transparent)]
            pub struct Flag(pub bool);
            #[derive(::serde::Serialize)]
            pub struct Request { pub with_heatmap: Option<bool> }
            #[derive(::serde::Deserialize)]
            pub enum Either { Flag(bool), Text(String) }
        })
        .unwrap();
        let fields = fields(&items);
        let with = r#"# [serde (deserialize_with = "crate::api::php::boolean")]"#;
        let default = "# [serde (default)]";
        let expected = [
            // Options: the rule, and `default` (serde stops defaulting them
            // with `deserialize_with`).
            ("ModelResult.unknown", true, true),
            ("ModelResult.maybe_flags", true, true),
            // Required, or defaulted already: the rule only.
            ("ModelResult.required", true, false),
            ("ModelResult.defaulted", true, false),
            ("ModelResult.flags", true, false),
            ("Flag.0", true, false),
            // Not booleans, or not decoded: untouched.
            ("ModelResult.name", false, false),
            ("ModelResult.count", false, false),
            ("ModelResult.by_name", false, false),
            ("Request.with_heatmap", false, false),
        ];
        for (field, rule, defaulted) in expected {
            let attrs = &fields[field];
            assert_eq!(
                attrs.matches(with).count(),
                usize::from(rule),
                "{field}: {attrs}"
            );
            let added_default =
                attrs.matches(default).count() - usize::from(field == "ModelResult.defaulted");
            assert_eq!(added_default, usize::from(defaulted), "{field}: {attrs}");
        }
        assert_eq!(fields.len(), expected.len());
        // The enum's variants are left alone.
        let text = crate::test_support::unparse(items);
        assert_eq!(text.matches("php::boolean").count(), 6, "{text}");
    }

    #[test]
    fn shapes_are_recognised_by_rust_type_not_by_name() {
        for (ty, boolish) in [
            (quote!(bool), true),
            (quote!(::std::primitive::bool), true),
            (quote!(Option<bool>), true),
            (quote!(::std::option::Option<::std::vec::Vec<bool>>), true),
            (quote!(Vec<Option<bool>>), true),
            (quote!(::std::option::Option<i64>), false),
            (quote!(Boolean), false),
            (quote!(crate::api::types::Bool), false),
            (quote!(::std::collections::HashMap<String, bool>), false),
            (quote!(::std::boxed::Box<bool>), false),
            (quote!([bool; 2]), false),
        ] {
            let parsed: syn::Type = syn::parse2(ty.clone()).unwrap();
            assert_eq!(is_boolish(&parsed), boolish, "{ty}");
        }
    }

    #[test]
    fn two_adaptors_on_one_field_are_an_error() {
        let e = run(syn::parse_quote! {
            #[derive(::serde::Deserialize)]
            pub struct Odd {
                #[serde(deserialize_with = "crate::api::laravel::deep")]
                pub flag: Option<bool>,
            }
        })
        .err()
        .expect("an error");
        assert!(e.contains("`Odd.flag`"), "{e}");
    }

    #[test]
    fn after_the_laravel_pass_the_two_never_meet() {
        // The repo spec, through the passes in their order: every boolean
        // field has one adaptor, and it is this pass's.
        let generated = crate::generate(&crate::test_support::repo_spec_text(), false).unwrap();
        let api = &generated.api;
        let php = api.matches(ADAPTOR).count();
        assert!(php >= 8, "{php} boolean fields: {api}");
        for (at, _) in api.match_indices(ADAPTOR) {
            // The field: up to its `;`, or the `}` closing a struct whose
            // last field it is (the next item may use the other adaptor).
            let field = &api[at..api[at..].find([';', '}']).map_or(api.len(), |e| at + e)];
            assert!(!field.contains("laravel::deep"), "{field}");
        }
    }

    #[test]
    fn a_boolean_the_spec_adds_gets_the_rule_by_regeneration() {
        // The repo spec plus a named boolean schema (typify makes it a
        // transparent newtype), a list of booleans and a defaulted one.
        let mut doc: serde_json::Value =
            serde_yaml_ng::from_str(&crate::test_support::repo_spec_text()).unwrap();
        let schemas = &mut doc["components"]["schemas"];
        schemas["Flag"] = serde_json::json!({"type": "boolean", "description": "A flag."});
        let props = schemas["Result"]["properties"].as_object_mut().unwrap();
        props.insert(
            "flagged".into(),
            serde_json::json!({"$ref": "#/components/schemas/Flag"}),
        );
        props.insert(
            "flags".into(),
            serde_json::json!({"type": "array", "items": {"type": "boolean"}}),
        );
        props.insert(
            "default_flag".into(),
            serde_json::json!({"type": "boolean", "default": true}),
        );
        let api = crate::generate(&doc.to_string(), false).unwrap().api;
        let mut file: syn::File = syn::parse_str(&api).unwrap();
        let types = crate::types_module(&mut file.items).unwrap();
        let fields = fields(types);
        let with = r#"deserialize_with = "crate::api::php::boolean""#;
        for field in [
            "Flag.0",
            "ModelResult.flags",
            "ModelResult.default_flag",
            "ModelResult.unknown",
        ] {
            assert!(fields[field].contains(with), "{field}: {}", fields[field]);
        }
        // A field of the newtype is the newtype's business.
        assert!(!fields["ModelResult.flagged"].contains(with));
    }
}

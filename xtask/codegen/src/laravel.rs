//! Laravel's empty maps: wherever the spec says `object`, `[]` is the empty
//! object (a pass over the generated types).

use quote::quote;

/// The decoding rule "wherever the spec says `object`, `[]` is the empty
/// object", applied once to progenitor's (typify's) generated types:
///
/// * Every object type (a struct with named fields, or a newtype over a map,
///   i.e. every `type: object` schema, component or inline) gets
///   `#[serde(remote = "Self")]`, which turns its derived impls into
///   inherent functions, and a `Deserialize` impl that calls the derived one
///   through `crate::api::laravel::Object`: `[]` reads as `{}`, a non-empty array
///   is an error, anything else is the derived behaviour. Its `Serialize`
///   impl calls the derived one unchanged. Being on the type, the rule holds
///   wherever the type is used: a field, an `Option`, a `Vec` item, a map
///   value, a `oneOf` branch, a whole response body.
/// * Every field whose type holds a foreign map (`serde_json::Map` for a
///   free-form object, `HashMap` for `additionalProperties`), alone or inside
///   `Option`/`Vec`/another map, gets `deserialize_with =
///   "crate::api::laravel::deep"` (and `default` if it is an `Option`, which serde
///   then no longer defaults by itself). Flattened fields are left alone:
///   they are the object's own map, not a JSON value.
///
/// Types are recognised by their Rust shape, not their name, so a new schema
/// gets the rule by regeneration.
pub(crate) fn laravel_empty_maps(items: &mut Vec<syn::Item>) {
    let mut shims: Vec<syn::Item> = Vec::new();
    for item in items.iter_mut() {
        let syn::Item::Struct(s) = item else { continue };
        if !derives(&s.attrs, "Deserialize") {
            continue;
        }
        let object = match &mut s.fields {
            syn::Fields::Named(named) => {
                for f in named.named.iter_mut() {
                    if !holds_map(&f.ty) || serde_attr_has(&f.attrs, "flatten") {
                        continue;
                    }
                    f.attrs.push(
                        syn::parse_quote!(#[serde(deserialize_with = "crate::api::laravel::deep")]),
                    );
                    let ty = &f.ty;
                    let optional = quote!(#ty)
                        .to_string()
                        .starts_with(":: std :: option :: Option <");
                    if optional && !serde_attr_has(&f.attrs, "default") {
                        f.attrs.push(syn::parse_quote!(#[serde(default)]));
                    }
                }
                true
            }
            syn::Fields::Unnamed(t) => t.unnamed.len() == 1 && is_map(&t.unnamed[0].ty),
            syn::Fields::Unit => false,
        };
        if !object {
            continue;
        }
        s.attrs.push(syn::parse_quote!(#[serde(remote = "Self")]));
        let ident = &s.ident;
        shims.push(syn::parse_quote! {
            impl<'de> ::serde::Deserialize<'de> for #ident {
                fn deserialize<D>(deserializer: D) -> ::std::result::Result<Self, D::Error>
                where
                    D: ::serde::Deserializer<'de>,
                {
                    // The derived impl (inherent, `remote = "Self"`), through
                    // the rule of `crate::laravel`.
                    #ident::deserialize(crate::api::laravel::Object(deserializer))
                }
            }
        });
        if derives(&s.attrs, "Serialize") {
            shims.push(syn::parse_quote! {
                impl ::serde::Serialize for #ident {
                    fn serialize<S>(&self, serializer: S) -> ::std::result::Result<S::Ok, S::Error>
                    where
                        S: ::serde::Serializer,
                    {
                        #ident::serialize(self, serializer)
                    }
                }
            });
        }
    }
    items.extend(shims);
}

/// Whether `attrs` derive a trait named `name` (the last segment of a
/// path in a `#[derive(...)]` list: `Deserialize` for
/// `::serde::Deserialize`, `Default` for `Default`).
pub(crate) fn derives(attrs: &[syn::Attribute], name: &str) -> bool {
    attrs
        .iter()
        .filter(|a| a.path().is_ident("derive"))
        .any(|a| {
            a.parse_args_with(
                syn::punctuated::Punctuated::<syn::Path, syn::Token![,]>::parse_terminated,
            )
            .is_ok_and(|paths| {
                paths
                    .iter()
                    .any(|p| p.segments.last().is_some_and(|s| s.ident == name))
            })
        })
}

/// Whether a `#[serde(...)]` attribute of `attrs` names `word`.
pub(crate) fn serde_attr_has(attrs: &[syn::Attribute], word: &str) -> bool {
    attrs.iter().any(|a| {
        a.path().is_ident("serde")
            && quote!(#a)
                .to_string()
                .split(|c: char| !c.is_alphanumeric() && c != '_')
                .any(|w| w == word)
    })
}

pub(crate) const MAP_TYPES: [&str; 3] = [
    ":: serde_json :: Map <",
    ":: std :: collections :: HashMap <",
    ":: std :: collections :: BTreeMap <",
];

/// Whether `ty` is a map type.
pub(crate) fn is_map(ty: &syn::Type) -> bool {
    let t = quote!(#ty).to_string();
    MAP_TYPES.iter().any(|m| t.starts_with(m))
}

/// Whether `ty` holds a map type anywhere.
pub(crate) fn holds_map(ty: &syn::Type) -> bool {
    let t = quote!(#ty).to_string();
    MAP_TYPES.iter().any(|m| t.contains(m))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_and_map_fields_get_the_rule_and_the_rest_does_not() {
        let file: syn::File = syn::parse_quote! {
            #[derive(::serde::Serialize, ::serde::Deserialize)]
            pub struct Job {
                pub meta: ::std::option::Option<::serde_json::Map<String, ::serde_json::Value>>,
                #[serde(flatten)]
                pub extra: ::serde_json::Map<String, ::serde_json::Value>,
                pub name: String,
            }
            #[derive(::serde::Deserialize)]
            pub struct Labels(pub ::std::collections::HashMap<String, String>);
            #[derive(::serde::Deserialize)]
            pub struct Id(pub String);
            #[derive(::serde::Deserialize)]
            pub enum E { A }
        };
        let mut items = file.items;
        laravel_empty_maps(&mut items);
        let text = crate::test_support::unparse(items);
        // Job and Labels are objects: their derived impls become inherent
        // and a shim reads `[]` as `{}`; Id (a string newtype) is not.
        assert_eq!(
            text.matches(r#"#[serde(remote = "Self")]"#).count(),
            2,
            "{text}"
        );
        assert!(
            text.contains("impl<'de> ::serde::Deserialize<'de> for Job"),
            "{text}"
        );
        assert!(
            text.contains("impl<'de> ::serde::Deserialize<'de> for Labels"),
            "{text}"
        );
        assert!(!text.contains("for Id"), "{text}");
        // Only Job serializes, so only Job gets a Serialize shim.
        assert_eq!(
            text.matches("impl ::serde::Serialize for").count(),
            1,
            "{text}"
        );
        // The optional map field is deep and defaulted; the flattened one is left alone.
        assert_eq!(
            text.matches("crate::api::laravel::deep").count(),
            1,
            "{text}"
        );
        assert!(text.contains("#[serde(default)]"), "{text}");
    }
}

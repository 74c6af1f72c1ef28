//! Empty answers: a response type whose every field is optional decodes
//! `{}`, Laravel's `[]` or an object of unknown fields alone as a value with
//! nothing in it. One pass over the generated types lets the generated
//! client refuse such an answer instead of handing it over as a result.

use crate::laravel::derives;

/// Implements `crate::api::Answer` for every struct and enum of the
/// generated types:
///
/// * a struct with named fields that derives `Default` and `PartialEq`
///   (typify derives `Default` exactly when every field may be missing)
///   counts as empty when it equals its default: none of its fields came;
/// * every other type never counts as empty (a required field already makes
///   an answer without it a decode error; an open map may be empty).
///
/// `crate::api::body::from_response` refuses an empty answer as an
/// undecodable one, so a wrong shape is an error, not an empty result.
/// Types are recognised by their Rust shape, so a new schema gets the rule
/// by regeneration.
pub(crate) fn empty_answers(items: &mut Vec<syn::Item>) {
    let mut impls: Vec<syn::Item> = Vec::new();
    for item in items.iter() {
        let (ident, may_be_empty) = match item {
            syn::Item::Struct(s) => (
                &s.ident,
                matches!(&s.fields, syn::Fields::Named(n) if !n.named.is_empty())
                    && derives(&s.attrs, "Default")
                    && derives(&s.attrs, "PartialEq"),
            ),
            syn::Item::Enum(e) => (&e.ident, false),
            _ => continue,
        };
        impls.push(if may_be_empty {
            syn::parse_quote! {
                impl crate::api::Answer for #ident {
                    fn is_empty_answer(&self) -> bool {
                        *self == Self::default()
                    }
                }
            }
        } else {
            syn::parse_quote! {
                impl crate::api::Answer for #ident {}
            }
        });
    }
    items.extend(impls);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_all_optional_structs_can_be_empty() {
        let file: syn::File = syn::parse_quote! {
            #[derive(::serde::Deserialize, Clone, Debug, Default, PartialEq)]
            pub struct Result { pub hash: Option<String> }
            #[derive(::serde::Deserialize, Clone, Debug, PartialEq)]
            pub struct Submission { pub id: String }
            #[derive(::serde::Deserialize, Clone, Debug, Default, PartialEq)]
            pub struct Pricings(pub ::serde_json::Map<String, ::serde_json::Value>);
            #[derive(::serde::Deserialize, Debug, Default)]
            pub struct NoEq { pub a: Option<i64> }
            #[derive(::serde::Deserialize)]
            pub enum Verdict { Human }
            pub type Alias = String;
        };
        let mut items = file.items;
        empty_answers(&mut items);
        let text = crate::test_support::unparse(items);
        assert_eq!(
            text.matches("impl crate::api::Answer for").count(),
            5,
            "{text}"
        );
        assert_eq!(
            text.matches("*self == Self::default()").count(),
            1,
            "{text}"
        );
        assert!(
            text.contains("impl crate::api::Answer for Result {\n    fn is_empty_answer"),
            "{text}"
        );
        for plain in ["Submission", "Pricings", "NoEq", "Verdict"] {
            assert!(
                text.contains(&format!("impl crate::api::Answer for {plain} {{}}")),
                "{plain}: {text}"
            );
        }
        assert!(!text.contains("for Alias"), "{text}");
    }
}

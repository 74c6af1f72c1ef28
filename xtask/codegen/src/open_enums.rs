//! Open string enums: typify's are closed, so a value a newer server sends
//! would fail to decode; these keep it.

use openapiv3::{OpenAPI, ReferenceOr, Schema, SchemaKind, StringType, Type};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::naming::{pascal, rust_type_name};

pub(crate) struct OpenEnum {
    /// The component schema name.
    pub(crate) name: String,
    /// The Rust type name ([`rust_type_name`]).
    pub(crate) ident: String,
    pub(crate) tokens: TokenStream,
}

/// One open enum per named string enum of `components.schemas` but `kinds`
/// (the spec's kind enum, which is `Kind`); and a check that no response
/// schema hides an inline string enum (those would be generated closed:
/// name them in the overlay).
pub(crate) fn open_enums(spec: &OpenAPI, kinds: Option<&str>) -> Result<Vec<OpenEnum>, String> {
    let mut out = Vec::new();
    let Some(components) = &spec.components else {
        return Ok(out);
    };
    for (name, schema) in &components.schemas {
        let ReferenceOr::Item(schema) = schema else {
            continue;
        };
        if Some(name.as_str()) == kinds {
            continue;
        }
        match &schema.schema_kind {
            SchemaKind::Type(Type::String(StringType { enumeration, .. }))
                if !enumeration.is_empty() =>
            {
                let values: Vec<String> = enumeration.iter().flatten().cloned().collect();
                let doc = schema.schema_data.description.clone().unwrap_or_default();
                let ident = rust_type_name(name, schema);
                out.push(OpenEnum {
                    name: name.clone(),
                    tokens: open_enum_tokens(&ident, name, &doc, &values),
                    ident,
                });
            }
            _ => find_inline_enums(schema, name)?,
        }
    }
    Ok(out)
}

pub(crate) fn find_inline_enums(schema: &Schema, at: &str) -> Result<(), String> {
    let check = |s: &ReferenceOr<Box<Schema>>, at: String| match s {
        ReferenceOr::Item(s) => find_inline_enums(s, &at),
        ReferenceOr::Reference { .. } => Ok(()),
    };
    match &schema.schema_kind {
        SchemaKind::Type(Type::String(StringType { enumeration, .. }))
            if !enumeration.is_empty() =>
        {
            Err(format!(
                "{at} is an inline string enum: it would decode closed (an unknown value \
                 fails). Name it as a component schema in openapi/overlay.yaml."
            ))
        }
        SchemaKind::Type(Type::Object(o)) => {
            for (k, v) in &o.properties {
                check(v, format!("{at}.{k}"))?;
            }
            match &o.additional_properties {
                Some(openapiv3::AdditionalProperties::Schema(s)) => match &**s {
                    ReferenceOr::Item(s) => find_inline_enums(s, &format!("{at}.*")),
                    ReferenceOr::Reference { .. } => Ok(()),
                },
                _ => Ok(()),
            }
        }
        SchemaKind::Type(Type::Array(a)) => match &a.items {
            Some(items) => check(items, format!("{at}[]")),
            None => Ok(()),
        },
        SchemaKind::AllOf { all_of: v }
        | SchemaKind::AnyOf { any_of: v }
        | SchemaKind::OneOf { one_of: v } => {
            for s in v {
                if let ReferenceOr::Item(s) = s {
                    find_inline_enums(s, at)?;
                }
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

pub(crate) fn open_enum_tokens(
    name: &str,
    schema_name: &str,
    doc: &str,
    values: &[String],
) -> TokenStream {
    let ident = format_ident!("{}", name);
    let variants: Vec<syn::Ident> = values
        .iter()
        .map(|v| format_ident!("{}", pascal(v)))
        .collect();
    let catch_all = if variants.iter().any(|v| v == "Unknown") {
        format_ident!("UnknownValue")
    } else {
        format_ident!("Unknown")
    };
    let docs: Vec<String> = values.iter().map(|v| format!("`{v}`")).collect();
    let enum_doc = format!(
        "{doc}\n\nA value this version of the client does not know \
         decodes as [`{name}::{catch_all}`] and encodes back unchanged."
    );
    let known = values.len();
    let json_schema = json_schema_impl(&ident, schema_name, values);
    quote! {
        #[doc = #enum_doc]
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum #ident {
            #( #[doc = #docs] #variants, )*
            /// A value the spec this client was generated from does not name, kept verbatim.
            #catch_all(::std::string::String),
        }

        impl #ident {
            /// The values the spec names, as sent on the wire.
            pub const KNOWN: [&'static str; #known] = [#(#values),*];

            /// The value as sent on the wire.
            pub fn as_str(&self) -> &str {
                match self {
                    #( Self::#variants => #values, )*
                    Self::#catch_all(v) => v.as_str(),
                }
            }

            /// Whether the spec names this value.
            pub fn is_known(&self) -> bool {
                !matches!(self, Self::#catch_all(_))
            }
        }

        impl ::std::convert::From<&str> for #ident {
            fn from(value: &str) -> Self {
                match value {
                    #( #values => Self::#variants, )*
                    other => Self::#catch_all(other.to_string()),
                }
            }
        }

        impl ::std::convert::From<::std::string::String> for #ident {
            fn from(value: ::std::string::String) -> Self {
                Self::from(value.as_str())
            }
        }

        impl ::std::str::FromStr for #ident {
            type Err = ::std::convert::Infallible;
            fn from_str(value: &str) -> ::std::result::Result<Self, Self::Err> {
                Ok(Self::from(value))
            }
        }

        impl ::std::fmt::Display for #ident {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::serde::Serialize for #ident {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> ::std::result::Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for #ident {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> ::std::result::Result<Self, D::Error> {
                let s: ::std::borrow::Cow<'de, str> = ::serde::Deserialize::deserialize(d)?;
                Ok(Self::from(s.as_ref()))
            }
        }

        #json_schema
    }
}

/// `impl JsonSchema for #ident`: a string of `values`, named `schema_name`.
pub(crate) fn json_schema_impl(
    ident: &syn::Ident,
    schema_name: &str,
    values: &[String],
) -> TokenStream {
    quote! {
        impl ::schemars::JsonSchema for #ident {
            fn schema_name() -> ::std::string::String {
                #schema_name.to_string()
            }
            fn json_schema(_: &mut ::schemars::r#gen::SchemaGenerator) -> ::schemars::schema::Schema {
                ::schemars::schema::SchemaObject {
                    instance_type: Some(::schemars::schema::InstanceType::String.into()),
                    enum_values: Some(vec![#( #values.into() ),*]),
                    ..Default::default()
                }
                .into()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::spec;

    const SPEC: &str = r##"
openapi: 3.0.3
info: {title: t, version: "1"}
paths: {}
components:
  schemas:
    State:
      type: string
      description: Where a job is.
      enum: [pending, done]
    Job:
      type: object
      properties:
        state: {$ref: "#/components/schemas/State"}
"##;

    #[test]
    fn a_named_string_enum_becomes_an_open_enum_keeping_unknown_values() {
        let enums = open_enums(&spec(SPEC), None).unwrap();
        assert_eq!(enums.len(), 1);
        assert_eq!(
            (enums[0].name.as_str(), enums[0].ident.as_str()),
            ("State", "State")
        );
        let file: syn::File = syn::parse2(enums[0].tokens.clone()).unwrap();
        let text = prettyplease::unparse(&file);
        assert!(text.contains("#[non_exhaustive]"), "{text}");
        assert!(text.contains("Pending") && text.contains("Done"), "{text}");
        // A catch-all variant carries the value a newer server sends.
        let the_enum = file
            .items
            .iter()
            .find_map(|i| match i {
                syn::Item::Enum(e) if e.ident == "State" => Some(e),
                _ => None,
            })
            .unwrap();
        assert!(
            the_enum
                .variants
                .iter()
                .any(|v| matches!(v.fields, syn::Fields::Unnamed(_))),
            "{text}"
        );
    }

    #[test]
    fn an_inline_enum_in_a_schema_is_refused_with_its_place() {
        let s = spec(&SPEC.replace(
            r##"state: {$ref: "#/components/schemas/State"}"##,
            "state: {type: string, enum: [a, b]}",
        ));
        let e = open_enums(&s, None).err().unwrap();
        assert!(e.starts_with("Job.state is an inline string enum"), "{e}");
    }
}

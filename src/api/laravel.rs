//! Laravel's empty maps: the identifAI backend is PHP/Laravel, whose
//! `json_encode` writes an empty map as `[]`, so any value the spec types as
//! an `object` may arrive as an empty JSON array.
//!
//! `identifai-codegen` applies this once, to the generated types (see its "Laravel's
//! empty maps" section); nothing else uses it:
//!
//! * every generated object type (a struct of named fields, or a newtype
//!   over a map) deserializes through [`Object`], wherever it appears (a
//!   field, an `Option`, a `Vec` item, a map value, a `oneOf` branch, a whole
//!   body);
//! * every field whose type holds a foreign map (`serde_json::Map`,
//!   `HashMap`), also inside an `Option` or a `Vec`, deserializes through
//!   [`deep`].
//!
//! Where an object is expected, `[]` reads as `{}`; a non-empty array is an
//! error (serde_json alone would read it as the struct's fields in order).
//! Every other input goes to the type unchanged. These adaptors need a
//! self-describing format (they call `deserialize_any`), which JSON is.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{
    self, DeserializeSeed, Deserializer, Expected, IgnoredAny, MapAccess, SeqAccess, Unexpected,
    Visitor,
};

/// A deserializer that reads `[]` as an empty map where the type asks for a
/// map or a struct (and refuses a non-empty array there). Other requests go
/// to the inner deserializer unchanged.
pub struct Object<D>(pub D);

/// Deserializes a field whose type holds a foreign map: [`Object`]'s rule at
/// the field and, through `Option`, sequences, map values and newtypes,
/// everywhere inside it.
pub fn deep<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: de::Deserialize<'de>,
{
    T::deserialize(Deep(deserializer))
}

/// [`Object`]'s rule at every depth (see [`deep`]).
struct Deep<D>(D);

/// Turns `[]` into an empty map for the wrapped visitor.
struct ObjectVisitor<V>(V);

/// Wraps what the visitor is handed (sequences, maps, options, newtypes) in
/// [`Deep`].
struct DeepVisitor<V>(V);

struct DeepSeq<A>(A);
struct DeepMap<A>(A);
struct DeepSeed<S>(S);

/// A map with no entries.
struct EmptyMap<E>(PhantomData<E>);

impl<'de, E: de::Error> MapAccess<'de> for EmptyMap<E> {
    type Error = E;
    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, _: K) -> Result<Option<K::Value>, E> {
        Ok(None)
    }
    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, _: V) -> Result<V::Value, E> {
        Err(E::custom("a value without a key"))
    }
    fn size_hint(&self) -> Option<usize> {
        Some(0)
    }
}

/// The visitor methods every wrapper hands on unchanged.
macro_rules! forward_visits {
    () => {
        fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
            self.0.visit_bool(v)
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            self.0.visit_i64(v)
        }
        fn visit_i128<E: de::Error>(self, v: i128) -> Result<Self::Value, E> {
            self.0.visit_i128(v)
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            self.0.visit_u64(v)
        }
        fn visit_u128<E: de::Error>(self, v: u128) -> Result<Self::Value, E> {
            self.0.visit_u128(v)
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
            self.0.visit_f64(v)
        }
        fn visit_char<E: de::Error>(self, v: char) -> Result<Self::Value, E> {
            self.0.visit_char(v)
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            self.0.visit_str(v)
        }
        fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
            self.0.visit_borrowed_str(v)
        }
        fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
            self.0.visit_string(v)
        }
        fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Self::Value, E> {
            self.0.visit_bytes(v)
        }
        fn visit_borrowed_bytes<E: de::Error>(self, v: &'de [u8]) -> Result<Self::Value, E> {
            self.0.visit_borrowed_bytes(v)
        }
        fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<Self::Value, E> {
            self.0.visit_byte_buf(v)
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            self.0.visit_none()
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            self.0.visit_unit()
        }
        fn visit_enum<A: de::EnumAccess<'de>>(self, data: A) -> Result<Self::Value, A::Error> {
            self.0.visit_enum(data)
        }
    };
}

impl<'de, V: Visitor<'de>> Visitor<'de> for ObjectVisitor<V> {
    type Value = V::Value;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.expecting(f)
    }
    forward_visits!();
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        self.0.visit_some(d)
    }
    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        self.0.visit_newtype_struct(d)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        self.0.visit_map(map)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        if seq.next_element::<IgnoredAny>()?.is_none() {
            // Laravel's empty map.
            self.0.visit_map(EmptyMap(PhantomData))
        } else {
            let expected: &dyn Expected = &self.0;
            Err(de::Error::invalid_type(Unexpected::Seq, expected))
        }
    }
}

impl<'de, V: Visitor<'de>> Visitor<'de> for DeepVisitor<V> {
    type Value = V::Value;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.expecting(f)
    }
    forward_visits!();
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        self.0.visit_some(Deep(d))
    }
    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        self.0.visit_newtype_struct(Deep(d))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        self.0.visit_map(DeepMap(map))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        self.0.visit_seq(DeepSeq(seq))
    }
}

impl<'de, A: SeqAccess<'de>> SeqAccess<'de> for DeepSeq<A> {
    type Error = A::Error;
    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, A::Error> {
        self.0.next_element_seed(DeepSeed(seed))
    }
    fn size_hint(&self) -> Option<usize> {
        self.0.size_hint()
    }
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for DeepMap<A> {
    type Error = A::Error;
    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        self.0.next_key_seed(seed)
    }
    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, A::Error> {
        self.0.next_value_seed(DeepSeed(seed))
    }
    fn size_hint(&self) -> Option<usize> {
        self.0.size_hint()
    }
}

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for DeepSeed<S> {
    type Value = S::Value;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<S::Value, D::Error> {
        self.0.deserialize(Deep(d))
    }
}

/// The `Deserializer` methods: `map` and `struct` apply the rule, the rest go
/// to the inner deserializer with the visitor wrapped by `$wrap`.
macro_rules! adaptor {
    ($ty:ident, $wrap:expr) => {
        impl<'de, D: Deserializer<'de>> Deserializer<'de> for $ty<D> {
            type Error = D::Error;

            fn deserialize_map<V: Visitor<'de>>(self, v: V) -> Result<V::Value, D::Error> {
                self.0.deserialize_any(ObjectVisitor($wrap(v)))
            }
            fn deserialize_struct<V: Visitor<'de>>(
                self,
                _name: &'static str,
                _fields: &'static [&'static str],
                v: V,
            ) -> Result<V::Value, D::Error> {
                self.0.deserialize_any(ObjectVisitor($wrap(v)))
            }
            fn is_human_readable(&self) -> bool {
                self.0.is_human_readable()
            }
            fn deserialize_unit_struct<V: Visitor<'de>>(
                self,
                name: &'static str,
                v: V,
            ) -> Result<V::Value, D::Error> {
                self.0.deserialize_unit_struct(name, $wrap(v))
            }
            fn deserialize_newtype_struct<V: Visitor<'de>>(
                self,
                name: &'static str,
                v: V,
            ) -> Result<V::Value, D::Error> {
                self.0.deserialize_newtype_struct(name, $wrap(v))
            }
            fn deserialize_tuple<V: Visitor<'de>>(
                self,
                len: usize,
                v: V,
            ) -> Result<V::Value, D::Error> {
                self.0.deserialize_tuple(len, $wrap(v))
            }
            fn deserialize_tuple_struct<V: Visitor<'de>>(
                self,
                name: &'static str,
                len: usize,
                v: V,
            ) -> Result<V::Value, D::Error> {
                self.0.deserialize_tuple_struct(name, len, $wrap(v))
            }
            fn deserialize_enum<V: Visitor<'de>>(
                self,
                name: &'static str,
                variants: &'static [&'static str],
                v: V,
            ) -> Result<V::Value, D::Error> {
                self.0.deserialize_enum(name, variants, $wrap(v))
            }
            adaptor!(@plain $wrap;
                deserialize_any deserialize_bool deserialize_i8 deserialize_i16
                deserialize_i32 deserialize_i64 deserialize_i128 deserialize_u8
                deserialize_u16 deserialize_u32 deserialize_u64 deserialize_u128
                deserialize_f32 deserialize_f64 deserialize_char deserialize_str
                deserialize_string deserialize_bytes deserialize_byte_buf
                deserialize_option deserialize_unit deserialize_seq
                deserialize_identifier deserialize_ignored_any);
        }
    };
    (@plain $wrap:expr; $($method:ident)*) => {
        $(
            fn $method<V: Visitor<'de>>(self, v: V) -> Result<V::Value, D::Error> {
                self.0.$method($wrap(v))
            }
        )*
    };
}

/// The identity visitor wrapper of [`Object`] (its rule applies at the top
/// only: nested object types carry their own).
fn same<V>(v: V) -> V {
    v
}

adaptor!(Object, same);
adaptor!(Deep, DeepVisitor);

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use serde::Deserialize;
    use serde_json::{json, Map, Value};

    use super::{deep, Object};

    #[derive(Debug, Default, Deserialize, PartialEq)]
    struct Plain {
        #[serde(default)]
        a: Option<i64>,
    }

    fn object<T: serde::de::DeserializeOwned>(v: Value) -> Result<T, serde_json::Error> {
        T::deserialize(Object(v))
    }

    #[test]
    fn empty_array_reads_as_empty_object() {
        assert_eq!(object::<Plain>(json!([])).unwrap(), Plain::default());
        assert_eq!(object::<Plain>(json!({"a": 1})).unwrap().a, Some(1));
        let m: Map<String, Value> = object(json!([])).unwrap();
        assert!(m.is_empty());
    }

    #[test]
    fn non_empty_array_and_other_shapes_are_errors() {
        // serde_json alone reads [7] as Plain { a: 7 }.
        assert_eq!(
            serde_json::from_value::<Plain>(json!([7])).unwrap().a,
            Some(7)
        );
        let e = object::<Plain>(json!([7])).unwrap_err().to_string();
        assert!(e.contains("invalid type: sequence"), "{e}");
        assert!(object::<Plain>(json!("x")).is_err());
        assert!(object::<Map<String, Value>>(json!([{}])).is_err());
    }

    #[test]
    fn deep_reaches_options_sequences_and_map_values() {
        #[derive(Debug, Deserialize)]
        struct Holder {
            #[serde(default, deserialize_with = "deep")]
            one: Option<Map<String, Value>>,
            #[serde(default, deserialize_with = "deep")]
            many: Vec<Map<String, Value>>,
            #[serde(default, deserialize_with = "deep")]
            nested: HashMap<String, Map<String, Value>>,
            #[serde(default, deserialize_with = "deep")]
            free: Map<String, Value>,
        }
        let h: Holder = serde_json::from_value(json!({
            "one": [], "many": [[], {"k": 1}], "nested": {"x": []}, "free": {"v": []}
        }))
        .unwrap();
        assert_eq!(h.one, Some(Map::new()));
        assert_eq!(h.many.len(), 2);
        assert!(h.many[0].is_empty());
        assert!(h.nested["x"].is_empty());
        // A free-form value keeps its array: its schema says nothing.
        assert_eq!(h.free["v"], json!([]));
        let h: Holder = serde_json::from_str(r#"{"one": null, "nested": []}"#).unwrap();
        assert_eq!(h.one, None);
        assert!(h.nested.is_empty() && h.many.is_empty());
        assert!(serde_json::from_value::<Holder>(json!({"many": [[1]]})).is_err());
    }
}

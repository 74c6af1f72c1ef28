//! PHP's booleans: the identifAI backend is PHP/Laravel, where a MySQL
//! boolean column without a cast is an integer, so a value the spec types as
//! `boolean` may arrive as `0` or `1`.
//!
//! `identifai-codegen` applies this once, to the generated types (the generator's
//! `php_bools` pass): every field whose type is `bool`, or `bool` inside
//! `Option` or `Vec`, deserializes through [`boolean`]. It reads `true` and
//! `false`, and the integers `0` and `1` as `false` and `true`; anything else
//! (`2`, `0.5`, `"1"`, `"yes"`) is a decode error naming what came. Encoding
//! is untouched: the client writes real booleans.

use std::fmt;

use serde::de::{self, DeserializeOwned, Deserializer, Unexpected, Visitor};
use serde::Deserialize;

/// Deserializes a boolean field (`bool`, `Option<bool>`, `Vec<bool>`, and
/// their nestings) reading PHP's `0`/`1` as `false`/`true`.
pub fn boolean<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: PhpBools,
{
    T::Wire::deserialize(deserializer).map(T::from_wire)
}

/// A field type [`boolean`] reads: `bool`, or one inside `Option`/`Vec`.
pub trait PhpBools: Sized {
    /// The same shape with [`PhpBool`] where `bool` is.
    type Wire: DeserializeOwned;
    /// The value, with the wrappers taken off.
    fn from_wire(wire: Self::Wire) -> Self;
}

/// One boolean as PHP may write it: `true`, `false`, `1` or `0`.
pub struct PhpBool(bool);

impl PhpBools for bool {
    type Wire = PhpBool;
    fn from_wire(wire: PhpBool) -> bool {
        wire.0
    }
}

impl<T: PhpBools> PhpBools for Option<T> {
    type Wire = Option<T::Wire>;
    fn from_wire(wire: Self::Wire) -> Self {
        wire.map(T::from_wire)
    }
}

impl<T: PhpBools> PhpBools for Vec<T> {
    type Wire = Vec<T::Wire>;
    fn from_wire(wire: Self::Wire) -> Self {
        wire.into_iter().map(T::from_wire).collect()
    }
}

impl<'de> Deserialize<'de> for PhpBool {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // `deserialize_any`: JSON says which it is, a bool or a number.
        deserializer.deserialize_any(PhpBoolVisitor)
    }
}

struct PhpBoolVisitor;

impl Visitor<'_> for PhpBoolVisitor {
    type Value = PhpBool;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a boolean (or PHP's 0 or 1)")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<PhpBool, E> {
        Ok(PhpBool(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<PhpBool, E> {
        match v {
            0 => Ok(PhpBool(false)),
            1 => Ok(PhpBool(true)),
            _ => Err(E::invalid_value(Unexpected::Unsigned(v), &self)),
        }
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<PhpBool, E> {
        match u64::try_from(v) {
            Ok(u) => self.visit_u64(u),
            Err(_) => Err(E::invalid_value(Unexpected::Signed(v), &self)),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;
    use serde_json::{json, Value};

    use super::boolean;

    #[derive(Debug, Default, Deserialize, PartialEq)]
    struct Holder {
        #[serde(default, deserialize_with = "boolean")]
        one: Option<bool>,
        #[serde(default, deserialize_with = "boolean")]
        many: Vec<bool>,
        #[serde(default, deserialize_with = "boolean")]
        maybe_many: Option<Vec<bool>>,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    struct Required {
        #[serde(deserialize_with = "boolean")]
        flag: bool,
    }

    fn flag(v: Value) -> Result<bool, String> {
        serde_json::from_value::<Required>(json!({ "flag": v }))
            .map(|r| r.flag)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn booleans_and_php_integers_read_as_booleans() {
        assert_eq!(flag(json!(true)), Ok(true));
        assert_eq!(flag(json!(false)), Ok(false));
        assert_eq!(flag(json!(1)), Ok(true));
        assert_eq!(flag(json!(0)), Ok(false));
        // From text too, as the client reads bodies.
        let r: Required = serde_json::from_str(r#"{"flag": 1}"#).unwrap();
        assert!(r.flag);
        let r: Required = serde_json::from_str(r#"{"flag": 0}"#).unwrap();
        assert!(!r.flag);
    }

    #[test]
    fn anything_else_is_an_error_naming_it() {
        for (v, named) in [
            (json!(2), "integer `2`"),
            (json!(-1), "integer `-1`"),
            (json!(0.5), "floating point `0.5`"),
            (json!(1.0), "floating point `1.0`"),
            (json!("1"), "string \"1\""),
            (json!("yes"), "string \"yes\""),
            (json!(null), "null"),
            (json!([]), "sequence"),
        ] {
            let e = flag(v.clone()).unwrap_err();
            assert!(e.contains(named), "{v}: {e}");
            assert!(e.contains("a boolean (or PHP's 0 or 1)"), "{v}: {e}");
        }
    }

    #[test]
    fn options_and_sequences_carry_the_rule() {
        let h: Holder =
            serde_json::from_value(json!({"one": 1, "many": [0, true, 1], "maybe_many": [1]}))
                .unwrap();
        assert_eq!(h.one, Some(true));
        assert_eq!(h.many, [false, true, true]);
        assert_eq!(h.maybe_many, Some(vec![true]));
        let h: Holder = serde_json::from_value(json!({"one": null})).unwrap();
        assert_eq!(h, Holder::default());
        let h: Holder = serde_json::from_value(json!({})).unwrap();
        assert_eq!(h, Holder::default());
        assert!(serde_json::from_value::<Holder>(json!({"many": [0, 2]})).is_err());
        assert!(serde_json::from_value::<Holder>(json!({"one": "0"})).is_err());
    }
}

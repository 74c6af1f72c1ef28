//! Whole answers: the typed value **and** the JSON the server sent
//! ([`Classified`]).

use std::ops::Deref;
use std::sync::OnceLock;

use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;

use crate::api::Answer;
use crate::error::{Error, Result};

/// A typed value together with the JSON text it was decoded from.
///
/// The generated types name what the spec names; a server may send more
/// (fields added after this client was generated, fields of a newer API
/// version). Re-serialising the typed value would drop those, so results
/// come as `Classified<T>`: the typed value (through `Deref`), and
/// [`raw`](Classified::raw), the answer's JSON text exactly as received.
/// Serialising a `Classified<T>` writes that raw JSON, so nothing the
/// server said is lost on the way to a file or another program.
///
/// ```
/// use identifai::Classified;
/// use identifai::api::types::ImageResponse;
/// let body = r#"{"identifier":"abc","status":"new","brand_new_field":[1,2]}"#;
/// let result: Classified<ImageResponse> = Classified::from_json(body).unwrap();
/// assert_eq!(result.identifier.as_deref(), Some("abc")); // typed, through Deref
/// assert!(result.raw().get().contains("brand_new_field")); // nothing dropped
/// assert_eq!(result.raw_text(), body); // the text itself, no parse
/// assert_eq!(serde_json::to_string(&result).unwrap(), body);
/// ```
///
/// [`raw_text`](Self::raw_text) is the same JSON as a `&str`. The text is
/// the answer's own buffer, shared, not copied; cloning copies the value only.
#[derive(Clone)]
pub struct Classified<T> {
    value: T,
    /// The JSON text `value` was decoded from (so valid JSON).
    text: Text,
    /// `text` as a [`RawValue`], made on first use (most callers never ask).
    raw: OnceLock<Box<RawValue>>,
}

/// UTF-8 text in a shared [`Bytes`] buffer (an answer's body or a slice of
/// it), so a result keeps its raw JSON without a copy.
#[derive(Clone)]
struct Text(Bytes);

impl Text {
    /// `bytes` when it is the memory of `text` (which proves it UTF-8), else
    /// a copy of `text`.
    fn shared(bytes: Bytes, text: &str) -> Self {
        if bytes.as_ptr() == text.as_ptr() && bytes.len() == text.len() {
            Text(bytes)
        } else {
            Self::copied(text)
        }
    }

    /// `body` kept as is when it owns its buffer and the buffer is at most
    /// twice its size, else copied: a slice of hyper's read buffer would
    /// keep the whole buffer alive as long as the result.
    fn detached(body: Bytes) -> Bytes {
        match body.try_into_mut() {
            Ok(own) if own.capacity() <= 2 * own.len() => own.freeze(),
            Ok(own) => Bytes::copy_from_slice(&own),
            Err(shared) => Bytes::copy_from_slice(&shared),
        }
    }

    fn copied(text: &str) -> Self {
        Text(Bytes::copy_from_slice(text.as_bytes()))
    }

    fn as_str(&self) -> &str {
        // SAFETY: every constructor takes bytes already checked as UTF-8
        // (`shared`, `copied`, `decode_one` after `json_text`); `Bytes` is immutable.
        unsafe { std::str::from_utf8_unchecked(&self.0) }
    }
}

impl<T: std::fmt::Debug> std::fmt::Debug for Classified<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Classified")
            .field("value", &self.value)
            .field("raw", &self.text.as_str())
            .finish()
    }
}

/// `text` (valid JSON: a value was decoded from it) as a [`RawValue`];
/// `null` rather than a panic should it not be.
fn raw_of(text: String) -> Box<RawValue> {
    RawValue::from_string(text).unwrap_or_else(|_| RawValue::NULL.to_owned())
}

impl<T> Classified<T> {
    /// The JSON the value was decoded from, exactly as the server sent it.
    ///
    /// The first call builds the [`RawValue`] (one scan of the text); use
    /// [`raw_text`](Self::raw_text) for the text alone.
    pub fn raw(&self) -> &RawValue {
        self.raw
            .get_or_init(|| raw_of(self.text.as_str().to_string()))
    }

    /// The JSON text the value was decoded from, exactly as the server sent
    /// it (no parse, no copy).
    pub fn raw_text(&self) -> &str {
        self.text.as_str()
    }

    /// The JSON as a [`serde_json::Value`] (for adding fields, e.g. a file
    /// name, before printing).
    pub fn raw_value(&self) -> serde_json::Value {
        // The text is valid JSON by construction.
        serde_json::from_str(self.text.as_str()).unwrap_or(serde_json::Value::Null)
    }

    /// The typed value.
    pub fn value(&self) -> &T {
        &self.value
    }

    /// The typed value, dropping the raw JSON.
    pub fn into_inner(self) -> T {
        self.value
    }

    /// The typed value and the raw JSON.
    pub fn into_parts(self) -> (T, Box<RawValue>) {
        let raw = match self.raw.into_inner() {
            Some(raw) => raw,
            None => raw_of(self.text.as_str().to_string()),
        };
        (self.value, raw)
    }

    /// Applies `f` to the typed value, keeping the raw JSON.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Classified<U> {
        Classified {
            value: f(self.value),
            text: self.text,
            raw: self.raw,
        }
    }
}

impl<T: DeserializeOwned + Answer> Classified<T> {
    /// Decodes `json` into `T`, keeping the text.
    ///
    /// An answer that carries none of `T`'s fields is an error, not an
    /// empty result, by the generated client's rule ([`Answer`]): `{}`,
    /// Laravel's `[]` for an empty map, or an object of unknown fields alone
    /// would otherwise decode as a result with nothing in it.
    ///
    /// ```
    /// use identifai::{api::types::VideoResponse, Classified};
    /// assert!(Classified::<VideoResponse>::from_json(r#"{"hash":"ab","results":{}}"#).is_ok());
    /// assert!(Classified::<VideoResponse>::from_json("[]").is_err());
    /// assert!(Classified::<VideoResponse>::from_json(r#"{"surprise":1}"#).is_err());
    /// ```
    pub fn from_json(json: &str) -> serde_json::Result<Self> {
        let value = Self::typed(json)?;
        Ok(Self {
            value,
            text: Text::copied(json),
            raw: OnceLock::new(),
        })
    }

    /// [`Classified::from_json`] on `json`, keeping `body`, the buffer
    /// `json` is, rather than a copy of it.
    fn from_shared(body: Bytes, json: &str) -> serde_json::Result<Self> {
        let value = Self::typed(json)?;
        Ok(Self {
            value,
            text: Text::shared(body, json),
            raw: OnceLock::new(),
        })
    }

    /// Decodes an already split-out raw value (the same rule as
    /// [`Classified::from_json`]).
    pub fn from_raw(raw: Box<RawValue>) -> serde_json::Result<Self> {
        let value = Self::typed(raw.get())?;
        Ok(Self {
            value,
            text: Text::copied(raw.get()),
            raw: OnceLock::from(raw),
        })
    }

    /// `json` decoded into `T`, refused when it has none of `T`'s fields.
    fn typed(json: &str) -> serde_json::Result<T> {
        let value: T = serde_json::from_str(json)?;
        if value.is_empty_answer() {
            return Err(crate::api::body::none_of_the_fields::<T>());
        }
        Ok(value)
    }
}

impl<T> Deref for Classified<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T> AsRef<T> for Classified<T> {
    fn as_ref(&self) -> &T {
        &self.value
    }
}

impl<T: PartialEq> PartialEq for Classified<T> {
    /// Equal when the typed values are (formatting of the raw JSON aside).
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}

impl<T> serde::Serialize for Classified<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        self.raw().serialize(s)
    }
}

/// Decodes one answer body into a [`Classified<T>`], keeping the body as its
/// raw text; `status` and `content_type` go into the error if it fails.
pub(crate) fn decode_one<T: DeserializeOwned + Answer>(
    status: u16,
    content_type: Option<&str>,
    body: Bytes,
) -> Result<Classified<T>> {
    let body = Text::detached(body);
    // Decoded while borrowed, then moved in: no clone of the `Bytes`.
    let value = crate::api::body::json_text(&body).and_then(Classified::<T>::typed);
    match value {
        Ok(value) => Ok(Classified {
            value,
            // `json_text` accepted exactly these bytes.
            text: Text(body),
            raw: OnceLock::new(),
        }),
        Err(e) => Err(Error::decode(Some(status), content_type, e, &body)),
    }
}

/// Decodes a list answer (a JSON array) into one [`Classified<T>`] per
/// element, each keeping its slice of the answer's buffer as its raw text.
pub(crate) fn decode_list<T: DeserializeOwned + Answer>(
    status: u16,
    content_type: Option<&str>,
    body: Bytes,
) -> Result<Vec<Classified<T>>> {
    let body = Text::detached(body);
    let fail = |e: &dyn std::fmt::Display| Error::decode(Some(status), content_type, e, &body);
    let text = crate::api::body::json_text(&body).map_err(|e| fail(&e))?;
    // Split the array without copying, then decode each element once.
    let items: Vec<&RawValue> = serde_json::from_str(text).map_err(|e| fail(&e))?;
    items
        .into_iter()
        .map(|raw| {
            let json = raw.get();
            Classified::from_shared(body.slice_ref(json.as_bytes()), json).map_err(|e| fail(&e))
        })
        .collect()
}

/// Reads a generated `*_raw` operation's answer whole through the capped
/// reader (JSON cap and idle timeout apply) and hands status, content type
/// and body to `decode`.
pub(crate) async fn read_answer<R, E: crate::api::MaybeErrorBody>(
    answer: std::result::Result<
        crate::api::ResponseValue<crate::api::ByteStream>,
        progenitor_client::Error<E>,
    >,
    decode: impl FnOnce(u16, Option<&str>, Bytes) -> Result<R>,
) -> Result<R> {
    match answer {
        Ok(answer) => read_whole(answer, decode).await,
        Err(e) => Err(Error::from_api(e).await),
    }
}

/// [`read_answer`] for an answer already known to be a success (a
/// submission's: its retry loop handled the errors).
pub(crate) async fn read_whole<R>(
    answer: crate::api::ResponseValue<crate::api::ByteStream>,
    decode: impl FnOnce(u16, Option<&str>, Bytes) -> Result<R>,
) -> Result<R> {
    let status = answer.status().as_u16();
    // Cloned before the body is consumed; read only if decoding fails.
    let content_type = answer.headers().get(reqwest::header::CONTENT_TYPE).cloned();
    let body = crate::api::body::read_stream(answer.into_inner())
        .await
        .map_err(Error::transport)?;
    decode(
        status,
        content_type.as_ref().and_then(|v| v.to_str().ok()),
        body,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::types::ImageResponse;

    const ONE: &str = r#"{"identifier":"abc","status":"new"}"#;

    #[test]
    fn a_body_of_its_own_is_kept_without_a_copy() {
        let body = Bytes::from(ONE.as_bytes().to_vec());
        let at = body.as_ptr();
        let c: Classified<ImageResponse> = decode_one(200, None, body).unwrap();
        assert_eq!(c.text.0.as_ptr(), at);
        assert_eq!(c.raw_text(), ONE);
        assert_eq!(c.identifier.as_deref(), Some("abc"));
    }

    #[test]
    fn a_slice_of_a_larger_buffer_is_copied_out() {
        // What a one-chunk body is: a slice of the connection's read buffer.
        let buffer = Bytes::from(format!("HTTP/1.1 200 OK\r\n\r\n{ONE}").into_bytes());
        let body = buffer.slice(buffer.len() - ONE.len()..);
        let c: Classified<ImageResponse> = decode_one(200, None, body.clone()).unwrap();
        assert_ne!(c.text.0.as_ptr(), body.as_ptr());
        assert_eq!(c.raw_text(), ONE);
        drop((buffer, body));
        assert_eq!(c.raw().get(), ONE);
    }

    #[test]
    fn a_body_alone_in_a_much_larger_buffer_is_copied_out() {
        // hyper may have moved on to a new read buffer, leaving the slice
        // the only user of the old one: unique, but most of it not the body.
        let mut buffer = bytes::BytesMut::with_capacity(64 << 10);
        buffer.extend_from_slice(ONE.as_bytes());
        let body = buffer.freeze();
        let at = body.as_ptr();
        let c: Classified<ImageResponse> = decode_one(200, None, body).unwrap();
        assert_ne!(c.text.0.as_ptr(), at);
        assert_eq!(c.raw_text(), ONE);
    }

    #[test]
    fn the_results_of_a_list_share_its_buffer() {
        let text = format!("[{ONE}, {}]", ONE.replace("abc", "def"));
        let body = Bytes::from(text.clone().into_bytes());
        let span = body.as_ptr() as usize..body.as_ptr() as usize + body.len();
        let list: Vec<Classified<ImageResponse>> = decode_list(200, None, body).unwrap();
        assert_eq!(list.len(), 2);
        assert_eq!(list[1].identifier.as_deref(), Some("def"));
        for c in &list {
            assert!(span.contains(&(c.text.0.as_ptr() as usize)));
        }
        assert_eq!(list[0].raw_text(), ONE);
    }

    #[test]
    fn a_body_that_does_not_decode_is_an_error_with_its_context() {
        let e = decode_one::<ImageResponse>(200, Some("text/html"), Bytes::from_static(b"<html>"))
            .unwrap_err();
        assert!(
            matches!(&e, Error::Decode { status: Some(200), content_type: Some(ct), .. } if ct == "text/html"),
            "{e:?}"
        );
        let e =
            decode_one::<ImageResponse>(200, None, Bytes::from_static(b"\"\xff\"")).unwrap_err();
        assert!(e.to_string().contains("UTF-8"), "{e}");
    }
}

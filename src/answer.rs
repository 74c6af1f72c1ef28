//! Whole answers: the typed value **and** the JSON the server sent
//! ([`Classified`]).

use std::ops::Deref;
use std::sync::OnceLock;

use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;

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
/// [`raw_text`](Self::raw_text) is the same JSON as a `&str`.
///
/// The answer is parsed once, into the typed value: the text is kept as it
/// came (the answer's own buffer, not a copy: a result of a list answer
/// shares the list's), and turned into a [`RawValue`] only the first time
/// [`raw`](Self::raw) (or `Serialize`) asks for one. Cloning is cheap for
/// the text (a reference count), a copy for the value.
#[derive(Clone)]
pub struct Classified<T> {
    value: T,
    /// The JSON text: a valid JSON document, since `value` was decoded
    /// from it (`serde_json` checks the syntax of the fields it skips and
    /// that nothing follows the value).
    text: Text,
    /// `text` as a [`RawValue`], made on first use.
    raw: OnceLock<Box<RawValue>>,
}

/// UTF-8 text in a shared [`Bytes`] buffer: an answer's body, or a slice of
/// it, kept without a copy.
#[derive(Clone)]
struct Text(Bytes);

impl Text {
    /// `bytes`, given with `text`: the same memory seen as a `&str`, which
    /// is what proves it UTF-8 (so no second check is made). Should the two
    /// ever differ, `text` is copied instead.
    fn shared(bytes: Bytes, text: &str) -> Self {
        if bytes.as_ptr() == text.as_ptr() && bytes.len() == text.len() {
            Text(bytes)
        } else {
            Self::copied(text)
        }
    }

    /// `body` as a buffer of its own, at most twice its size (what a `Vec`
    /// grown by pushing may have): as it is when nothing else holds its
    /// memory and no more than that lies past it (a body read in several
    /// chunks, joined by the reader), else a copy.
    /// A body read in one chunk is a slice of the connection's read buffer
    /// (hyper's, 8 KiB or more, grown for large answers); keeping that
    /// slice would keep the whole buffer alive for as long as the result,
    /// and it may be unique by then (hyper moved on to a new buffer).
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
        // SAFETY: a `Text` is only made from bytes that are a `&str`'s
        // (`shared` checks it is the same memory, `copied` copies one,
        // `decode_one` wraps a body `json_text` accepted whole), and
        // `Bytes` is immutable.
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

/// `text` as an owned [`RawValue`]. `text` is valid JSON (a `Classified`
/// was decoded from it); were it not, `null` stands in rather than a panic.
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

impl<T: DeserializeOwned + Default + PartialEq> Classified<T> {
    /// Decodes `json` into `T`, keeping the text.
    ///
    /// An answer that carries none of `T`'s fields is an error, not an
    /// empty result: every field of a result type is optional (answers
    /// from before v1.1.0 lack some), so `{}`, Laravel's `[]` for an empty
    /// map, or an object of unknown fields alone would otherwise decode as
    /// a result with nothing in it.
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
        if value == T::default() {
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

/// Decodes one answer body into a [`Classified<T>`]: the one place the raw
/// text of a result is captured. `status` and `content_type` only feed the
/// error when the body does not decode.
pub(crate) fn decode_one<T: DeserializeOwned + Default + PartialEq>(
    status: u16,
    content_type: Option<&str>,
    body: Bytes,
) -> Result<Classified<T>> {
    let body = Text::detached(body);
    // The body is checked and decoded while borrowed, then moved into the
    // result whole: no second handle on it (cloning a `Bytes` that owns a
    // `Vec` allocates its shared header).
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
/// element, each keeping its own raw text: a slice of the answer's buffer,
/// so the buffer lives as long as any of the results.
pub(crate) fn decode_list<T: DeserializeOwned + Default + PartialEq>(
    status: u16,
    content_type: Option<&str>,
    body: Bytes,
) -> Result<Vec<Classified<T>>> {
    let body = Text::detached(body);
    let fail = |e: &dyn std::fmt::Display| Error::decode(Some(status), content_type, e, &body);
    let text = crate::api::body::json_text(&body).map_err(|e| fail(&e))?;
    // One scan splits the array (borrowed, no copy); each element is then
    // decoded once, keeping its slice of the text.
    let items: Vec<&RawValue> = serde_json::from_str(text).map_err(|e| fail(&e))?;
    items
        .into_iter()
        .map(|raw| {
            let json = raw.get();
            Classified::from_shared(body.slice_ref(json.as_bytes()), json).map_err(|e| fail(&e))
        })
        .collect()
}

/// Reads a generated `*_raw` operation's answer whole, through the
/// transport's one capped reader ([`crate::api::body::read_stream`]: the JSON cap
/// of [`crate::BodyLimits`] and the idle timeout apply), and hands status,
/// content type and body to `decode`.
pub(crate) async fn read_answer<R, E: crate::error::MaybeErrorBody>(
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

/// [`read_answer`] for an answer already known to be a success of the
/// operation (a submission's, whose errors are handled by its retry loop).
pub(crate) async fn read_whole<R>(
    answer: crate::api::ResponseValue<crate::api::ByteStream>,
    decode: impl FnOnce(u16, Option<&str>, Bytes) -> Result<R>,
) -> Result<R> {
    let status = answer.status().as_u16();
    // A handle on the header's bytes (no copy), read only if needed.
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

//! What the generated code calls to read and decode answers, in place of
//! progenitor's `ResponseValue::from_response` and `stream`
//! (`identifai-codegen` rewrites the calls): one read of the (guarded)
//! body, one UTF-8 check, then `serde_json::from_str`; and [`Answer`], which
//! refuses an answer that carries none of its type's fields.

use bytes::{Bytes, BytesMut};
use progenitor_client::{Error, ResponseValue};
use reqwest::header::HeaderMap;
use reqwest::StatusCode;

/// The whole body of `response`, read through its `Guarded` wrapper (the
/// cap and idle timeout of the transport apply). The one place bodies are
/// collected; JSON decoding and error mapping build on it.
pub async fn read_body(response: reqwest::Response) -> reqwest::Result<Bytes> {
    response.bytes().await
}

/// The whole of a byte stream from the generated client (heatmaps,
/// submission answers); the same caps apply, as the stream is the guarded
/// body's.
pub async fn read_stream(stream: progenitor_client::ByteStream) -> reqwest::Result<Bytes> {
    use futures::TryStreamExt;
    let mut stream = stream.into_inner();
    // A body in one chunk (the usual answer) is handed on as it is.
    let Some(first) = stream.try_next().await? else {
        return Ok(Bytes::new());
    };
    let Some(second) = stream.try_next().await? else {
        return Ok(first);
    };
    let mut out = BytesMut::with_capacity(first.len() + second.len());
    out.extend_from_slice(&first);
    out.extend_from_slice(&second);
    while let Some(chunk) = stream.try_next().await? {
        out.extend_from_slice(&chunk);
    }
    Ok(out.freeze())
}

/// A JSON body as text: one UTF-8 check, kept for the decode that follows.
///
/// The check is `simdutf8`'s (already in the tree through reqwest's
/// `encoding_rs`): a SIMD pass, several times faster than
/// `std::str::from_utf8` on the pure-ASCII bodies Laravel's `json_encode`
/// writes. On a failure `std` is asked again, for its exact position.
pub fn json_text(bytes: &[u8]) -> Result<&str, serde_json::Error> {
    simdutf8::basic::from_utf8(bytes).map_err(|_| {
        let why = match std::str::from_utf8(bytes) {
            Err(e) => format!("the body is not UTF-8: {e}"),
            Ok(_) => "the body is not UTF-8".to_string(),
        };
        <serde_json::Error as serde::de::Error>::custom(why)
    })
}

/// A JSON body decoded into `T`: one UTF-8 check, then
/// `serde_json::from_str` (what [`from_response`] does once the body is
/// read).
pub fn decode_json<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, serde_json::Error> {
    json_text(bytes).and_then(serde_json::from_str)
}

/// What the generated code calls instead of progenitor's
/// `ResponseValue::stream`: the answer's (guarded) body as a byte stream,
/// with the headers moved into the answer rather than copied.
pub fn stream(mut response: reqwest::Response) -> ResponseValue<progenitor_client::ByteStream> {
    let status = response.status();
    let headers = std::mem::take(response.headers_mut());
    let body = progenitor_client::ByteStream::new(Box::pin(response.bytes_stream()));
    ResponseValue::new(body, status, headers)
}

/// [`from_response`] for an operation that may also answer without a body
/// (an override's 204 beside its 200/201): the decoded answer, in `Some`.
pub async fn from_response_some<T: serde::de::DeserializeOwned + Answer, E>(
    response: reqwest::Response,
) -> Result<ResponseValue<Option<T>>, Error<E>> {
    let answer = from_response::<T, E>(response).await?;
    let (status, headers) = (answer.status(), answer.headers().clone());
    Ok(ResponseValue::new(
        Some(answer.into_inner()),
        status,
        headers,
    ))
}

/// The answer of a status documented without a body (an override's 204):
/// `None`, whatever the server sent (nothing is read).
pub fn no_body<T>(mut response: reqwest::Response) -> ResponseValue<Option<T>> {
    let status = response.status();
    let headers = std::mem::take(response.headers_mut());
    ResponseValue::new(None, status, headers)
}

/// A type the generated client decodes answers into.
///
/// Every field of a result type is optional (answers from before v1.1.0
/// lack some), so `{}`, Laravel's `[]` for an empty map or an object of
/// unknown fields alone would decode as a result with nothing in it. The
/// generator implements this trait for every generated type: a type whose
/// fields are all optional is empty when it equals its default; every other
/// type never is (a missing required field is already a decode error). The
/// generated methods refuse an empty answer as an undecodable one.
///
/// ```
/// use identifai::api::{types::ImageResponse, Answer};
/// assert!(ImageResponse::default().is_empty_answer());
/// let some: ImageResponse = serde_json::from_str(r#"{"hash":"ab"}"#).unwrap();
/// assert!(!some.is_empty_answer());
/// ```
pub trait Answer {
    /// Whether the value carries nothing of the answer it stands for.
    fn is_empty_answer(&self) -> bool {
        false
    }
}

/// A list is a wrong shape when one of its items is (an empty list is
/// a list with no results, not a wrong shape).
impl<T: Answer> Answer for Vec<T> {
    fn is_empty_answer(&self) -> bool {
        self.iter().any(Answer::is_empty_answer)
    }
}
impl Answer for serde_json::Value {}
impl Answer for serde_json::Map<String, serde_json::Value> {}
impl Answer for String {}
impl Answer for () {}

/// [`decode_json`], then [`Answer::is_empty_answer`] refused as a decode
/// error.
fn decode_answer<T: serde::de::DeserializeOwned + Answer>(
    bytes: &[u8],
) -> Result<T, serde_json::Error> {
    let value: T = decode_json(bytes)?;
    if value.is_empty_answer() {
        return Err(none_of_the_fields::<T>());
    }
    Ok(value)
}

/// The decode error of an answer that carries none of `T`'s fields.
pub(crate) fn none_of_the_fields<T>() -> serde_json::Error {
    serde::de::Error::custom(format_args!(
        "the answer has none of the fields of {}",
        std::any::type_name::<T>()
            .rsplit("::")
            .next()
            .unwrap_or("the result")
            .trim_end_matches('>')
    ))
}

/// What the generated code calls instead of progenitor's
/// `ResponseValue::from_response`: the body read once through the capped
/// reader, checked as UTF-8 once, decoded with `serde_json::from_str`. The
/// headers are moved, not copied: into the answer, or, when the body does
/// not decode, into the error with the status ([`Undecodable`]).
///
/// An answer that decodes as an [`Answer::is_empty_answer`] value (none of
/// the type's fields came) is refused the same way as one that does not
/// decode.
pub async fn from_response<T: serde::de::DeserializeOwned + Answer, E>(
    mut response: reqwest::Response,
) -> Result<ResponseValue<T>, Error<E>> {
    let status = response.status();
    let headers = std::mem::take(response.headers_mut());
    let full = read_body(response)
        .await
        .map_err(Error::ResponseBodyError)?;
    match decode_answer(&full) {
        Ok(inner) => Ok(ResponseValue::new(inner, status, headers)),
        Err(cause) => {
            let raw = Undecodable {
                status,
                headers,
                cause,
            };
            Err(Error::InvalidResponsePayload(full, raw.into_json_error()))
        }
    }
}

/// The status and headers of an answer whose body did not decode, with the
/// decode error, carried inside the `serde_json::Error` of progenitor's
/// `InvalidResponsePayload` (which has room for the body and that error
/// only), as an I/O error's source. Its text is the decode error's.
#[derive(Debug)]
pub struct Undecodable {
    status: StatusCode,
    headers: HeaderMap,
    cause: serde_json::Error,
}

impl Undecodable {
    /// The answer's status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The answer's headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// Why the body did not decode.
    pub fn cause(&self) -> &serde_json::Error {
        &self.cause
    }

    /// The status, the headers and the decode error.
    pub fn into_parts(self) -> (StatusCode, HeaderMap, serde_json::Error) {
        (self.status, self.headers, self.cause)
    }

    /// The status, headers and decode error in `e`, if the generated client
    /// made it; `e` itself otherwise.
    pub fn from_json_error(e: serde_json::Error) -> Result<Self, serde_json::Error> {
        if e.classify() != serde_json::error::Category::Io {
            return Err(e);
        }
        let io = std::io::Error::from(e);
        if !io.get_ref().is_some_and(|inner| inner.is::<Self>()) {
            return Err(json_io_error(io));
        }
        match io.into_inner().map(|inner| inner.downcast::<Self>()) {
            Some(Ok(raw)) => Ok(*raw),
            _ => unreachable!("checked to be an `Undecodable` above"),
        }
    }

    /// A `serde_json::Error` of category `Io` whose source is this
    /// (`serde_json` makes one only from a reader's failure).
    fn into_json_error(self) -> serde_json::Error {
        json_io_error(std::io::Error::new(std::io::ErrorKind::InvalidData, self))
    }
}

/// `e` as a `serde_json::Error` (through `from_reader`, its one public way
/// to make one from an I/O error).
fn json_io_error(e: std::io::Error) -> serde_json::Error {
    struct Failing(Option<std::io::Error>);
    impl std::io::Read for Failing {
        fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
            Err(self
                .0
                .take()
                .unwrap_or_else(|| std::io::ErrorKind::Other.into()))
        }
    }
    match serde_json::from_reader::<_, serde::de::IgnoredAny>(Failing(Some(e))) {
        Err(e) => e,
        Ok(_) => unreachable!("a reader that fails gives no value"),
    }
}

impl std::fmt::Display for Undecodable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(&self.cause, f)
    }
}

impl std::error::Error for Undecodable {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.cause)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_undecodable_answer_keeps_its_status_headers_and_text() {
        let cause = decode_json::<serde_json::Value>(b"<html>429</html>").unwrap_err();
        let text = cause.to_string();
        let mut headers = HeaderMap::new();
        headers.insert("retry-after", "12".parse().unwrap());
        let raw = Undecodable {
            status: StatusCode::TOO_MANY_REQUESTS,
            headers,
            cause,
        };
        let e = raw.into_json_error();
        // What a user of the generated client reads is the decode error's text.
        assert_eq!(e.to_string(), text);
        let raw = Undecodable::from_json_error(e).expect("made by the decoder");
        assert_eq!(raw.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(raw.headers()["retry-after"], "12");
        assert_eq!(raw.cause().to_string(), text);
    }

    #[test]
    fn another_json_error_is_handed_back() {
        let e = decode_json::<serde_json::Value>(b"{").unwrap_err();
        let text = e.to_string();
        let back = Undecodable::from_json_error(e).unwrap_err();
        assert_eq!(back.to_string(), text);
        let io = json_io_error(std::io::ErrorKind::BrokenPipe.into());
        let back = Undecodable::from_json_error(io).unwrap_err();
        assert_eq!(back.io_error_kind(), Some(std::io::ErrorKind::BrokenPipe));
    }
}

//! What every generated operation runs through: progenitor's hooks, handed
//! on to a [`Layer`].
//!
//! The generated client's "inner" value is a [`Hooks`]. Its progenitor
//! hooks (`pre`, `exec`, `post`) do nothing of their own: they call the
//! [`Layer`] it holds. The crate's transport (API key, timeouts, pacing,
//! redirects, retries, body caps) is one such layer, installed by
//! `identifai::Client`; a bare [`Hooks::default`] sends every request as it
//! is. This keeps `api` free of any import from the layer above it.
//!
//! It also keeps, per thread, the status and headers of an answer whose
//! body did not decode ([`remember_undecoded`], [`undecoded`]), for the
//! error that reports it.

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use progenitor_client::{ClientHooks, ClientInfo, Error, OperationInfo};
use reqwest::header::HeaderMap;

/// A boxed, sendable future (what [`Layer::exec`] returns).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What runs around every request of the generated client. Implemented by
/// the crate's transport; implement it to put your own behaviour around a
/// bare generated client.
pub trait Layer: fmt::Debug + Send + Sync + 'static {
    /// Before the request is sent: headers, timeouts.
    fn pre(&self, request: &mut reqwest::Request, info: &OperationInfo) {
        let _ = (request, info);
    }

    /// Sends the request with `client` (pacing, redirects, retries...).
    fn exec<'a>(
        &'a self,
        client: &'a reqwest::Client,
        request: reqwest::Request,
        info: &'a OperationInfo,
    ) -> BoxFuture<'a, reqwest::Result<reqwest::Response>> {
        let _ = info;
        Box::pin(client.execute(request))
    }

    /// After the answer (or the failure) came back.
    fn post(&self, result: &reqwest::Result<reqwest::Response>, info: &OperationInfo) {
        let _ = (result, info);
    }
}

/// The layer of [`Hooks::default`]: every request sent as it is.
#[derive(Debug)]
struct Plain;

impl Layer for Plain {}

/// The generated client's hooks state: the [`Layer`] every operation goes
/// through. Cheap to clone.
#[derive(Clone)]
pub struct Hooks {
    layer: Arc<dyn Layer>,
}

impl Hooks {
    /// Hooks that hand every request to `layer`.
    pub fn new(layer: impl Layer) -> Self {
        Self {
            layer: Arc::new(layer),
        }
    }

    /// The layer these hooks call.
    pub fn layer(&self) -> &dyn Layer {
        &*self.layer
    }
}

impl Default for Hooks {
    /// No layer: requests go out as the generated code made them.
    fn default() -> Self {
        Self::new(Plain)
    }
}

impl fmt::Debug for Hooks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.layer, f)
    }
}

impl ClientHooks<Hooks> for super::Client {
    async fn pre<E>(
        &self,
        request: &mut reqwest::Request,
        info: &OperationInfo,
    ) -> Result<(), Error<E>> {
        self.inner().layer.pre(request, info);
        Ok(())
    }

    async fn exec(
        &self,
        request: reqwest::Request,
        info: &OperationInfo,
    ) -> reqwest::Result<reqwest::Response> {
        self.inner().layer.exec(self.client(), request, info).await
    }

    async fn post<E>(
        &self,
        result: &reqwest::Result<reqwest::Response>,
        info: &OperationInfo,
    ) -> Result<(), Error<E>> {
        self.inner().layer.post(result, info);
        Ok(())
    }
}

// ----------------------------------------------------- undecoded answers

// The status and headers of the last answer on this thread whose body did
// not decode, and which body that was (its address and length).
//
// progenitor's `Error::InvalidResponsePayload` carries only the body, but
// the error report wants the status (a 429 whose body is a proxy's HTML is
// still a 429, with its `Retry-After`) and the content type. So
// [`super::body::from_response`], the one place that error is made, leaves
// them here just before returning it, and `Error::from_api` takes them back
// before it awaits anything. Both run in the same poll, on the same thread:
// nothing comes between a generated operation returning and its caller
// mapping the error. An error mapped elsewhere (another thread, a later
// task) finds a body that is not its own and goes without, as it would
// have with no record at all. Answers that decode never touch this.
std::thread_local! {
    static UNDECODED: RefCell<Option<Undecoded>> = const { RefCell::new(None) };
}

struct Undecoded {
    body: (usize, usize),
    status: u16,
    headers: HeaderMap,
}

fn body_id(body: &[u8]) -> (usize, usize) {
    (body.as_ptr() as usize, body.len())
}

/// Keeps the status and headers of an answer whose `body` did not decode,
/// for the error that says so (see the comment above: taken back in the
/// same poll by [`undecoded`]).
pub(crate) fn remember_undecoded(body: &[u8], status: u16, headers: HeaderMap) {
    UNDECODED.with(|u| {
        *u.borrow_mut() = Some(Undecoded {
            body: body_id(body),
            status,
            headers,
        })
    });
}

/// The status and headers [`remember_undecoded`] kept for this very `body`
/// (the same bytes, not equal ones), if it was the last one on this thread.
pub(crate) fn undecoded(body: &[u8]) -> Option<(u16, HeaderMap)> {
    UNDECODED.with(|u| {
        let mut u = u.borrow_mut();
        match u.take() {
            Some(k) if k.body == body_id(body) => Some((k.status, k.headers)),
            other => {
                *u = other;
                None
            }
        }
    })
}

/// A path parameter as the generated operations write it into a URL:
/// percent-encoded with progenitor's `encode_path` set (the WHATWG
/// path-segment set, plus `/` and `%`), by `percent_encoding`, but while
/// `format!` writes the URL, with no `String` of the value or of its
/// encoding.
#[doc(hidden)]
pub fn encode_path<T: fmt::Display + ?Sized>(segment: &T) -> PathSegment<'_, T> {
    PathSegment(segment)
}

/// See [`encode_path`].
#[doc(hidden)]
pub struct PathSegment<'a, T: ?Sized>(&'a T);

impl<T: fmt::Display + ?Sized> fmt::Display for PathSegment<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use fmt::Write as _;
        write!(Escape(f), "{}", self.0)
    }
}

/// progenitor-client's `PATH_SET`, which it does not export.
const PATH_SET: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}')
    .add(b'/')
    .add(b'%');

/// Writes what it is given, percent-encoded.
struct Escape<'a, 'b>(&'a mut fmt::Formatter<'b>);

impl fmt::Write for Escape<'_, '_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        // A segment that needs no escape is one chunk.
        percent_encoding::utf8_percent_encode(s, PATH_SET)
            .try_for_each(|chunk| self.0.write_str(chunk))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_undecoded_answer_is_found_by_its_own_body_only() {
        let body = bytes::Bytes::from_static(b"<html>429</html>");
        let mut headers = HeaderMap::new();
        headers.insert("retry-after", "12".parse().unwrap());
        remember_undecoded(&body, 429, headers);
        // Equal bytes elsewhere are another body: not its record, which stays.
        let other = body.to_vec();
        assert!(undecoded(&other).is_none());
        let (status, headers) = undecoded(&body.clone()).expect("the same bytes");
        assert_eq!(status, 429);
        assert_eq!(headers["retry-after"], "12");
        // Taken: a second look finds nothing.
        assert!(undecoded(&body).is_none());
    }

    #[test]
    fn another_thread_finds_nothing() {
        let body = bytes::Bytes::from_static(b"not json");
        remember_undecoded(&body, 200, HeaderMap::new());
        let elsewhere = body.clone();
        assert!(std::thread::spawn(move || undecoded(&elsewhere).is_none())
            .join()
            .unwrap());
        assert!(undecoded(&body).is_some());
    }
    #[test]
    fn a_path_segment_is_encoded_as_progenitor_encodes_it() {
        for s in [
            "",
            "abc",
            "a b/c%d?e#f",
            "ünï/cödé",
            "\u{7f}\t\"<>`{}",
            "-._~!$&'()*+,;=:@",
        ] {
            assert_eq!(
                encode_path(s).to_string(),
                progenitor_client::encode_path(s),
                "{s:?}"
            );
        }
        assert_eq!(encode_path(&42u64).to_string(), "42");
    }

    proptest::proptest! {
        #[test]
        fn every_path_segment_is_encoded_as_progenitor_encodes_it(s in "\\PC*|[ -~]*") {
            proptest::prop_assert_eq!(encode_path(&s).to_string(), progenitor_client::encode_path(&s));
        }
    }
}

//! What every generated operation runs through: progenitor's hooks, handed
//! on to a [`Layer`].
//!
//! The generated client's "inner" value is a [`Hooks`]. Its progenitor
//! hooks (`pre`, `exec`, `post`) do nothing of their own: they call the
//! [`Layer`] it holds. The crate's transport (API key, timeouts, pacing,
//! redirects, retries, body caps) is one such layer, installed by
//! `identifai::Client`; a bare [`Hooks::default`] sends every request as it
//! is. This keeps `api` free of any import from the layer above it.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use progenitor_client::{ClientHooks, ClientInfo, Error, OperationInfo};

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

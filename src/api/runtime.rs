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
//! It also keeps the post hook's memory ([`capture`], [`last_response`]):
//! the status and headers of the last response, for error reports.

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

// The post hook's memory (the crate's transport writes it): the status
// and headers of the last response, so that a body that fails to decode
// is reported with them.
tokio::task_local! {
    pub(crate) static LAST_RESPONSE: RefCell<(Option<u16>, HeaderMap)>;
}

/// Runs `fut` so that the status and headers of the responses it gets can
/// be read with [`last_response`].
pub(crate) async fn capture<F: std::future::Future>(fut: F) -> F::Output {
    LAST_RESPONSE
        .scope(RefCell::new((None, HeaderMap::new())), fut)
        .await
}

/// The status and headers of the last response inside [`capture`].
pub(crate) fn last_response() -> (Option<u16>, HeaderMap) {
    LAST_RESPONSE
        .try_with(|c| c.borrow().clone())
        .unwrap_or_default()
}

/// Keeps the headers of an answer whose body did not decode, for the
/// error that says so (moved there by [`super::body::from_response`], so
/// that answers that decode never have theirs copied).
pub(crate) fn remember_headers(status: u16, headers: HeaderMap) {
    let _ = LAST_RESPONSE.try_with(|c| *c.borrow_mut() = (Some(status), headers));
}

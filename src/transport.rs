//! What every request goes through: the API key header, and the reqwest
//! client that sends it.
//!
//! [`Transport`] is the generated client's "inner" value; the hooks below
//! run for every generated operation (progenitor's and build.rs's alike).

use std::sync::Arc;

use progenitor_client::{ClientHooks, ClientInfo, Error, OperationInfo};
use reqwest::header::{HeaderName, HeaderValue};
use secrecy::{ExposeSecret, SecretString};

use crate::api;

/// The header that carries the API key.
pub const API_KEY_HEADER: HeaderName = HeaderName::from_static("x-api-key");

/// Shared per-client state used by the request hooks. Cheap to clone.
#[derive(Clone)]
pub struct Transport {
    inner: Arc<Inner>,
}

struct Inner {
    api_key: Option<SecretString>,
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transport")
            .field("api_key", &self.inner.api_key.as_ref().map(|_| "[REDACTED]"))
            .finish()
    }
}

impl Transport {
    /// A transport that sends `api_key` (if any) in `X-Api-Key`.
    pub fn new(api_key: Option<SecretString>) -> Self {
        Self { inner: Arc::new(Inner { api_key }) }
    }

    fn api_key_header(&self) -> Option<HeaderValue> {
        let key = self.inner.api_key.as_ref()?;
        let mut value = HeaderValue::from_str(key.expose_secret()).ok()?;
        value.set_sensitive(true);
        Some(value)
    }
}

impl ClientHooks<Transport> for api::Client {
    async fn pre<E>(&self, request: &mut reqwest::Request, info: &OperationInfo) -> Result<(), Error<E>> {
        if api::API_KEY_OPERATIONS.contains(&info.operation_id) {
            if let Some(key) = self.inner().api_key_header() {
                request.headers_mut().insert(API_KEY_HEADER, key);
            }
        }
        Ok(())
    }

    async fn exec(&self, request: reqwest::Request, _info: &OperationInfo) -> reqwest::Result<reqwest::Response> {
        self.client().execute(request).await
    }
}

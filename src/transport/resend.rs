//! A request kept so that it can be sent again, for a retry or a redirect
//! hop, and the small bodies read into memory to make that possible.

use std::time::Duration;

use reqwest::Method;

/// The largest body of a request that is not an upload read into memory
/// so that it can be sent again (a submission by URL, a partner call: a
/// multipart form of a few fields).
const RESEND_BUFFER: u64 = 64 * 1024;

/// Whether `request` has a small streamed body (`Content-Length` at most
/// [`RESEND_BUFFER`]) to read into memory, so that it can be cloned.
pub(super) fn needs_buffer(request: &reqwest::Request) -> bool {
    let streamed = request.body().is_some_and(|b| b.as_bytes().is_none());
    streamed
        && request
            .headers()
            .get(reqwest::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok())
            .is_some_and(|n| n <= RESEND_BUFFER)
}

/// Reads the request's streamed body into memory (see [`needs_buffer`]).
pub(super) async fn buffer_body(request: &mut reqwest::Request) {
    let Some(body) = request.body_mut().take() else {
        return;
    };
    let mut body = std::pin::pin!(body);
    let mut bytes = bytes::BytesMut::new();
    while let Some(frame) =
        std::future::poll_fn(|cx| http_body::Body::poll_frame(body.as_mut(), cx)).await
    {
        match frame {
            Ok(frame) => {
                if let Ok(data) = frame.into_data() {
                    bytes.extend_from_slice(&data);
                }
            }
            // A form made in memory does not fail; should one, the request
            // goes out with what was read and fails on its length.
            Err(_) => break,
        }
    }
    *request.body_mut() = Some(reqwest::Body::from(bytes.freeze()));
}

/// What a request is sent again from, for a retry or a redirect hop.
///
/// A body-less request (every GET) is kept as its method, URL, headers,
/// version and timeout: cheaper than `reqwest::Request::try_clone`, which
/// also copies reqwest's extensions map (a map and a box per request, for
/// the timeout alone). The request is made from them only when a retry or
/// a hop happens. A request with a body that can be cloned is kept whole.
pub(super) enum Resend {
    Parts {
        method: Method,
        url: reqwest::Url,
        headers: reqwest::header::HeaderMap,
        version: reqwest::Version,
        timeout: Option<Duration>,
    },
    Whole(reqwest::Request),
}

impl Resend {
    /// `None` for a body that cannot be cloned (a streamed upload).
    pub(super) fn of(request: &reqwest::Request) -> Option<Resend> {
        if request.body().is_some() {
            return request.try_clone().map(Resend::Whole);
        }
        Some(Resend::Parts {
            method: request.method().clone(),
            url: request.url().clone(),
            headers: request.headers().clone(),
            version: request.version(),
            timeout: request.timeout().copied(),
        })
    }

    /// The URL the request goes to.
    pub(super) fn url(&self) -> &reqwest::Url {
        match self {
            Resend::Parts { url, .. } => url,
            Resend::Whole(r) => r.url(),
        }
    }

    /// The request, made anew.
    pub(super) fn request(&self) -> Option<reqwest::Request> {
        match self {
            Resend::Parts {
                method,
                url,
                headers,
                version,
                timeout,
            } => {
                let mut request = reqwest::Request::new(method.clone(), url.clone());
                *request.headers_mut() = headers.clone();
                *request.version_mut() = *version;
                if timeout.is_some() {
                    *request.timeout_mut() = *timeout;
                }
                Some(request)
            }
            Resend::Whole(r) => r.try_clone(),
        }
    }
}

//! Webhook bodies.
//!
//! When a submission names a `webhook_url` (an option identifAI enables per
//! account), the service POSTs the same result object that polling returns
//! to that URL. These functions turn such a body into the typed result.
//!
//! **No signature scheme is published**: nothing in a webhook proves it
//! came from identifAI. Treat the body as a hint; if it matters, fetch the
//! result again with [`Client::result`](crate::Client::result) by its
//! identifier before acting on it. **Polling stays the fallback**: the
//! service caches results of repeated submissions (same file, same
//! options), and a cached result never calls the webhook.
//!
//! ```
//! let body = br#"{"identifier":"abc","status":"done","verdict":{"heuristic":"Majority","confidence":0.97,"classification":"artificial"}}"#;
//! let result = identifai::webhook::parse_image_result(body)?;
//! assert_eq!(result.identifier.as_deref(), Some("abc"));
//! # Ok::<(), identifai::Error>(())
//! ```

use crate::api::types::{ImageResponse, VideoResponse};
use crate::error::{Error, Result};

/// Parses an image result posted to a webhook.
pub fn parse_image_result(body: &[u8]) -> Result<ImageResponse> {
    serde_json::from_slice(body).map_err(|e| invalid(e, body))
}

fn invalid(e: serde_json::Error, body: &[u8]) -> Error {
    Error::Decode {
        status: None,
        content_type: None,
        reason: format!("not a result object (webhook body): {e}"),
        snippet: crate::error::snippet(body),
    }
}

/// Parses a video result posted to a webhook.
pub fn parse_video_result(body: &[u8]) -> Result<VideoResponse> {
    serde_json::from_slice(body).map_err(|e| invalid(e, body))
}

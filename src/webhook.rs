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
//!
//! Any kind, when the endpoint that receives the webhook knows it (one URL
//! per kind, or a query parameter of yours):
//!
//! ```
//! use identifai::Kind;
//! let body = br#"{"identifier":"s1","status":"done","verdict":{"heuristic":"Majority","confidence":0.9,"classification":"human"}}"#;
//! let result = identifai::webhook::parse(Kind::Audio, body)?;
//! assert_eq!(result.kind(), Kind::Audio);
//! assert!(result.into_audio().is_some());
//! # Ok::<(), identifai::Error>(())
//! ```

use crate::api::types::{AudioResponse, ImageResponse, VideoResponse};
use crate::error::{Error, Result};
use crate::media_kind::{AnyResult, Audio, Image, Kind, MediaKind, Video};

/// Parses a result of kind `kind` posted to a webhook, keeping its JSON
/// (every kind the spec has, by regeneration). A body that is not JSON, or
/// a JSON object with none of the result's fields, is an error.
pub fn parse(kind: Kind, body: &[u8]) -> Result<AnyResult> {
    let text = std::str::from_utf8(body).map_err(|e| Error::Decode {
        status: None,
        content_type: None,
        reason: format!("not a result object (webhook body): not UTF-8: {e}"),
        snippet: crate::error::snippet(body),
    })?;
    let result = AnyResult::from_json(kind, text).map_err(|e| invalid(e, body))?;
    if result.identifier().is_none() && result.status().is_none() && result.verdict().is_none() {
        return Err(Error::Decode {
            status: None,
            content_type: None,
            reason: "not a result object (webhook body): none of a result's fields".into(),
            snippet: crate::error::snippet(body),
        });
    }
    Ok(result)
}

/// Parses a result of kind `K` (a marker type: [`Image`], [`Video`],
/// [`Audio`], ...) posted to a webhook, as that kind's typed result.
///
/// ```
/// let body = br#"{"identifier":"s1","status":"done"}"#;
/// let result = identifai::webhook::parse_result::<identifai::kinds::Audio>(body)?;
/// assert_eq!(result.identifier.as_deref(), Some("s1"));
/// # Ok::<(), identifai::Error>(())
/// ```
pub fn parse_result<K: MediaKind>(body: &[u8]) -> Result<K::Output> {
    serde_json::from_slice(body).map_err(|e| invalid(e, body))
}

/// Parses an image result posted to a webhook.
pub fn parse_image_result(body: &[u8]) -> Result<ImageResponse> {
    parse_result::<Image>(body)
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
    parse_result::<Video>(body)
}

/// Parses an audio result posted to a webhook.
pub fn parse_audio_result(body: &[u8]) -> Result<AudioResponse> {
    parse_result::<Audio>(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_parses_and_an_empty_object_does_not() {
        let body = br#"{"identifier":"w1","status":"done","verdict":{"heuristic":"Majority","confidence":0.9,"classification":"human"},"force_classification":"artificial"}"#;
        for kind in Kind::ALL {
            let r = parse(kind, body).unwrap();
            assert_eq!(r.kind(), kind);
            assert_eq!(r.identifier(), Some("w1"));
            // The override is what a webhook consumer should act on.
            let e = r.effective_verdict().unwrap();
            assert_eq!(e.classification.as_str(), "artificial");
            for bad in [&b"{}"[..], b"[]", b"<html>", b"\xff"] {
                assert!(parse(kind, bad).is_err(), "{kind}: {bad:?}");
            }
        }
    }

    #[test]
    fn each_kind_has_its_typed_parser() {
        let body = br#"{"identifier":"w2","status":"done"}"#;
        let audio = parse_audio_result(body).unwrap();
        assert_eq!(audio.identifier.as_deref(), Some("w2"));
        assert_eq!(
            parse_image_result(body).unwrap().identifier.as_deref(),
            Some("w2")
        );
        assert_eq!(
            parse_video_result(body).unwrap().identifier.as_deref(),
            Some("w2")
        );
        for bad in [&b"<html>"[..], b"\xff", b"{\"status\": 3}"] {
            assert!(parse_audio_result(bad).is_err(), "{bad:?}");
            assert!(parse_result::<Audio>(bad).is_err(), "{bad:?}");
        }
    }
}

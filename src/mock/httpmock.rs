//! Typed [`httpmock`] helpers for **every operation** of the spec, generated
//! by `identifai-codegen` (`build.rs`): progenitor's for the JSON operations,
//! the generator's own for the multipart submissions (uploads and by-URL),
//! the partner user form and the heatmaps (PNG or 204).
//!
//! Where [`super::MockServer`] is a whole fake service, these let a test
//! script one answer with the spec's types. [`MockServerExt`] has one
//! method per `operationId`; its `When` matches the operation's method and
//! path (and, for a form, the form: see below), its `Then` has one method per
//! documented status (`ok`, `no_content`, `bad_request`, `unauthorized`,
//! `forbidden`, `too_many_requests`, ...) taking that answer's type, plus
//! `service_unavailable(retry_after)` (the 503 every operation can meet
//! though the pages do not list it) and `retry_after(seconds)`:
//!
//! ```
//! use identifai::mock::httpmock::{operations, MockServer, MockServerExt};
//! use identifai::api::types::{HealthResponse, HealthStatus, IdentifierResponse};
//!
//! let server = MockServer::start();
//! let mock = server.health(|when, then| {
//!     let _ = when;
//!     then.ok(&HealthResponse { status: HealthStatus::Degraded });
//! });
//! let upload = server.classify_image(|when, then| {
//!     when.image(b"\x89PNG\r\n\x1a\n...").with_heatmap(true).ref_id(None);
//!     then.ok(&IdentifierResponse { identifier: "8d64".into() });
//! });
//! # let _ = (mock, upload, operations::HealthWhen::into_inner);
//! ```
//!
//! # What a form operation's `When` matches
//!
//! `new` (every helper starts with it) matches the method, the path, a
//! `multipart/form-data` body that parses, holding every field the spec
//! requires, no field the spec does not name, and file parts whose content
//! type the spec's `encoding` allows. Then one method per field narrows it:
//! a text field's value (`Some(v)`: sent and equal to `v` as the client
//! writes it; `None`: not sent), a file part's exact bytes, its
//! `_content_type` and `_file_name`. It does not match the order of the
//! parts, their other headers, or a part sent twice (the first one counts).
//! The form checks are custom matchers ([`When::is_true`]): they run with a
//! local [`MockServer`] (`MockServer::start`), not with a remote httpmock
//! server.
//!
//! The [`httpmock`] crate itself is re-exported ([`MockServer`],
//! [`When`], [`Then`], [`Method`], [`Mock`], and the whole crate as
//! [`lib`]): your tests need no dependency of their own on it, and always
//! get the version these helpers are built for. `into_inner()` on a
//! helper's `When` or `Then` gives the plain httpmock value, to deviate from
//! the spec on purpose.
#![allow(missing_docs, clippy::all)]
// The generated docs link `[MockServer](::httpmock::MockServer)`, re-exported here.
#![allow(rustdoc::redundant_explicit_links)]

pub use ::httpmock as lib;
pub use ::httpmock::{Method, Mock, MockServer, Then, When};

include!(concat!(env!("OUT_DIR"), "/identifai_httpmock.rs"));

/// Reading a recorded `multipart/form-data` request: what the generated form
/// matchers use, and what a hand-written [`When::is_true`] matcher can use.
///
/// Hand-written (not generated) because it is the same for every operation:
/// the generator emits, per operation, the field names and content types
/// these functions check.
pub mod form {
    use ::httpmock::HttpMockRequest;

    /// One part of a form.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Part {
        /// The `name` of its `Content-Disposition`.
        pub name: String,
        /// The `filename` of its `Content-Disposition`, for a file part.
        pub file_name: Option<String>,
        /// Its `Content-Type`, if it has one.
        pub content_type: Option<String>,
        /// Its bytes.
        pub body: Vec<u8>,
    }

    /// What the spec says of one operation's form (generated).
    #[derive(Debug, Clone, Copy)]
    pub struct FormSpec {
        /// The fields the spec requires.
        pub required: &'static [&'static str],
        /// Every field the spec names.
        pub fields: &'static [&'static str],
        /// The file fields, each with the content types its `encoding`
        /// allows (`*` matches any subtype).
        pub files: &'static [(&'static str, &'static [&'static str])],
    }

    /// The parts of `req`'s body, or `None` if it is not a well-formed
    /// `multipart/form-data` body (wrong content type, no boundary, a part
    /// without a name, a missing closing delimiter).
    pub fn parts(req: &HttpMockRequest) -> Option<Vec<Part>> {
        let content_type = req
            .headers_vec()
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
            .map(|(_, v)| v.as_str())?;
        parse(content_type, req.body_ref())
    }

    /// The first part named `name`, if the body is a form that has one.
    pub fn part(req: &HttpMockRequest, name: &str) -> Option<Part> {
        parts(req)?.into_iter().find(|p| p.name == name)
    }

    /// Whether `req` is a form as `spec` describes: every required field
    /// present, no field the spec does not name, every file part of an
    /// allowed content type.
    pub fn conforms(req: &HttpMockRequest, spec: &FormSpec) -> bool {
        let Some(parts) = parts(req) else {
            return false;
        };
        let required = spec
            .required
            .iter()
            .all(|r| parts.iter().any(|p| p.name == *r));
        let known = parts.iter().all(|p| spec.fields.contains(&p.name.as_str()));
        let files = spec.files.iter().all(|(name, allowed)| {
            parts.iter().filter(|p| p.name == *name).all(|p| {
                p.content_type
                    .as_deref()
                    .is_some_and(|ct| allowed.iter().any(|a| crate::api::mime_matches(a, ct)))
            })
        });
        required && known && files
    }

    /// Whether text field `name` is sent with `value` (`Some`), or not sent
    /// (`None`).
    pub fn text_is(req: &HttpMockRequest, name: &str, value: Option<&str>) -> bool {
        match (part(req, name), value) {
            (Some(p), Some(v)) => p.body == v.as_bytes(),
            (None, None) => parts(req).is_some(),
            _ => false,
        }
    }

    /// Whether file field `name` is sent with exactly these bytes.
    pub fn file_is(req: &HttpMockRequest, name: &str, bytes: &[u8]) -> bool {
        part(req, name).is_some_and(|p| p.body == bytes)
    }

    /// Whether field `name` is sent with this content type (parameters and
    /// case ignored).
    pub fn content_type_is(req: &HttpMockRequest, name: &str, value: &str) -> bool {
        let essence = crate::api::mime_essence;
        part(req, name)
            .and_then(|p| p.content_type)
            .is_some_and(|ct| essence(&ct) == essence(value))
    }

    /// Whether field `name` is sent with this file name.
    pub fn file_name_is(req: &HttpMockRequest, name: &str, value: &str) -> bool {
        part(req, name).is_some_and(|p| p.file_name.as_deref() == Some(value))
    }

    /// Parses a `multipart/form-data` body with the boundary of
    /// `content_type`.
    pub fn parse(content_type: &str, body: &[u8]) -> Option<Vec<Part>> {
        if crate::api::mime_essence(content_type) != "multipart/form-data" {
            return None;
        }
        let boundary = content_type.split(';').skip(1).find_map(|p| {
            let (k, v) = p.split_once('=')?;
            k.trim()
                .eq_ignore_ascii_case("boundary")
                .then(|| v.trim().trim_matches('"').to_string())
        })?;
        if boundary.is_empty() {
            return None;
        }
        let delimiter = format!("--{boundary}").into_bytes();
        let mut rest = &body[find(body, &delimiter)? + delimiter.len()..];
        let mut parts = Vec::new();
        loop {
            if rest.starts_with(b"--") {
                return Some(parts);
            }
            rest = rest.strip_prefix(b"\r\n")?;
            let head_end = find(rest, b"\r\n\r\n")?;
            let head = std::str::from_utf8(&rest[..head_end]).ok()?;
            rest = &rest[head_end + 4..];
            let mut next = b"\r\n".to_vec();
            next.extend_from_slice(&delimiter);
            let body_end = find(rest, &next)?;
            let mut part = Part {
                name: String::new(),
                file_name: None,
                content_type: None,
                body: rest[..body_end].to_vec(),
            };
            rest = &rest[body_end + next.len()..];
            for line in head.split("\r\n") {
                let (k, v) = line.split_once(':')?;
                if k.trim().eq_ignore_ascii_case("content-disposition") {
                    for param in v.split(';').skip(1) {
                        let Some((pk, pv)) = param.split_once('=') else {
                            continue;
                        };
                        let pv = pv.trim().trim_matches('"').to_string();
                        match pk.trim() {
                            "name" => part.name = pv,
                            "filename" => part.file_name = Some(pv),
                            _ => {}
                        }
                    }
                } else if k.trim().eq_ignore_ascii_case("content-type") {
                    part.content_type = Some(v.trim().to_string());
                }
            }
            if part.name.is_empty() {
                return None;
            }
            parts.push(part);
        }
    }

    fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
        haystack.windows(needle.len()).position(|w| w == needle)
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn parses_text_and_file_parts() {
            let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"ref_id\"\r\n\r\nr-1\r\n\
--XyZ\r\nContent-Disposition: form-data; name=\"image\"; filename=\"a.png\"\r\nContent-Type: image/png\r\n\r\n\x89PNG\r\n--x\r\n--XyZ--\r\n";
            let parts = parse("multipart/form-data; boundary=\"XyZ\"", body).unwrap();
            assert_eq!(parts.len(), 2);
            assert_eq!(parts[0].name, "ref_id");
            assert_eq!(parts[0].body, b"r-1");
            assert_eq!(parts[1].file_name.as_deref(), Some("a.png"));
            assert_eq!(parts[1].content_type.as_deref(), Some("image/png"));
            assert_eq!(parts[1].body, b"\x89PNG\r\n--x");
        }

        #[test]
        fn rejects_what_is_not_a_whole_form() {
            let part = b"--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n";
            assert!(parse("application/json", b"{}").is_none());
            assert!(parse("multipart/form-data", part).is_none());
            // No closing delimiter: truncated.
            assert!(parse("multipart/form-data; boundary=b", part).is_none());
            let unnamed = b"--b\r\nContent-Disposition: form-data\r\n\r\n1\r\n--b--";
            assert!(parse("multipart/form-data; boundary=b", unnamed).is_none());
            let empty = parse("multipart/form-data; boundary=b", b"--b--\r\n").unwrap();
            assert!(empty.is_empty());
        }
    }
}

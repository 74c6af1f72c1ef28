//! The generated client puts on the wire exactly what the spec says: every
//! operation (published, reconstructed and the alias paths) is called over
//! loopback against httpmock, and the request it sent is checked: method,
//! path, query encoding, `X-Api-Key`, exactly one `Accept`, and for the
//! multipart operations each part's name, file name and content type.

use std::sync::{Arc, Mutex};

use httpmock::prelude::*;
use httpmock::HttpMockRequest;
use identifai::api::FilePart;
use identifai::api::{self, forms, types};
use identifai::Transport;

const KEY: &str = "test-key-0123456789";

fn client(server: &MockServer) -> api::Client {
    api::Client::new_with_client(
        &server.base_url(),
        reqwest::Client::new(),
        Transport::new(Some(KEY.to_string().into())).into(),
    )
}

/// Answers every request with `status`/`content_type`/`body` and records it.
fn record(
    server: &MockServer,
    status: u16,
    content_type: &str,
    body: &[u8],
) -> Arc<Mutex<Vec<HttpMockRequest>>> {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    let (ct, body) = (content_type.to_string(), body.to_vec());
    server.mock(move |when, then| {
        when.is_true(move |req: &HttpMockRequest| {
            sink.lock().unwrap().push(req.clone());
            true
        });
        then.status(status).header("content-type", ct).body(body);
    });
    seen
}

fn only(seen: &Arc<Mutex<Vec<HttpMockRequest>>>) -> HttpMockRequest {
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 1, "exactly one request is sent");
    seen[0].clone()
}

fn header_values(req: &HttpMockRequest, name: &str) -> Vec<String> {
    req.headers_vec()
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.clone())
        .collect()
}

fn assert_common(
    req: &HttpMockRequest,
    method: &str,
    path: &str,
    accept: Option<&str>,
    keyed: bool,
) {
    assert_eq!(req.method_str(), method);
    assert_eq!(req.uri().path(), path);
    let keys = header_values(req, "x-api-key");
    if keyed {
        assert_eq!(keys, vec![KEY.to_string()], "one X-Api-Key with the key");
    } else {
        assert!(
            keys.is_empty(),
            "no key where the spec asks for none: {keys:?}"
        );
    }
    assert!(header_values(req, "authorization").is_empty());
    let accepts = header_values(req, "accept");
    match accept {
        Some(a) => assert_eq!(accepts, vec![a.to_string()], "exactly one Accept"),
        None => assert!(accepts.len() <= 1, "at most one Accept: {accepts:?}"),
    }
}

/// One multipart part as received: (name, file name, content type, body).
type Part = (String, Option<String>, Option<String>, Vec<u8>);

async fn parts(req: &HttpMockRequest) -> Vec<Part> {
    let ct = header_values(req, "content-type")
        .pop()
        .expect("content-type");
    assert!(ct.starts_with("multipart/form-data; boundary="), "{ct}");
    let boundary = multer::parse_boundary(&ct).unwrap();
    let body = req.body_vec();
    let stream =
        futures::stream::once(async move { Ok::<_, std::io::Error>(bytes::Bytes::from(body)) });
    let mut mp = multer::Multipart::new(stream, boundary);
    let mut out = Vec::new();
    while let Some(field) = mp.next_field().await.unwrap() {
        let name = field.name().unwrap().to_string();
        let file = field.file_name().map(str::to_string);
        let ctype = field.content_type().map(|m| m.to_string());
        out.push((name, file, ctype, field.bytes().await.unwrap().to_vec()));
    }
    out
}

fn text(parts: &[Part], name: &str) -> Option<String> {
    parts
        .iter()
        .find(|p| p.0 == name)
        .map(|p| String::from_utf8(p.3.clone()).unwrap())
}

use crate::support::ID;

#[tokio::test]
async fn health_sends_no_key() {
    let server = MockServer::start_async().await;
    let seen = record(
        &server,
        200,
        "application/json",
        br#"{"status":"degraded"}"#,
    );
    let out = client(&server).health().await.unwrap();
    assert_eq!(out.status, types::HealthStatus::Degraded);
    assert_common(
        &only(&seen),
        "GET",
        "/api/health",
        Some("application/json"),
        false,
    );
}

#[tokio::test]
async fn get_image_classification_and_its_alias() {
    for alias in [false, true] {
        let server = MockServer::start_async().await;
        let body = format!(
            r#"{{"identifier":"{ID}","status":"done","verdict":{{"heuristic":"Majority","confidence":0.9,"classification":"artificial"}}}}"#
        );
        let seen = record(&server, 200, "application/json", body.as_bytes());
        let c = client(&server);
        let out = if alias {
            c.get_image_classification_alias(ID).await
        } else {
            c.get_image_classification(ID).await
        }
        .unwrap();
        assert_eq!(
            out.verdict.as_ref().unwrap().classification,
            types::Classification::Artificial
        );
        let path = if alias {
            "/api/classification_image/"
        } else {
            "/api/classification/"
        };
        assert_common(
            &only(&seen),
            "GET",
            &format!("{path}{ID}"),
            Some("application/json"),
            true,
        );
    }
}

#[tokio::test]
async fn identifiers_are_percent_encoded_in_the_path() {
    let server = MockServer::start_async().await;
    let seen = record(&server, 200, "application/json", br#"{"hash":"ab"}"#);
    client(&server)
        .get_image_classification("a b/c?d")
        .await
        .unwrap();
    let req = only(&seen);
    assert_eq!(req.uri().path(), "/api/classification/a%20b%2Fc%3Fd");
}

#[tokio::test]
async fn get_video_classification() {
    let server = MockServer::start_async().await;
    let seen = record(&server, 200, "application/json", br#"{"status":"new"}"#);
    let out = client(&server).get_video_classification(ID).await.unwrap();
    assert_eq!(out.status, Some(types::Status::New));
    assert_common(
        &only(&seen),
        "GET",
        &format!("/api/classification_video/{ID}"),
        Some("application/json"),
        true,
    );
}

#[tokio::test]
async fn list_sends_repeated_identifiers_brackets() {
    for alias in [false, true] {
        let server = MockServer::start_async().await;
        let seen = record(
            &server,
            200,
            "application/json",
            br#"[{"hash":"a"},{"hash":"b"}]"#,
        );
        let c = client(&server);
        let ids = vec!["id-1".to_string(), "id-2".to_string(), "id 3".to_string()];
        let out = if alias {
            c.list_image_classifications_alias(&ids).await
        } else {
            c.list_image_classifications(&ids).await
        }
        .unwrap();
        assert_eq!(out.len(), 2);
        let req = only(&seen);
        let path = if alias {
            "/api/classifications_image"
        } else {
            "/api/classifications"
        };
        assert_common(&req, "GET", path, Some("application/json"), true);
        assert_eq!(
            req.uri().query().unwrap(),
            "identifiers%5B%5D=id-1&identifiers%5B%5D=id-2&identifiers%5B%5D=id+3"
        );
        let decoded: Vec<(String, String)> = req.query_params();
        assert!(
            decoded.iter().all(|(k, _)| k == "identifiers[]"),
            "{decoded:?}"
        );
    }
}

#[tokio::test]
async fn heatmap_png_and_no_content() {
    for alias in [false, true] {
        let server = MockServer::start_async().await;
        let png = b"\x89PNG\r\n\x1a\nrest";
        let seen = record(&server, 200, "image/png", png);
        let c = client(&server);
        let call = |id| async move {
            if alias {
                c.get_image_heatmap_alias(id).await
            } else {
                c.get_image_heatmap(id).await
            }
        };
        let out = call(ID).await.unwrap();
        assert_eq!(out.status(), 200);
        let bytes = out.into_inner().collect_bytes().await;
        assert_eq!(&bytes[..], png);
        let path = if alias {
            "/api/classification_image/heatmap/"
        } else {
            "/api/classification/heatmap/"
        };
        assert_common(&only(&seen), "GET", &format!("{path}{ID}"), None, true);

        let server = MockServer::start_async().await;
        record(&server, 204, "application/json", b"");
        let c = client(&server);
        let out = if alias {
            c.get_image_heatmap_alias(ID).await
        } else {
            c.get_image_heatmap(ID).await
        }
        .unwrap();
        assert_eq!(out.status(), 204);
    }
}

trait CollectBytes {
    async fn collect_bytes(self) -> Vec<u8>;
}
impl CollectBytes for api::ByteStream {
    async fn collect_bytes(self) -> Vec<u8> {
        use futures::TryStreamExt;
        self.into_inner()
            .try_fold(Vec::new(), |mut acc, b| async move {
                acc.extend_from_slice(&b);
                Ok(acc)
            })
            .await
            .unwrap()
    }
}

#[tokio::test]
async fn classify_image_multipart() {
    let server = MockServer::start_async().await;
    let seen = record(&server, 200, "text/plain", ID.as_bytes());
    let image =
        FilePart::bytes("cat.png", &b"\x89PNG\r\n\x1a\n0000"[..]).with_content_type("image/png");
    let form = forms::ClassifyImageForm::new(image)
        .ref_id("order-42")
        .with_heatmap(true)
        .no_cache(false);
    let out = client(&server)
        .classify_image(Some(types::ResponseFormat::TextPlain), form)
        .await
        .unwrap();
    assert_eq!(out.status(), 200);
    let req = only(&seen);
    assert_common(
        &req,
        "POST",
        "/api/classification",
        Some("text/plain"),
        true,
    );
    let p = parts(&req).await;
    let names: Vec<&str> = p.iter().map(|p| p.0.as_str()).collect();
    assert_eq!(names, ["image", "ref_id", "with_heatmap", "no_cache"]);
    assert_eq!(p[0].1.as_deref(), Some("cat.png"));
    assert_eq!(p[0].2.as_deref(), Some("image/png"));
    assert_eq!(p[0].3, b"\x89PNG\r\n\x1a\n0000");
    assert_eq!(text(&p, "ref_id").as_deref(), Some("order-42"));
    assert_eq!(text(&p, "with_heatmap").as_deref(), Some("true"));
    assert_eq!(text(&p, "no_cache").as_deref(), Some("false"));
    assert!(
        p[1..].iter().all(|p| p.1.is_none()),
        "only the file part has a file name"
    );
}

#[tokio::test]
async fn classify_video_multipart_streamed() {
    let server = MockServer::start_async().await;
    let seen = record(
        &server,
        200,
        "application/json",
        format!(r#"{{"identifier":"{ID}"}}"#).as_bytes(),
    );
    let chunks: Vec<Result<bytes::Bytes, std::io::Error>> = vec![
        Ok(bytes::Bytes::from_static(b"\x00\x00\x00\x18ftypmp42")),
        Ok(bytes::Bytes::from_static(b"moredata")),
    ];
    let body = reqwest::Body::wrap_stream(futures::stream::iter(chunks));
    let video = FilePart::stream("clip.mp4", body, Some(20)).with_content_type("video/mp4");
    let form = forms::ClassifyVideoForm::new(video)
        .frames(forms::Frames::V10)
        .key_frames(true)
        .key_frames_method(forms::KeyFramesMethod::Flow)
        .with_audio(true);
    client(&server)
        .classify_video(Some(types::ResponseFormat::ApplicationJson), form)
        .await
        .unwrap();
    let req = only(&seen);
    assert_common(
        &req,
        "POST",
        "/api/classification_video",
        Some("application/json"),
        true,
    );
    let p = parts(&req).await;
    assert_eq!(p[0].0, "video");
    assert_eq!(p[0].1.as_deref(), Some("clip.mp4"));
    assert_eq!(
        p[0].2.as_deref(),
        Some("video/mp4"),
        "a video goes out as video/..., never octet-stream"
    );
    assert_eq!(p[0].3, b"\x00\x00\x00\x18ftypmp42moredata");
    assert_eq!(text(&p, "frames").as_deref(), Some("10"));
    assert_eq!(text(&p, "key_frames_method").as_deref(), Some("flow"));
    assert_eq!(text(&p, "with_audio").as_deref(), Some("true"));
}

#[tokio::test]
async fn by_url_submissions() {
    let server = MockServer::start_async().await;
    let seen = record(&server, 200, "text/plain", ID.as_bytes());
    let c = client(&server);
    c.classify_image_from_url(
        None,
        forms::ClassifyImageFromUrlForm::new("https://example.com/a.jpg".into())
            .with_tampering(true),
    )
    .await
    .unwrap();
    c.classify_video_from_url(
        Some(types::ResponseFormat::TextPlain),
        forms::ClassifyVideoFromUrlForm::new("https://example.com/v.mp4".into())
            .frames(forms::Frames::V30),
    )
    .await
    .unwrap();
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2);
    // No format asked: reqwest's default `*/*`, still exactly one header.
    assert_common(&seen[0], "POST", "/api/image_fromurl", Some("*/*"), true);
    assert_common(
        &seen[1],
        "POST",
        "/api/video_fromurl",
        Some("text/plain"),
        true,
    );
    let p0 = parts(&seen[0]).await;
    assert_eq!(
        text(&p0, "file_url").as_deref(),
        Some("https://example.com/a.jpg")
    );
    assert_eq!(text(&p0, "with_tampering").as_deref(), Some("true"));
    assert!(
        p0.iter().all(|p| p.1.is_none()),
        "no file parts when submitting by URL"
    );
    let p1 = parts(&seen[1]).await;
    assert_eq!(
        text(&p1, "file_url").as_deref(),
        Some("https://example.com/v.mp4")
    );
    assert_eq!(text(&p1, "frames").as_deref(), Some("30"));
}

#[tokio::test]
async fn a_file_whose_type_the_spec_does_not_allow_is_refused_before_sending() {
    let server = MockServer::start_async().await;
    let seen = record(&server, 200, "text/plain", ID.as_bytes());
    let c = client(&server);
    let octet =
        FilePart::bytes("clip.bin", vec![0u8; 4]).with_content_type("application/octet-stream");
    let err = c
        .classify_video(None, forms::ClassifyVideoForm::new(octet))
        .await
        .err()
        .unwrap();
    assert!(
        err.to_string()
            .contains("content type application/octet-stream is not allowed"),
        "{err}"
    );
    let untyped = FilePart::bytes("clip", vec![0u8; 4]);
    assert!(c
        .classify_video(None, forms::ClassifyVideoForm::new(untyped))
        .await
        .is_err());
    let svg = FilePart::bytes("x.svg", vec![0u8; 4]).with_content_type("image/svg+xml");
    assert!(c
        .classify_image(None, forms::ClassifyImageForm::new(svg))
        .await
        .is_err());
    assert!(seen.lock().unwrap().is_empty(), "nothing was sent");
}

#[test]
fn frames_accepts_only_5_10_30() {
    use std::convert::TryFrom;
    for ok in [5, 10, 30] {
        assert_eq!(
            forms::Frames::try_from(ok).unwrap().as_str(),
            ok.to_string()
        );
    }
    for bad in [0, 1, 7, 15, 31, -5] {
        assert!(forms::Frames::try_from(bad).is_err(), "{bad}");
    }
}

#[tokio::test]
async fn documented_errors_decode_the_shared_error_body() {
    let server = MockServer::start_async().await;
    record(
        &server,
        400,
        "application/json",
        br#"{"video":["The video field is required."]}"#,
    );
    let video = FilePart::bytes("a.mp4", vec![1u8]).with_content_type("video/mp4");
    let err = client(&server)
        .classify_video(None, forms::ClassifyVideoForm::new(video))
        .await
        .err()
        .unwrap();
    let api::Error::ErrorResponse(rv) = err else {
        panic!("{err:?}")
    };
    assert_eq!(rv.status(), 400);
    assert_eq!(
        rv.extra["video"],
        vec!["The video field is required.".to_string()]
    );

    let server = MockServer::start_async().await;
    record(
        &server,
        429,
        "application/json",
        br#"{"message":"Too Many Attempts."}"#,
    );
    let err = client(&server)
        .get_image_classification(ID)
        .await
        .unwrap_err();
    let api::Error::ErrorResponse(rv) = err else {
        panic!("{err:?}")
    };
    assert_eq!(rv.message.as_deref(), Some("Too Many Attempts."));
}

/// Error bodies beyond the spec's shape keep their text (through the layer).
#[tokio::test]
async fn laravel_style_error_bodies_keep_their_messages() {
    let server = MockServer::start_async().await;
    server.mock(|when, then| {
        when.method(GET);
        then.status(400).header("content-type", "application/json").body(
            r#"{"message":"The given data was invalid.","errors":{"identifiers":["The identifiers field is required."]},"code":5}"#,
        );
    });
    let client = identifai::Client::builder()
        .api_key(KEY)
        .base_url(server.base_url())
        .build()
        .unwrap();
    let id: identifai::Identifier = "abc".parse().unwrap();
    let err = client.image_results(&[id]).await.unwrap_err();
    let identifai::Error::Validation { message, fields } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(message.as_deref(), Some("The given data was invalid."));
    assert_eq!(
        fields["identifiers"],
        vec!["The identifiers field is required.".to_string()]
    );
}

// ------------------------------------------------ the rendered pages' operations

#[tokio::test]
async fn classify_audio_multipart() {
    let server = MockServer::start_async().await;
    let seen = record(&server, 200, "text/plain", ID.as_bytes());
    let audio = FilePart::bytes("speech.mp3", &b"ID3\x04\x00\x00\x00\x00\x00\x00frames"[..])
        .with_content_type("audio/mpeg");
    let form = forms::ClassifyAudioForm::new(audio)
        .ref_id("call-7")
        .no_cache(true)
        .prevent_c2pa_forces(false);
    let out = client(&server)
        .classify_audio(Some(types::ResponseFormat::TextPlain), form)
        .await
        .unwrap();
    assert_eq!(out.status(), 200);
    let req = only(&seen);
    assert_common(
        &req,
        "POST",
        "/api/classification_audio",
        Some("text/plain"),
        true,
    );
    let p = parts(&req).await;
    let names: Vec<&str> = p.iter().map(|p| p.0.as_str()).collect();
    assert_eq!(
        names,
        ["audio", "ref_id", "no_cache", "prevent_c2pa_forces"]
    );
    assert_eq!(p[0].1.as_deref(), Some("speech.mp3"));
    assert_eq!(p[0].2.as_deref(), Some("audio/mpeg"));
    assert_eq!(p[0].3, b"ID3\x04\x00\x00\x00\x00\x00\x00frames");
    assert_eq!(text(&p, "ref_id").as_deref(), Some("call-7"));
    assert_eq!(text(&p, "no_cache").as_deref(), Some("true"));
    assert_eq!(text(&p, "prevent_c2pa_forces").as_deref(), Some("false"));
}

#[tokio::test]
async fn classify_audio_takes_the_pages_mime_types_and_refuses_others() {
    // The page's list, in its order.
    assert_eq!(
        forms::ClassifyAudioForm::AUDIO_CONTENT_TYPES,
        [
            "audio/mpeg",
            "audio/wav",
            "audio/ogg",
            "audio/flac",
            "audio/aac",
            "audio/3gp",
            "audio/m4a",
            "audio/m4b",
            "audio/m4p",
            "audio/m4r",
            "video/mp4"
        ]
    );
    let server = MockServer::start_async().await;
    let seen = record(&server, 200, "text/plain", ID.as_bytes());
    let c = client(&server);
    for ct in forms::ClassifyAudioForm::AUDIO_CONTENT_TYPES {
        let audio = FilePart::bytes("a", vec![1u8; 4]).with_content_type(*ct);
        c.classify_audio(None, forms::ClassifyAudioForm::new(audio))
            .await
            .unwrap();
    }
    let sent: Vec<String> = {
        let seen = seen.lock().unwrap();
        let mut out = Vec::new();
        for req in seen.iter() {
            out.push(
                futures::executor::block_on(parts(req))[0]
                    .2
                    .clone()
                    .unwrap(),
            );
        }
        out
    };
    assert_eq!(sent, forms::ClassifyAudioForm::AUDIO_CONTENT_TYPES);
    seen.lock().unwrap().clear();
    for bad in ["image/png", "video/quicktime", "application/octet-stream"] {
        let audio = FilePart::bytes("a", vec![1u8; 4]).with_content_type(bad);
        let err = c
            .classify_audio(None, forms::ClassifyAudioForm::new(audio))
            .await
            .err()
            .unwrap();
        assert!(
            err.to_string()
                .contains(&format!("content type {bad} is not allowed")),
            "{err}"
        );
    }
    assert!(seen.lock().unwrap().is_empty(), "nothing was sent");
}

#[tokio::test]
async fn classify_audio_from_url() {
    let server = MockServer::start_async().await;
    let seen = record(
        &server,
        200,
        "application/json",
        format!(r#"{{"identifier":"{ID}"}}"#).as_bytes(),
    );
    let form = forms::ClassifyAudioFromUrlForm::new("https://example.com/s.wav".into())
        .with_options(
            forms::AudioOptions::new()
                .webhook_url("https://hooks.example.com/x")
                .ref_id("r1"),
        );
    client(&server)
        .classify_audio_from_url(Some(types::ResponseFormat::ApplicationJson), form)
        .await
        .unwrap();
    let req = only(&seen);
    assert_common(
        &req,
        "POST",
        "/api/audio_fromurl",
        Some("application/json"),
        true,
    );
    let p = parts(&req).await;
    let names: Vec<&str> = p.iter().map(|p| p.0.as_str()).collect();
    assert_eq!(names, ["file_url", "ref_id", "webhook_url"]);
    assert_eq!(
        text(&p, "file_url").as_deref(),
        Some("https://example.com/s.wav")
    );
    assert!(p.iter().all(|p| p.1.is_none()), "no file parts");
}

#[tokio::test]
async fn get_audio_classification() {
    let server = MockServer::start_async().await;
    let body = format!(
        r#"{{"identifier":"{ID}","status":"done","verdict":{{"heuristic":"Average","confidence":0.8,"classification":"human"}},"details":{{"clips":[{{"index":0,"start":0,"end":4.5}}]}}}}"#
    );
    let seen = record(&server, 200, "application/json", body.as_bytes());
    let out = client(&server).get_audio_classification(ID).await.unwrap();
    assert_eq!(out.details.as_ref().unwrap().clips[0].end, 4.5);
    assert_common(
        &only(&seen),
        "GET",
        &format!("/api/classification_audio/{ID}"),
        Some("application/json"),
        true,
    );
}

#[tokio::test]
async fn audio_and_video_lists_send_repeated_identifiers_brackets() {
    for video in [false, true] {
        let server = MockServer::start_async().await;
        let seen = record(
            &server,
            200,
            "application/json",
            br#"[{"hash":"a"},{"hash":"b"}]"#,
        );
        let c = client(&server);
        let ids = vec!["id-1".to_string(), "id 2".to_string()];
        let n = if video {
            c.list_video_classifications(&ids).await.unwrap().len()
        } else {
            c.list_audio_classifications(&ids).await.unwrap().len()
        };
        assert_eq!(n, 2);
        let req = only(&seen);
        let path = if video {
            "/api/classifications_video"
        } else {
            "/api/classifications_audio"
        };
        assert_common(&req, "GET", path, Some("application/json"), true);
        assert_eq!(
            req.uri().query().unwrap(),
            "identifiers%5B%5D=id-1&identifiers%5B%5D=id+2"
        );
    }
}

#[tokio::test]
async fn overrides_post_the_classification_as_json_to_the_hash() {
    let hash = "862bb7de43b131a38b64753269d643443a21069a04ab66a56c9818956f590cb9";
    for (kind, path) in [
        ("image", "/api/classification/"),
        ("video", "/api/classification_video/"),
        ("audio", "/api/classification_audio/"),
    ] {
        let server = MockServer::start_async().await;
        let answer =
            format!(r#"{{"classification":"artificial","type":"{kind}","hash":"{hash}"}}"#);
        let seen = record(&server, 200, "application/json", answer.as_bytes());
        let c = client(&server);
        let body = types::OverrideRequest {
            classification: types::Classification::Artificial,
        };
        let out = match kind {
            "image" => c.override_image_classification(hash, &body).await,
            "video" => c.override_video_classification(hash, &body).await,
            _ => c.override_audio_classification(hash, &body).await,
        }
        .unwrap()
        .into_inner()
        .expect("a 200 carries the override");
        assert_eq!(out.hash, hash);
        assert_eq!(out.type_, kind.parse::<identifai::Kind>().unwrap());
        assert_eq!(out.classification, types::Classification::Artificial);
        let req = only(&seen);
        assert_common(
            &req,
            "POST",
            &format!("{path}{hash}/override"),
            Some("application/json"),
            true,
        );
        assert_eq!(
            header_values(&req, "content-type"),
            vec!["application/json".to_string()]
        );
        let sent: serde_json::Value = serde_json::from_slice(&req.body_vec()).unwrap();
        assert_eq!(sent, serde_json::json!({"classification": "artificial"}));
    }
}

#[tokio::test]
async fn partner_user_form_asks_for_json() {
    let server = MockServer::start_async().await;
    let seen = record(
        &server,
        200,
        "application/json",
        br#"{"data":{"id":233,"name":"U","partner":null}}"#,
    );
    let form = forms::SavePartnerUserForm::new(
        Some(233),
        "User Name".into(),
        "user@example.com".into(),
        "Average".into(),
        2,
    )
    .readonly(false);
    let out = client(&server).save_partner_user(form).await.unwrap();
    // A JSON-only answer decodes into its schema's type.
    assert_eq!(out.data.id, 233);
    assert!(out.data.partner.is_none());
    let req = only(&seen);
    // The answer is JSON only: exactly one Accept, application/json.
    assert_common(
        &req,
        "POST",
        "/api/partner/user",
        Some("application/json"),
        true,
    );
    let p = parts(&req).await;
    let names: Vec<&str> = p.iter().map(|p| p.0.as_str()).collect();
    assert_eq!(
        names,
        ["id", "name", "email", "heuristic", "pricing_id", "readonly"]
    );
    assert_eq!(text(&p, "id").as_deref(), Some("233"));
    assert_eq!(text(&p, "pricing_id").as_deref(), Some("2"));
    assert_eq!(text(&p, "email").as_deref(), Some("user@example.com"));
}

#[tokio::test]
async fn partner_users_filters_and_pricings() {
    let server = MockServer::start_async().await;
    let page = br#"{"current_page":2,"data":[{"id":1,"partner":{"id":9}}],"from":101,"last_page":3,"next_page_url":null,"per_page":100,"to":101,"total":201}"#;
    let seen = record(&server, 200, "application/json", page);
    let c = client(&server);
    let out = c
        .list_partner_users(
            Some(&types::SortDirection::Desc),
            Some("created_at"),
            Some(2),
            Some(100),
            Some(5),
            Some("ann b"),
        )
        .await
        .unwrap();
    assert_eq!(out.total, 201);
    assert_eq!(out.data[0].partner.as_ref().unwrap().id, 9);
    let req = only(&seen);
    assert_common(
        &req,
        "GET",
        "/api/partner/users",
        Some("application/json"),
        true,
    );
    assert_eq!(
        req.uri().query().unwrap(),
        "direction=desc&order=created_at&page=2&per_page=100&pricing_id=5&search=ann+b"
    );

    let server = MockServer::start_async().await;
    let seen = record(&server, 200, "application/json", br#"{"data":[]}"#);
    let c = client(&server);
    // No filter: no query string.
    let err = c
        .list_partner_users(None, None, None, None, None, None)
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("current_page"),
        "a page without its required fields is an error: {err}"
    );
    assert_eq!(only(&seen).uri().query(), None);

    let server = MockServer::start_async().await;
    let seen = record(&server, 200, "application/json", b"[]");
    let pricings = client(&server).get_partner_pricings().await.unwrap();
    assert!(pricings.plans().is_empty(), "[] is an empty list of plans");
    assert_common(
        &only(&seen),
        "GET",
        "/api/partner/pricings",
        Some("application/json"),
        true,
    );
}

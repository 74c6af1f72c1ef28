//! Submissions give an `Identifier` whatever the server answers: JSON or
//! bare text, by content type, with a fallback when the content type lies;
//! and every request carries exactly one `Accept`.

use crate::support::*;
use httpmock::prelude::*;
use identifai::api::forms::{Frames, ImageOptions, VideoOptions};
use identifai::api::types::ResponseFormat;
use identifai::mock::Route;
use identifai::{Identifier, Source};

#[tokio::test]
async fn text_and_json_answers_give_the_same_identifier() {
    let server = mock();
    let client = client(&server);
    let json = client
        .classify_image(Source::bytes("a.png", png(1)))
        .response_format(ResponseFormat::ApplicationJson)
        .send()
        .await
        .unwrap();
    let text = client
        .classify_image(Source::bytes("a.png", png(1)))
        .response_format(ResponseFormat::TextPlain)
        .send()
        .await
        .unwrap();
    assert_eq!(
        json, text,
        "same media, same options: the service's cache gives one id"
    );
    let posts: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST")
        .collect();
    assert_eq!(posts.len(), 2);
    let content_types: Vec<_> = posts.iter().map(|r| r.status).collect();
    assert_eq!(content_types, [200, 200]);
    for (req, want) in posts.iter().zip(["application/json", "text/plain"]) {
        let accepts: Vec<_> = req.headers.iter().filter(|(k, _)| k == "accept").collect();
        assert_eq!(accepts.len(), 1, "exactly one Accept: {accepts:?}");
        assert_eq!(accepts[0].1, want);
    }
}

#[tokio::test]
async fn every_request_of_a_classification_has_one_accept() {
    let server = mock();
    let client = client(&server);
    let id = client
        .classify_video(Source::bytes("v.mp4", mp4(1)))
        .options(VideoOptions::new().frames(Frames::V5).with_audio(true))
        .send()
        .await
        .unwrap();
    client.wait_video(&id).await.unwrap();
    client.heatmap(&id).await.ok();
    for r in server.requests() {
        let n = r.headers.iter().filter(|(k, _)| k == "accept").count();
        assert_eq!(n, 1, "{} {} sent {n} Accept headers", r.method, r.path);
    }
}

/// A server whose content types lie: JSON labelled text, text labelled JSON.
#[tokio::test]
async fn a_lying_content_type_falls_back() {
    let id = "8d64370a87b820cc1cf620338f5c898bab37439c9a405f32d9eaffc50c4f27b0";
    for (ct, body) in [
        ("text/plain", format!(r#"{{"identifier":"{id}"}}"#)),
        ("application/json", id.to_string()),
        ("application/json", format!("\"{id}\"")),
        ("text/html; charset=utf-8", format!("{id}\n")),
        (
            "application/octet-stream",
            format!(r#"{{"identifier": "{id}", "extra": 1}}"#),
        ),
    ] {
        let server = MockServer::start_async().await;
        server.mock(|when, then| {
            when.method(POST).path("/api/image_fromurl");
            then.status(200)
                .header("content-type", ct)
                .body(body.clone());
        });
        let client = identifai::Client::builder()
            .api_key("k")
            .base_url(server.base_url())
            .build()
            .unwrap();
        let got = client
            .classify_image(Source::url("https://example.com/a.jpg"))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{ct} {body:?}: {e}"));
        assert_eq!(got, id.parse::<Identifier>().unwrap());
    }
}

#[tokio::test]
async fn an_answer_with_no_identifier_is_a_decode_error_with_context() {
    let server = MockServer::start_async().await;
    server.mock(|when, then| {
        when.method(POST);
        then.status(200)
            .header("content-type", "text/html")
            .body("<html><body>Bad gateway</body></html>");
    });
    let client = identifai::Client::builder()
        .api_key("k")
        .base_url(server.base_url())
        .build()
        .unwrap();
    let err = client
        .classify_image(Source::url("https://example.com/a.jpg"))
        .send()
        .await
        .unwrap_err();
    let identifai::Error::Decode {
        status,
        content_type,
        snippet,
        ..
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!(*status, Some(200));
    assert_eq!(content_type.as_deref(), Some("text/html"));
    assert!(snippet.contains("Bad gateway"), "{snippet}");
    assert!(err.to_string().contains("text/html"), "{err}");
    // A 200: the server may have taken it, and the error says so.
    assert!(err.to_string().contains("may have been taken"), "{err}");
}

#[tokio::test]
async fn options_reach_the_wire_and_urls_use_the_url_endpoints() {
    let server = mock();
    let client = client(&server);
    client
        .classify_image(Source::url("https://example.com/pictures/cat.jpg"))
        .options(ImageOptions::new().with_heatmap(true).ref_id("r-1"))
        .send()
        .await
        .unwrap();
    client
        .classify_video(Source::url("https://example.com/clip.mp4"))
        .send()
        .await
        .unwrap();
    let stats = server.stats();
    assert_eq!(stats.route(Route::ClassifyImageFromUrl), 1);
    assert_eq!(stats.route(Route::ClassifyVideoFromUrl), 1);
    assert_eq!(
        stats.bytes_received, 0,
        "nothing uploaded for URL submissions"
    );
}

#[tokio::test]
async fn progress_reports_every_byte_of_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.png");
    let mut bytes = png(9);
    bytes.resize(1_200_000, 42);
    std::fs::write(&path, &bytes).unwrap();
    let server = mock();
    let client = client(&server);
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = seen.clone();
    client
        .classify_image(Source::path(&path))
        .on_progress(move |p| sink.lock().unwrap().push(p))
        .send()
        .await
        .unwrap();
    let seen = seen.lock().unwrap();
    assert!(seen.len() >= 4, "streamed in chunks: {}", seen.len());
    assert!(seen.windows(2).all(|w| w[0].sent < w[1].sent));
    let last = seen.last().unwrap();
    assert_eq!((last.sent, last.total), (1_200_000, Some(1_200_000)));
    assert_eq!(server.stats().bytes_received, 1_200_000);
}

#[tokio::test]
async fn streams_and_readers_are_sent_whole() {
    let server = mock();
    let client = client(&server);
    let mut body = mp4(77);
    body.resize(200_000, 9);
    let chunks: Vec<Result<bytes::Bytes, std::io::Error>> = body
        .chunks(7_000)
        .map(|c| Ok(bytes::Bytes::copy_from_slice(c)))
        .collect();
    client
        .classify_video(Source::stream("live.mp4", futures::stream::iter(chunks)))
        .send()
        .await
        .unwrap();
    client
        .classify_video(
            Source::reader("file.mp4", std::io::Cursor::new(body.clone()))
                .with_len(body.len() as u64),
        )
        .send()
        .await
        .unwrap();
    let stats = server.stats();
    assert_eq!(stats.bytes_received, 400_000);
    assert_eq!(stats.submissions, 2);
}

#[tokio::test]
async fn audio_from_every_source_kind_is_checked_sent_and_classified() {
    use futures::StreamExt;
    let server = mock();
    let client = client(&server);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("speech.wav");
    std::fs::write(&path, wav(1)).unwrap();
    let chunks: Vec<Result<bytes::Bytes, std::io::Error>> = wav(4)
        .chunks(300)
        .map(|c| Ok(bytes::Bytes::copy_from_slice(c)))
        .collect();
    let sources = [
        ("path", Source::path(&path)),
        ("bytes", Source::bytes("talk.mp3", mp3(2))),
        (
            "reader",
            Source::reader("r.wav", std::io::Cursor::new(wav(3))),
        ),
        (
            "stream",
            Source::stream("s.wav", futures::stream::iter(chunks).boxed()),
        ),
        (
            "url",
            Source::url("https://media.example.com/interview.m4a"),
        ),
    ];
    let mut ids = Vec::new();
    for (how, source) in sources {
        let result = client
            .classify_audio(source)
            .options(identifai::api::forms::AudioOptions::new().ref_id(how))
            .wait()
            .await
            .unwrap_or_else(|e| panic!("{how}: {e}"));
        assert_eq!(
            result.status,
            Some(identifai::api::types::Status::Done),
            "{how}"
        );
        assert_eq!(result.ref_id.as_deref(), Some(how));
        assert!(result.verdict.is_some(), "{how}");
        // Per-clip details, in whichever of the pages' two forms the answer
        // came (the single result's `chunk_details`, the list's `details.clips`).
        let clips = result.details.as_ref().map_or(0, |d| d.clips.len());
        assert!(
            !result.chunk_details.is_empty() || clips > 0,
            "{how}: per-clip details"
        );
        ids.push(result.identifier.clone().unwrap());
    }
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 5, "five distinct classifications");
    let stats = server.stats();
    assert_eq!(stats.route(Route::ClassifyAudio), 4);
    assert_eq!(stats.route(Route::ClassifyAudioFromUrl), 1);
    assert_eq!(
        stats.status(400),
        0,
        "every part's type was one the spec lists"
    );

    // Checked before sending: an image is not an audio; the limit is the spec's.
    server.reset_stats();
    let err = client
        .classify_audio(Source::bytes("x.png", png(9)))
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            identifai::Error::InvalidInput(identifai::InputError::UnsupportedType { .. })
        ),
        "{err:?}"
    );
    assert_eq!(
        client_limits_audio(),
        50 * 1024 * 1024,
        "the spec's 50 MB for audio"
    );
    assert_eq!(server.stats().requests, 0, "nothing sent");
}

fn client_limits_audio() -> u64 {
    identifai::config::UploadLimits::default().max_bytes(identifai::Kind::Audio)
}

#[tokio::test]
async fn a_receipt_hashes_exactly_what_was_sent() {
    let server = mock();
    let client = client(&server);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.png");
    std::fs::write(&path, png(8801)).unwrap();
    let receipt = client
        .classify_image(Source::path(&path))
        .send_receipt()
        .await
        .unwrap();
    let sent = receipt.sent.expect("a file's receipt says what was sent");
    assert_eq!(sent.bytes, png(8801).len() as u64);
    // The server's `hash` is the SHA-256 of the bytes it received.
    let result = client.wait_image(&receipt.identifier).await.unwrap();
    assert_eq!(result.hash.as_deref(), Some(sent.sha256_hex().as_str()));
    // A URL sends no file: nothing to hash.
    let by_url = client
        .classify_image(Source::url("https://example.com/a.jpg"))
        .send_receipt()
        .await
        .unwrap();
    assert_eq!(by_url.sent, None);
}

#[tokio::test]
async fn on_accepted_hears_of_the_identifier_before_the_wait() {
    use std::sync::{Arc, Mutex};
    let server = mock();
    let client = client(&server);
    let heard: Arc<Mutex<Vec<(Identifier, u64)>>> = Arc::default();
    let log = heard.clone();
    let result = client
        .classify_image(Source::bytes("a.png", png(8802)))
        .on_accepted(move |receipt| {
            let sent = receipt.sent.map_or(0, |s| s.bytes);
            log.lock().unwrap().push((receipt.identifier.clone(), sent));
            Ok(())
        })
        .wait()
        .await
        .unwrap();
    let heard = heard.lock().unwrap().clone();
    assert_eq!(heard.len(), 1);
    assert_eq!(Some(heard[0].0.as_str()), result.identifier.as_deref());
    assert_eq!(heard[0].1, png(8802).len() as u64);

    // A journal that cannot record: the call ends there, nothing is waited for.
    server.reset_stats();
    let err = client
        .classify_image(Source::bytes("b.png", png(8803)))
        .on_accepted(|_| Err(std::io::Error::other("disk full")))
        .wait()
        .await
        .unwrap_err();
    assert!(err.to_string().contains("disk full"), "{err}");
    assert_eq!(server.stats().gets, 0);
}

/// `save_heatmap` writes the PNG the service keeps, over an older file,
/// whole, leaving no temporary file beside it.
#[tokio::test]
async fn a_saved_heatmap_is_the_served_png_written_whole() {
    let server = mock();
    let client = client(&server);
    let id = client
        .classify_image(Source::bytes("a.png", png(1)))
        .options(ImageOptions::new().with_heatmap(true))
        .send()
        .await
        .unwrap();
    client.wait_image(&id).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.heatmap.png");
    std::fs::write(&path, b"an older file").unwrap();
    assert!(client.save_heatmap(&id, &path).await.unwrap());
    let served = client.heatmap(&id).await.unwrap().expect("a heatmap");
    assert_eq!(std::fs::read(&path).unwrap(), served.to_vec());
    assert!(served.starts_with(b"\x89PNG"));
    let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().flatten().collect();
    assert_eq!(names.len(), 1, "{names:?}");
}

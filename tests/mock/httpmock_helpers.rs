//! The typed httpmock helpers generated from the spec (feature `mock`), one
//! per operation: the real client is sent against each, and what the helper
//! matches is checked both ways (a wrong path, method, field value, missing
//! or undeclared field, or file part of a content type the spec does not
//! allow makes it not match: httpmock then answers 404).

use httpmock::MockServer;
use identifai::api::forms::{
    ClassifyAudioFromUrlForm, ClassifyImageFromUrlForm, ClassifyVideoFromUrlForm, ImageOptions,
    SavePartnerUserForm, VideoOptions,
};
use identifai::api::types::{
    AudioResponse, Classification, ErrorBody, HealthResponse, HealthStatus, IdentifierResponse,
    ImageResponse, OverrideRequest, OverrideResponse, PartnerPricing, PartnerPricings,
    PartnerUserPage, PartnerUserResponse, ResponseFormat, Status, VideoResponse,
};
use identifai::mock::httpmock::{MockServerExt, OPERATION_IDS};
use identifai::{config::RetryConfig, Client, Error, Identifier, Kind, Source};

use crate::support::{self, ID};

const PNG: &[u8] =
    b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";

fn client(server: &MockServer) -> Client {
    Client::builder()
        .api_key("k")
        .base_url(server.base_url())
        .rate_limits(None)
        // One attempt; a Retry-After longer than 2 s ends a 429's retries.
        .retry(RetryConfig::disabled().with_max_elapsed(std::time::Duration::from_secs(2)))
        .build()
        .unwrap()
}

fn id() -> Identifier {
    ID.parse().unwrap()
}

fn identifier() -> IdentifierResponse {
    IdentifierResponse {
        identifier: ID.into(),
    }
}

/// An error body as a user scripts one: `ErrorBody` has a `Default`.
fn error(text: &str) -> ErrorBody {
    ErrorBody {
        error: Some(text.into()),
        ..Default::default()
    }
}

/// A form the client would not send, straight through reqwest.
async fn post_form(server: &MockServer, path: &str, form: reqwest::multipart::Form) -> u16 {
    reqwest::Client::new()
        .post(server.url(path))
        .multipart(form)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

fn png_part() -> reqwest::multipart::Part {
    reqwest::multipart::Part::bytes(PNG)
        .file_name("a.png")
        .mime_str("image/png")
        .unwrap()
}

#[test]
fn every_operation_of_the_spec_has_a_helper() {
    let mut ids: Vec<String> = Vec::new();
    for (_, item) in support::spec::doc()["paths"].as_object().unwrap() {
        for (_, op) in item.as_object().unwrap() {
            if let Some(id) = op.get("operationId").and_then(|v| v.as_str()) {
                ids.push(id.to_string());
            }
        }
    }
    ids.sort();
    assert_eq!(OPERATION_IDS, ids);
}

#[tokio::test]
async fn typed_helpers_script_the_json_operations() {
    let server = MockServer::start_async().await;
    let health = server.health(|_, then| {
        then.ok(&HealthResponse {
            status: HealthStatus::Degraded,
        });
    });
    let one = server.get_image_classification(|when, then| {
        let result = ImageResponse {
            identifier: Some("abc".into()),
            status: Some(Status::New),
            ..Default::default()
        };
        when.identifier("abc");
        then.ok(&result);
    });
    let ids = vec!["a1".to_string(), "b2".to_string()];
    let list = server.list_image_classifications(|when, then| {
        when.identifiers(&ids);
        then.ok(&vec![ImageResponse {
            identifier: Some("a1".into()),
            ..Default::default()
        }]);
    });
    let c = client(&server);
    assert_eq!(c.health().await.unwrap(), HealthStatus::Degraded);
    let r = c.image_result(&"abc".parse().unwrap()).await.unwrap();
    assert_eq!(r.status, Some(Status::New));
    let wanted: Vec<Identifier> = ids.iter().map(|i| i.parse().unwrap()).collect();
    let rs = c.image_results(&wanted).await.unwrap();
    assert_eq!(rs.len(), 1);
    health.assert();
    one.assert();
    list.assert();
}

#[tokio::test]
async fn typed_helpers_script_the_new_json_operations() {
    let server = MockServer::start_async().await;
    let hash = "1122bc922b7381529013a2198b9143c0b6a52669fd511cfb030418209f1751a6";
    let body = OverrideRequest {
        classification: Classification::Human,
    };
    let over = server.override_video_classification(|when, then| {
        when.hash(hash).body(&body);
        then.ok(&OverrideResponse {
            classification: Classification::Human,
            hash: hash.into(),
            type_: Kind::Video,
        });
    });
    let ids = vec!["v1".to_string(), "v2".to_string()];
    let list = server.list_video_classifications(|when, then| {
        when.identifiers(&ids);
        then.ok(&vec![VideoResponse {
            identifier: Some("v1".into()),
            ..Default::default()
        }]);
    });
    let pricings = server.get_partner_pricings(|_, then| {
        let plan: PartnerPricing = serde_json::from_value(serde_json::json!({"id": 1})).unwrap();
        then.ok(&PartnerPricings::List(vec![plan]));
    });
    let api = client(&server);
    let api = api.api();
    let out = api
        .override_video_classification(hash, &body)
        .await
        .unwrap()
        .into_inner()
        .unwrap();
    assert_eq!(out.type_, Kind::Video);
    // A different body does not match the scripted one.
    let other = OverrideRequest {
        classification: Classification::Artificial,
    };
    assert!(api
        .override_video_classification(hash, &other)
        .await
        .is_err());
    let vs = api.list_video_classifications(&ids).await.unwrap();
    assert_eq!(vs[0].identifier.as_deref(), Some("v1"));
    let p = api.get_partner_pricings().await.unwrap();
    assert_eq!(p.plans()[0].id, 1);
    over.assert_calls(1);
    list.assert();
    pricings.assert();
}

#[tokio::test]
async fn an_image_upload_matches_its_form_field_by_field() {
    let server = MockServer::start_async().await;
    let upload = server.classify_image(|when, then| {
        when.image(PNG)
            .image_content_type("image/png")
            .image_file_name("cat.png")
            .accept(ResponseFormat::ApplicationJson)
            .with_heatmap(true)
            .ref_id("r-1")
            .with_morphing(None);
        then.ok(&identifier());
    });
    let c = client(&server);
    let sent = c
        .classify_image(Source::bytes("cat.png", PNG))
        .options(ImageOptions::new().with_heatmap(true).ref_id("r-1"))
        .send()
        .await
        .unwrap();
    assert_eq!(sent.as_str(), ID);
    upload.assert_calls(1);

    // Any field off makes it not match: another ref_id, an option the
    // helper says is not sent, other bytes.
    for options in [
        ImageOptions::new().with_heatmap(true).ref_id("r-2"),
        ImageOptions::new()
            .with_heatmap(true)
            .ref_id("r-1")
            .with_morphing(false),
        ImageOptions::new().ref_id("r-1"),
    ] {
        let err = c
            .classify_image(Source::bytes("cat.png", PNG))
            .options(options.clone())
            .send()
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::NotFound { .. }),
            "{options:?}: {err:?}"
        );
    }
    let other_bytes = [PNG, b"more"].concat();
    let err = c
        .classify_image(Source::bytes("cat.png", other_bytes))
        .options(ImageOptions::new().with_heatmap(true).ref_id("r-1"))
        .send()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err:?}");
    upload.assert_calls(1);
}

#[tokio::test]
async fn a_form_missing_a_required_field_or_naming_an_unknown_one_does_not_match() {
    let server = MockServer::start_async().await;
    // `new` alone: method, path and the spec's form rules.
    let upload = server.classify_image(|_, then| {
        then.ok(&identifier());
    });
    let ok = reqwest::multipart::Form::new()
        .part("image", png_part())
        .text("ref_id", "x");
    assert_eq!(post_form(&server, "/api/classification", ok).await, 200);
    // The required file part missing.
    let missing = reqwest::multipart::Form::new().text("ref_id", "x");
    assert_eq!(
        post_form(&server, "/api/classification", missing).await,
        404
    );
    // A field the spec does not name.
    let unknown = reqwest::multipart::Form::new()
        .part("image", png_part())
        .text("with_morphin", "true");
    assert_eq!(
        post_form(&server, "/api/classification", unknown).await,
        404
    );
    // A file part of a content type the spec's encoding does not allow.
    let pdf = reqwest::multipart::Part::bytes(&b"%PDF-1.4"[..])
        .file_name("a.pdf")
        .mime_str("application/pdf")
        .unwrap();
    let wrong_type = reqwest::multipart::Form::new().part("image", pdf);
    assert_eq!(
        post_form(&server, "/api/classification", wrong_type).await,
        404
    );
    // Not a form at all.
    let json = reqwest::Client::new()
        .post(server.url("/api/classification"))
        .json(&serde_json::json!({"image": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(json.status(), 404);
    // The right form on another path, or with another method.
    let form = || reqwest::multipart::Form::new().part("image", png_part());
    assert_eq!(
        post_form(&server, "/api/classification_video", form()).await,
        404
    );
    assert_eq!(
        post_form(&server, "/api/classification/x", form()).await,
        404
    );
    let put = reqwest::Client::new()
        .put(server.url("/api/classification"))
        .multipart(form())
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 404);
    upload.assert_calls(1);
}

#[tokio::test]
async fn video_and_audio_uploads() {
    let server = MockServer::start_async().await;
    let mp4 = b"\0\0\0\x18ftypmp42\0\0\0\0mp42isom".to_vec();
    let wav = b"RIFF\x24\0\0\0WAVEfmt \x10\0\0\0\x01\0\x01\0\x44\xac\0\0\x88\x58\x01\0\x02\0\x10\0data\0\0\0\0".to_vec();
    let video = server.classify_video(|when, then| {
        when.video(&mp4)
            .video_content_type("video/mp4")
            .frames(identifai::api::forms::Frames::V10)
            .with_audio(true);
        then.ok(&identifier());
    });
    let audio = server.classify_audio(|when, then| {
        when.audio(&wav).audio_content_type("audio/wav");
        then.ok(&identifier());
    });
    let c = client(&server);
    let options = VideoOptions::new()
        .frames(identifai::api::forms::Frames::V10)
        .with_audio(true);
    let sent = c
        .classify_video(Source::bytes("clip.mp4", mp4.clone()).content_type("video/mp4"))
        .options(options)
        .send()
        .await
        .unwrap();
    assert_eq!(sent, id());
    let sent = c
        .classify_audio(Source::bytes("speech.wav", wav.clone()).content_type("audio/wav"))
        .send()
        .await
        .unwrap();
    assert_eq!(sent, id());
    // Without the options the video helper names, no match.
    let err = c
        .classify_video(Source::bytes("clip.mp4", mp4).content_type("video/mp4"))
        .send()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err:?}");
    video.assert_calls(1);
    audio.assert_calls(1);
}

#[tokio::test]
async fn submissions_by_url_answer_json_or_text() {
    let server = MockServer::start_async().await;
    let url = "https://example.com/photo.jpg";
    let image = server.classify_image_from_url(|when, then| {
        when.file_url(url)
            .accept(ResponseFormat::TextPlain)
            .no_cache(true);
        then.ok_text_plain(ID);
    });
    let video = server.classify_video_from_url(|when, then| {
        when.file_url("https://example.com/clip.mp4");
        then.ok(&identifier());
    });
    let audio = server.classify_audio_from_url(|when, then| {
        when.file_url("https://example.com/speech.wav")
            .accept(ResponseFormat::ApplicationJson);
        then.ok(&identifier());
    });
    let c = client(&server);
    let sent = c
        .classify_image(Source::url(url))
        .response_format(ResponseFormat::TextPlain)
        .options(ImageOptions::new().no_cache(true))
        .send()
        .await
        .unwrap();
    assert_eq!(sent, id());
    assert_eq!(
        c.classify_video(Source::url("https://example.com/clip.mp4"))
            .send()
            .await
            .unwrap(),
        id()
    );
    assert_eq!(
        c.classify_audio(Source::url("https://example.com/speech.wav"))
            .send()
            .await
            .unwrap(),
        id()
    );
    // Another URL, or the JSON Accept where the helper wants text: no match.
    let err = c
        .classify_image(Source::url("https://example.com/other.jpg"))
        .response_format(ResponseFormat::TextPlain)
        .options(ImageOptions::new().no_cache(true))
        .send()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err:?}");
    let err = c
        .classify_image(Source::url(url))
        .options(ImageOptions::new().no_cache(true))
        .send()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err:?}");
    // The raw client with the generated form, and the upload path is not
    // the by-URL one.
    let api = c.api();
    assert!(api
        .classify_image_from_url(
            None,
            ClassifyImageFromUrlForm::new(url.into()).no_cache(false)
        )
        .await
        .is_err());
    let raw = api
        .classify_video_from_url(
            Some(ResponseFormat::ApplicationJson),
            ClassifyVideoFromUrlForm::new("https://example.com/clip.mp4".into()),
        )
        .await
        .unwrap();
    assert_eq!(raw.status(), 200);
    let raw = api
        .classify_audio_from_url(
            Some(ResponseFormat::ApplicationJson),
            ClassifyAudioFromUrlForm::new("https://example.com/speech.wav".into()),
        )
        .await
        .unwrap();
    assert_eq!(raw.status(), 200);
    image.assert_calls(1);
    video.assert_calls(2);
    audio.assert_calls(2);
}

#[tokio::test]
async fn every_documented_error_and_the_undocumented_503() {
    let server = MockServer::start_async().await;
    let c = client(&server);
    let bad = server.classify_image_from_url(|when, then| {
        when.file_url("https://example.com/400");
        then.bad_request(&error("The uploaded file format is not supported."));
    });
    let unauthorized = server.classify_video_from_url(|when, then| {
        when.file_url("https://example.com/401");
        then.unauthorized(&error("Unauthorized"));
    });
    let forbidden = server.classify_audio_from_url(|when, then| {
        when.file_url("https://example.com/403");
        then.forbidden(&error("Forbidden"));
    });
    let limited = server.classify_image_from_url(|when, then| {
        when.file_url("https://example.com/429");
        then.too_many_requests(&ErrorBody {
            message: Some("Too Many Attempts.".into()),
            ..Default::default()
        })
        .retry_after(7);
    });
    let down = server.classify_image_from_url(|when, then| {
        when.file_url("https://example.com/503");
        then.service_unavailable(Some(30));
    });
    let down_get = server.get_video_classification(|when, then| {
        when.identifier(ID);
        then.service_unavailable(None);
    });
    let err = c
        .classify_image(Source::url("https://example.com/400"))
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Validation { message: Some(m), .. } if m.contains("not supported")),
        "{err:?}"
    );
    let err = c
        .classify_video(Source::url("https://example.com/401"))
        .send()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Unauthorized { .. }), "{err:?}");
    let err = c
        .classify_audio(Source::url("https://example.com/403"))
        .send()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Forbidden { .. }), "{err:?}");
    let err = c
        .classify_image(Source::url("https://example.com/503"))
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Server { status: 503, snippet: Some(s) } if s.contains("Service Unavailable")),
        "{err:?}"
    );
    let err = c.video_result(&id()).await.unwrap_err();
    assert!(matches!(err, Error::Server { status: 503, .. }), "{err:?}");
    // Last: a 429 holds the POSTs of the client for its Retry-After.
    let err = c
        .classify_image(Source::url("https://example.com/429"))
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::RateLimited { retry_after: Some(d), .. } if d.as_secs() == 7),
        "{err:?}"
    );
    for m in [&bad, &unauthorized, &forbidden, &limited, &down, &down_get] {
        m.assert_calls(1);
    }
}

#[tokio::test]
async fn heatmaps_png_or_none() {
    let server = MockServer::start_async().await;
    let other = "0000000000000000000000000000000000000000000000000000000000000000";
    let png = server.get_image_heatmap(|when, then| {
        when.identifier(ID);
        then.ok(PNG);
    });
    let none = server.get_image_heatmap(|when, then| {
        when.identifier(other);
        then.no_content();
    });
    let alias = server.get_image_heatmap_alias(|when, then| {
        when.identifier(ID);
        then.ok(PNG);
    });
    let c = client(&server);
    assert_eq!(c.heatmap(&id()).await.unwrap().as_deref(), Some(PNG));
    assert_eq!(c.heatmap(&other.parse().unwrap()).await.unwrap(), None);
    let raw = c.api().get_image_heatmap_alias(ID).await.unwrap();
    assert_eq!(raw.headers()["content-type"].to_str().unwrap(), "image/png");
    // The alias helper does not answer the main path's other identifiers,
    // and the main one not the alias path.
    assert!(c.api().get_image_heatmap_alias(other).await.is_err());
    png.assert_calls(1);
    none.assert_calls(1);
    alias.assert_calls(1);
    // A GET helper does not match a POST.
    let post = reqwest::Client::new()
        .post(server.url(format!("/api/classification/heatmap/{ID}")))
        .send()
        .await
        .unwrap();
    assert_eq!(post.status(), 404);
    png.assert_calls(1);
}

#[tokio::test]
async fn results_and_lists_of_every_kind_and_alias() {
    let server = MockServer::start_async().await;
    let done = |_: ()| Some(Status::Done);
    let video = server.get_video_classification(|when, then| {
        when.identifier(ID);
        then.ok(&VideoResponse {
            identifier: Some(ID.into()),
            status: done(()),
            ..Default::default()
        });
    });
    let audio = server.get_audio_classification(|when, then| {
        when.identifier(ID);
        then.ok(&AudioResponse {
            identifier: Some(ID.into()),
            status: done(()),
            ..Default::default()
        });
    });
    let ids = vec![ID.to_string()];
    let audios = server.list_audio_classifications(|when, then| {
        when.identifiers(&ids);
        then.ok(&vec![AudioResponse {
            identifier: Some(ID.into()),
            ..Default::default()
        }]);
    });
    let image_alias = server.get_image_classification_alias(|when, then| {
        when.identifier(ID);
        then.ok(&ImageResponse {
            identifier: Some(ID.into()),
            ..Default::default()
        });
    });
    let list_alias = server.list_image_classifications_alias(|when, then| {
        when.identifiers(&ids);
        then.ok(&vec![]);
    });
    let c = client(&server);
    assert_eq!(
        c.video_result(&id()).await.unwrap().status,
        Some(Status::Done)
    );
    assert_eq!(
        c.audio_result(&id()).await.unwrap().status,
        Some(Status::Done)
    );
    assert_eq!(c.audio_results(&[id()]).await.unwrap().len(), 1);
    let api = c.api();
    assert_eq!(
        api.get_image_classification_alias(ID)
            .await
            .unwrap()
            .identifier
            .as_deref(),
        Some(ID)
    );
    assert!(api
        .list_image_classifications_alias(&ids)
        .await
        .unwrap()
        .is_empty());
    // A result helper for one identifier does not answer another.
    let err = c.video_result(&"abc".parse().unwrap()).await.unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err:?}");
    for m in [&video, &audio, &audios, &image_alias, &list_alias] {
        m.assert_calls(1);
    }
}

#[tokio::test]
async fn overrides_of_images_and_audio() {
    let server = MockServer::start_async().await;
    let hash = "1122bc922b7381529013a2198b9143c0b6a52669fd511cfb030418209f1751a6";
    let image = server.override_image_classification(|when, then| {
        when.hash(hash).body(&OverrideRequest {
            classification: Classification::Artificial,
        });
        then.ok(&OverrideResponse {
            classification: Classification::Artificial,
            hash: hash.into(),
            type_: Kind::Image,
        });
    });
    let audio = server.override_audio_classification(|when, then| {
        when.hash(hash);
        then.bad_request(&error("Unknown hash"));
    });
    let c = client(&server);
    let out = c
        .override_classification(Kind::Image, hash, Classification::Artificial)
        .await
        .unwrap()
        .expect("a 200 carries the override");
    assert_eq!(out.type_, Kind::Image);
    let err = c
        .override_classification(Kind::Audio, hash, Classification::Human)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Validation { .. }), "{err:?}");
    image.assert_calls(1);
    audio.assert_calls(1);
}

#[tokio::test]
async fn partner_users_saved_by_form_and_listed() {
    let server = MockServer::start_async().await;
    let user: PartnerUserResponse = serde_json::from_value(serde_json::json!({
        "data": {"id": 233, "name": "UserName", "email": "UserName@mail.com",
                 "heuristic": "AverageExcludeObsolete", "pricing": {"id": 1, "name": "TestB", "sku": "testB"}}
    }))
    .unwrap();
    let save = server.save_partner_user(|when, then| {
        when.name("UserName")
            .email("UserName@mail.com")
            .heuristic("AverageExcludeObsolete")
            .pricing_id(1)
            .id(None)
            .readonly(false);
        then.ok(&user);
    });
    let page: PartnerUserPage = serde_json::from_value(serde_json::json!({
        "current_page": 2, "total": 1, "data": [user.data.clone()]
    }))
    .unwrap();
    let list = server.list_partner_users(|when, then| {
        when.page(2).search("User");
        then.ok(&page);
    });
    let api = client(&server);
    let api = api.api();
    let form = |id: Option<i64>| {
        SavePartnerUserForm::new(
            id,
            "UserName".into(),
            "UserName@mail.com".into(),
            "AverageExcludeObsolete".into(),
            1,
        )
        .readonly(false)
    };
    let saved = api.save_partner_user(form(None)).await.unwrap();
    assert_eq!(saved.data.id, 233);
    // An update (an `id`) is not the creation (`id` sent empty, null) the
    // helper describes.
    assert!(api.save_partner_user(form(Some(233))).await.is_err());
    let users = api
        .list_partner_users(None, None, Some(2), None, None, Some("User"))
        .await
        .unwrap();
    assert_eq!(users.current_page, 2);
    save.assert_calls(1);
    list.assert_calls(1);
}

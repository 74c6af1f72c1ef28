//! Exactly the published API, over real HTTP on loopback: the pricing
//! plans as a list (and as PHP's object of them), overrides answered 201 or
//! 204, a partner user created with `id` sent as null, an audio upload's
//! `prevent_c2pa_forces` (and its refusal by URL, whose form lacks it), and
//! Laravel's 422 read into `Error::Unprocessable` with every field's
//! messages.

use crate::support::*;
use identifai::api::forms::{AudioOptions, SavePartnerUserForm};
use identifai::api::types::{Classification, PartnerUserResponse};
use identifai::mock::httpmock::{MockServer as HttpMock, MockServerExt};
use identifai::mock::{Fault, MockConfig, Route};
use identifai::{config::RetryConfig, Client, Error, InputError, Kind, Source};
use serde_json::json;

/// A client of an httpmock server: no pacing, no retries.
fn http_client(server: &HttpMock) -> Client {
    Client::builder()
        .api_key("k")
        .base_url(server.base_url())
        .rate_limits(None)
        .retry(RetryConfig::disabled())
        .build()
        .unwrap()
}

#[tokio::test]
async fn pricings_decode_as_a_list_of_plans_and_as_an_object_of_them() {
    let plans = json!([
        {"id": 1, "name": "TestB", "sku": "testB"},
        {"id": 2, "name": "TestAC", "sku": "testAC"}
    ]);
    // PHP writes a list whose keys are not 0..n-1 as an object keyed by them.
    let keyed = json!({
        "10": {"id": 2, "name": "TestAC", "sku": "testAC"},
        "3": {"id": 1, "name": "TestB", "sku": "testB"}
    });
    for body in [plans, keyed] {
        let server = HttpMock::start_async().await;
        server.mock(|when, then| {
            when.method("GET").path("/api/partner/pricings");
            then.status(200)
                .header("content-type", "application/json")
                .body(body.to_string());
        });
        let pricings = http_client(&server)
            .api()
            .get_partner_pricings()
            .await
            .unwrap_or_else(|e| panic!("{body} does not decode: {e}"))
            .into_inner();
        let ids: Vec<i64> = pricings.plans().iter().map(|p| p.id).collect();
        assert_eq!(ids, [1, 2], "{body}");
        let names: Vec<String> = pricings
            .into_plans()
            .into_iter()
            .map(|p| p.name.unwrap())
            .collect();
        assert_eq!(names, ["TestB", "TestAC"], "{body}");
    }
}

#[tokio::test]
async fn overrides_answered_201_or_204_are_accepted() {
    for status in [201, 204] {
        let server = mock_with(MockConfig::default().with_override_status(status));
        let client = client(&server);
        let id = client
            .classify_image(Source::bytes("o.png", png(90 + status as u32)))
            .send()
            .await
            .unwrap();
        let result = client.wait_all([id.clone()]).await.remove(0).1.unwrap();
        let hash = result.hash().unwrap().to_string();
        let answer = client
            .override_classification(Kind::Image, &hash, Classification::Artificial)
            .await
            .unwrap_or_else(|e| panic!("an override answered {status} is an error: {e}"));
        match status {
            201 => {
                let a = answer.expect("a 201 carries the override");
                assert_eq!(a.classification, Classification::Artificial);
                assert_eq!(a.hash, hash);
            }
            _ => assert!(answer.is_none(), "a 204 has no body"),
        }
        let last = server.requests().pop().unwrap();
        assert_eq!(last.route, Some(Route::OverrideClassification));
        assert_eq!(last.status, status);
        // Stored either way: later answers carry it.
        let after = client.result(&id).await.unwrap();
        assert_eq!(
            after.forced_classification(),
            Some(&Classification::Artificial)
        );
    }
}

#[tokio::test]
async fn a_partner_user_is_created_with_id_null() {
    let server = HttpMock::start_async().await;
    let user: PartnerUserResponse = serde_json::from_value(json!({
        "data": {"id": 234, "name": "New", "email": "new@example.com"}
    }))
    .unwrap();
    // The typed helper: `id(None)` is the field sent empty (null).
    let create = server.save_partner_user(|when, then| {
        when.id(None).name("New").email("new@example.com");
        then.ok(&user);
    });
    let form = || {
        SavePartnerUserForm::new(
            None,
            "New".into(),
            "new@example.com".into(),
            "Average".into(),
            1,
        )
    };
    let saved = http_client(&server)
        .api()
        .save_partner_user(form())
        .await
        .unwrap();
    assert_eq!(saved.data.id, 234);
    create.assert_calls(1);

    // And on the wire, read by hand: a part `id` whose value is empty.
    let server = HttpMock::start_async().await;
    let raw = server.mock(|when, then| {
        when.method("POST")
            .path("/api/partner/user")
            .body_includes("Content-Disposition: form-data; name=\"id\"\r\n\r\n\r\n");
        then.status(200)
            .header("content-type", "application/json")
            .body(json!({"data": {"id": 234}}).to_string());
    });
    http_client(&server)
        .api()
        .save_partner_user(form())
        .await
        .unwrap();
    raw.assert_calls(1);
}

#[tokio::test]
async fn an_audio_upload_sends_prevent_c2pa_forces_and_a_url_refuses_it() {
    let server = HttpMock::start_async().await;
    let upload = server.classify_audio(|when, then| {
        when.prevent_c2pa_forces(true).no_cache(true);
        then.ok(&identifai::api::types::IdentifierResponse {
            identifier: ID.into(),
        });
    });
    let by_url = server.classify_audio_from_url(|_, then| {
        then.ok(&identifai::api::types::IdentifierResponse {
            identifier: ID.into(),
        });
    });
    let client = http_client(&server);
    let options = AudioOptions::new().prevent_c2pa_forces(true).no_cache(true);
    let id = client
        .classify_audio(Source::bytes("s.wav", wav(5)))
        .options(options.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(id.as_str(), ID);
    upload.assert_calls(1);
    // The URL form has no such field: refused, nothing sent.
    let err = client
        .classify_audio(Source::url("https://media.example.com/s.wav"))
        .options(options)
        .send()
        .await
        .unwrap_err();
    match &err {
        Error::InvalidInput(InputError::InvalidSetting { setting, .. }) => {
            assert_eq!(*setting, "prevent_c2pa_forces", "{err}");
        }
        other => panic!("expected an input error, got {other:?}"),
    }
    upload.assert_calls(1);
    by_url.assert_calls(0);
}

#[tokio::test]
async fn laravel_422_is_an_unprocessable_error_with_every_fields_messages() {
    let server = mock();
    let body = json!({
        "message": "The webhook url field must be a valid URL. (and 1 more error)",
        "errors": {
            "webhook_url": ["The webhook url field must be a valid URL."],
            "ref_id": ["The ref id field must not be greater than 255 characters.", "The ref id is taken."]
        }
    });
    server.inject(Route::ClassifyImage, Fault::json(422, &body));
    let err = client(&server)
        .classify_image(Source::bytes("v.png", png(422)))
        .send()
        .await
        .unwrap_err();
    let Error::Unprocessable(fields) = &err else {
        panic!("expected Error::Unprocessable, got {err:?}");
    };
    assert_eq!(err.status(), Some(422));
    assert!(!err.is_retryable());
    assert_eq!(
        fields.message.as_deref(),
        Some("The webhook url field must be a valid URL. (and 1 more error)")
    );
    assert_eq!(
        fields.field("webhook_url"),
        ["The webhook url field must be a valid URL."]
    );
    assert_eq!(fields.field("ref_id").len(), 2);
    assert!(fields.field("image").is_empty());
    let text = err.to_string();
    assert!(text.starts_with("invalid input (422): "), "{text}");
    for part in [
        "webhook_url: The webhook url field must be a valid URL.",
        "ref_id: The ref id field must not be greater than 255 characters. The ref id is taken.",
    ] {
        assert!(text.contains(part), "{text}");
    }
}

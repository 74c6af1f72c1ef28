//! The API key stays secret: not sent across origins on redirects, not in
//! any `Debug` or `Display`, not in traces; and not sent in clear text to a
//! non-loopback host.

use std::sync::{Arc, Mutex};

use crate::support::*;
use httpmock::prelude::*;
use httpmock::HttpMockRequest;
use identifai::mock::{Fault, Route};
use identifai::{Client, Error, InputError};

use crate::support::errors::{every_error, KEY};
const ID: &str = "abc123";

fn recorder(server: &MockServer, status: u16, body: &str) -> Arc<Mutex<Vec<HttpMockRequest>>> {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    let body = body.to_string();
    server.mock(move |when, then| {
        when.is_true(move |r: &HttpMockRequest| {
            sink.lock().unwrap().push(r.clone());
            true
        });
        then.status(status)
            .header("content-type", "application/json")
            .body(body);
    });
    seen
}

fn key_of(r: &HttpMockRequest) -> Vec<String> {
    r.headers_vec()
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case("x-api-key"))
        .map(|(_, v)| v.clone())
        .collect()
}

#[tokio::test]
async fn a_cross_origin_redirect_does_not_carry_the_key() {
    // Two loopback servers: the API redirects to another origin.
    let other = MockServer::start_async().await;
    let seen = recorder(&other, 200, r#"{"identifier":"abc123","status":"done"}"#);
    let api = MockServer::start_async().await;
    let target = other.url(format!("/elsewhere/{ID}"));
    api.mock(|when, then| {
        when.method(GET).path(format!("/api/classification/{ID}"));
        then.status(302).header("location", target);
    });
    let client = Client::builder()
        .api_key(KEY)
        .base_url(api.base_url())
        .build()
        .unwrap();
    let result = client.image_result(&ID.parse().unwrap()).await.unwrap();
    assert_eq!(
        result.identifier.as_deref(),
        Some(ID),
        "the redirect was followed"
    );
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 1);
    assert!(
        key_of(&seen[0]).is_empty(),
        "the key went to another origin: {:?}",
        seen[0].headers_vec()
    );
}

#[tokio::test]
async fn a_same_origin_redirect_keeps_the_key() {
    let api = MockServer::start_async().await;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    api.mock(|when, then| {
        when.method(GET)
            .path(format!("/api/classification_image/{ID}"));
        then.status(200)
            .header("content-type", "application/json")
            .body(r#"{"status":"new"}"#);
    });
    api.mock(move |when, then| {
        when.method(GET)
            .path(format!("/api/classification/{ID}"))
            .is_true(move |r: &HttpMockRequest| {
                sink.lock().unwrap().push(r.clone());
                true
            });
        then.status(301)
            .header("location", format!("/api/classification_image/{ID}"));
    });
    let client = Client::builder()
        .api_key(KEY)
        .base_url(api.base_url())
        .build()
        .unwrap();
    client.result(&ID.parse().unwrap()).await.unwrap();
    assert_eq!(key_of(&seen.lock().unwrap()[0]), vec![KEY.to_string()]);
}

#[tokio::test]
async fn the_mock_redirect_fault_to_another_origin_drops_the_key() {
    let other = MockServer::start_async().await;
    let seen = recorder(&other, 200, r#"{"status":"new"}"#);
    let server = mock();
    server.inject(
        Route::GetImageClassification,
        Fault::redirect(other.url("/x")),
    );
    let client = builder(&server).api_key(KEY).build();
    // The mock accepts only its own key; a client with KEY gets a 401 from
    // it, but the redirect comes first.
    let client = client.unwrap();
    client.result(&ID.parse().unwrap()).await.unwrap();
    assert!(key_of(&seen.lock().unwrap()[0]).is_empty());
}

#[tokio::test]
async fn no_debug_or_display_shows_the_key() {
    let client = Client::builder().api_key(KEY).build().unwrap();
    for text in [
        format!("{client:?}"),
        format!("{:?}", Client::builder().api_key(KEY)),
        format!("{:?}", client.api()),
    ] {
        assert!(!text.contains(KEY), "{text}");
        assert!(!text.contains("DO-NOT-LEAK"), "{text}");
    }
    let errors = every_error().await;
    let kinds: std::collections::BTreeSet<String> = errors
        .iter()
        .map(|e| {
            format!("{e:?}")
                .split([' ', '(', '{'])
                .next()
                .unwrap()
                .to_string()
        })
        .collect();
    assert!(kinds.len() >= 10, "{kinds:?}");
    for e in &errors {
        for text in [format!("{e}"), format!("{e:?}"), format!("{e:#?}")] {
            assert!(
                !text.contains(KEY) && !text.contains("DO-NOT-LEAK"),
                "{text}"
            );
        }
    }
}

#[test]
fn http_is_refused_for_non_loopback_hosts_unless_allowed() {
    for url in [
        "http://example.com",
        "http://10.0.0.1:8080",
        "http://backend.identifai.net/",
    ] {
        let err = Client::builder()
            .api_key(KEY)
            .base_url(url)
            .build()
            .unwrap_err();
        assert!(
            matches!(err, Error::InvalidInput(InputError::InsecureBaseUrl { .. })),
            "{url}: {err:?}"
        );
        assert!(!err.to_string().contains(KEY));
        Client::builder()
            .api_key(KEY)
            .base_url(url)
            .allow_insecure_http(true)
            .build()
            .unwrap();
    }
    for url in [
        "http://127.0.0.1:1234",
        "http://localhost",
        "http://[::1]:80",
        "https://example.com",
    ] {
        Client::builder()
            .api_key(KEY)
            .base_url(url)
            .build()
            .unwrap_or_else(|e| panic!("{url}: {e}"));
    }
}

#[tokio::test]
async fn health_sends_no_key() {
    let server = MockServer::start_async().await;
    let seen = recorder(&server, 200, r#"{"status":"ok"}"#);
    let client = Client::builder()
        .api_key(KEY)
        .base_url(server.base_url())
        .build()
        .unwrap();
    assert_eq!(
        client.health().await.unwrap(),
        identifai::api::types::HealthStatus::Ok
    );
    assert!(key_of(&seen.lock().unwrap()[0]).is_empty());
}

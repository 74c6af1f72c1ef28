//! What a downstream repository runs in its CI, with no dependency but
//! identifai and tokio.

use identifai::api::types::{ErrorBody, HealthResponse, HealthStatus, IdentifierResponse};
use identifai::contract::{run, ContractConfig, Target};
use identifai::mock::httpmock::{MockServer, MockServerExt};
use identifai::{config::RetryConfig, Error};

const ID: &str = "8d64370a87b820cc1cf620338f5c898bab37439c9a405f32d9eaffc50c4f27b0";
const PNG: &[u8] =
    b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";

fn client(server: &MockServer) -> identifai::Client {
    identifai::Client::builder()
        .api_key("test-key")
        .base_url(server.base_url())
        .rate_limits(None)
        .retry(RetryConfig::disabled())
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_contract_checks_pass_against_the_mock() {
    // Against the live service: Target::live(std::env::var("IDENTIFAI_API_KEY")?)
    let report = run(ContractConfig::new(Target::mock())).await;
    println!("{}", report.to_text());
    assert!(report.passed());
    assert!(report.drift().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submissions_against_the_typed_httpmock_helpers() {
    let server = MockServer::start_async().await;
    // By URL: the helper checks the form field the spec requires.
    let by_url = server.classify_image_from_url(|when, then| {
        when.file_url("https://example.com/photo.jpg");
        then.ok(&IdentifierResponse {
            identifier: ID.into(),
        });
    });
    // An upload: the file part's bytes and type, and the options our code
    // must send.
    let upload = server.classify_image(|when, then| {
        when.image(PNG)
            .image_content_type("image/png")
            .with_heatmap(true)
            .ref_id("order-7");
        then.ok(&IdentifierResponse {
            identifier: ID.into(),
        });
    });
    let health = server.health(|_, then| {
        then.ok(&HealthResponse {
            status: HealthStatus::Ok,
        });
    });
    let client = client(&server);
    let id = identifai_downstream::submit(&client, "https://example.com/photo.jpg")
        .await
        .unwrap();
    assert_eq!(id.as_str(), ID);
    let id = identifai_downstream::upload(&client, "photo.png", PNG.to_vec(), "order-7")
        .await
        .unwrap();
    assert_eq!(id.as_str(), ID);
    // Our code with another reference is not what the helper expects.
    let err = identifai_downstream::upload(&client, "photo.png", PNG.to_vec(), "order-8")
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err:?}");
    by_url.assert_calls(1);
    upload.assert_calls(1);
    assert_eq!(client.health().await.unwrap(), HealthStatus::Ok);
    health.assert();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_code_sees_the_services_errors() {
    let server = MockServer::start_async().await;
    let rejected = server.classify_image_from_url(|when, then| {
        when.file_url("https://example.com/huge.jpg");
        then.bad_request(&ErrorBody {
            error: Some("The uploaded file exceeds the maximum allowed size of 50Mb.".into()),
            ..Default::default()
        });
    });
    let down = server.classify_image_from_url(|when, then| {
        when.file_url("https://example.com/later.jpg");
        then.service_unavailable(Some(30));
    });
    let client = client(&server);
    let err = identifai_downstream::submit(&client, "https://example.com/huge.jpg")
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Validation { .. }), "{err:?}");
    let err = identifai_downstream::submit(&client, "https://example.com/later.jpg")
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Server { status: 503, .. }), "{err:?}");
    rejected.assert_calls(1);
    down.assert_calls(1);
}

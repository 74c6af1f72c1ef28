//! What a downstream repository runs in its CI, with no dependency but
//! identifai and tokio.

use identifai::api::types::{HealthResponse, HealthStatus};
use identifai::contract::{run, ContractConfig, Target};
use identifai::mock::httpmock::{Method, MockServer, MockServerExt};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_contract_checks_pass_against_the_mock() {
    // Against the live service: Target::live(std::env::var("IDENTIFAI_API_KEY")?)
    let report = run(ContractConfig::new(Target::mock())).await;
    println!("{}", report.to_text());
    assert!(report.passed());
    assert!(report.drift().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_submission_against_httpmock() {
    let server = MockServer::start_async().await;
    let submission = server.mock(|when, then| {
        when.method(Method::POST)
            .path("/api/image_fromurl")
            .header("x-api-key", "test-key");
        then.status(200)
            .header("content-type", "application/json")
            .body(r#"{"identifier":"8d64370a87b820cc1cf620338f5c898bab37439c9a405f32d9eaffc50c4f27b0"}"#);
    });
    // A typed helper for a JSON operation.
    let health = server.health(|_, then| {
        then.ok(&HealthResponse {
            status: HealthStatus::Ok,
        });
    });
    let client = identifai::Client::builder()
        .api_key("test-key")
        .base_url(server.base_url())
        .build()
        .unwrap();
    let id = downstream_submit(&client).await;
    assert_eq!(
        id.as_str(),
        "8d64370a87b820cc1cf620338f5c898bab37439c9a405f32d9eaffc50c4f27b0"
    );
    submission.assert();
    assert_eq!(client.health().await.unwrap(), HealthStatus::Ok);
    health.assert();
}

async fn downstream_submit(client: &identifai::Client) -> identifai::Identifier {
    identifai_downstream::submit(client, "https://example.com/photo.jpg")
        .await
        .unwrap()
}

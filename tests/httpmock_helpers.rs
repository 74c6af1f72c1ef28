//! The typed httpmock helpers generated from the spec (feature `mock`)
//! compile with the httpmock we ship and match what the client sends,
//! array query parameters included.

use httpmock::MockServer;
use identifai::mock::httpmock::MockServerExt;
use identifai::types::{HealthResponse, HealthStatus, ImageResponse, Status};
use identifai::{Client, Identifier};

fn client(server: &MockServer) -> Client {
    Client::builder()
        .api_key("k")
        .base_url(server.base_url())
        .rate_limits(None)
        .build()
        .unwrap()
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
    let rs = c.results(&wanted).await.unwrap();
    assert_eq!(rs.len(), 1);
    health.assert();
    one.assert();
    list.assert();
}

//! The typed httpmock helpers generated from the spec (feature `mock`)
//! compile with the httpmock we ship and match what the client sends,
//! array query parameters included.

use httpmock::MockServer;
use identifai::api::types::{HealthResponse, HealthStatus, ImageResponse, Status};
use identifai::mock::httpmock::MockServerExt;
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

#[tokio::test]
async fn typed_helpers_script_the_new_json_operations() {
    use identifai::api::types::{
        Classification, MediaKind, OverrideRequest, OverrideResponse, PartnerPricings,
        VideoResponse,
    };
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
            type_: MediaKind::Video,
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
        let mut p = serde_json::Map::new();
        p.insert("basic".into(), serde_json::json!({"id": 1}));
        then.ok(&PartnerPricings(p));
    });
    let api = client(&server);
    let api = api.api();
    let out = api
        .override_video_classification(hash, &body)
        .await
        .unwrap();
    assert_eq!(out.type_, MediaKind::Video);
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
    assert_eq!(p["basic"]["id"], 1);
    over.assert_calls(1);
    list.assert();
    pricings.assert();
}

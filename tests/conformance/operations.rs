//! The generated operation list (`identifai::api::OPERATIONS`) is the
//! spec's (`IDENTIFAI_SPEC`, else `openapi/identifai.yaml`): every
//! operation with its method, path, kind, role, request content type and
//! documented statuses; a request for each is recognised as that operation,
//! by `Operation::recognize` and by the mock's `Route::recognize`.

use identifai::api::{Operation, OPERATIONS};
use serde_json::Value;

/// (operationId, method, path, operation object) of the spec under test.
fn spec_operations() -> Vec<(String, String, String, Value)> {
    let doc = crate::support::spec::doc();
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in ["get", "post", "put", "patch", "delete"] {
            if let Some(op) = item.get(method) {
                let id = op["operationId"].as_str().expect("an operationId");
                out.push((
                    id.to_string(),
                    method.to_uppercase(),
                    path.clone(),
                    op.clone(),
                ));
            }
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[test]
fn the_generated_list_is_the_specs() {
    let doc = crate::support::spec::doc();
    let spec = spec_operations();
    let names: Vec<&str> = OPERATIONS.iter().map(|op| op.name).collect();
    let in_spec: Vec<&str> = spec.iter().map(|(n, ..)| n.as_str()).collect();
    assert_eq!(names, in_spec, "regenerate: the list is not the spec's");
    for (op, (name, method, path, def)) in OPERATIONS.iter().zip(&spec) {
        assert_eq!(
            (op.method, op.path),
            (method.as_str(), path.as_str()),
            "{name}"
        );
        let ext = &def["x-identifai"];
        assert_eq!(op.kind, ext["kind"].as_str(), "{name} kind");
        assert_eq!(op.role, ext["role"].as_str(), "{name} role");
        let mut body = &def["requestBody"];
        if let Some(r) = body.get("$ref").and_then(Value::as_str) {
            body = doc
                .pointer(r.trim_start_matches('#'))
                .expect("a request body");
        }
        let ct = body["content"]
            .as_object()
            .and_then(|c| c.keys().next())
            .map(String::as_str);
        assert_eq!(op.request_content_type, ct, "{name} content type");
        let mut statuses: Vec<u16> = def["responses"]
            .as_object()
            .unwrap()
            .keys()
            .filter_map(|k| k.parse().ok())
            .collect();
        statuses.sort();
        assert_eq!(op.statuses, statuses.as_slice(), "{name} statuses");
        assert_eq!(Operation::named(name), Some(op));
    }
}

#[test]
fn a_request_for_each_operation_is_recognised_as_it() {
    for op in OPERATIONS {
        let path = op.path_with(|p| format!("sample-{p}"));
        assert!(!path.contains('{'), "{path}");
        let found = Operation::recognize(op.method, &path);
        assert_eq!(found.map(|o| o.name), Some(op.name), "{} {path}", op.method);
        let with_query = format!("{path}?x=1");
        assert_eq!(
            Operation::recognize(op.method, &with_query).map(|o| o.name),
            Some(op.name)
        );
    }
    assert_eq!(
        Operation::recognize("HEAD", "/api/health").map(|o| o.name),
        Some("health")
    );
    assert!(Operation::recognize("GET", "/api/no_such_thing").is_none());
    assert!(Operation::recognize("DELETE", "/api/health").is_none());
    assert!(Operation::recognize("GET", "/api/classification/").is_none());
    // Two templates match `/api/classification/heatmap/override` for GET?
    // Only the heatmap's is a GET; for POST only the override's.
    assert_eq!(
        Operation::recognize("GET", "/api/classification/heatmap/x").map(|o| o.name),
        Some("get_image_heatmap")
    );
}

#[cfg(feature = "mock")]
#[test]
fn the_mock_recognises_every_operation() {
    use identifai::mock::Route;
    for op in OPERATIONS {
        let path = op.path_with(|p| format!("sample-{p}"));
        let route = Route::recognize(op.method, &path)
            .unwrap_or_else(|| panic!("the mock does not recognise {}", op.name));
        assert_eq!(route.is_post(), op.method == "POST", "{}", op.name);
        assert_eq!(
            route.is_submission(),
            matches!(op.role, Some("submit" | "submit_url")),
            "{}",
            op.name
        );
        assert_eq!(route.needs_key(), op.api_key, "{}", op.name);
        // `cargo xtask mutate` looks for an added operation's line.
        println!("MOCK-ROUTE {} -> {route:?}", op.name);
        if let Route::Operation(name) = route {
            assert_eq!(name, op.name);
        }
    }
    assert_eq!(
        Route::recognize("GET", "/api/classification_image/abc"),
        Some(Route::GetImageClassification),
        "an alias routes as the operation it aliases"
    );
    assert_eq!(
        Route::recognize("GET", "/api/partner/users"),
        Some(Route::Operation("list_partner_users"))
    );
}

/// Every operation, the published ones and any the spec adds, can be
/// targeted on a running `MockServer`: a fault injected for its route is
/// what a request for it gets, and the request is counted under that route.
#[cfg(feature = "mock")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_mock_serves_a_fault_for_every_operation() {
    use identifai::mock::{Fault, MockServer, Route};
    let server = MockServer::start();
    let http = reqwest::Client::new();
    for op in OPERATIONS {
        let route = Route::recognize(op.method, &op.path_with(|_| "abc".into())).unwrap();
        let before = server.stats().route(route);
        server.inject(
            route,
            Fault::new(418, "application/json", r#"{"message":"injected"}"#),
        );
        let url = format!("{}{}", server.base_url(), op.path_with(|_| "abc".into()));
        let method = reqwest::Method::from_bytes(op.method.as_bytes()).unwrap();
        let resp = http
            .request(method, url)
            .header("x-api-key", server.api_key())
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 418, "{}", op.name);
        assert_eq!(server.stats().route(route), before + 1, "{}", op.name);
        println!("MOCK-FAULT {} -> 418", op.name);
    }
}

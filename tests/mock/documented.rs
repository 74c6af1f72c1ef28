//! The MockServer answers every operation of the spec: the ones it has
//! behaviour of its own for (submissions, results, lists, heatmaps,
//! overrides, health) and, with their documented answer, every other one
//! (the partner operations, whatever the spec adds), after checking the
//! inputs the spec requires.

use std::collections::BTreeMap;

use identifai::api::forms::SavePartnerUserForm;
use identifai::api::types::{PartnerUserPage, SortDirection, ValidationErrorBody};
use identifai::api::{Operation, OPERATIONS};
use identifai::mock::{DocumentedAnswer, InputKind, InputLocation, MockConfig, MockServer};
use reqwest::multipart::{Form, Part};
use reqwest::Method;
use serde_json::{json, Value};

fn server() -> MockServer {
    MockServer::start_with(
        MockConfig::default()
            .with_rate_limits(None)
            .with_polls_until_done(0),
    )
}

/// An identifier and a file hash the mock knows, per media kind.
type Known = BTreeMap<&'static str, (String, String)>;

/// The value of input `name` of `op`: a known identifier or hash of the
/// operation's kind when there is one, else the spec's sample.
fn value_of(op: &Operation, name: &str, sample: &str, known: &Known) -> String {
    // An `<op>_alias` is about the kind of `<op>`.
    let kind = op.kind.or_else(|| {
        let aliased = op.name.strip_suffix("_alias").and_then(Operation::named);
        aliased.and_then(|a| a.kind)
    });
    let own = kind.and_then(|k| known.get(k));
    match own {
        Some((id, _)) if name.starts_with("identifier") => id.clone(),
        Some((_, hash)) if name == "hash" => hash.clone(),
        _ => sample.to_string(),
    }
}

/// Sends `op` as its documented sample request: path parameters, the
/// required query parameters, and a body of the required fields (a file
/// part of the content type the spec allows).
async fn send(server: &MockServer, op: &Operation, known: &Known) -> reqwest::Response {
    let documented = DocumentedAnswer::of(op.name).expect(op.name);
    let path = op.path_with(|name| {
        let sample = documented
            .inputs_at(InputLocation::Path)
            .find(|i| i.name == name)
            .map_or("sample", |i| i.sample);
        value_of(op, name, sample, known)
    });
    let mut query = Vec::new();
    for input in documented
        .inputs_at(InputLocation::Query)
        .filter(|i| i.required)
    {
        // A list is sent PHP's way, `name[]=...` (the spec may name it so).
        let name = match input.kind {
            InputKind::List if !input.name.ends_with(']') => format!("{}[]", input.name),
            _ => input.name.to_string(),
        };
        query.push((name, value_of(op, input.name, input.sample, known)));
    }
    let method = Method::from_bytes(op.method.as_bytes()).unwrap();
    let mut request = reqwest::Client::new()
        .request(method, format!("{}{path}", server.base_url()))
        .query(&query)
        .header("X-Api-Key", server.api_key())
        .header("Accept", "application/json");
    match documented.request_content_type {
        Some(ct) if ct.starts_with("multipart/form-data") => {
            let mut form = Form::new();
            for input in documented
                .inputs_at(InputLocation::Body)
                .filter(|i| i.required)
            {
                form = match (input.kind, input.content_type) {
                    (InputKind::File, Some(ct)) => form.part(
                        input.name,
                        Part::bytes(crate::support::png_sample())
                            .file_name("sample")
                            .mime_str(ct)
                            .unwrap(),
                    ),
                    _ => form.text(input.name, input.sample),
                };
            }
            request = request.multipart(form);
        }
        Some(ct) if ct.starts_with("application/json") => {
            request = request
                .header("Content-Type", ct)
                .body(documented.sample_body.unwrap_or("{}"));
        }
        _ => {}
    }
    request.send().await.unwrap()
}

/// The operation of `kind` with `role`.
fn role(kind: &str, role: &str) -> Option<&'static Operation> {
    OPERATIONS
        .iter()
        .find(|op| op.kind == Some(kind) && op.role == Some(role))
}

#[tokio::test]
async fn every_operation_gets_a_documented_answer_that_decodes() {
    let server = server();
    // An identifier and hash of each kind (submitted by URL, else as a
    // file), for the operations that answer about an earlier submission.
    let mut known = Known::new();
    let submissions = OPERATIONS.iter().filter(|op| {
        op.role == Some("submit_url")
            || (op.role == Some("submit")
                && op.kind.is_some_and(|k| role(k, "submit_url").is_none()))
    });
    for submit in submissions {
        let kind = submit.kind.unwrap();
        let answer: Value = send(&server, submit, &known).await.json().await.unwrap();
        let id = answer["identifier"].as_str().unwrap().to_string();
        known.insert(kind, (id.clone(), String::new()));
        let result = role(kind, "result").expect("a kind with a result");
        let result: Value = send(&server, result, &known).await.json().await.unwrap();
        let hash = result["hash"].as_str().expect("a result has its hash");
        known.insert(kind, (id, hash.to_string()));
    }
    assert!(!known.is_empty(), "the spec has submissions");

    for op in OPERATIONS {
        let documented = DocumentedAnswer::of(op.name).unwrap();
        let response = send(&server, op, &known).await;
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_string());
        let body = response.bytes().await.unwrap();
        let shown = String::from_utf8_lossy(&body);
        assert!(
            (200..300).contains(&status) && op.statuses.contains(&status),
            "{}: {status} is not a documented success: {shown}",
            op.name
        );
        if status == 204 {
            assert!(body.is_empty(), "{}: a 204 with a body", op.name);
            continue;
        }
        let content_type = content_type.unwrap_or_default();
        let Some(schema) = documented.schema else {
            assert!(!body.is_empty(), "{}: no body", op.name);
            continue;
        };
        assert!(
            content_type.starts_with("application/json"),
            "{}: {content_type}",
            op.name
        );
        let value: Value = serde_json::from_slice(&body)
            .unwrap_or_else(|e| panic!("{}: not JSON ({e}): {shown}", op.name));
        let values = if documented.items {
            value.as_array().unwrap().clone()
        } else {
            vec![value]
        };
        for value in values {
            decodes(schema, &value, op.name);
        }
    }
}

/// `value` decodes into the generated type of component `schema` (and
/// encodes and decodes back to the same value).
#[cfg(feature = "conformance")]
fn decodes(schema: &str, value: &Value, op: &str) {
    identifai::api::conformance::redecode(schema, value)
        .unwrap_or_else(|| panic!("{op}: no component {schema}"))
        .unwrap_or_else(|e| panic!("{op}: {value} does not decode as {schema}: {e}"));
}

/// Without the conformance registry: JSON of the documented kind.
#[cfg(not(feature = "conformance"))]
fn decodes(_schema: &str, value: &Value, op: &str) {
    assert!(value.is_object() || value.is_array(), "{op}: {value}");
}

#[tokio::test]
async fn a_partner_operation_answers_its_published_example() {
    let server = server();
    let client = server.client_builder().build().unwrap();
    let page: PartnerUserPage = client
        .api()
        .list_partner_users(None, None, None, Some(10), None, None)
        .await
        .unwrap()
        .into_inner();
    // The example of https://docs.identifai.net/api-reference/partner/retrieve-users.
    assert_eq!(page.total, 1);
    assert_eq!(page.data[0].id, 222);
    assert_eq!(page.data[0].email.as_deref(), Some("User@mail.com"));

    let saved = client
        .api()
        .save_partner_user(SavePartnerUserForm::new(
            None,
            "UserName".into(),
            "UserName@mail.com".into(),
            "AverageExcludeObsolete".into(),
            1,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(saved.data.id, 233, "the create-new-user page's example");

    let plans = client
        .api()
        .get_partner_pricings()
        .await
        .unwrap()
        .into_inner();
    assert!(
        !plans.plans().is_empty(),
        "a plan generated from the schema"
    );
    // The key and the rate limits apply as to every operation.
    let status = reqwest::get(format!("{}/api/partner/pricings", server.base_url()))
        .await
        .unwrap()
        .status();
    assert_eq!(status, 401);
}

#[tokio::test]
async fn a_post_missing_a_required_field_gets_laravels_422() {
    let server = server();
    let form = Form::new()
        .text("id", "")
        .text("name", "UserName")
        .text("pricing_id", "gold");
    let response = reqwest::Client::new()
        .post(format!("{}/api/partner/user", server.base_url()))
        .header("X-Api-Key", server.api_key())
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 422);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body,
        json!({
            "message": "The email field is required. (and 2 more errors)",
            "errors": {
                "email": ["The email field is required."],
                "heuristic": ["The heuristic field is required."],
                "pricing_id": ["The pricing id field must be an integer."],
            }
        })
    );
    // The published shape: it decodes as the spec's ValidationErrorBody.
    let decoded: ValidationErrorBody = serde_json::from_value(body).unwrap();
    assert_eq!(decoded.errors.len(), 3);

    // A value outside a query parameter's enum.
    let url = format!("{}/api/partner/users?direction=sideways", server.base_url());
    let raw = reqwest::Client::new()
        .get(url)
        .header("X-Api-Key", server.api_key())
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), 422);
    let body: Value = raw.json().await.unwrap();
    assert_eq!(
        body["errors"]["direction"],
        json!(["The selected direction is invalid."])
    );

    // The generated client sends the same value and gets an error, not a
    // page; without the filter, the page.
    let client = server.client_builder().build().unwrap();
    let sideways = SortDirection::Unknown("sideways".into());
    let refused = client
        .api()
        .list_partner_users(Some(&sideways), None, None, None, None, None)
        .await;
    assert!(refused.is_err(), "{refused:?}");
    let page = client
        .api()
        .list_partner_users(Some(&SortDirection::Asc), None, None, None, None, None)
        .await;
    assert!(page.is_ok(), "{page:?}");
}

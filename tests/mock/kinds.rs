//! Every media kind the spec declares works through the layer against the
//! MockServer: `Client::classify_as` calls the generated `classify_<kind>`,
//! and its `wait()` polls the kind's list, or its result operation one
//! identifier at a time when the spec has no list. The kinds come from the
//! generated `Kind::ALL`, so a kind the spec adds is covered by regeneration.

use identifai::api::types::Status;
use identifai::api::{Operation, OPERATIONS};
use identifai::mock::{MockConfig, MockServer};
use identifai::{Kind, Source};

use crate::support::media::sample_of;

/// The operation of `kind` with `role`, if the spec has one.
fn op_of(kind: Kind, role: &str) -> Option<&'static Operation> {
    OPERATIONS
        .iter()
        .find(|op| op.kind == Some(kind.as_str()) && op.role == Some(role))
}

#[tokio::test]
async fn every_kind_is_classified_and_waited_for_through_its_generated_method() {
    let server = MockServer::start_with(
        MockConfig::default()
            .with_rate_limits(None)
            .with_polls_until_done(2),
    );
    let client = server
        .client_builder()
        .build()
        .expect("a client of the mock");
    for (n, kind) in Kind::ALL.into_iter().enumerate() {
        assert_eq!(
            kind.index(),
            n,
            "{kind}: Kind::index is its place in Kind::ALL"
        );
        let (name, bytes, content_type) = sample_of(kind, n as u32);
        let source = Source::bytes(name, bytes).content_type(content_type);
        let submission = client.classify_as(kind, source);
        assert_eq!(submission.kind(), kind);
        let before = server.requests().len();
        let result = submission
            .wait()
            .await
            .unwrap_or_else(|e| panic!("{kind}: classify_{kind}(..).wait(): {e}"));
        assert_eq!(result.kind(), kind);
        assert_eq!(
            result.status(),
            Some(&Status::Done),
            "{kind}: {}",
            result.raw()
        );
        assert!(result.identifier().is_some(), "{kind}: no identifier");
        assert!(
            result.effective_verdict().is_some(),
            "{kind}: a finished result without a verdict: {}",
            result.raw()
        );
        // The operations the wait used: the kind's list, else its result.
        let submit = op_of(kind, "submit").expect("every kind has a submit operation");
        let poll = op_of(kind, "list")
            .or_else(|| op_of(kind, "result"))
            .expect("every kind has a result operation");
        let sent: Vec<String> = server.requests()[before..]
            .iter()
            .filter_map(|r| Operation::recognize(&r.method, &r.path))
            .map(|op| op.name.to_string())
            .collect();
        assert!(sent.iter().any(|s| s == submit.name), "{kind}: {sent:?}");
        assert!(sent.iter().any(|s| s == poll.name), "{kind}: {sent:?}");
        println!("KIND-WAIT {kind}: {} then {}", submit.name, poll.name);
    }
}

#[tokio::test]
async fn a_kind_without_a_url_form_refuses_a_url_before_sending() {
    let server = MockServer::start_with(MockConfig::default().with_rate_limits(None));
    let client = server.client_builder().build().expect("a client");
    for kind in Kind::ALL.into_iter().filter(|k| !k.takes_urls()) {
        let err = client
            .classify_as(kind, Source::url("https://example.com/a"))
            .send()
            .await
            .expect_err("no URL form");
        assert!(
            err.to_string().contains("no URL submission"),
            "{kind}: {err}"
        );
        println!("KIND-NO-URL {kind}");
    }
    assert_eq!(server.stats().posts, 0, "nothing was sent");
}

//! `identifai api`: every operation of the spec from the command line, its
//! flags made from the generated operation list (`--list`, an operation's
//! `--help`), called against the built-in mock and against loopback
//! servers (the partner operations, a JSON body, error statuses, bad
//! inputs); and the readable summary's `other` line, which shows the fields
//! of an answer the summary does not name.

use crate::{bare, cli};
use assert_cmd::Command;
use identifai::api::OPERATIONS;
use identifai::config::RateLimits;
use identifai::mock::{MockConfig, MockServer};
use serde_json::{json, Value};

/// A key that must never be printed.
const SECRET: &str = "sk-live-4c8e1b2a-API-DO-NOT-PRINT";

fn mock_server(quirks: bool) -> MockServer {
    MockServer::start_with(
        MockConfig::default()
            .with_time_scale(0.01)
            .with_polls_until_done(1)
            .with_rate_limits(Some(RateLimits::PUBLISHED))
            .with_quirks(quirks),
    )
}

/// The binary pointed at a loopback httpmock server.
fn cli_to(server: &httpmock::MockServer) -> Command {
    let mut cmd = bare();
    cmd.args(["--base-url", &server.base_url(), "--api-key", SECRET]);
    cmd
}

fn out(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn err(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn sample(name: &str) -> String {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/media")
        .join(name)
        .display()
        .to_string()
}

#[test]
fn list_shows_every_operation_with_its_method_path_and_summary() {
    let o = bare().args(["--mock", "api", "--list"]).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let text = out(&o);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), OPERATIONS.len(), "{text}");
    for op in OPERATIONS {
        let summary = op.inputs().expect("every operation has inputs").summary;
        assert!(!summary.is_empty(), "{} has a summary in the spec", op.name);
        let line = lines
            .iter()
            .find(|l| l.split_whitespace().next() == Some(op.name))
            .unwrap_or_else(|| panic!("{} not listed:\n{text}", op.name));
        let words: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(&words[1..3], [op.method, op.path], "{line}");
        assert!(line.trim_end().ends_with(summary), "{line}");
    }
    // The same as JSON.
    let o = bare().args(["--json", "api", "--list"]).output().unwrap();
    let all: Vec<Value> = serde_json::from_slice(&o.stdout).unwrap();
    let names: Vec<&str> = all.iter().map(|v| v["name"].as_str().unwrap()).collect();
    let expected: Vec<&str> = OPERATIONS.iter().map(|op| op.name).collect();
    assert_eq!(names, expected);
}

#[test]
fn an_operations_help_comes_from_the_spec() {
    let o = bare()
        .args(["api", "list_partner_users", "--help"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let help = out(&o);
    for expected in [
        "GET /api/partner/users",
        "--per_page <INTEGER>",
        "--per-page",
        "Number of results per page",
        "--direction <TEXT>",
        "[possible values: ",
        "--param <NAME=VALUE>",
    ] {
        assert!(help.contains(expected), "{expected:?} in:\n{help}");
    }
    let o = bare()
        .args(["api", "classify_image", "--help"])
        .output()
        .unwrap();
    let help = out(&o);
    assert!(help.contains("--image <PATH>"), "{help}");
    assert!(help.contains("The image to be classified"), "{help}");
    assert!(help.contains("[required]"), "{help}");
    assert!(help.contains("--with_heatmap <BOOL>"), "{help}");
    let o = bare()
        .args([
            "api",
            "classify_image",
            "--image",
            "x.png",
            "--with-heatmap",
            "yes",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "a boolean is true or false");
}

#[test]
fn image_operations_against_the_mock_print_json() {
    let server = mock_server(false);
    // An upload: the submission's JSON answer, its identifier.
    let o = cli(&server)
        .args(["api", "classify_image", "--file"])
        .arg(format!("image=@{}", sample("sunset.png")))
        .args(["--field", "with_heatmap=true"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let answer: Value = serde_json::from_str(&out(&o)).expect("JSON on stdout");
    let id = answer["identifier"]
        .as_str()
        .expect("an identifier")
        .to_string();
    assert_eq!(server.stats().posts, 1);
    // The result, by the typed flag and by --param; polled until done (the
    // mock is done after one poll).
    let mut done = None;
    for _ in 0..20 {
        let o = cli(&server)
            .args(["api", "get_image_classification", "--identifier", &id])
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(0), "{}", err(&o));
        let v: Value = serde_json::from_str(&out(&o)).unwrap();
        assert_eq!(v["identifier"], id.as_str());
        if v["status"] == "done" {
            done = Some(v);
            break;
        }
    }
    assert!(done.is_some(), "the mock finishes a classification");
    let o = cli(&server)
        .args(["api", "get_image_classification", "--param"])
        .arg(format!("identifier={id}"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    // A PNG answer goes to -o, and without it is a usage error.
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("heat.png");
    let o = cli(&server)
        .args(["api", "get_image_heatmap", "--identifier", &id, "-o"])
        .arg(&png)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert_eq!(&std::fs::read(&png).unwrap()[..4], b"\x89PNG");
    let o = cli(&server)
        .args(["api", "get_image_heatmap", "--identifier", &id])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", err(&o));
    assert!(err(&o).contains("-o FILE"), "{}", err(&o));
    // --mock too, and an operation without key.
    let o = bare().args(["--mock", "api", "health"]).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let v: Value = serde_json::from_str(&out(&o)).unwrap();
    assert!(v.get("status").is_some(), "{v}");
}

#[test]
fn partner_operations_are_called_with_their_parameters() {
    let server = httpmock::MockServer::start();
    let page = json!({
        "current_page": 1, "data": [], "first_page_url": "http://x/?page=1", "from": null,
        "last_page": 1, "last_page_url": "http://x/?page=1", "links": [], "next_page_url": null,
        "path": "http://x", "per_page": 10, "prev_page_url": null, "to": null, "total": 0
    });
    let users = server.mock(|when, then| {
        when.method("GET")
            .path("/api/partner/users")
            .query_param("per_page", "10")
            .header("x-api-key", SECRET);
        then.status(200)
            .header("content-type", "application/json")
            .body(page.to_string());
    });
    let plans = json!([{"id": 1, "name": "Basic", "watermark": true}]);
    let pricings = server.mock(|when, then| {
        when.method("GET").path("/api/partner/pricings");
        then.status(200)
            .header("content-type", "application/json")
            .body(plans.to_string());
    });
    for args in [
        &["api", "list_partner_users", "--param", "per_page=10"][..],
        &["api", "list_partner_users", "--per-page", "10"][..],
    ] {
        let o = cli_to(&server).args(args).output().unwrap();
        assert_eq!(o.status.code(), Some(0), "{args:?}: {}", err(&o));
        let v: Value = serde_json::from_str(&out(&o)).unwrap();
        assert_eq!(v, page, "the answer as the server sent it");
        assert!(!out(&o).contains(SECRET) && !err(&o).contains(SECRET));
    }
    users.assert_calls(2);
    let o = cli_to(&server)
        .args(["api", "get_partner_pricings"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let v: Value = serde_json::from_str(&out(&o)).unwrap();
    assert_eq!(v, plans, "fields the spec does not name are printed too");
    pricings.assert();
}

#[test]
fn a_json_body_is_typed_and_error_statuses_are_the_usual_errors() {
    let server = httpmock::MockServer::start();
    let stored = server.mock(|when, then| {
        when.method("POST")
            .path("/api/classification/abc/override")
            .json_body(json!({"classification": "human"}));
        then.status(204);
    });
    let o = cli_to(&server)
        .args([
            "api",
            "override_image_classification",
            "--param",
            "hash=abc",
        ])
        .args(["--field", "classification=human"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert_eq!(out(&o), "", "a 204 prints nothing");
    stored.assert();
    server.mock(|when, then| {
        when.method("GET").path("/api/classification/gone");
        then.status(404)
            .header("content-type", "application/json")
            .body(r#"{"error":"No such classification"}"#);
    });
    let o = cli_to(&server)
        .args(["api", "get_image_classification", "--identifier", "gone"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(6), "{}", err(&o));
    assert!(
        err(&o).contains("not found (404): No such classification"),
        "{}",
        err(&o)
    );
}

#[test]
fn bad_inputs_are_usage_errors_sent_nowhere() {
    let server = httpmock::MockServer::start();
    let any = server.mock(|_, then| {
        then.status(200).body("{}");
    });
    let cases: [(&[&str], &str); 6] = [
        (
            &["list_partner_users", "--param", "per_page=ten"],
            "`per_page` is a whole number",
        ),
        (
            &["list_partner_users", "--param", "nope=1"],
            "takes: search, pricing_id",
        ),
        (
            &["list_partner_users", "--param", "per_page"],
            "takes NAME=VALUE",
        ),
        (
            &["list_partner_users", "--field", "per_page=1"],
            "is given with --param",
        ),
        (&["get_image_classification"], "needs `identifier`"),
        (
            &[
                "override_image_classification",
                "--param",
                "hash=a",
                "--field",
                "classification=robot",
            ],
            "one of human, artificial",
        ),
    ];
    for (args, expected) in cases {
        let o = cli_to(&server).arg("api").args(args).output().unwrap();
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", err(&o));
        assert!(
            err(&o).contains(expected),
            "{args:?}: {expected:?} in {}",
            err(&o)
        );
    }
    let o = cli_to(&server)
        .args(["api", "classify_image", "--file", "image=@/dev/zero"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", err(&o));
    assert!(
        err(&o).contains("not a regular file") || err(&o).contains("/dev/zero"),
        "{}",
        err(&o)
    );
    any.assert_calls(0);
}

#[test]
fn the_summary_shows_fields_it_does_not_name() {
    // The mock's quirks mode adds `mock_extra` at the top of every answer.
    let server = mock_server(true);
    let o = cli(&server)
        .args(["classify", &sample("sunset.png")])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let other = out(&o)
        .lines()
        .find(|l| l.trim_start().starts_with("other "))
        .map(str::to_string);
    let other = other.unwrap_or_else(|| panic!("an `other` line in:\n{}", out(&o)));
    assert!(other.contains("mock_extra: {"), "{other}");
    // A field a newer server sends (`watermark`) on a loopback server.
    let spec = crate::support::spec::doc();
    let mut body = spec["paths"]["/api/classification/{identifier}"]["get"]["responses"]["200"]
        ["content"]["application/json"]["example"]
        .clone();
    body["watermark"] = json!({"found": true, "vendor": "SynthID"});
    let id = body["identifier"].as_str().unwrap().to_string();
    let server = httpmock::MockServer::start();
    server.mock(|when, then| {
        when.method("GET").path(format!("/api/classification/{id}"));
        then.status(200)
            .header("content-type", "application/json")
            .body(body.to_string());
    });
    let o = cli_to(&server).args(["result", &id]).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let text = out(&o);
    let line = text
        .lines()
        .find(|l| l.trim_start().starts_with("other "))
        .unwrap_or_else(|| panic!("an `other` line in:\n{text}"));
    assert!(
        line.contains(r#"watermark: {"found":true,"vendor":"SynthID"}"#),
        "{line}"
    );
    assert!(
        !line.contains("identifier") && !line.contains("has_heatmap"),
        "{line}"
    );
}

#[test]
fn a_submission_recorded_in_a_journal_is_not_sent_again_by_batch() {
    let server = mock_server(false);
    let dir = tempfile::tempdir().unwrap();
    let photos = dir.path().join("photos");
    std::fs::create_dir(&photos).unwrap();
    let photo = photos.join("sunset.png");
    std::fs::copy(sample("sunset.png"), &photo).unwrap();
    let journal = dir.path().join("out.jsonl");
    let o = cli(&server)
        .args(["api", "classify_image", "--image"])
        .arg(&photo)
        .arg("--journal")
        .arg(&journal)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let answer: Value = serde_json::from_str(&out(&o)).unwrap();
    let lines = std::fs::read_to_string(&journal).unwrap();
    let record: Value = serde_json::from_str(lines.trim()).unwrap();
    assert_eq!(record["status"], "submitted");
    assert_eq!(record["identifier"], answer["identifier"]);
    assert_eq!(record["kind"], "image");
    assert_eq!(record["sha256"].as_str().map(str::len), Some(64));
    assert_eq!(server.stats().posts, 1);
    // batch --resume waits for it rather than uploading it again.
    let o = cli(&server)
        .args(["batch"])
        .arg(&photos)
        .arg("--out")
        .arg(&journal)
        .arg("--resume")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert_eq!(server.stats().posts, 1, "nothing sent twice");
    let last: Value = serde_json::from_str(
        std::fs::read_to_string(&journal)
            .unwrap()
            .lines()
            .last()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(last["status"], "done");
    assert_eq!(last["identifier"], answer["identifier"]);
}

#[test]
fn an_upload_refused_with_a_429_is_sent_again_with_its_file_reopened() {
    use identifai::mock::{Fault, Route};
    let server = mock_server(false);
    let op = identifai::api::Operation::named("classify_image").unwrap();
    server.inject(Route::of(op), Fault::too_many_attempts(Some(1)));
    let o = cli(&server)
        .args(["api", "classify_image", "--file"])
        .arg(format!("image=@{}", sample("sunset.png")))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let answer: Value = serde_json::from_str(&out(&o)).unwrap();
    assert!(answer["identifier"].is_string(), "{answer}");
    let stats = server.stats();
    assert_eq!(stats.posts, 2, "{stats:?}");
    assert_eq!(stats.by_status.get(&429), Some(&1), "{stats:?}");
    assert_eq!(stats.submissions, 1, "{stats:?}");
}

/// `--mock` alone (the built-in mock, started for the command): the
/// partner operations answer their documented examples.
#[test]
fn partner_operations_answer_from_the_built_in_mock() {
    let o = bare()
        .args([
            "--mock",
            "api",
            "list_partner_users",
            "--param",
            "per_page=10",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let users: Value = serde_json::from_str(&out(&o)).expect("JSON on stdout");
    assert!(users["data"].is_array(), "{users}");
    let o = bare()
        .args(["--mock", "api", "get_partner_pricings"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let pricings: Value = serde_json::from_str(&out(&o)).expect("JSON on stdout");
    assert!(
        pricings.as_array().is_some_and(|plans| !plans.is_empty()),
        "{pricings}"
    );
}

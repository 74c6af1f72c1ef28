//! `identifai::contract` and `identifai contract`: raw answers validated
//! against the embedded spec; failures name the check and the field, drift
//! comes with the overlay actions that make it disappear.

use std::process::Command;

use identifai::contract::{run, Budget, ContractConfig, DriftKind, Outcome, Spec, Target};
use identifai::mock::{Fault, MockConfig, MockServer, Route};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_mock_has_no_failures_and_no_drift() {
    let report = run(ContractConfig::new(Target::mock())).await;
    assert_eq!(report.failures(), 0, "{}", report.to_text());
    assert!(report.drift().is_empty(), "{}", report.to_text());
    // health; image by URL: submission, result, alias, 2 lists, 2 heatmaps;
    // video and audio by URL: submission, result, list each; the override
    // round trip; the wrong key.
    assert_eq!(report.checks.len(), 16, "{}", report.to_text());
    let names: Vec<&str> = report.checks.iter().map(|c| c.name.as_str()).collect();
    for expected in [
        "result of the image submitted by URL",
        "result of the video submitted by URL",
        "/api/classifications_video lists the video submitted by URL",
        "result of the audio submitted by URL",
        "/api/classifications_audio lists the audio submitted by URL",
        "override round trip on the image submitted by URL",
    ] {
        assert!(names.contains(&expected), "{expected:?} in {names:?}");
    }
    assert_eq!(report.spent, Budget::ONE_OF_EACH);
    let junit = report.to_junit();
    assert!(junit.contains("tests=\"16\""), "{junit}");
    assert!(junit.contains("failures=\"0\""), "{junit}");
}

/// A MockServer standing in for the live service (a `Target::server`: what
/// a run with a real key does), with its rate limits off.
fn live_like() -> MockServer {
    MockServer::start_with(
        MockConfig::default()
            .with_rate_limits(None)
            .with_time_scale(0.01)
            .with_polls_until_done(0),
    )
}

fn as_server(mock: &MockServer) -> ContractConfig {
    ContractConfig::new(Target::server(mock.base_url(), mock.api_key()))
        .with_deadline(std::time::Duration::from_secs(30))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_run_spends_one_image_and_changes_no_data_unless_asked() {
    let mock = live_like();
    let report = run(as_server(&mock)).await;
    assert_eq!(report.failures(), 0, "{}", report.to_text());
    let stats = mock.stats();
    assert_eq!(stats.submissions, 1, "{}", report.to_text());
    assert_eq!(stats.route(Route::ClassifyImageFromUrl), 1);
    assert_eq!(stats.route(Route::ClassifyVideoFromUrl), 0);
    assert_eq!(stats.route(Route::ClassifyAudioFromUrl), 0);
    assert_eq!(stats.route(Route::OverrideClassification), 0);
    assert_eq!(report.spent, Budget::default());
    let skipped = report
        .checks
        .iter()
        .find(|c| c.name == "override round trip")
        .expect("the override check is reported as skipped");
    assert!(
        matches!(&skipped.outcome, Outcome::Skipped(why) if why.contains("--override")),
        "{skipped:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_run_sends_exactly_the_budget_of_each_kind() {
    let mock = live_like();
    let budget = Budget {
        images_by_url: 0,
        image_uploads: 1,
        videos_by_url: 2,
        audios_by_url: 1,
    };
    let report = run(as_server(&mock).with_budget(budget).with_overrides(true)).await;
    assert_eq!(report.failures(), 0, "{}", report.to_text());
    let stats = mock.stats();
    assert_eq!(stats.route(Route::ClassifyImageFromUrl), 0);
    assert_eq!(stats.route(Route::ClassifyImage), 1);
    assert_eq!(stats.route(Route::ClassifyVideoFromUrl), 2);
    assert_eq!(stats.route(Route::ClassifyAudioFromUrl), 1);
    assert_eq!(stats.submissions, u64::from(budget.paid()));
    assert_eq!(report.spent, budget);
    // Opted in: one override, of the first classification (the upload).
    assert_eq!(stats.route(Route::OverrideClassification), 1);
    let names: Vec<&str> = report.checks.iter().map(|c| c.name.as_str()).collect();
    assert!(
        names.contains(&"override round trip on the uploaded image"),
        "{names:?}"
    );
    // Two videos: told apart by their place in the budget, not by identifier.
    assert!(
        names.contains(&"result of the video submitted by URL (2/2)"),
        "{names:?}"
    );
}

/// A server whose override answer names another file's hash.
fn override_of_another_file_server() -> MockServer {
    let mock = live_like();
    let body = r#"{"classification":"human","type":"image","hash":"0000000000000000000000000000000000000000000000000000000000000000"}"#;
    mock.inject(
        Route::OverrideClassification,
        Fault::new(200, "application/json", body),
    );
    mock
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_override_answer_for_another_file_fails_the_round_trip() {
    let mock = override_of_another_file_server();
    let report = run(as_server(&mock).with_overrides(true)).await;
    assert_eq!(report.failures(), 1, "{}", report.to_text());
    let failed = report
        .checks
        .iter()
        .find(|c| matches!(c.outcome, Outcome::Failed(_)))
        .unwrap();
    assert_eq!(
        failed.name,
        "override round trip on the image submitted by URL",
        "{}",
        report.to_text()
    );
    assert!(
        report.to_text().contains("$.hash: "),
        "{}",
        report.to_text()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_override_the_result_does_not_show_fails_the_round_trip() {
    use sha2::{Digest, Sha256};
    // The mock gives a URL's submission the hash of the URL and, for this
    // one, the verdict `human` (an even first byte of that hash).
    let (url, hash) = (0..)
        .map(|n| format!("https://example.com/photo-{n}.png"))
        .map(|u| {
            let h = hex(&Sha256::digest(u.as_bytes()));
            (u, h)
        })
        .find(|(_, h)| u8::from_str_radix(&h[..2], 16).unwrap() % 2 == 0)
        .unwrap();
    let mock = live_like();
    // The override is answered as recorded, but the server forgets it.
    let body = format!(r#"{{"classification":"human","type":"image","hash":"{hash}"}}"#);
    mock.inject(
        Route::OverrideClassification,
        Fault::new(200, "application/json", body),
    );
    let report = run(as_server(&mock).with_image_url(url).with_overrides(true)).await;
    assert_eq!(report.failures(), 1, "{}", report.to_text());
    assert!(
        report
            .to_text()
            .contains("$.force_classification: None after the override to \"human\""),
        "{}",
        report.to_text()
    );
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quirks_drift_disappears_once_its_overlay_is_applied() {
    let report = run(ContractConfig::new(Target::mock_quirks())).await;
    assert_eq!(report.failures(), 0, "{}", report.to_text());
    let fields: Vec<&str> = report.drift().iter().map(|d| d.field.as_str()).collect();
    assert!(fields.contains(&"$.mock_extra"), "{fields:?}");
    assert!(fields.contains(&"$.verdict.mock_extra"), "{fields:?}");
    // PHP's 0/1 booleans: drift, once per schema.
    let php: Vec<&str> = report
        .drift()
        .iter()
        .filter(|d| matches!(d.kind, DriftKind::PhpBoolean { .. }))
        .map(|d| d.field.as_str())
        .collect();
    assert_eq!(
        php,
        [
            "$.has_heatmap",
            "$.results[0].unknown",
            "$.results.images[0].has_heatmap",
            "$.verdict.unknown"
        ],
        "{}",
        report.to_text()
    );
    // Video and audio answers are checked too: their unnamed fields.
    assert!(
        fields.contains(&"$.results.images[0].mock_node"),
        "{fields:?}"
    );
    assert!(
        fields.contains(&"$.chunk_details[0].mock_node"),
        "{fields:?}"
    );
    let text = report.to_text();
    assert!(
        text.contains("drift $.results[0].unknown: 0 where the spec says boolean (PHP's integer boolean, read as false; schema #/components/schemas/Result/properties/unknown)"),
        "{text}"
    );
    assert!(report.to_junit().contains("where the spec says boolean"));

    let overlay = report.drift_overlay();
    let mut scratch = Spec::embedded();
    let applied = scratch.apply_overlay(&overlay).unwrap();
    assert_eq!(applied, report.drift().len());
    let again = run(ContractConfig::new(Target::mock_quirks()).with_spec(scratch)).await;
    assert_eq!(again.failures(), 0, "{}", again.to_text());
    assert!(again.drift().is_empty(), "{}", again.to_text());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spending_nothing_skips_the_result_checks() {
    let report = run(ContractConfig::new(Target::mock()).with_budget(Budget::NOTHING)).await;
    assert_eq!(report.failures(), 0, "{}", report.to_text());
    assert!(report
        .checks
        .iter()
        .any(|c| matches!(c.outcome, Outcome::Skipped(_))));
    assert!(!report.checks.iter().any(|c| c.name.starts_with("submit")));
}

/// A server whose result answers changed `verdict.confidence` to a string.
fn changed_type_server() -> MockServer {
    let mock = MockServer::start_with(MockConfig::default().with_rate_limits(None));
    let body = r#"{"identifier":"IDENT","status":"done","api_version":"1.1.0","errors":null,
        "has_heatmap":false,"verdict":{"classification":"human","confidence":"high","heuristic":"default"}}"#;
    mock.inject_times(
        Route::GetImageClassification,
        Fault::new(200, "application/json", body),
        1,
    );
    mock
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_type_fails_and_names_the_field() {
    let mock = changed_type_server();
    let report = run(ContractConfig::new(Target::server(
        mock.base_url(),
        mock.api_key(),
    )))
    .await;
    assert_eq!(report.failures(), 1, "{}", report.to_text());
    let failed = report
        .checks
        .iter()
        .find(|c| matches!(c.outcome, Outcome::Failed(_)))
        .unwrap();
    assert!(failed.name.starts_with("result of"), "{}", failed.name);
    let Outcome::Failed(problems) = &failed.outcome else {
        unreachable!()
    };
    assert!(
        problems
            .iter()
            .any(|p| p.contains("$.verdict.confidence") && p.contains("expected number")),
        "{problems:?}"
    );
}

/// An earlier image (named by identifier) whose result is `done` without a verdict.
const NO_VERDICT_ID: &str = "0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_done_result_without_a_verdict_fails() {
    let mock = MockServer::start_with(MockConfig::default().with_rate_limits(None));
    let body = format!(
        r#"{{"identifier":"{NO_VERDICT_ID}","status":"done","api_version":"1.1.0","errors":null,"has_heatmap":false}}"#
    );
    // One answer finds its kind (an image), the other is its result.
    mock.inject_times(
        Route::GetImageClassification,
        Fault::new(200, "application/json", body),
        2,
    );
    let report = run(
        ContractConfig::new(Target::server(mock.base_url(), mock.api_key()))
            .with_budget(Budget::NOTHING)
            .with_identifiers(vec![identifai::Identifier::new(NO_VERDICT_ID).unwrap()]),
    )
    .await;
    let text = report.to_text();
    let result = report
        .checks
        .iter()
        .find(|c| c.name.starts_with("result of"))
        .expect(&text);
    let Outcome::Failed(problems) = &result.outcome else {
        panic!("the result check passed: {text}")
    };
    assert_eq!(problems.len(), 1, "{text}");
    assert!(
        problems[0].contains("$.verdict: `done` without a verdict"),
        "{problems:?}"
    );
}

/// A server whose result answers write `unknown` as 2: no boolean, PHP's
/// or other.
fn not_a_boolean_server() -> MockServer {
    let mock = MockServer::start_with(MockConfig::default().with_rate_limits(None));
    let body = r#"{"identifier":"IDENT","status":"done","api_version":"1.1.0","errors":null,
        "has_heatmap":0,"results":[{"model":"m","unknown":2}],
        "verdict":{"classification":"human","confidence":0.9,"heuristic":"default"}}"#;
    mock.inject_times(
        Route::GetImageClassification,
        Fault::new(200, "application/json", body),
        1,
    );
    mock
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_number_other_than_0_or_1_for_a_boolean_fails() {
    let mock = not_a_boolean_server();
    let report = run(ContractConfig::new(Target::server(
        mock.base_url(),
        mock.api_key(),
    )))
    .await;
    assert_eq!(report.failures(), 1, "{}", report.to_text());
    let text = report.to_text();
    assert!(
        text.contains("$.results[0].unknown: expected boolean, found integer 2"),
        "{text}"
    );
    // The 0 beside it is PHP's false: drift.
    let php: Vec<&str> = report
        .drift()
        .iter()
        .filter(|d| d.kind == DriftKind::PhpBoolean { value: 0.into() })
        .map(|d| d.field.as_str())
        .collect();
    assert_eq!(php, ["$.has_heatmap"], "{text}");
}

fn bin() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_identifai"));
    cmd.env_remove("IDENTIFAI_API_KEY")
        .env_remove("IDENTIFAI_BASE_URL")
        .env("NO_COLOR", "1");
    cmd
}

#[test]
fn cli_changed_type_exits_1_and_the_junit_names_check_and_field() {
    let mock = changed_type_server();
    let dir = tempfile::tempdir().unwrap();
    let junit = dir.path().join("contract.xml");
    let out = bin()
        .env("IDENTIFAI_API_KEY", mock.api_key())
        .args(["--base-url", &mock.base_url(), "contract", "--junit"])
        .arg(&junit)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.contains("failures=\"1\""), "{xml}");
    let case = xml
        .split("<testcase ")
        .find(|c| c.contains("<failure"))
        .unwrap();
    assert!(case.contains("name=\"result of "), "{case}");
    assert!(case.contains("$.verdict.confidence"), "{case}");
    assert!(
        !xml.contains(mock.api_key()),
        "the key is not in the report"
    );
}

#[test]
fn cli_quirks_drift_file_applied_to_a_scratch_spec_makes_drift_disappear() {
    let dir = tempfile::tempdir().unwrap();
    let drift = dir.path().join("drift.yaml");
    let out = bin()
        .args(["--mock", "--mock-quirks", "contract", "--drift"])
        .arg(&drift)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    // Undeclared fields (image, video, frame, audio, clip, two verdicts),
    // four booleans written as PHP's 0/1.
    assert!(stdout.contains("11 drift"), "{stdout}");
    assert!(
        stdout.contains("drift $.has_heatmap: 1 where the spec says boolean"),
        "{stdout}"
    );
    // --fail-on-drift turns it into exit 1.
    let strict = bin()
        .args(["--mock", "--mock-quirks", "contract", "--fail-on-drift"])
        .output()
        .unwrap();
    assert_eq!(strict.status.code(), Some(1));

    let overlay = std::fs::read_to_string(&drift).unwrap();
    assert!(overlay.contains("[drift]"), "{overlay}");
    assert!(overlay.contains("x-php-bool: true"), "{overlay}");
    let mut scratch = Spec::embedded();
    scratch.apply_overlay(&overlay).unwrap();
    let spec = dir.path().join("identifai.yaml");
    std::fs::write(&spec, scratch.to_yaml()).unwrap();
    let out = bin()
        .args([
            "--mock",
            "--mock-quirks",
            "contract",
            "--fail-on-drift",
            "--spec",
        ])
        .arg(&spec)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("0 failed, 0 skipped, 0 drift"), "{stdout}");
}

#[test]
fn cli_without_a_key_exits_5() {
    let out = bin().args(["contract"]).output().unwrap();
    assert_eq!(out.status.code(), Some(5));
}

#[test]
fn junit_test_names_are_the_same_on_two_runs() {
    // CI history follows a check by its name: no identifier in it.
    let names = |dir: &std::path::Path, n: u32| {
        let junit = dir.join(format!("contract-{n}.xml"));
        let out = bin()
            .args(["--mock", "contract", "--junit"])
            .arg(&junit)
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let xml = std::fs::read_to_string(&junit).unwrap();
        let names: Vec<String> = xml
            .split("<testcase ")
            .skip(1)
            .map(|c| {
                let attrs = c.split('>').next().unwrap();
                let start = attrs.find("name=\"").expect("a testcase has a name") + 6;
                attrs[start..].split('"').next().unwrap().to_string()
            })
            .collect();
        assert!(names.len() >= 5, "{xml}");
        names
    };
    let dir = tempfile::tempdir().unwrap();
    let first = names(dir.path(), 1);
    // Every kind, its list, and an override, through the real binary.
    for expected in [
        "result of the image submitted by URL",
        "/api/classifications lists the image submitted by URL",
        "result of the video submitted by URL",
        "/api/classifications_video lists the video submitted by URL",
        "result of the audio submitted by URL",
        "/api/classifications_audio lists the audio submitted by URL",
        "override round trip on the image submitted by URL",
    ] {
        assert!(
            first.iter().any(|n| n == expected),
            "{expected:?} in {first:?}"
        );
    }
    assert_eq!(first, names(dir.path(), 2));
    // The mock's identifiers repeat across runs; a live service's do not:
    // no name may carry one (a run of 16 hex digits).
    for name in &first {
        let longest_hex = name
            .split(|c: char| !c.is_ascii_hexdigit())
            .map(str::len)
            .max()
            .unwrap_or(0);
        assert!(longest_hex < 16, "an identifier in {name:?}");
    }
}

#[test]
fn cli_against_a_server_spends_what_its_flags_allow() {
    let mock = live_like();
    // No --override: the account's data is left alone.
    let out = bin()
        .env("IDENTIFAI_API_KEY", mock.api_key())
        .args([
            "--base-url",
            &mock.base_url(),
            "contract",
            "--deadline",
            "30",
        ])
        .args([
            "--videos-by-url",
            "1",
            "--image-url",
            "https://example.com/a.png",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    let stats = mock.stats();
    assert_eq!(stats.route(Route::ClassifyImageFromUrl), 1, "{stdout}");
    assert_eq!(stats.route(Route::ClassifyVideoFromUrl), 1, "{stdout}");
    assert_eq!(stats.route(Route::ClassifyAudioFromUrl), 0, "{stdout}");
    assert_eq!(stats.route(Route::OverrideClassification), 0, "{stdout}");
    assert!(stdout.contains("skip  override round trip: "), "{stdout}");
    assert!(stdout.contains("spent 2 paid classifications"), "{stdout}");

    // --override opts in: one override, read back.
    let out = bin()
        .env("IDENTIFAI_API_KEY", mock.api_key())
        .args(["--base-url", &mock.base_url(), "contract", "--override"])
        .args(["--images-by-url", "0", "--audios-by-url", "1"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    let stats = mock.stats();
    assert_eq!(stats.route(Route::ClassifyImageFromUrl), 1, "{stdout}");
    assert_eq!(stats.route(Route::ClassifyAudioFromUrl), 1, "{stdout}");
    assert_eq!(stats.route(Route::OverrideClassification), 1, "{stdout}");
    assert!(
        stdout.contains("ok    override round trip on the audio submitted by URL"),
        "{stdout}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disagreement_with_an_unpublished_element_is_drift_not_failure() {
    let url = "https://example.com/clip.mp4";
    let mock = live_like();
    let budget = Budget {
        videos_by_url: 1,
        ..Budget::NOTHING
    };
    // A first run learns the identifier the mock gives this URL (the same
    // submission gets the same one again).
    let first = run(as_server(&mock)
        .with_budget(budget)
        .with_video_url(url.into()))
    .await;
    assert_eq!(first.failures(), 0, "{}", first.to_text());
    let id = mock
        .requests()
        .iter()
        .find_map(|r| {
            r.path
                .strip_prefix("/api/classification_video/")
                .map(str::to_owned)
        })
        .expect("the run read the video's result");
    // `c2pa` at a video's top level and a frame's required `hash` are on no
    // published page (x-evidence none): a string there, a frame without it.
    let body = format!(
        r#"{{"identifier":"{id}","status":"done","api_version":"1.1.0","errors":null,
        "c2pa":"signed","verdict":{{"classification":"human","confidence":0.9,"heuristic":"default"}},
        "results":{{"images":[{{"results":[]}}],"audios":[]}}}}"#
    );
    mock.inject(
        Route::GetVideoClassification,
        Fault::new(200, "application/json", body.clone()),
    );
    // The list says the same.
    mock.inject(
        Route::ListVideoClassifications,
        Fault::new(200, "application/json", format!("[{body}]")),
    );
    let report = run(as_server(&mock)
        .with_budget(budget)
        .with_video_url(url.into()))
    .await;
    let text = report.to_text();
    assert_eq!(report.failures(), 0, "{text}");
    let unpublished: Vec<(&str, &str)> = report
        .drift()
        .into_iter()
        .filter_map(|d| match &d.kind {
            DriftKind::Unpublished { level, .. } => Some((d.field.as_str(), level.as_str())),
            _ => None,
        })
        .collect();
    assert!(unpublished.contains(&("$.c2pa", "none")), "{text}");
    assert!(
        unpublished.contains(&("$.results.images[0].hash", "none")),
        "{text}"
    );
    assert!(
        text.contains("an element no published page shows: none, no capture of the video result page shows a top-level c2pa"),
        "{text}"
    );
    // The drift overlay's actions declare what backs them.
    let overlay = report.drift_overlay();
    assert!(overlay.contains("x-evidence"), "{overlay}");
    let mut scratch = Spec::embedded();
    assert_eq!(
        scratch.apply_overlay(&overlay).unwrap(),
        report.drift().len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_disagreement_with_a_published_element_fails() {
    // An image's `c2pa` is on the published result page: a string there fails.
    let mock = live_like();
    let body = r#"{"identifier":"IDENT","status":"done","api_version":"1.1.0","errors":null,
        "c2pa":"signed","has_heatmap":false,
        "verdict":{"classification":"human","confidence":0.9,"heuristic":"default"}}"#;
    mock.inject(
        Route::GetImageClassification,
        Fault::new(200, "application/json", body),
    );
    let report = run(as_server(&mock)).await;
    let text = report.to_text();
    assert_eq!(report.failures(), 1, "{text}");
    assert!(text.contains("$.c2pa: expected object"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_earlier_audio_named_by_identifier_is_checked_as_an_audio_for_free() {
    let mock = live_like();
    let budget = Budget {
        audios_by_url: 1,
        ..Budget::NOTHING
    };
    let first = run(as_server(&mock).with_budget(budget)).await;
    assert_eq!(first.failures(), 0, "{}", first.to_text());
    let id = mock
        .requests()
        .iter()
        .find_map(|r| {
            r.path
                .strip_prefix("/api/classification_audio/")
                .map(str::to_owned)
        })
        .expect("the run read the audio's result");
    let before = mock.stats().submissions;
    let report = run(as_server(&mock)
        .with_budget(Budget::NOTHING)
        .with_identifiers(vec![identifai::Identifier::new(id).unwrap()]))
    .await;
    let text = report.to_text();
    assert_eq!(report.failures(), 0, "{text}");
    assert_eq!(
        mock.stats().submissions,
        before,
        "nothing submitted: {text}"
    );
    let names: Vec<&str> = report.checks.iter().map(|c| c.name.as_str()).collect();
    assert!(
        names
            .contains(&"/api/classifications_audio lists the classification named by --identifier"),
        "{names:?}"
    );
}

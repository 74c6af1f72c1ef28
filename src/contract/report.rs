//! The outcome of a run: a readable report, JUnit XML and the drift as
//! overlay actions.

use std::fmt::Write as _;
use std::time::Duration;

use serde_json::{json, Value};

use quick_junit::{NonSuccessKind, Property, TestCase, TestCaseStatus, TestSuite};

use super::schema::{infer, jsonpath, Drift, DriftKind, Spec, EVIDENCE, PHP_BOOL};
use super::Budget;

/// How a check ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Everything matched the spec.
    Passed,
    /// Something did not (the messages name the field).
    Failed(Vec<String>),
    /// Not run (why).
    Skipped(String),
}

/// One named check.
#[derive(Clone, Debug)]
pub struct Check {
    /// What was checked, e.g. `health answers as the spec says`.
    pub name: String,
    /// How it ended.
    pub outcome: Outcome,
    /// The drift first seen in this check's answers.
    pub drift: Vec<Drift>,
    /// How long it took.
    pub duration: Duration,
}

impl Check {
    pub(crate) fn passed(name: &str) -> Check {
        Check::with(name, Outcome::Passed)
    }
    pub(crate) fn failed(name: &str, problems: Vec<String>) -> Check {
        Check::with(name, Outcome::Failed(problems))
    }
    pub(crate) fn skipped(name: &str, why: &str) -> Check {
        Check::with(name, Outcome::Skipped(why.into()))
    }
    fn with(name: &str, outcome: Outcome) -> Check {
        Check {
            name: name.into(),
            outcome,
            drift: Vec::new(),
            duration: Duration::ZERO,
        }
    }
}

/// Every check of a run.
#[derive(Clone, Debug)]
pub struct Report {
    /// What was checked (a base URL, or the built-in mock).
    pub target: String,
    /// The checks, in the order they ran.
    pub checks: Vec<Check>,
    /// The paid classifications the run sent, per kind (each counted
    /// before it was sent, so never more than the budget).
    pub spent: Budget,
    spec: Spec,
}

impl Report {
    pub(crate) fn new(target: String) -> Report {
        Report {
            target,
            checks: Vec::new(),
            spent: Budget::NOTHING,
            spec: Spec::embedded(),
        }
    }

    pub(crate) fn with_spec(mut self, spec: Spec) -> Report {
        self.spec = spec;
        self
    }

    pub(crate) fn push(&mut self, check: Check) {
        self.checks.push(check);
    }

    /// How many checks failed.
    pub fn failures(&self) -> usize {
        self.checks
            .iter()
            .filter(|c| matches!(c.outcome, Outcome::Failed(_)))
            .count()
    }

    /// Whether no check failed.
    pub fn passed(&self) -> bool {
        self.failures() == 0
    }

    /// Every drift finding, once each.
    pub fn drift(&self) -> Vec<&Drift> {
        self.checks.iter().flat_map(|c| &c.drift).collect()
    }

    /// The readable report.
    pub fn to_text(&self) -> String {
        let mut out = format!("contract checks against {}\n", self.target);
        for c in &self.checks {
            let ms = c.duration.as_millis();
            match &c.outcome {
                Outcome::Passed => {
                    let _ = writeln!(out, "  ok    {} ({ms} ms)", c.name);
                }
                Outcome::Skipped(why) => {
                    let _ = writeln!(out, "  skip  {}: {why}", c.name);
                }
                Outcome::Failed(problems) => {
                    let _ = writeln!(out, "  FAIL  {} ({ms} ms)", c.name);
                    for p in problems {
                        let _ = writeln!(out, "        {p}");
                    }
                }
            }
            for d in &c.drift {
                let _ = writeln!(out, "  drift {}", describe(d));
            }
        }
        let drift = self.drift().len();
        let s = &self.spent;
        let _ = writeln!(
            out,
            "spent {} paid classifications: {} image(s) by URL, {} image upload(s), {} video(s) by URL, {} audio(s) by URL",
            s.paid(),
            s.images_by_url,
            s.image_uploads,
            s.videos_by_url,
            s.audios_by_url
        );
        let _ = writeln!(
            out,
            "{} checks, {} failed, {} skipped, {drift} drift",
            self.checks.len(),
            self.failures(),
            self.checks
                .iter()
                .filter(|c| matches!(c.outcome, Outcome::Skipped(_)))
                .count()
        );
        out
    }

    /// The report as JUnit XML (written by `quick-junit`): one `testcase`
    /// per check, named by the check (the same names on every run: no
    /// identifier in them), failures with every problem (each names the
    /// field), drift in each check's `system-out`; the target is the
    /// suite's `target` property.
    pub fn to_junit(&self) -> String {
        let mut suite = TestSuite::new("identifai contract");
        suite.add_property(Property::new("target", self.target.as_str()));
        let mut total = Duration::ZERO;
        for c in &self.checks {
            let status = match &c.outcome {
                Outcome::Passed => TestCaseStatus::success(),
                Outcome::Skipped(why) => {
                    let mut s = TestCaseStatus::skipped();
                    s.set_message(why.as_str());
                    s
                }
                Outcome::Failed(problems) => {
                    let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                    s.set_message(problems.first().map_or("", String::as_str))
                        .set_type("contract")
                        .set_description(problems.join("\n"));
                    s
                }
            };
            let mut case = TestCase::new(c.name.as_str(), status);
            case.set_classname("identifai.contract")
                .set_time(c.duration);
            if !c.drift.is_empty() {
                let lines: Vec<String> = c
                    .drift
                    .iter()
                    .map(|d| format!("drift {}", describe(d)))
                    .collect();
                case.set_system_out(lines.join("\n"));
            }
            total += c.duration;
            suite.add_test_case(case);
        }
        suite.set_time(total);
        let mut report = quick_junit::Report::new("identifai contract");
        report.set_time(total).add_test_suite(suite);
        report
            .to_string()
            .expect("JUnit XML of plain strings serialises")
    }

    /// The drift as an Overlay 1.0 document: one action per finding that
    /// would make the spec describe what was seen (a property declared with
    /// the shape seen, an enum value added, a boolean marked `x-php-bool:
    /// true`, i.e. written as PHP's `0`/`1`, its type unchanged so the
    /// generated client still has a `bool`). Append its `actions` to
    /// `openapi/overlay.yaml` after review; `cargo xtask spec` applies them.
    pub fn drift_overlay(&self) -> String {
        let actions: Vec<Value> = self
            .drift()
            .into_iter()
            .map(|d| {
                let target = jsonpath(self.spec.document(), &d.schema);
                match &d.kind {
                    DriftKind::UndeclaredField { name, seen } => json!({
                        "target": format!("{target}.properties"),
                        "description": format!(
                            "[drift] `identifai contract` saw `{}` ({}), which the spec does not declare, against {}",
                            d.field, name, self.target
                        ),
                        "update": { name.clone(): infer(seen) },
                    }),
                    DriftKind::UnknownEnumValue { value } => json!({
                        "target": format!("{target}.enum"),
                        "description": format!(
                            "[drift] `identifai contract` saw {value} at `{}`, outside the enum, against {}",
                            d.field, self.target
                        ),
                        "update": [value],
                    }),
                    DriftKind::PhpBoolean { value } => json!({
                        "target": target,
                        "description": format!(
                            "[drift] `identifai contract` saw {value} at `{}`, PHP's integer boolean where the spec says boolean, against {}",
                            d.field, self.target
                        ),
                        "update": { PHP_BOOL: true },
                    }),
                    DriftKind::Unpublished { level, message, .. } => json!({
                        "target": target,
                        "description": format!(
                            "[drift] `identifai contract` saw `{}` disagree with an element no published page shows ({level}): {message}, against {}; correct the action that added it",
                            d.field, self.target
                        ),
                        "update": {},
                    }),
                }
            })
            .map(|mut action| {
                // What backs the action: what the run saw, on no page.
                action[EVIDENCE] = json!({
                    "level": "none",
                    "reason": format!("seen by `identifai contract` against {}; no page shows it", self.target),
                });
                action
            })
            .collect();
        let doc = json!({
            "overlay": "1.0.0",
            "info": { "title": "identifai contract: drift seen", "version": "1.0.0" },
            "actions": actions,
        });
        serde_yaml_ng::to_string(&doc).unwrap_or_default()
    }
}

fn describe(d: &Drift) -> String {
    match &d.kind {
        DriftKind::UndeclaredField { seen, .. } => {
            format!(
                "{}: undeclared field (seen {}; schema #{})",
                d.field,
                kind_of(seen),
                d.schema
            )
        }
        DriftKind::UnknownEnumValue { value } => {
            format!(
                "{}: {value} is not in the enum (schema #{})",
                d.field, d.schema
            )
        }
        DriftKind::PhpBoolean { value } => {
            format!(
                "{}: {value} where the spec says boolean (PHP's integer boolean, read as {}; schema #{})",
                d.field,
                value.as_u64() == Some(1),
                d.schema
            )
        }
        DriftKind::Unpublished {
            level,
            reason,
            message,
        } => unpublished(d, level, reason, message),
    }
}

fn unpublished(d: &Drift, level: &str, reason: &str, message: &str) -> String {
    format!(
        "{}: {message} (an element no published page shows: {level}, {reason}; schema #{})",
        d.field, d.schema
    )
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

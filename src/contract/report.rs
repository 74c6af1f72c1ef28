//! The outcome of a run: a readable report, JUnit XML and the drift as
//! overlay actions.

use std::fmt::Write as _;
use std::time::Duration;

use serde_json::{json, Value};

use super::schema::{infer, jsonpath, Drift, DriftKind, Spec, PHP_BOOL};

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
    spec: Spec,
}

impl Report {
    pub(crate) fn new(target: String) -> Report {
        Report {
            target,
            checks: Vec::new(),
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

    /// The report as JUnit XML: one `testcase` per check (failures name the
    /// field), drift in each check's `system-out`.
    pub fn to_junit(&self) -> String {
        let skipped = self
            .checks
            .iter()
            .filter(|c| matches!(c.outcome, Outcome::Skipped(_)))
            .count();
        let total: f64 = self.checks.iter().map(|c| c.duration.as_secs_f64()).sum();
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        let _ = writeln!(
            out,
            "<testsuites name=\"identifai contract\" tests=\"{}\" failures=\"{}\" skipped=\"{skipped}\" time=\"{total:.3}\">",
            self.checks.len(),
            self.failures()
        );
        let _ = writeln!(
            out,
            "  <testsuite name=\"identifai contract\" hostname=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"{skipped}\" time=\"{total:.3}\">",
            xml(&self.target),
            self.checks.len(),
            self.failures()
        );
        for c in &self.checks {
            let _ = write!(
                out,
                "    <testcase classname=\"identifai.contract\" name=\"{}\" time=\"{:.3}\"",
                xml(&c.name),
                c.duration.as_secs_f64()
            );
            let mut inner = String::new();
            match &c.outcome {
                Outcome::Passed => {}
                Outcome::Skipped(why) => {
                    let _ = writeln!(inner, "      <skipped message=\"{}\"/>", xml(why));
                }
                Outcome::Failed(problems) => {
                    let _ = writeln!(
                        inner,
                        "      <failure message=\"{}\" type=\"contract\">{}</failure>",
                        xml(&problems[0]),
                        xml(&problems.join("\n"))
                    );
                }
            }
            if !c.drift.is_empty() {
                let lines: Vec<String> = c
                    .drift
                    .iter()
                    .map(|d| format!("drift {}", describe(d)))
                    .collect();
                let _ = writeln!(
                    inner,
                    "      <system-out>{}</system-out>",
                    xml(&lines.join("\n"))
                );
            }
            if inner.is_empty() {
                out.push_str("/>\n");
            } else {
                out.push_str(">\n");
                out.push_str(&inner);
                out.push_str("    </testcase>\n");
            }
        }
        out.push_str("  </testsuite>\n</testsuites>\n");
        out
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
                }
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
    }
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

fn xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            c if (c as u32) < 0x20 && c != '\t' => {}
            c => out.push(c),
        }
    }
    out
}

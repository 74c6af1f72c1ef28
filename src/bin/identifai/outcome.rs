//! What became of one input or identifier: its record, its result, notes
//! and problems; how it counts into the exit and how it is printed.

use identifai::api::types::Classification;
use identifai::{AnyResult, Error, Identifier, Kind};

use crate::context::Context;
use crate::exit::{Exit, Tally};
use crate::output::{summary, terminal_safe, Notes, Paint, Record};

/// What became of one input.
pub struct Outcome {
    /// Its record (printed with `--json`).
    pub record: Record,
    /// The typed result, for the summary.
    pub typed: Option<AnyResult>,
    /// Extra lines for the summary.
    pub notes: Notes,
    /// Errors to print (besides the record's own).
    pub problems: Vec<String>,
    /// The service knew no such classification (404).
    pub missing: bool,
}

impl Outcome {
    /// A result fetched: its record, the typed value and what to report.
    fn fetched(record: Record, typed: AnyResult, problems: Vec<String>) -> Outcome {
        Outcome {
            record,
            typed: Some(typed),
            notes: Notes::default(),
            problems,
            missing: false,
        }
    }

    pub fn failed(ctx: &Context, record: Record, what: &str, e: &Error) -> Outcome {
        Outcome {
            problems: vec![ctx.error_line(what, e)],
            record,
            typed: None,
            notes: Notes::default(),
            missing: e.status() == Some(404),
        }
    }
}

/// The outcome of a wait: the result, or for an `errored` classification
/// the service's answer (fetched once more), or the error.
pub async fn outcome_of(
    ctx: &Context,
    path: Option<String>,
    id: &Identifier,
    kind: Kind,
    waited: identifai::Result<AnyResult>,
) -> Outcome {
    let what = path.clone().unwrap_or_else(|| id.to_string());
    match waited {
        Ok(typed) => {
            let record = Record::from_result(path, &typed);
            let problems = match record.status.as_str() {
                "errored" => vec![ctx.scrub(&terminal_safe(&format!(
                    "error: {what}: classification {id} errored: {}",
                    record.error.as_deref().unwrap_or("")
                )))],
                _ => Vec::new(),
            };
            Outcome::fetched(record, typed, problems)
        }
        Err(e @ Error::ClassificationErrored { .. }) => {
            let problems = vec![ctx.error_line(&what, &e)];
            match fetch(ctx, id, kind).await {
                Ok(typed) => {
                    let mut record = Record::from_result(path, &typed);
                    record.status = "errored".into();
                    record.code = Some("errored");
                    if record.error.is_none() {
                        if let Error::ClassificationErrored { errors, .. } = &e {
                            record.error = Some(errors.clone());
                        }
                    }
                    Outcome::fetched(record, typed, problems)
                }
                Err(_) => {
                    let mut record = Record::failed_with(path, Some(kind.as_str()), &e);
                    record.status = "errored".into();
                    record.identifier = Some(id.to_string());
                    Outcome {
                        record,
                        typed: None,
                        notes: Notes::default(),
                        problems,
                        missing: false,
                    }
                }
            }
        }
        Err(e) => {
            let mut record = Record::failed_with(path, Some(kind.as_str()), &e);
            record.identifier = Some(id.to_string());
            Outcome::failed(ctx, record, &what, &e)
        }
    }
}

/// One GET of a result.
pub async fn fetch(ctx: &Context, id: &Identifier, kind: Kind) -> identifai::Result<AnyResult> {
    ctx.client.result_as(kind, id).await
}

/// Counts an outcome into the run's exit: its failure's, 1 for a problem
/// besides (a heatmap not saved), else a success (matching `--fail-on` or
/// not).
pub fn count(tally: &mut Tally, o: &Outcome, fail_on: Option<&Classification>) {
    match o.record.failure_exit() {
        Some(exit) => tally.failed(exit),
        None if !o.problems.is_empty() => tally.failed(Exit::Error),
        None => tally.succeeded(matches_verdict(&o.record, fail_on)),
    }
}

/// Whether the record's verdict is `--fail-on`'s.
pub fn matches_verdict(record: &Record, fail_on: Option<&Classification>) -> bool {
    matches!((fail_on, &record.verdict), (Some(f), Some(v)) if f.as_str() == v)
}

pub fn print_outcome(ctx: &Context, o: &Outcome, no_wait: bool, first: &mut bool, p: Paint) {
    for problem in &o.problems {
        ctx.eprintln(problem);
    }
    if ctx.json {
        ctx.println(&o.record.to_line());
        return;
    }
    if no_wait {
        if let (Some(id), "submitted") = (&o.record.identifier, o.record.status.as_str()) {
            ctx.println(id);
        }
        return;
    }
    if let Some(typed) = &o.typed {
        if !*first {
            ctx.println("");
        }
        *first = false;
        let title = o
            .record
            .path
            .clone()
            .or_else(|| o.record.identifier.clone())
            .unwrap_or_default();
        let notes = Notes {
            lines: o.notes.lines.clone(),
            dashboard: official(ctx),
        };
        // The answer's JSON as the record parsed it (a result's record
        // always has it).
        let null = serde_json::Value::Null;
        let raw = o.record.result.as_ref().unwrap_or(&null);
        ctx.println(summary(&title, typed, raw, &notes, p).trim_end());
    }
}

/// Whether the client talks to the real service (its dashboard exists).
fn official(ctx: &Context) -> bool {
    is_official(ctx.mock, ctx.client.base_url())
}

/// The rule of [`official`]: not `--mock`, and the default base URL.
fn is_official(mock: bool, base_url: &str) -> bool {
    !mock && base_url.trim_end_matches('/') == identifai::ClientBuilder::DEFAULT_BASE_URL
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_real_service_is_official() {
        assert!(is_official(false, "https://backend.identifai.net"));
        assert!(is_official(false, "https://backend.identifai.net/"));
        assert!(!is_official(true, "https://backend.identifai.net"));
        assert!(!is_official(false, "http://127.0.0.1:8080"));
        assert!(!is_official(
            false,
            "https://backend.identifai.net.example.com"
        ));
    }

    #[test]
    fn the_summary_links_the_dashboard_only_when_told() {
        let typed = AnyResult::from_json(
            identifai::Kind::Image,
            r#"{"identifier":"x","status":"done","result_url":"https://identifai.net/d/x"}"#,
        )
        .unwrap();
        let raw = typed.raw_value();
        let mut notes = Notes::default();
        assert!(!summary("t", &typed, &raw, &notes, Paint(false)).contains("dashboard"));
        notes.dashboard = true;
        assert!(summary("t", &typed, &raw, &notes, Paint(false)).contains("dashboard"));
    }
}

//! `identifai api`: any operation of the spec, like `gh api`. Its
//! subcommands (one per operation, each input a flag with the spec's
//! description as help) are made at start-up from the generated
//! `identifai::api::OPERATIONS` and `OperationInputs`, so a new operation
//! reaches the command line by regeneration alone; the request itself is
//! `identifai::Call`, sent by the client as every other command's.

use std::path::PathBuf;

use clap::{Arg, ArgAction, ArgMatches, Args};
use identifai::api::{InputLocation, InputValue, Operation, OPERATIONS};
use identifai::{Call, Error};

use crate::context::Context;
use crate::exit::{exit_codes, usage, Exit, API_EXITS};
use crate::global::Global;
use crate::journal::{epoch_ms, key_of, Journal};
use crate::media::sha256_file;
use crate::output::{out, terminal_safe, Record, Skip};

/// `identifai api`'s own options (each operation is a subcommand, added by
/// [`with_operations`]).
#[derive(Debug, Args)]
pub struct ApiArgs {
    /// List every operation: its name, method, path and summary.
    #[arg(long)]
    pub list: bool,
}

/// The names clap already uses in an operation's subcommand: an input of
/// that name is given with `--param`/`--field`/`--file` only.
const TAKEN: &[&str] = &[
    "param",
    "field",
    "file",
    "output",
    "journal",
    "help",
    "api-key",
    "base-url",
    "mock",
    "mock-quirks",
    "json",
    "verbose",
    "pacer",
    "rate-scale",
];

/// `cli` with one subcommand of `api` per operation of the spec.
pub fn with_operations(cli: clap::Command) -> clap::Command {
    cli.mut_subcommand("api", |api| {
        api.subcommands(OPERATIONS.iter().map(operation_command))
    })
}

/// The subcommand of one operation: the generic flags, then a flag per input.
fn operation_command(op: &'static Operation) -> clap::Command {
    let inputs = op.inputs().map(|i| i.inputs).unwrap_or_default();
    let summary = op.inputs().map_or("", |i| i.summary);
    let description = op.inputs().map_or("", |i| i.description);
    let mut cmd = clap::Command::new(op.name)
        .about(format!("{} {}: {summary}", op.method, op.path))
        .long_about(format!("{} {}\n\n{summary}\n\n{description}", op.method, op.path).trim_end().to_string())
        .after_help(exit_codes(API_EXITS))
        .arg(generic("param", "NAME=VALUE", "A path, query or header parameter (repeat for an array)"))
        .arg(generic("field", "NAME=VALUE", "A field of the JSON body or a text field of the form (repeat for an array)"))
        .arg(generic("file", "PART=@PATH", "A file part of the form, read from PATH (its content type from its name)"))
        .arg(
            Arg::new("output")
                .short('o')
                .long("output")
                .value_name("FILE")
                .value_parser(clap::value_parser!(PathBuf))
                .help("Write the answer to FILE (needed for an answer that is not JSON or text, such as a PNG)"),
        );
    if op.is_submission() {
        cmd = cmd.arg(
            Arg::new("journal")
                .long("journal")
                .value_name("FILE")
                .value_parser(clap::value_parser!(PathBuf))
                .help("Record the accepted submission in FILE as `batch` does (a `submitted` line, synced): `batch --out FILE --resume` then waits for it instead of sending the file again"),
        );
    }
    let mut seen: Vec<String> = Vec::new();
    for input in inputs {
        let flag = flag_name(input.name);
        if flag.is_empty() || TAKEN.contains(&flag.as_str()) || seen.contains(&flag) {
            continue;
        }
        seen.push(flag.clone());
        let (value_name, heading) = match (input.location, input.value) {
            (InputLocation::File, _) => ("PATH", "Form files"),
            (l, v) => (
                match v {
                    InputValue::Integer => "INTEGER",
                    InputValue::Number => "NUMBER",
                    InputValue::Boolean => "BOOL",
                    InputValue::Json => "JSON",
                    _ => "TEXT",
                },
                match l {
                    InputLocation::Path | InputLocation::Query | InputLocation::Header => {
                        "Parameters"
                    }
                    _ => "Body fields",
                },
            ),
        };
        let mut help = input.description.trim().to_string();
        if input.required {
            help.push_str(" [required]");
        }
        let mut arg = Arg::new(leak(input_id(input.name)))
            .long(leak(flag.clone()))
            .value_name(value_name)
            .help(help)
            .help_heading(heading)
            .action(if input.repeated {
                ArgAction::Append
            } else {
                ArgAction::Set
            });
        let alias = flag.replace('_', "-");
        if alias != flag && !TAKEN.contains(&alias.as_str()) && !seen.contains(&alias) {
            seen.push(alias.clone());
            arg = arg.visible_alias(leak(alias));
        }
        if !input.values.is_empty() {
            arg = arg.value_parser(clap::builder::PossibleValuesParser::new(input.values));
        } else if input.value == InputValue::Boolean {
            arg = arg.value_parser(clap::builder::PossibleValuesParser::new(["true", "false"]));
        }
        cmd = cmd.arg(arg);
    }
    cmd
}

fn generic(id: &'static str, value_name: &'static str, help: &'static str) -> Arg {
    Arg::new(id)
        .long(id)
        .value_name(value_name)
        .help(help)
        .action(ArgAction::Append)
}

/// `identifiers[]` -> `identifiers`: the flag of an input.
fn flag_name(name: &str) -> String {
    name.trim_end_matches("[]")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect::<String>()
        .trim_matches('-')
        .to_string()
}

/// clap (without its `string` feature) takes `&'static str` names: the
/// flags are made once per run, so their few bytes are leaked.
fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

fn input_id(name: &str) -> String {
    format!("input:{name}")
}

/// `identifai api [--list | <operation> ...]`.
pub async fn run(
    global: &Global,
    args: ApiArgs,
    call: Option<(String, ArgMatches)>,
) -> anyhow::Result<Exit> {
    let Some((name, matches)) = call.filter(|_| !args.list) else {
        return list(global.json);
    };
    let op = Operation::named(&name).ok_or_else(|| usage(format!("no operation {name}")))?;
    let (call, output, media) = build(op, &matches).map_err(|e| usage(e.to_string()))?;
    // A submission's journal: locked and read before anything is sent.
    let journal = match matches.try_get_one::<PathBuf>("journal").ok().flatten() {
        Some(path) => Some(Journal::open(path, true, false)?.0),
        None => None,
    };
    let sha256 = match (&journal, &media) {
        (Some(_), Some(Media::File(path))) => Some(sha256_file(path).await?),
        _ => None,
    };
    let ctx = Context::new(global, op.api_key)?;
    // Recorded before anything else; should that fail, the answer is still
    // printed (it carries the identifier), then the error.
    let mut recorded = Ok(());
    let answer = match ctx.client.call(&call).await {
        Ok(answer) => {
            if let (Some(mut journal), Some(media)) = (journal, media) {
                recorded = record(&mut journal, op, &answer, media, sha256);
            }
            answer
        }
        Err(Error::InvalidInput(e)) => return Err(usage(e.to_string())),
        // Printed (with its code) and mapped to its exit by `main`.
        Err(e) => return Err(anyhow::Error::new(e).context(op.name)),
    };
    let body = answer.body();
    let text = std::str::from_utf8(body).ok();
    let textual = answer.is_json()
        || answer
            .content_type()
            .is_some_and(|t| t.trim_start().to_ascii_lowercase().starts_with("text/"));
    match (output, text) {
        (Some(path), _) => crate::files::write_whole(&path, body)?,
        // An empty answer (a 204) prints nothing.
        _ if body.is_empty() => {}
        (None, Some(text)) if textual => {
            // JSON as the server wrote it, pretty on a terminal; text as is.
            let pretty = if answer.is_json() && ctx.color {
                serde_json::from_str::<serde_json::Value>(text)
                    .ok()
                    .and_then(|v| serde_json::to_string_pretty(&v).ok())
            } else {
                None
            };
            let shown = pretty.unwrap_or_else(|| text.trim_end().to_string());
            // A server's control characters are shown escaped, line by line.
            let lines: Vec<String> = shown.lines().map(terminal_safe).collect();
            ctx.println(&lines.join("\n"));
        }
        (None, _) => {
            return Err(usage(format!(
                "{} answered {} ({} bytes): write it to a file with -o FILE",
                op.name,
                answer.content_type().unwrap_or("no content type"),
                body.len()
            )))
        }
    }
    recorded?;
    Ok(Exit::Ok)
}

/// What a submission sends, for its journal record.
enum Media {
    File(PathBuf),
    Url(String),
}

/// Appends the `submitted` record of an accepted submission to `journal`:
/// the line `batch` writes the moment the service accepts a file.
fn record(
    journal: &mut Journal,
    op: &Operation,
    answer: &identifai::CallAnswer,
    media: Media,
    sha256: Option<String>,
) -> anyhow::Result<()> {
    let id = identifai::Identifier::from_response(answer.content_type(), answer.body())?;
    let path = match media {
        Media::File(path) => key_of(&path.display().to_string()),
        Media::Url(url) => url,
    };
    let record = Record {
        path: Some(path),
        sha256: Skip::Present(sha256),
        kind: op.kind,
        identifier: Some(id.as_str().to_string()),
        status: "submitted".into(),
        sent_at: Some(epoch_ms(std::time::SystemTime::now())),
        ..Record::default()
    };
    journal.append(&record.to_line())
}

/// The call an operation's flags describe, `-o`'s file and, for a
/// submission, the file or URL it sends.
fn build(
    op: &'static Operation,
    m: &ArgMatches,
) -> identifai::Result<(Call, Option<PathBuf>, Option<Media>)> {
    let mut call = Call::new(op);
    let mut media = None;
    let inputs = op.inputs().map(|i| i.inputs).unwrap_or_default();
    for input in inputs {
        let id = input_id(input.name);
        let given = m
            .try_get_many::<String>(&id)
            .ok()
            .flatten()
            .into_iter()
            .flatten();
        for value in given {
            call = if input.location == InputLocation::File {
                media = Some(Media::File(PathBuf::from(value)));
                call.file(input.name, value, None)?
            } else {
                if input.name == "url" {
                    media = Some(Media::Url(value.clone()));
                }
                call.value(input.name, value.as_str())?
            };
        }
    }
    let pairs = |id: &str| -> Vec<String> {
        m.get_many::<String>(id)
            .into_iter()
            .flatten()
            .cloned()
            .collect()
    };
    for id in ["param", "field"] {
        for pair in pairs(id) {
            let (name, value) = split(&pair, id)?;
            // Each input with its own flag: --param, --field or --file.
            let bare = name.trim_end_matches("[]");
            let right = inputs
                .iter()
                .find(|i| i.name.trim_end_matches("[]") == bare)
                .map(|i| match i.location {
                    InputLocation::File => "file",
                    InputLocation::Json | InputLocation::Form => "field",
                    _ => "param",
                });
            if let Some(right) = right.filter(|r| *r != id) {
                return Err(bad(
                    id,
                    format!("`{name}` of {} is given with --{right}", op.name),
                ));
            }
            if name == "url" {
                media = Some(Media::Url(value.to_string()));
            }
            call = call.value(name, value)?;
        }
    }
    for pair in pairs("file") {
        let (name, path) = split(&pair, "file")?;
        let path = path.strip_prefix('@').unwrap_or(path);
        media = Some(Media::File(PathBuf::from(path)));
        call = call.file(name, path, None)?;
    }
    let media = media.filter(|_| op.is_submission());
    Ok((call, m.get_one::<PathBuf>("output").cloned(), media))
}

fn split<'a>(pair: &'a str, flag: &'static str) -> identifai::Result<(&'a str, &'a str)> {
    pair.split_once('=')
        .ok_or_else(|| bad(flag, format!("--{flag} takes NAME=VALUE, not {pair:?}")))
}

fn bad(setting: &'static str, reason: String) -> Error {
    identifai::InputError::InvalidSetting { setting, reason }.into()
}

/// `--list`: every operation, one a line (a JSON array with `--json`).
fn list(json: bool) -> anyhow::Result<Exit> {
    let summary = |op: &Operation| op.inputs().map_or("", |i| i.summary);
    if json {
        let all: Vec<serde_json::Value> = OPERATIONS
            .iter()
            .map(|op| {
                serde_json::json!({
                    "name": op.name,
                    "method": op.method,
                    "path": op.path,
                    "summary": summary(op),
                })
            })
            .collect();
        out(&serde_json::Value::Array(all).to_string());
        return Ok(Exit::Ok);
    }
    let width = OPERATIONS.iter().map(|op| op.name.len()).max().unwrap_or(0);
    let path_width = OPERATIONS.iter().map(|op| op.path.len()).max().unwrap_or(0);
    for op in OPERATIONS {
        out(&format!(
            "{:<width$}  {:<6} {:<path_width$}  {}",
            op.name,
            op.method,
            op.path,
            summary(op)
        ));
    }
    Ok(Exit::Ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_are_the_input_names_without_brackets() {
        assert_eq!(flag_name("identifiers[]"), "identifiers");
        assert_eq!(flag_name("per_page"), "per_page");
        assert_eq!(flag_name("a b"), "a-b");
    }
}

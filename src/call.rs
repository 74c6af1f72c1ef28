//! Any operation of the spec, by name, with its inputs given as text:
//! [`Call`] and [`Client::call`].

use std::path::PathBuf;

use bytes::Bytes;
use progenitor_client::{ClientInfo as _, OperationInfo};

use crate::api::{FilePart, Input, InputLocation, InputValue, Layer as _, Operation};
use crate::client::Client;
use crate::error::{Error, InputError, Result};

/// A request for one operation of the spec, built from text: each value is
/// checked against the operation's inputs as it is added.
///
/// [`Client::call`] sends it; it is what the command line's `identifai api`
/// sends. The inputs are checked against the spec's description of the
/// operation ([`crate::api::OperationInputs`]), so an operation the API adds
/// is callable as soon as the client is regenerated; the request goes
/// through the client's transport (key, pacing, retries, caps), and a file
/// upload through the same resend policy as `classify_*`.
///
/// ```
/// # #[cfg(feature = "mock")]
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> identifai::Result<()> {
/// # let server = identifai::mock::MockServer::start();
/// # let client = server.client_builder().build()?;
/// // `client` talks to the built-in mock here (feature `mock`).
/// let call = identifai::Call::named("list_partner_users")?.value("per_page", "10")?;
/// let answer = client.call(&call).await?;
/// assert_eq!(answer.status(), 200);
/// println!("{}", String::from_utf8_lossy(answer.body()));
///
/// // Unknown operations and inputs are refused before anything is sent.
/// assert!(identifai::Call::named("no_such_operation").is_err());
/// assert!(call.clone().value("no_such_input", "1").is_err());
/// # Ok(()) }
/// # #[cfg(not(feature = "mock"))]
/// # fn main() {}
/// ```
#[derive(Clone, Debug)]
pub struct Call {
    operation: &'static Operation,
    values: Vec<(&'static Input, Value)>,
}

#[derive(Clone, Debug)]
enum Value {
    Text(String),
    File {
        path: PathBuf,
        content_type: Option<String>,
    },
}

/// The answer of a [`Client::call`] with a success status: its status,
/// content type and body (read under the client's caps, the key scrubbed).
#[derive(Clone, Debug)]
pub struct CallAnswer {
    status: u16,
    content_type: Option<String>,
    body: Bytes,
}

impl CallAnswer {
    /// The HTTP status (2xx).
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The answer's `Content-Type`, if any.
    pub fn content_type(&self) -> Option<&str> {
        self.content_type.as_deref()
    }

    /// Whether the answer says it is JSON (`application/json`, `+json`).
    pub fn is_json(&self) -> bool {
        self.content_type
            .as_deref()
            .is_some_and(crate::api::is_json_type)
    }

    /// The body as sent.
    pub fn body(&self) -> &Bytes {
        &self.body
    }
}

fn invalid(setting: &'static str, reason: String) -> Error {
    InputError::InvalidSetting { setting, reason }.into()
}

impl Call {
    /// A call of `operation`, with no input yet.
    pub fn new(operation: &'static Operation) -> Self {
        Self {
            operation,
            values: Vec::new(),
        }
    }

    /// A call of the operation whose operationId is `name`.
    pub fn named(name: &str) -> Result<Self> {
        Operation::named(name).map(Self::new).ok_or_else(|| {
            invalid(
                "operation",
                format!("the spec has no operation `{name}` (`identifai api --list` lists them)"),
            )
        })
    }

    /// The operation called.
    pub fn operation(&self) -> &'static Operation {
        self.operation
    }

    fn input(&self, name: &str, file: bool) -> Result<&'static Input> {
        let inputs = self
            .operation
            .inputs()
            .map(|i| i.inputs)
            .unwrap_or_default();
        let found = inputs
            .iter()
            .find(|i| i.name == name || i.name.trim_end_matches("[]") == name);
        match found {
            Some(i) if (i.location == InputLocation::File) == file => Ok(i),
            Some(i) => Err(invalid(
                i.name,
                if file {
                    format!("`{}` of {} is not a file part", i.name, self.operation.name)
                } else {
                    format!(
                        "`{}` of {} is a file part: give a file",
                        i.name, self.operation.name
                    )
                },
            )),
            None => {
                let names: Vec<&str> = inputs.iter().map(|i| i.name).collect();
                Err(invalid(
                    "input",
                    format!(
                        "{} has no input `{name}`; it takes: {}",
                        self.operation.name,
                        if names.is_empty() {
                            "nothing".into()
                        } else {
                            names.join(", ")
                        }
                    ),
                ))
            }
        }
    }

    /// Adds the value of parameter or field `name` (an array's: one
    /// element per call), checked against its type and allowed values.
    pub fn value(mut self, name: &str, value: impl Into<String>) -> Result<Self> {
        let input = self.input(name, false)?;
        let value = value.into();
        check(input, &value)?;
        if !input.repeated && self.values.iter().any(|(i, _)| std::ptr::eq(*i, input)) {
            return Err(invalid(
                input.name,
                format!("`{}` takes one value; it was given twice", input.name),
            ));
        }
        self.values.push((input, Value::Text(value)));
        Ok(self)
    }

    /// Adds file part `name`, read from `path` (checked now and re-opened
    /// for each attempt). Its content type is `content_type`, else guessed
    /// from the file name; it must be one the spec allows for the part.
    pub fn file(
        mut self,
        name: &str,
        path: impl Into<PathBuf>,
        content_type: Option<String>,
    ) -> Result<Self> {
        let input = self.input(name, true)?;
        let path = path.into();
        crate::Source::check_file(&path)?;
        if self.values.iter().any(|(i, _)| std::ptr::eq(*i, input)) {
            return Err(invalid(
                input.name,
                format!("`{}` takes one file; it was given twice", input.name),
            ));
        }
        self.values
            .push((input, Value::File { path, content_type }));
        Ok(self)
    }

    /// Whether it uploads a file (sent again, re-opened, after a 429).
    pub fn uploads(&self) -> bool {
        self.values
            .iter()
            .any(|(_, v)| matches!(v, Value::File { .. }))
    }

    fn texts(&self, location: InputLocation) -> impl Iterator<Item = (&'static Input, &str)> {
        self.values.iter().filter_map(move |(i, v)| match v {
            Value::Text(t) if i.location == location => Some((*i, t.as_str())),
            _ => None,
        })
    }

    /// The request of one attempt (files opened anew).
    async fn request(&self, client: &Client) -> Result<reqwest::Request> {
        let op = self.operation;
        let inputs = op.inputs().map(|i| i.inputs).unwrap_or_default();
        for input in inputs {
            let given = self.values.iter().any(|(i, _)| std::ptr::eq(*i, input));
            // A required nullable form field is sent empty (null to Laravel).
            let empty_ok = input.nullable && input.location == InputLocation::Form;
            if input.required && !given && !empty_ok {
                return Err(invalid(
                    input.name,
                    format!("{} needs `{}`: {}", op.name, input.name, input.description),
                ));
            }
        }
        let path = op.path_with(|name| {
            let value = self
                .texts(InputLocation::Path)
                .find(|(i, _)| i.name == name);
            progenitor_client::encode_path(value.map_or("", |(_, v)| v))
        });
        let url = format!("{}{}", client.base_url().trim_end_matches('/'), path);
        let method = reqwest::Method::from_bytes(op.method.as_bytes())
            .map_err(|e| invalid("operation", format!("{}: {e}", op.method)))?;
        let query: Vec<(&str, &str)> = self
            .texts(InputLocation::Query)
            .map(|(i, v)| (i.name, v))
            .collect();
        let mut builder = client.api().client().request(method, url).query(&query);
        let mut accept = None;
        for (input, value) in self.texts(InputLocation::Header) {
            if input.name.eq_ignore_ascii_case("accept") {
                accept = Some(value.to_string());
            } else {
                builder = builder.header(input.name, value);
            }
        }
        // Exactly one Accept: the one asked for, else the first answer type.
        let answers = op
            .inputs()
            .map(|i| i.answer_content_types)
            .unwrap_or_default();
        if let Some(accept) = accept.or_else(|| answers.first().map(|t| t.to_string())) {
            builder = builder.header(reqwest::header::ACCEPT, accept);
        }
        if op.request_content_type == Some("application/json") {
            builder = builder.json(&self.json_body()?);
        } else if op
            .request_content_type
            .is_some_and(|t| t.starts_with("multipart/"))
        {
            builder = builder.multipart(self.form(inputs).await?);
        }
        builder.build().map_err(Error::transport)
    }

    fn json_body(&self) -> Result<serde_json::Value> {
        let mut body = serde_json::Map::new();
        for (input, text) in self.texts(InputLocation::Json) {
            let value = json_value(input, text)?;
            if input.repeated {
                let entry = body
                    .entry(input.name)
                    .or_insert_with(|| serde_json::Value::Array(vec![]));
                if let serde_json::Value::Array(a) = entry {
                    a.push(value);
                }
            } else {
                body.insert(input.name.to_string(), value);
            }
        }
        Ok(serde_json::Value::Object(body))
    }

    async fn form(&self, inputs: &'static [Input]) -> Result<reqwest::multipart::Form> {
        let mut form = reqwest::multipart::Form::new();
        for input in inputs.iter().filter(|i| i.location == InputLocation::Form) {
            let mut given = false;
            for (_, text) in self
                .texts(InputLocation::Form)
                .filter(|(i, _)| std::ptr::eq(*i, input))
            {
                form = form.text(input.name, text.to_string());
                given = true;
            }
            if !given && input.required && input.nullable {
                form = form.text(input.name, "");
            }
        }
        for (input, value) in &self.values {
            let Value::File { path, content_type } = value else {
                continue;
            };
            let len = crate::Source::check_file(path)?;
            let file = tokio::fs::File::open(path)
                .await
                .map_err(|e| InputError::Unreadable {
                    path: path.display().to_string(),
                    reason: e.to_string(),
                })?;
            let guessed = content_type.clone().or_else(|| {
                mime_guess::from_path(path)
                    .first()
                    .map(|m| m.essence_str().to_string())
            });
            let file_name = path
                .file_name()
                .map_or_else(|| "file".into(), |n| n.to_string_lossy().into_owned());
            let mut part = FilePart::stream(file_name, file, Some(len));
            if let Some(t) = guessed {
                part = part.with_content_type(t);
            }
            form = form.part(input.name, part.into_part(input.name, input.content_types)?);
        }
        Ok(form)
    }
}

/// Checks `text` against `input`'s type and allowed values.
fn check(input: &'static Input, text: &str) -> Result<()> {
    if input.nullable && (text.is_empty() || text == "null") {
        return Ok(());
    }
    let ok = match input.value {
        InputValue::Integer => text.parse::<i64>().is_ok(),
        InputValue::Number => text.parse::<f64>().is_ok_and(f64::is_finite),
        InputValue::Boolean => matches!(text, "true" | "false"),
        InputValue::Json => serde_json::from_str::<serde_json::Value>(text).is_ok(),
        InputValue::String => true,
    };
    let what = match input.value {
        InputValue::Integer => "a whole number",
        InputValue::Number => "a number",
        InputValue::Boolean => "true or false",
        InputValue::Json => "JSON",
        InputValue::String => "text",
    };
    if !ok {
        return Err(invalid(
            input.name,
            format!("`{}` is {what}, not {text:?}", input.name),
        ));
    }
    if !input.values.is_empty() && !input.values.contains(&text) {
        return Err(invalid(
            input.name,
            format!(
                "`{}` is one of {}, not {text:?}",
                input.name,
                input.values.join(", ")
            ),
        ));
    }
    Ok(())
}

/// The JSON of a checked text value, by its input's type.
fn json_value(input: &'static Input, text: &str) -> Result<serde_json::Value> {
    use serde_json::Value as J;
    if input.nullable && text == "null" {
        return Ok(J::Null);
    }
    Ok(match input.value {
        InputValue::Integer => text.parse::<i64>().map(J::from).unwrap_or(J::Null),
        InputValue::Number => text.parse::<f64>().map(J::from).unwrap_or(J::Null),
        InputValue::Boolean => J::Bool(text == "true"),
        InputValue::Json => serde_json::from_str(text)
            .map_err(|e| invalid(input.name, format!("`{}`: {e}", input.name)))?,
        InputValue::String => J::String(text.to_string()),
    })
}

impl Client {
    /// Sends `call` through this client's transport (key, pacing, retries,
    /// caps; an upload is sent again, its files re-opened, under the same
    /// policy as [`Client::classify_image`]'s): the answer of a success
    /// status, else the status's typed error.
    pub async fn call(&self, call: &Call) -> Result<CallAnswer> {
        if !call.uploads() {
            return self.call_once(call).await;
        }
        let mut uploads = self.transport().uploads(true);
        loop {
            match uploads.attempt(self.call_once(call)).await {
                Ok(answer) => return Ok(answer),
                Err(e) => uploads.failed(e).await?,
            }
        }
    }

    async fn call_once(&self, call: &Call) -> Result<CallAnswer> {
        let mut request = call.request(self).await?;
        let info = OperationInfo {
            operation_id: call.operation.name,
        };
        let transport = self.transport();
        transport.pre(&mut request, &info);
        let sent = transport.exec(self.api().client(), request, &info).await;
        transport.post(&sent, &info);
        let response = sent.map_err(Error::transport)?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = crate::api::body::read_body(response)
            .await
            .map_err(Error::transport)?;
        if !(200..300).contains(&status) {
            return Err(Error::from_status(status, &headers, &body));
        }
        let content_type = headers
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        Ok(CallAnswer {
            status,
            content_type,
            body,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inputs_are_checked_against_the_spec() {
        let call = Call::named("list_partner_users").unwrap();
        let e = call.clone().value("per_page", "ten").unwrap_err();
        assert!(
            e.to_string().contains("`per_page` is a whole number"),
            "{e}"
        );
        let e = call.clone().value("direction", "up").unwrap_err();
        assert!(e.to_string().contains("`direction` is one of "), "{e}");
        let e = call.clone().value("nope", "1").unwrap_err();
        assert!(e.to_string().contains("takes: search"), "{e}");
        let e = call
            .clone()
            .value("per_page", "1")
            .unwrap()
            .value("per_page", "2");
        assert!(e.unwrap_err().to_string().contains("given twice"));
        assert!(Call::named("no_such_operation").is_err());
        let ids = Call::named("list_image_classifications").unwrap();
        let ids = ids
            .value("identifiers", "a")
            .unwrap()
            .value("identifiers[]", "b");
        assert!(
            ids.is_ok(),
            "an array takes several values, with or without []"
        );
        let upload = Call::named("classify_image").unwrap();
        assert!(upload.clone().value("image", "x").is_err(), "a file part");
        let e = upload.file("image", "/dev/zero", None).unwrap_err();
        assert!(
            matches!(e, Error::InvalidInput(InputError::NotAFile { .. })),
            "{e}"
        );
    }
}

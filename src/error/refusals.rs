//! What a 429 answer says: its `Retry-After`, and the note the transport
//! leaves on the 429 that ends a request (how many it met, over how long),
//! read back by [`crate::Error::RateLimited`].

use std::time::Duration;

use reqwest::header::{HeaderMap, RETRY_AFTER};

/// What a request's 429s came to, for its error.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Summary {
    pub(crate) refusals: u32,
    pub(crate) over: Duration,
    pub(crate) breaker_open: bool,
}

/// The header in which the transport notes, on the 429 that ends a
/// request, how many 429s the request met and over how long (`n ms open`),
/// for [`crate::Error::RateLimited`]. Set by the client, never by the
/// server; only when there is more to say than one 429.
pub(crate) const NOTE_HEADER: reqwest::header::HeaderName =
    reqwest::header::HeaderName::from_static("x-identifai-client-refusals");

/// Notes `summary` on a 429's headers (nothing for a lone 429).
pub(crate) fn note(headers: &mut HeaderMap, summary: Summary) {
    headers.remove(NOTE_HEADER);
    if summary.refusals <= 1 && !summary.breaker_open {
        return;
    }
    let text = format!(
        "{} {} {}",
        summary.refusals,
        summary.over.as_millis(),
        u8::from(summary.breaker_open)
    );
    if let Ok(value) = reqwest::header::HeaderValue::from_str(&text) {
        headers.insert(NOTE_HEADER, value);
    }
}

/// What [`note`] wrote, if anything.
pub(crate) fn noted(headers: &HeaderMap) -> Option<Summary> {
    let text = headers.get(NOTE_HEADER)?.to_str().ok()?;
    let mut parts = text.split_whitespace();
    let refusals = parts.next()?.parse().ok()?;
    let over = Duration::from_millis(parts.next()?.parse().ok()?);
    let breaker_open = parts.next()? == "1";
    Some(Summary {
        refusals,
        over,
        breaker_open,
    })
}

/// What a 429's `Retry-After` says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Hint {
    /// None was sent.
    Missing,
    /// Zero, negative, a date in the past or unreadable: no time to come.
    Meaningless,
    /// Wait this long (more than zero).
    After(Duration),
}

/// The `Retry-After` header read for the refusal policy.
pub(crate) fn hint(headers: &HeaderMap) -> Hint {
    let Some(value) = headers.get(RETRY_AFTER) else {
        return Hint::Missing;
    };
    match value
        .to_str()
        .ok()
        .and_then(|v| parse_retry_after(v.trim()))
    {
        Some(d) if !d.is_zero() => Hint::After(d),
        _ => Hint::Meaningless,
    }
}

/// The `Retry-After` header, in seconds or as an HTTP date (a date in the
/// past is zero; a negative or unreadable value is none).
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    parse_retry_after(headers.get(RETRY_AFTER)?.to_str().ok()?.trim())
}

fn parse_retry_after(value: &str) -> Option<Duration> {
    if let Ok(secs) = value.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0)
            .then(|| Duration::from_secs_f64(secs.min(86_400.0)));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(
        when.duration_since(std::time::SystemTime::now())
            .unwrap_or_default(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_forms() {
        let mut h = HeaderMap::new();
        assert_eq!(hint(&h), Hint::Missing);
        h.insert(RETRY_AFTER, "3".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(3)));
        assert_eq!(hint(&h), Hint::After(Duration::from_secs(3)));
        for meaningless in ["-1", "soon", "0", "Thu, 01 Jan 1970 00:00:00 GMT"] {
            h.insert(RETRY_AFTER, meaningless.parse().unwrap());
            assert_eq!(hint(&h), Hint::Meaningless, "{meaningless}");
        }
        h.insert(RETRY_AFTER, "-1".parse().unwrap());
        assert_eq!(retry_after(&h), None);
        h.insert(RETRY_AFTER, "soon".parse().unwrap());
        assert_eq!(retry_after(&h), None);
        let later = httpdate::fmt_http_date(std::time::SystemTime::now() + Duration::from_secs(30));
        h.insert(RETRY_AFTER, later.parse().unwrap());
        let d = retry_after(&h).unwrap();
        assert!(
            d > Duration::from_secs(27) && d <= Duration::from_secs(30),
            "{d:?}"
        );
    }
}

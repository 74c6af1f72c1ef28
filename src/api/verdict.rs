//! The effective verdict: what a pipeline acts on. An account's override
//! (`force_classification`: "the user has forced the classification to the
//! specified value") wins over the server's default verdict.
//!
//! The generated types that carry a verdict (results, frames, clips, audio
//! tracks) get `server_verdict`, `forced_classification` and
//! `effective_verdict` methods from a generator pass; this module holds the
//! two types those methods return.

use serde::Serialize;

use super::types::Classification;

/// Whose verdict an [`Effective`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum VerdictSource {
    /// The server's default verdict: nobody overrode it.
    Server,
    /// The account's override (`force_classification`).
    Forced,
}

/// The verdict to act on: the account's forced classification when there is
/// one, else the server's default verdict.
///
/// ```
/// use identifai::{api::types::{Classification, ImageResponse, Verdict}, VerdictSource};
///
/// let result = ImageResponse {
///     verdict: Some(Verdict {
///         classification: Classification::Artificial,
///         confidence: 0.889,
///         heuristic: "Majority".into(),
///         models: vec![],
///     }),
///     force_classification: Some(Classification::Human),
///     ..Default::default()
/// };
/// let effective = result.effective_verdict().unwrap();
/// assert_eq!(effective.classification, Classification::Human);
/// assert_eq!(effective.source, VerdictSource::Forced);
/// assert_eq!(effective.confidence, None); // an override has no score
/// assert_eq!(effective.server, Some(Classification::Artificial));
/// ```
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Effective {
    /// The classification to act on.
    pub classification: Classification,
    /// Whose it is.
    pub source: VerdictSource,
    /// The server's confidence in `classification`, from 0 to 1; `None`
    /// when it is forced (an override carries no score).
    pub confidence: Option<f64>,
    /// The server's own default verdict, when it gave one: differs from
    /// `classification` when an override corrected it.
    pub server: Option<Classification>,
}

impl Effective {
    /// The effective verdict from the server's verdict (classification and
    /// confidence) and the account's forced classification; `None` when
    /// there is neither.
    pub fn of(
        server: Option<(&Classification, f64)>,
        forced: Option<&Classification>,
    ) -> Option<Effective> {
        match (forced, server) {
            (Some(f), server) => Some(Effective {
                classification: f.clone(),
                source: VerdictSource::Forced,
                confidence: None,
                server: server.map(|(c, _)| c.clone()),
            }),
            (None, Some((c, confidence))) => Some(Effective {
                classification: c.clone(),
                source: VerdictSource::Server,
                confidence: Some(confidence),
                server: Some(c.clone()),
            }),
            (None, None) => None,
        }
    }

    /// Whether an override set it.
    pub fn is_forced(&self) -> bool {
        self.source == VerdictSource::Forced
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forced_wins_and_keeps_the_servers_word() {
        let e = Effective::of(
            Some((&Classification::Artificial, 0.9)),
            Some(&Classification::Human),
        )
        .unwrap();
        assert_eq!(e.classification, Classification::Human);
        assert!(e.is_forced());
        assert_eq!(e.confidence, None);
        assert_eq!(e.server, Some(Classification::Artificial));
    }

    #[test]
    fn without_override_the_server_decides() {
        let e = Effective::of(Some((&Classification::Artificial, 0.9)), None).unwrap();
        assert_eq!(e.classification, Classification::Artificial);
        assert_eq!(e.source, VerdictSource::Server);
        assert_eq!(e.confidence, Some(0.9));
        assert_eq!(Effective::of(None, None), None);
        // An override before the server's verdict is still the verdict to act on.
        let e = Effective::of(None, Some(&Classification::Artificial)).unwrap();
        assert_eq!(
            (e.classification, e.server),
            (Classification::Artificial, None)
        );
    }
}

//! The caps on what the client reads of an answer.

/// How much of an answer the client reads. Set with
/// `ClientBuilder::body_limits`; the idle timeout is
/// `ClientBuilder::idle_timeout`.
///
/// ```
/// let limits = identifai::config::BodyLimits::default().with_max_json_bytes(4 << 20);
/// assert_eq!(limits.max_json_bytes(), 4 << 20);
/// assert_eq!(limits.max_heatmap_bytes(), 64 << 20);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BodyLimits {
    max_json: u64,
    max_heatmap: u64,
    max_error: u64,
}

impl Default for BodyLimits {
    fn default() -> Self {
        Self {
            max_json: 16 * 1024 * 1024,
            max_heatmap: 64 * 1024 * 1024,
            max_error: 1024 * 1024,
        }
    }
}

impl BodyLimits {
    /// The largest success answer read, other than heatmaps (default 16 MiB).
    pub fn with_max_json_bytes(mut self, n: u64) -> Self {
        self.max_json = n;
        self
    }
    /// The largest heatmap read (default 64 MiB).
    pub fn with_max_heatmap_bytes(mut self, n: u64) -> Self {
        self.max_heatmap = n;
        self
    }
    /// The largest body read of an answer with a 3xx, 4xx or 5xx status
    /// (default 1 MiB: error bodies are a line of JSON).
    pub fn with_max_error_bytes(mut self, n: u64) -> Self {
        self.max_error = n;
        self
    }
    /// The success-answer cap.
    pub fn max_json_bytes(&self) -> u64 {
        self.max_json
    }
    /// The heatmap cap.
    pub fn max_heatmap_bytes(&self) -> u64 {
        self.max_heatmap
    }
    /// The error-body cap.
    pub fn max_error_bytes(&self) -> u64 {
        self.max_error
    }

    /// The cap for an answer of `operation` with `status`, and what to call
    /// it in errors.
    pub(crate) fn cap_for(&self, operation: &str, status: u16) -> (&'static str, u64) {
        if status >= 300 {
            ("error body", self.max_error)
        } else if operation.contains("heatmap") {
            ("heatmap", self.max_heatmap)
        } else {
            ("answer", self.max_json)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_by_status_and_operation() {
        let l = BodyLimits::default();
        assert_eq!(l.cap_for("get_image_heatmap", 200), ("heatmap", 64 << 20));
        assert_eq!(
            l.cap_for("get_image_classification", 200),
            ("answer", 16 << 20)
        );
        assert_eq!(l.cap_for("get_image_heatmap", 401), ("error body", 1 << 20));
    }
}

//! Traces never show the API key. In its own test binary: tracing caches
//! per-callsite interest process-wide, so a subscriber installed for one
//! test would miss events of callsites other tests registered first.

mod support;

use std::sync::{Arc, Mutex};

#[test]
fn traces_never_show_the_key() {
    use tracing_subscriber::fmt::MakeWriter;
    #[derive(Clone, Default)]
    struct Buf(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Buf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    impl<'a> MakeWriter<'a> for Buf {
        type Writer = Buf;
        fn make_writer(&'a self) -> Buf {
            self.clone()
        }
    }
    let buf = Buf::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
        .with_writer(buf.clone())
        .finish();
    tracing::subscriber::with_default(subscriber, || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let errors = rt.block_on(support::errors::every_error());
        assert!(!errors.is_empty());
    });
    let logs = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("identifai.request"),
        "request spans were logged"
    );
    assert!(
        logs.contains("operation=\"get_image_classification\""),
        "with their fields"
    );
    assert!(
        !logs.contains(support::errors::KEY) && !logs.contains("DO-NOT-LEAK"),
        "the key is in the traces"
    );
}

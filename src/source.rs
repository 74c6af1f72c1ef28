//! What the user hands in to classify ([`Source`]), the checks made before
//! anything is sent (existence, size under [`UploadLimits`](crate::config::UploadLimits), content type),
//! and the preparation of the file part the generated forms send.

use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncRead, AsyncReadExt};

use crate::api::{mime_matches, FilePart};
use crate::error::{Error, InputError};
use crate::media_kind::Kind;

/// Whether two concrete content types name the same format under different
/// spellings: an `x-` prefix (`audio/x-wav`, `audio/x-flac`) and the few
/// aliases sniffers and systems use for the audio formats the API takes.
fn same_type(a: &str, b: &str) -> bool {
    fn canonical(mime: &str) -> String {
        let lower = crate::api::mime_essence(mime);
        let Some((ty, sub)) = lower.split_once('/') else {
            return lower;
        };
        let sub = sub.strip_prefix("x-").unwrap_or(sub);
        let sub = match (ty, sub) {
            ("audio", "wave" | "vnd.wave") => "wav",
            ("audio", "mp3") => "mpeg",
            ("audio", "mp4" | "mp4a-latm") => "m4a",
            ("audio", "3gpp") => "3gp",
            _ => sub,
        };
        format!("{ty}/{sub}")
    }
    canonical(a) == canonical(b)
}

/// How much of a file is read to tell its type.
const SNIFF_LEN: usize = 8 * 1024;
/// The chunk size files are streamed in (larger reads mean fewer trips
/// through tokio's blocking pool).
const CHUNK: usize = 256 * 1024;

/// Where the media to classify comes from.
///
/// Files are streamed from disk while they are sent, never read whole; a
/// reader is streamed too. Before anything is sent the media is checked:
/// it exists, is a regular file, is not empty, is under the size limit
/// ([`UploadLimits`](crate::config::UploadLimits)), and its type (told from its first bytes, or for
/// videos from its extension) is one the endpoint takes.
///
/// ```
/// use identifai::Source;
/// let from_disk = Source::path("photo.jpg");
/// let from_memory = Source::bytes("photo.png", vec![0x89, b'P', b'N', b'G']);
/// let by_url = Source::url("https://example.com/photo.jpg");
/// // A string is a URL when it starts with http:// or https://, a path otherwise.
/// let guessed: Source = "https://example.com/v.mp4".into();
/// assert!(guessed.is_url());
/// # let _ = (from_disk, from_memory, by_url);
/// ```
pub struct Source {
    kind: SourceKind,
    content_type: Option<String>,
}

enum SourceKind {
    Path(PathBuf),
    Bytes {
        name: String,
        bytes: Bytes,
    },
    Reader {
        name: String,
        reader: Pin<Box<dyn AsyncRead + Send>>,
        len: Option<u64>,
    },
    Url(String),
}

impl std::fmt::Debug for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.kind {
            SourceKind::Path(p) => write!(f, "Source::path({p:?})"),
            SourceKind::Bytes { name, bytes } => {
                write!(f, "Source::bytes({name:?}, {} bytes)", bytes.len())
            }
            SourceKind::Reader { name, len, .. } => {
                write!(f, "Source::reader({name:?}, len {len:?})")
            }
            SourceKind::Url(u) => write!(f, "Source::url({u:?})"),
        }
    }
}

impl Source {
    /// Checks that `path` is a regular file, from its metadata alone (nothing
    /// is opened, so a FIFO, a device or a socket cannot block): its size, or
    /// a typed error. Everything that reads a local file for content checks it
    /// first: submissions (each attempt), and the command line's list files,
    /// hashing and type sniffing.
    ///
    /// ```
    /// use identifai::{InputError, Source};
    /// assert!(matches!(Source::check_file("/dev/zero".as_ref()), Err(InputError::NotAFile { .. })));
    /// assert!(matches!(Source::check_file("/no/such/file".as_ref()), Err(InputError::FileNotFound { .. })));
    /// ```
    pub fn check_file(path: &Path) -> Result<u64, InputError> {
        let shown = path.display().to_string();
        match std::fs::metadata(path) {
            Ok(m) if m.is_file() => Ok(m.len()),
            Ok(_) => Err(InputError::NotAFile { path: shown }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                Err(InputError::FileNotFound { path: shown })
            }
            Err(e) => Err(InputError::Unreadable {
                path: shown,
                reason: e.to_string(),
            }),
        }
    }

    /// A file on disk, streamed while it is sent.
    pub fn path(path: impl Into<PathBuf>) -> Self {
        Self {
            kind: SourceKind::Path(path.into()),
            content_type: None,
        }
    }

    /// Media already in memory; `name` is the file name sent with it.
    pub fn bytes(name: impl Into<String>, bytes: impl Into<Bytes>) -> Self {
        Self {
            kind: SourceKind::Bytes {
                name: name.into(),
                bytes: bytes.into(),
            },
            content_type: None,
        }
    }

    /// Media read from `reader` while it is sent. A reader can be read only
    /// once, so a submission from a reader is not retried.
    pub fn reader(name: impl Into<String>, reader: impl AsyncRead + Send + 'static) -> Self {
        Self {
            kind: SourceKind::Reader {
                name: name.into(),
                reader: Box::pin(reader),
                len: None,
            },
            content_type: None,
        }
    }

    /// Media read from a stream of byte chunks while it is sent (e.g. a
    /// body being received elsewhere). Like [`Source::reader`], it is sent
    /// at most once.
    pub fn stream<S, B, E>(name: impl Into<String>, stream: S) -> Self
    where
        S: futures::Stream<Item = Result<B, E>> + Send + 'static,
        B: bytes::Buf + Send + 'static,
        E: Into<std::io::Error> + 'static,
    {
        let stream = stream.map(|r| r.map_err(Into::into));
        Self::reader(name, tokio_util::io::StreamReader::new(stream))
    }

    /// Media the service downloads itself (submitted by URL).
    pub fn url(url: impl Into<String>) -> Self {
        Self {
            kind: SourceKind::Url(url.into()),
            content_type: None,
        }
    }

    /// Sets the content type instead of telling it from the content.
    pub fn content_type(mut self, content_type: impl Into<String>) -> Self {
        self.content_type = Some(content_type.into());
        self
    }

    /// The length of a reader's content, when known (sent as the part's
    /// length, and checked against the limit before sending).
    pub fn with_len(mut self, len: u64) -> Self {
        if let SourceKind::Reader { len: l, .. } = &mut self.kind {
            *l = Some(len);
        }
        self
    }

    /// Whether the media is submitted by URL.
    pub fn is_url(&self) -> bool {
        matches!(self.kind, SourceKind::Url(_))
    }
}

impl From<PathBuf> for Source {
    fn from(p: PathBuf) -> Self {
        Source::path(p)
    }
}

impl From<&Path> for Source {
    fn from(p: &Path) -> Self {
        Source::path(p)
    }
}

impl From<&str> for Source {
    /// A URL when it starts with `http://` or `https://`, a path otherwise.
    fn from(s: &str) -> Self {
        let lower = s.to_ascii_lowercase();
        if lower.starts_with("http://") || lower.starts_with("https://") {
            Source::url(s)
        } else {
            Source::path(s)
        }
    }
}

impl From<String> for Source {
    fn from(s: String) -> Self {
        Source::from(s.as_str())
    }
}

/// Bytes of an upload sent so far, reported to a progress callback.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress {
    /// Bytes of the file handed to the connection so far.
    pub sent: u64,
    /// The file's size, when known.
    pub total: Option<u64>,
}

/// A progress callback.
pub(crate) type ProgressFn = Arc<dyn Fn(Progress) + Send + Sync>;

/// What a file submission needs to know about the endpoint (internal).
#[derive(Debug)]
pub(crate) struct Accepts {
    /// "image" / "video", for messages.
    pub(crate) what: &'static str,
    /// Content types from the spec's `encoding`.
    pub(crate) allowed: &'static [&'static str],
    pub(crate) max_bytes: u64,
    /// Whether the type may be told from the extension when the content
    /// does not tell it (videos: containers `infer` does not know).
    pub(crate) extension_fallback: bool,
}

/// Media that passed the checks, ready to be sent (again, if it can be).
pub(crate) enum Prepared {
    File(PreparedFile),
    Url(String),
}

pub(crate) struct PreparedFile {
    name: String,
    content_type: String,
    len: Option<u64>,
    max: u64,
    origin: Origin,
    /// When asked for: what the last attempt sent, once it sent it all.
    sent: Option<Arc<std::sync::Mutex<Option<Sent>>>>,
}

/// What an upload sent, counted and hashed as it went out: the bytes the
/// server got, not the file as it was before (a file rewritten in between
/// shows here). From [`Classify::send_receipt`](crate::Classify::send_receipt).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Sent {
    /// Bytes sent.
    pub bytes: u64,
    /// Their SHA-256.
    pub sha256: [u8; 32],
}

impl Sent {
    /// The SHA-256 in lower-case hex, as results write a file's `hash`.
    pub fn sha256_hex(&self) -> String {
        self.sha256.iter().map(|b| format!("{b:02x}")).collect()
    }
}

impl std::fmt::Debug for Sent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sent")
            .field("bytes", &self.bytes)
            .field("sha256", &self.sha256_hex())
            .finish()
    }
}

enum Origin {
    Path(PathBuf),
    Bytes(Bytes),
    /// Taken on first use.
    Reader(Option<Pin<Box<dyn AsyncRead + Send>>>),
}

impl PreparedFile {
    /// Hashes what each attempt sends from now on (see [`Sent`]).
    pub(crate) fn hash_what_is_sent(&mut self) {
        self.sent = Some(Arc::default());
    }

    /// What the last attempt sent, when hashing was asked for and it sent
    /// the whole file.
    pub(crate) fn sent(&self) -> Option<Sent> {
        self.sent.as_ref().and_then(|s| *lock(s))
    }

    /// Whether the file can be sent again (for a retry): not a reader.
    pub(crate) fn can_resend(&self) -> bool {
        !matches!(self.origin, Origin::Reader(_))
    }

    /// A fresh part for one attempt (the file is reopened each time), or
    /// `None` when a reader was already used.
    pub(crate) async fn part(
        &mut self,
        progress: Option<&ProgressFn>,
    ) -> Result<Option<FilePart>, Error> {
        type ByteStream = futures::stream::BoxStream<'static, std::io::Result<Bytes>>;
        let stream: ByteStream = match &mut self.origin {
            Origin::Path(path) => {
                // Checked again before each attempt: it may have been replaced.
                Source::check_file(path)?;
                let file = tokio::fs::File::open(&*path)
                    .await
                    .map_err(|e| unreadable(path, &e))?;
                tokio_util::io::ReaderStream::with_capacity(file, CHUNK).boxed()
            }
            Origin::Bytes(bytes) => {
                let bytes = bytes.clone();
                let chunks = (0..bytes.len())
                    .step_by(CHUNK)
                    .map(move |i| Ok(bytes.slice(i..(i + CHUNK).min(bytes.len()))));
                futures::stream::iter(chunks.collect::<Vec<_>>()).boxed()
            }
            Origin::Reader(reader) => match reader.take() {
                Some(r) => tokio_util::io::ReaderStream::with_capacity(r, CHUNK).boxed(),
                None => return Ok(None),
            },
        };
        // Count what goes out: report progress, and stop a stream of unknown
        // length at the limit instead of sending gigabytes to be refused.
        let (total, max, progress) = (self.len, self.max, progress.cloned());
        let mut sent = 0u64;
        let stream = stream.and_then(move |chunk| {
            sent += chunk.len() as u64;
            let over = sent > max;
            if let (Some(cb), false) = (&progress, over) {
                cb(Progress { sent, total });
            }
            async move {
                if over {
                    Err(std::io::Error::other(format!(
                        "the media is over the {} limit",
                        crate::error::size_text(max)
                    )))
                } else {
                    Ok(chunk)
                }
            }
        });
        let stream = match &self.sent {
            None => stream.boxed(),
            Some(slot) => {
                // Hashed as it goes out; recorded only once all of it went.
                *lock(slot) = None;
                let hasher = Arc::new(std::sync::Mutex::new((Sha256::new(), 0u64)));
                let (feed, done, slot) = (hasher.clone(), hasher, slot.clone());
                stream
                    .inspect_ok(move |chunk| {
                        let mut h = lock(&feed);
                        h.0.update(chunk);
                        h.1 += chunk.len() as u64;
                    })
                    .chain(
                        futures::stream::once(async move {
                            let (hasher, bytes) = std::mem::take(&mut *lock(&done));
                            *lock(&slot) = Some(Sent {
                                bytes,
                                sha256: hasher.finalize().into(),
                            });
                        })
                        .filter_map(|()| async { None }),
                    )
                    .boxed()
            }
        };
        let body = reqwest::Body::wrap_stream(stream);
        Ok(Some(
            FilePart::stream(self.name.clone(), body, self.len)
                .with_content_type(self.content_type.clone()),
        ))
    }
}

/// A lock whose holder cannot have left it half-updated (plain counters).
fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn unreadable(path: &Path, e: &std::io::Error) -> Error {
    InputError::Unreadable {
        path: path.display().to_string(),
        reason: e.to_string(),
    }
    .into()
}

/// Checks `source` against what the endpoint accepts, before anything is
/// sent.
pub(crate) async fn prepare(source: Source, accepts: &Accepts) -> Result<Prepared, Error> {
    let Source { kind, content_type } = source;
    let (name, what, len, head, origin) = match kind {
        SourceKind::Url(url) => return Ok(Prepared::Url(check_url(&url)?)),
        SourceKind::Path(path) => {
            let shown = path.display().to_string();
            let size = Source::check_file(&path)?;
            let mut head = Vec::with_capacity(SNIFF_LEN);
            let file = tokio::fs::File::open(&path)
                .await
                .map_err(|e| unreadable(&path, &e))?;
            file.take(SNIFF_LEN as u64)
                .read_to_end(&mut head)
                .await
                .map_err(|e| unreadable(&path, &e))?;
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "media".into());
            (name, shown, Some(size), head, Origin::Path(path))
        }
        SourceKind::Bytes { name, bytes } => {
            let head = bytes[..bytes.len().min(SNIFF_LEN)].to_vec();
            (
                name.clone(),
                name,
                Some(bytes.len() as u64),
                head,
                Origin::Bytes(bytes),
            )
        }
        SourceKind::Reader {
            name,
            mut reader,
            len,
        } => {
            // Read the head to tell the type, then send it ahead of the rest.
            let mut head = Vec::with_capacity(SNIFF_LEN);
            (&mut reader)
                .take(SNIFF_LEN as u64)
                .read_to_end(&mut head)
                .await
                .map_err(|e| InputError::Unreadable {
                    path: name.clone(),
                    reason: e.to_string(),
                })?;
            let rest = std::io::Cursor::new(head.clone()).chain(reader);
            let len = len.or_else(|| (head.len() < SNIFF_LEN).then_some(head.len() as u64));
            (
                name.clone(),
                name,
                len,
                head,
                Origin::Reader(Some(Box::pin(rest))),
            )
        }
    };
    if len == Some(0) || head.is_empty() {
        return Err(InputError::Empty { what }.into());
    }
    if let Some(size) = len.filter(|&l| l > accepts.max_bytes) {
        return Err(InputError::TooLarge {
            what,
            size,
            max: accepts.max_bytes,
        }
        .into());
    }
    let told = content_type
        .or_else(|| infer::get(&head).map(|t| t.mime_type().to_string()))
        .or_else(|| {
            accepts
                .extension_fallback
                .then(|| {
                    mime_guess::from_path(&name)
                        .first()
                        .map(|m| m.essence_str().to_string())
                })
                .flatten()
        });
    // The spec's own spelling of the type when only an alias matched
    // (`infer` says `audio/x-wav`, the spec lists `audio/wav`).
    let told = told.map(
        |ct| match accepts.allowed.iter().any(|p| mime_matches(p, &ct)) {
            true => ct,
            false => accepts
                .allowed
                .iter()
                .find(|p| !p.contains('*') && same_type(p, &ct))
                .map_or(ct, |p| p.to_string()),
        },
    );
    match told {
        Some(ct) if accepts.allowed.iter().any(|p| mime_matches(p, &ct)) => {
            Ok(Prepared::File(PreparedFile {
                sent: None,
                name,
                content_type: ct,
                len,
                max: accepts.max_bytes,
                origin,
            }))
        }
        other => Err(InputError::UnsupportedType {
            what: format!("{what} ({} expected)", accepts.what),
            content_type: other,
            allowed: accepts.allowed.join(", "),
        }
        .into()),
    }
}

/// An absolute http(s) URL with a host.
fn check_url(raw: &str) -> Result<String, Error> {
    let bad = |reason: &str| InputError::InvalidUrl {
        url: raw.to_string(),
        reason: reason.to_string(),
    };
    let url = url::Url::parse(raw.trim()).map_err(|e| bad(&e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(bad("only http and https URLs can be fetched by the service").into());
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(bad("no host").into());
    }
    Ok(url.to_string())
}

/// Size limits checked before an upload. By default each kind's limit is
/// the one the spec states (generated: 50 MB for images and audio, 5 GB for
/// videos).
///
/// ```
/// use identifai::Kind;
/// let limits = identifai::config::UploadLimits::default().with_max_video_bytes(1 << 30);
/// assert_eq!(limits.max_image_bytes(), 50 * 1024 * 1024);
/// assert_eq!(limits.max_bytes(Kind::Video), 1 << 30);
/// # let _ = limits;
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UploadLimits {
    /// Per kind (by [`Kind::index`]); `None`: the spec's limit.
    max: [Option<u64>; Kind::ALL.len()],
}

impl UploadLimits {
    /// The largest file of kind `kind` sent.
    pub fn with_max_bytes(mut self, kind: Kind, n: u64) -> Self {
        self.max[kind.index()] = Some(n);
        self
    }

    /// The largest image sent.
    pub fn with_max_image_bytes(self, n: u64) -> Self {
        self.with_max_bytes(Kind::Image, n)
    }

    /// The largest video sent.
    pub fn with_max_video_bytes(self, n: u64) -> Self {
        self.with_max_bytes(Kind::Video, n)
    }

    /// The limit of kind `kind`, in bytes.
    pub fn max_bytes(&self, kind: Kind) -> u64 {
        self.max[kind.index()].unwrap_or_else(|| kind.spec_max_bytes())
    }

    /// The image limit in bytes.
    pub fn max_image_bytes(&self) -> u64 {
        self.max_bytes(Kind::Image)
    }

    /// The video limit in bytes.
    pub fn max_video_bytes(&self) -> u64 {
        self.max_bytes(Kind::Video)
    }
}

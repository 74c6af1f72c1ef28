//! The out file of `batch`, kept as a journal, so that a crash at any
//! instant, a resume or a second process never sends an accepted upload
//! again and never loses a result:
//!
//! - the file is locked (exclusively) for the whole run: a second `batch`
//!   on it stops before sending anything;
//! - every record is one line, written by one `write` and synced before
//!   anything is done with it; a submission's identifier is recorded the
//!   moment the server accepts it (`status: submitted`), before it is
//!   waited for;
//! - on resume, a torn last line (a crash mid-write) is cut back, so the
//!   file stays valid JSON lines, and the last record of each input wins.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context as _;

use crate::exit::usage;
use crate::media::is_url;

/// The longest line read back (a result with every frame of a long video
/// is large, but not this large).
const MAX_LINE: u64 = 64 * 1024 * 1024;

/// What an earlier run recorded of one input: its last record.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Prior {
    /// `submitted`, `new`, `done`, `errored` or `error`.
    pub status: String,
    /// The SHA-256 of the file (of what was sent, for a submission).
    pub sha256: Option<String>,
    /// The classification's identifier, once the server accepted it.
    pub identifier: Option<String>,
    /// `image`, `video` or `audio`.
    pub kind: Option<String>,
    /// The verdict to act on, when done.
    pub verdict: Option<String>,
}

impl Prior {
    /// Finished: nothing to send or wait for.
    pub fn is_final(&self) -> bool {
        self.status == "done" || self.status == "errored"
    }
}

/// What a resume starts from.
#[derive(Debug, Default)]
pub struct Resumed {
    /// The last record of each input, by key (canonical path, or URL).
    pub inputs: HashMap<String, Prior>,
    /// When the submissions of the last minute were sent (to pace the
    /// resumed run as the server still counts them).
    pub recent_sends: Vec<SystemTime>,
    /// Bytes of a torn last line that were cut.
    pub cut: u64,
    /// Lines that could not be read as records (skipped).
    pub unreadable: u64,
}

/// The out file, locked, open for appending whole records.
#[derive(Debug)]
pub struct Journal {
    file: File,
    path: PathBuf,
}

impl Journal {
    /// Opens and locks `path`. With `resume` its records are read back (a
    /// torn tail cut first); with `overwrite` it is emptied; with neither, a
    /// file that has records is refused.
    pub fn open(path: &Path, resume: bool, overwrite: bool) -> anyhow::Result<(Journal, Resumed)> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        let file = OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(path)
            .with_context(|| format!("opening {}", path.display()))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(usage(format!(
                    "{} is in use by another identifai batch (it is locked); nothing was sent",
                    path.display()
                )))
            }
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(e).with_context(|| format!("locking {}", path.display()))
            }
        }
        let len = file.metadata()?.len();
        let mut journal = Journal {
            file,
            path: path.to_path_buf(),
        };
        if len > 0 && !resume && !overwrite {
            return Err(usage(format!(
                "{} already has results: pass --resume to continue it, or --overwrite to start over",
                path.display()
            )));
        }
        if overwrite {
            journal.file.set_len(0)?;
            return Ok((journal, Resumed::default()));
        }
        let resumed = journal.read_back()?;
        Ok((journal, resumed))
    }

    /// Reads every record back, cutting a torn last line off the file.
    fn read_back(&mut self) -> anyhow::Result<Resumed> {
        let shown = self.path.display().to_string();
        let mut resumed = Resumed::default();
        let mut reader = BufReader::new(&self.file);
        reader.seek(SeekFrom::Start(0))?;
        let now = SystemTime::now();
        let (mut whole, mut line) = (0u64, Vec::new());
        loop {
            line.clear();
            let n = Read::take(&mut reader, MAX_LINE + 1)
                .read_until(b'\n', &mut line)
                .with_context(|| format!("reading {shown}"))?;
            if n == 0 {
                break;
            }
            if line.last() != Some(&b'\n') {
                if n as u64 > MAX_LINE {
                    anyhow::bail!("{shown}: a line of over {MAX_LINE} bytes; not a results file?");
                }
                // Written by one write that did not finish: cut it.
                resumed.cut = n as u64;
                break;
            }
            whole += n as u64;
            match serde_json::from_slice::<serde_json::Value>(&line) {
                Ok(v) => match read_record(&v) {
                    Some((key, prior, sent_at)) => {
                        if let Some(at) = sent_at.filter(|at| {
                            now.duration_since(*at).unwrap_or_default() < Duration::from_secs(61)
                        }) {
                            resumed.recent_sends.push(at);
                        }
                        resumed.inputs.insert(key, prior);
                    }
                    None => resumed.unreadable += 1,
                },
                Err(_) if line.iter().all(u8::is_ascii_whitespace) => {}
                Err(_) => resumed.unreadable += 1,
            }
        }
        drop(reader);
        if resumed.cut > 0 {
            self.file
                .set_len(whole)
                .with_context(|| format!("cutting the torn last line of {shown}"))?;
            self.file.sync_data()?;
        }
        Ok(resumed)
    }

    /// Appends one record: one `write` of the line and its newline, then a
    /// sync, so the record is whole and on disk before the caller goes on.
    pub fn append(&mut self, line: &str) -> anyhow::Result<()> {
        let mut buf = Vec::with_capacity(line.len() + 1);
        buf.extend_from_slice(line.as_bytes());
        buf.push(b'\n');
        self.file
            .write_all(&buf)
            .and_then(|()| self.file.sync_data())
            .with_context(|| format!("writing {}", self.path.display()))
    }
}

/// The key of a record's input: its path made absolute and canonical
/// (records of older versions wrote the path as typed), or its URL.
pub fn key_of(path: &str) -> String {
    if is_url(path) {
        return path.to_string();
    }
    std::fs::canonicalize(path)
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| path.to_string())
}

/// A record's key, what it says of its input, and when it was sent.
fn read_record(v: &serde_json::Value) -> Option<(String, Prior, Option<SystemTime>)> {
    let text = |name: &str| v.get(name).and_then(|s| s.as_str()).map(str::to_string);
    let path = text("path")?;
    let status = text("status")?;
    let sent_at = v
        .get("sent_at")
        .and_then(|t| t.as_u64())
        .map(|ms| UNIX_EPOCH + Duration::from_millis(ms));
    let prior = Prior {
        status,
        sha256: text("sha256"),
        identifier: text("identifier"),
        kind: text("kind"),
        verdict: text("verdict"),
    };
    Some((key_of(&path), prior, sent_at))
}

/// Milliseconds since the epoch, as `sent_at` records them.
pub fn epoch_ms(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_torn_tail_is_cut_and_the_last_record_wins() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out.jsonl");
        let a = dir.path().join("a.png");
        std::fs::write(&a, b"x").unwrap();
        let a = a.display().to_string();
        std::fs::write(
            &out,
            format!(
                concat!(
                    r#"{{"path":"{a}","sha256":"aa","status":"submitted","identifier":"id-1","sent_at":1}}"#,
                    "\n",
                    r#"{{"path":"{a}","sha256":"aa","status":"done","identifier":"id-1","verdict":"human"}}"#,
                    "\n",
                    r#"{{"path":"b.png","status":"error"}}"#,
                    "\n",
                    r#"{{"path":"c.png","sha2"#,
                ),
                a = a
            ),
        )
        .unwrap();
        let (mut journal, resumed) = Journal::open(&out, true, false).unwrap();
        assert_eq!(resumed.cut, r#"{"path":"c.png","sha2"#.len() as u64);
        assert_eq!(resumed.inputs.len(), 2);
        let prior = &resumed.inputs[&key_of(&a)];
        assert!(prior.is_final());
        assert_eq!(prior.verdict.as_deref(), Some("human"));
        assert!(resumed.recent_sends.is_empty(), "sent in 1970");
        journal
            .append(r#"{"path":"d.png","status":"error"}"#)
            .unwrap();
        let text = std::fs::read_to_string(&out).unwrap();
        for line in text.lines() {
            serde_json::from_str::<serde_json::Value>(line).unwrap();
        }
        assert!(text.ends_with("\"status\":\"error\"}\n"), "{text}");
    }

    #[test]
    fn a_second_journal_on_the_same_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out.jsonl");
        let (_first, _) = Journal::open(&out, false, false).unwrap();
        let err = Journal::open(&out, true, false).unwrap_err();
        assert!(err.to_string().contains("locked"), "{err}");
    }

    #[test]
    fn records_without_resume_or_overwrite_are_kept() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out.jsonl");
        std::fs::write(&out, "{\"path\":\"a\",\"status\":\"done\"}\n").unwrap();
        assert!(Journal::open(&out, false, false).is_err());
        assert_eq!(std::fs::read(&out).unwrap().len(), 29);
        let (_j, r) = Journal::open(&out, false, true).unwrap();
        assert!(r.inputs.is_empty());
        assert_eq!(std::fs::read(&out).unwrap().len(), 0);
    }
}

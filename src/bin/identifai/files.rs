//! Files written at a path the user named (`heatmap -o`, `classify
//! --heatmap-out`, `contract --junit` and `--drift`): whole or not at all.
//! Each goes to a temporary file beside the target, is synced, then
//! renamed over it, so a failed write (a full disk) leaves the old file as
//! it was and no temporary file behind.

use std::fs::{self, File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::Context as _;

/// What the content is written into (an image encoder needs `Seek`).
pub type Sink<'a> = BufWriter<&'a File>;

/// Writes `bytes` to `path` whole (see [`write_whole_with`]).
pub fn write_whole(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    write_whole_with(path, |w| Ok(w.write_all(bytes)?))
}

/// Writes `path` whole, its content written by `write`: into a temporary
/// file in the same directory (`.NAME.XXXXXX.tmp`), synced, then renamed
/// over `path`; on failure the temporary file is removed and `path` is
/// untouched. A file replaced keeps its permissions (and owner, when
/// allowed); through a symbolic link, the file it names is replaced and
/// the link kept. What is not a regular file (`/dev/stdout`, a FIFO) cannot
/// be replaced: it is written in place.
pub fn write_whole_with(
    path: &Path,
    write: impl FnOnce(&mut Sink<'_>) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    replace(path, write).with_context(|| format!("writing {}", path.display()))
}

fn replace(
    path: &Path,
    write: impl FnOnce(&mut Sink<'_>) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let target = resolve(path);
    let existing = match fs::metadata(&target) {
        Ok(m) => Some(m),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(e.into()),
    };
    if let Some(m) = &existing {
        if !m.is_file() {
            let file = File::create(&target)?;
            return fill(&file, write);
        }
        // Refused where writing in place would be (a read-only file).
        OpenOptions::new().write(true).open(&target)?;
    }
    let dir = match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let prefix = format!(
        ".{}.",
        target.file_name().unwrap_or_default().to_string_lossy()
    );
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(".tmp");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // Never wider than the file replaced (or than a new file's 0666
        // under the umask), even while it is written.
        builder.permissions(match &existing {
            Some(m) => m.permissions(),
            None => fs::Permissions::from_mode(0o666),
        });
    }
    let tmp = builder
        .tempfile_in(dir)
        .with_context(|| format!("creating a temporary file in {}", dir.display()))?;
    fill(tmp.as_file(), write)?;
    #[cfg(unix)]
    if let Some(m) = &existing {
        use std::os::unix::fs::MetadataExt;
        // The owner first: chown may clear set-id bits the mode restores.
        let _ = std::os::unix::fs::fchown(tmp.as_file(), Some(m.uid()), Some(m.gid()));
        tmp.as_file().set_permissions(m.permissions())?;
    }
    tmp.as_file().sync_all()?;
    tmp.persist(&target).map_err(|e| e.error)?;
    Ok(())
}

/// `path`, or through a symbolic link the file it names (the link itself
/// when it dangles).
fn resolve(path: &Path) -> PathBuf {
    match fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => {
            fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
        }
        _ => path.to_path_buf(),
    }
}

fn fill(
    file: &File,
    write: impl FnOnce(&mut Sink<'_>) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let mut sink = BufWriter::new(file);
    write(&mut sink)?;
    sink.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn a_failed_write_keeps_the_old_file_and_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.png");
        fs::write(&path, b"old").unwrap();
        let e = write_whole_with(&path, |w| {
            w.write_all(b"half of the new")?;
            anyhow::bail!("the disk is full")
        })
        .unwrap_err();
        assert!(format!("{e:#}").starts_with("writing "), "{e:#}");
        assert_eq!(fs::read(&path).unwrap(), b"old");
        assert_eq!(names(dir.path()), ["out.png"]);
        write_whole(&path, b"new").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"new");
        assert_eq!(names(dir.path()), ["out.png"]);
    }

    #[cfg(unix)]
    #[test]
    fn a_file_replaced_keeps_its_mode_and_its_links() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.xml");
        fs::write(&real, b"old").unwrap();
        fs::set_permissions(&real, fs::Permissions::from_mode(0o640)).unwrap();
        let link = dir.path().join("link.xml");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        write_whole(&link, b"new").unwrap();
        assert!(fs::symlink_metadata(&link).unwrap().is_symlink());
        assert_eq!(fs::read(&real).unwrap(), b"new");
        let mode = fs::metadata(&real).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o640);
        // A new file gets what `fs::write` gives one (0666 under the umask).
        let fresh = dir.path().join("fresh.xml");
        let plain = dir.path().join("plain.xml");
        write_whole(&fresh, b"x").unwrap();
        fs::write(&plain, b"x").unwrap();
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode();
        assert_eq!(mode(&fresh), mode(&plain));
        assert_eq!(
            names(dir.path()),
            ["fresh.xml", "link.xml", "plain.xml", "real.xml"]
        );
    }

    #[cfg(unix)]
    #[test]
    fn what_is_not_a_regular_file_is_written_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: mkfifo(3) with a valid C string.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let reader = {
            let fifo = fifo.clone();
            std::thread::spawn(move || fs::read(fifo).unwrap())
        };
        write_whole(&fifo, b"through the pipe").unwrap();
        assert_eq!(reader.join().unwrap(), b"through the pipe");
        assert!(!fs::metadata(&fifo).unwrap().is_file(), "still a FIFO");
        assert_eq!(names(dir.path()), ["fifo"]);
    }
}

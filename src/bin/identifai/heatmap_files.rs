//! What `classify --heatmap` leaves in the current directory: the heatmap
//! as served (`NAME.heatmap.png`) and the heatmap blended over the input
//! (`NAME.overlay.png`), NAME being the input's file name without its
//! extension. Nothing is overwritten: when either name is taken, the pair
//! becomes `NAME-2.*`, then `NAME-3.*`, ... Each file is written whole (a
//! temporary file, synced, then moved to a name no file has, atomically).

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use identifai::Identifier;

use crate::context::Context;
use crate::media::Input;
use crate::picture::{overlay_png, png_size};

/// How strongly the heatmap shows over the input in the overlay.
pub const OPACITY: f32 = 0.5;

/// The most numbered names tried for one input before giving up.
const MAX_NUMBER: u32 = 10_000;

/// What was saved for one input.
pub struct Saved {
    /// The heatmap, as the service sent it.
    pub heatmap: PathBuf,
    /// The overlay, or why there is none (the heatmap is saved either way).
    pub overlay: Result<PathBuf, String>,
    /// The names wanted when they were taken (`NAME.heatmap.png`).
    pub taken: Option<String>,
}

/// Fetches the heatmap of `id` and saves it, with its overlay on `input`,
/// in `dir`. `Ok(None)`: the service has no heatmap for it.
pub async fn save(
    ctx: &Context,
    id: &Identifier,
    input: &Input,
    dir: &Path,
) -> anyhow::Result<Option<Saved>> {
    let Some(png) = ctx.client.heatmap(id).await? else {
        return Ok(None);
    };
    let png = png.to_vec();
    png_size(&png)?;
    let overlay = match input.path() {
        Some(original) => {
            let (original, heat) = (original.to_path_buf(), png.clone());
            tokio::task::spawn_blocking(move || {
                overlay_png(&original, &heat, OPACITY)
                    .map_err(|e| identifai::Error::full_text(e.as_ref()))
            })
            .await
            .unwrap_or_else(|e| Err(format!("the overlay was not made: {e}")))
        }
        None => Err(format!(
            "the input is a URL; `identifai heatmap {id} -o overlay.png --overlay FILE` \
             lays the heatmap over a local copy"
        )),
    };
    let stem = stem_of(input);
    let dir = dir.to_path_buf();
    tokio::task::spawn_blocking(move || write_pair(&dir, &stem, &png, overlay))
        .await
        .context("saving the heatmap")?
        .map(Some)
}

/// Writes the heatmap, then the overlay under the same number when it can.
fn write_pair(
    dir: &Path,
    stem: &str,
    heatmap: &[u8],
    overlay: Result<Vec<u8>, String>,
) -> anyhow::Result<Saved> {
    let name = |n: u32, what: &str| match n {
        1 => format!("{stem}.{what}.png"),
        n => format!("{stem}-{n}.{what}.png"),
    };
    // The first number free for both; a file that appears meanwhile moves
    // either one further along, never over it.
    let mut first = 1;
    while first < MAX_NUMBER
        && (exists(&dir.join(name(first, "heatmap"))) || exists(&dir.join(name(first, "overlay"))))
    {
        first += 1;
    }
    let (heatmap_path, n) = write_new(dir, first, |n| name(n, "heatmap"), heatmap)?;
    let overlay = match overlay {
        Ok(bytes) => write_new(dir, n, |n| name(n, "overlay"), &bytes)
            .map(|(path, _)| path)
            .map_err(|e| identifai::Error::full_text(e.as_ref())),
        Err(why) => Err(why),
    };
    Ok(Saved {
        heatmap: heatmap_path,
        overlay,
        taken: (n > 1).then(|| name(1, "heatmap")),
    })
}

fn exists(path: &Path) -> bool {
    path.symlink_metadata().is_ok()
}

/// Writes `bytes` under the first name `name(n)`, from `n = first`, that no
/// file has: into a temporary file in `dir`, synced, then moved there
/// without replacing anything.
fn write_new(
    dir: &Path,
    first: u32,
    name: impl Fn(u32) -> String,
    bytes: &[u8],
) -> anyhow::Result<(PathBuf, u32)> {
    let mut builder = tempfile::Builder::new();
    builder.prefix(".identifai.").suffix(".tmp");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // A new file's usual 0666 under the umask, not tempfile's 0600.
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    let mut tmp = builder
        .tempfile_in(dir)
        .with_context(|| format!("creating a temporary file in {}", shown_dir(dir)))?;
    let first_path = dir.join(name(first));
    (|| {
        tmp.write_all(bytes)?;
        tmp.as_file().sync_all()
    })()
    .with_context(|| format!("writing {}", first_path.display()))?;
    let mut n = first;
    loop {
        let path = dir.join(name(n));
        match tmp.persist_noclobber(&path) {
            Ok(_) => return Ok((path, n)),
            Err(e) if e.error.kind() == std::io::ErrorKind::AlreadyExists && n < MAX_NUMBER => {
                tmp = e.file;
                n += 1;
            }
            Err(e) => {
                return Err(anyhow::Error::new(e.error))
                    .with_context(|| format!("writing {}", path.display()))
            }
        }
    }
}

fn shown_dir(dir: &Path) -> String {
    if dir.as_os_str().is_empty() || dir == Path::new(".") {
        "the current directory".into()
    } else {
        dir.display().to_string()
    }
}

/// `photo.jpg` -> `photo`; a URL's last path segment likewise (`url` when
/// it has none).
pub fn stem_of(input: &Input) -> String {
    match input {
        Input::Path(p) => p
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "media".into()),
        Input::Url(u) => u
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .and_then(|last| last.split(['?', '#']).next())
            .map(|last| {
                Path::new(last)
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_default()
            })
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "url".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_taken_name_moves_the_pair_to_the_next_number() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let first = write_pair(d, "cat", b"h1", Ok(b"o1".to_vec())).unwrap();
        assert_eq!(first.heatmap, d.join("cat.heatmap.png"));
        assert_eq!(first.overlay.unwrap(), d.join("cat.overlay.png"));
        assert!(first.taken.is_none());
        // Only the overlay's name is taken: both move.
        std::fs::remove_file(d.join("cat.heatmap.png")).unwrap();
        let second = write_pair(d, "cat", b"h2", Ok(b"o2".to_vec())).unwrap();
        assert_eq!(second.heatmap, d.join("cat-2.heatmap.png"));
        assert_eq!(second.overlay.unwrap(), d.join("cat-2.overlay.png"));
        assert_eq!(second.taken.as_deref(), Some("cat.heatmap.png"));
        assert_eq!(std::fs::read(d.join("cat.overlay.png")).unwrap(), b"o1");
        // No overlay: the heatmap alone, the reason kept.
        let third = write_pair(d, "cat", b"h3", Err("why".into())).unwrap();
        assert_eq!(third.heatmap, d.join("cat-3.heatmap.png"));
        assert_eq!(third.overlay.unwrap_err(), "why");
        // No temporary file is left behind.
        let names: Vec<_> = std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(names.iter().all(|n| !n.ends_with(".tmp")), "{names:?}");
    }

    #[test]
    fn write_new_never_replaces_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(d.join("x1"), b"old").unwrap();
        let (path, n) = write_new(d, 1, |n| format!("x{n}"), b"new").unwrap();
        assert_eq!((path, n), (d.join("x2"), 2));
        assert_eq!(std::fs::read(d.join("x1")).unwrap(), b"old");
    }

    #[test]
    fn stems_of_paths_and_urls() {
        assert_eq!(stem_of(&Input::Path("a/b/photo.jpg".into())), "photo");
        assert_eq!(
            stem_of(&Input::Url("https://x.org/p/cat.png?s=1".into())),
            "cat"
        );
        assert_eq!(stem_of(&Input::Url("https://x.org/".into())), "x");
    }
}

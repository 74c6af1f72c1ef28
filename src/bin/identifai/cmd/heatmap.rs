//! `identifai heatmap`: the heatmap PNG as served, or blended over the
//! original image (`--overlay`).

use std::path::{Path, PathBuf};

use clap::Args;
use identifai::Identifier;
use image::{DynamicImage, ImageFormat};

use crate::context::Context;
use crate::exit::{failure, usage, Exit};
use crate::flags::parse_identifier;
use crate::output::{out, Paint};
use crate::picture::{blend, check_pixels, decode_limited, decode_png, png_size};

#[derive(Debug, Args)]
pub struct HeatmapArgs {
    /// The identifier of an image classified with --heatmap.
    #[arg(value_name = "ID", value_parser = parse_identifier)]
    pub id: Identifier,

    /// Where to write the picture: .png, .jpg/.jpeg, .webp, .tif/.tiff or
    /// .gif (by the extension; PNG without one).
    #[arg(short, long, value_name = "FILE")]
    pub out: PathBuf,

    /// Blend the heatmap over this original image instead of saving it bare.
    #[arg(long, value_name = "ORIGINAL")]
    pub overlay: Option<PathBuf>,

    /// How strongly the heatmap shows over the original, from 0 to 1.
    #[arg(long, value_name = "ALPHA", default_value_t = 0.5, value_parser = parse_unit, requires = "overlay")]
    pub opacity: f32,
}

/// `identifai heatmap ID -o FILE [--overlay ORIGINAL]`.
pub async fn run(ctx: &Context, args: HeatmapArgs) -> anyhow::Result<Exit> {
    check_format(&args.out)?;
    let bar = ctx.spinner(args.id.as_str());
    bar.set_message("fetching the heatmap…");
    let png = match ctx.client.heatmap(&args.id).await {
        // The image endpoint does not know it: say what it is, if anything.
        Err(identifai::Error::NotFound { .. }) => match ctx.client.result(&args.id).await {
            Ok(other) => {
                bar.finish_and_clear();
                return Err(failure(
                    "not_an_image",
                    format!(
                        "{} is {} {}: heatmaps exist for images only",
                        args.id,
                        if other.kind() == identifai::Kind::Audio {
                            "an"
                        } else {
                            "a"
                        },
                        other.kind().as_str()
                    ),
                ));
            }
            Err(e) => Err(e),
        },
        other => other,
    };
    bar.finish_and_clear();
    if let Err(e) = &png {
        ctx.hint_if_mock_forgot(e);
    }
    let Some(png) = png? else {
        return Err(failure(
            "no_heatmap",
            format!(
                "{} has no heatmap: it was classified without --heatmap, or is not done yet",
                args.id
            ),
        ));
    };
    // The size from the PNG header alone: nothing is decoded to tell it.
    let (hw, hh) = png_size(&png)?;
    let (width, height) = match &args.overlay {
        None if is_png(&args.out) => {
            crate::files::write_whole(&args.out, &png)?;
            (hw, hh)
        }
        None => {
            check_pixels("the heatmap served", hw, hh)?;
            let heat = decode_png(&png)?;
            save(&heat, &args.out)?;
            (hw, hh)
        }
        Some(original) => {
            identifai::Source::check_file(original)?;
            let base = decode_limited(original)?;
            check_pixels("the heatmap served", hw, hh)?;
            let heat = decode_png(&png)?;
            let blended = blend(&base, &heat, args.opacity);
            save(&DynamicImage::ImageRgba8(blended), &args.out)?;
            (base.width(), base.height())
        }
    };
    if ctx.json {
        out(&serde_json::json!({
            "identifier": args.id.as_str(),
            "path": args.out.display().to_string(),
            "overlay": args.overlay.as_ref().map(|p| p.display().to_string()),
            "opacity": args.overlay.as_ref().map(|_| args.opacity),
            "width": width,
            "height": height,
        })
        .to_string());
    } else {
        let p = Paint(ctx.color);
        match &args.overlay {
            None => out(&format!(
                "saved the heatmap of {} to {} ({width}×{height})",
                args.id,
                p.bold(&args.out.display().to_string())
            )),
            Some(original) => out(&format!(
                "saved {} ({width}×{height}): the heatmap of {} over {} at {:.0}% opacity",
                p.bold(&args.out.display().to_string()),
                args.id,
                original.display(),
                args.opacity * 100.0
            )),
        }
    }
    Ok(Exit::Ok)
}

/// The formats a picture can be saved in, by extension.
const FORMATS: &str = ".png, .jpg, .jpeg, .webp, .tif, .tiff or .gif";

/// Refuses, before anything is fetched, an extension no format is saved for.
fn check_format(path: &Path) -> anyhow::Result<()> {
    let Some(ext) = path.extension() else {
        return Ok(());
    };
    let ext = ext.to_string_lossy().to_ascii_lowercase();
    if matches!(
        ext.as_str(),
        "png" | "jpg" | "jpeg" | "webp" | "tif" | "tiff" | "gif"
    ) {
        return Ok(());
    }
    Err(usage(format!(
        "cannot save a picture as .{ext} ({}): use {FORMATS}",
        path.display()
    )))
}

fn is_png(path: &Path) -> bool {
    matches!(ImageFormat::from_path(path), Ok(ImageFormat::Png) | Err(_))
}

/// Writes `img` whole in the format of `path`'s extension (PNG when it has
/// none that is known); JPEG gets no alpha channel.
fn save(img: &DynamicImage, path: &Path) -> anyhow::Result<()> {
    let format = ImageFormat::from_path(path).unwrap_or(ImageFormat::Png);
    crate::files::write_whole_with(path, |w| {
        match format {
            ImageFormat::Jpeg => DynamicImage::ImageRgb8(img.to_rgb8()).write_to(w, format)?,
            _ => img.write_to(w, format)?,
        }
        Ok(())
    })
}

fn parse_unit(s: &str) -> Result<f32, String> {
    match s.trim().parse::<f32>() {
        Ok(v) if (0.0..=1.0).contains(&v) => Ok(v),
        _ => Err("expected a number from 0 to 1".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn png_unless_the_extension_says_otherwise() {
        assert!(is_png(Path::new("a.png")));
        assert!(is_png(Path::new("a")));
        assert!(!is_png(Path::new("a.jpg")));
    }
}

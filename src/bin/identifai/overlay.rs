//! `identifai heatmap`: the heatmap PNG as served, or blended over the
//! original image (`--overlay`).

use std::path::Path;

use anyhow::Context as _;
use image::imageops::FilterType;
use image::{DynamicImage, ImageFormat, ImageReader, RgbaImage};

use crate::args::HeatmapArgs;
use crate::context::Context;
use crate::output::{out, Paint};
use crate::Exit;

/// `identifai heatmap ID -o FILE [--overlay ORIGINAL]`.
pub async fn heatmap(ctx: &Context, args: HeatmapArgs) -> anyhow::Result<Exit> {
    check_format(&args.out)?;
    let bar = ctx.spinner(args.id.as_str());
    bar.set_message("fetching the heatmap…");
    let png = match ctx.client.heatmap(&args.id).await {
        // The image endpoint does not know it: say what it is, if anything.
        Err(identifai::Error::NotFound { .. }) => match ctx.client.result(&args.id).await {
            Ok(other) => {
                bar.finish_and_clear();
                return Err(crate::failure(
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
        crate::classify::hint_if_mock_forgot(ctx, e);
    }
    let Some(png) = png? else {
        return Err(crate::failure(
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
            identifai::check_file(original)?;
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

/// The most pixels decoded (`--overlay`, or a heatmap saved in another
/// format): 40 megapixels, 160 MB as RGBA. The size is read from the
/// header first, so a small file that decodes to gigabytes is refused
/// before any of it is decoded.
pub const MAX_PIXELS: u64 = 40_000_000;

/// A picture over [`MAX_PIXELS`].
#[derive(Debug)]
pub struct TooManyPixels {
    /// Which picture.
    pub what: String,
    /// Its width.
    pub width: u32,
    /// Its height.
    pub height: u32,
}

impl std::fmt::Display for TooManyPixels {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} is {}×{} = {} pixels, over the {MAX_PIXELS}-pixel cap",
            self.what,
            self.width,
            self.height,
            u64::from(self.width) * u64::from(self.height)
        )
    }
}

impl std::error::Error for TooManyPixels {}

fn check_pixels(what: &str, width: u32, height: u32) -> Result<(), TooManyPixels> {
    if u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(TooManyPixels {
            what: what.to_string(),
            width,
            height,
        });
    }
    Ok(())
}

/// The most bytes the decoder of a picture may allocate (image's own
/// limit, on top of [`MAX_PIXELS`] checked from the header).
pub const MAX_DECODE_BYTES: u64 = 512 * 1024 * 1024;

/// The decoder limits: [`MAX_DECODE_BYTES`], and no side over the pixel cap.
fn limits() -> image::Limits {
    let mut limits = image::Limits::default();
    let side = u32::try_from(MAX_PIXELS).unwrap_or(u32::MAX);
    limits.max_image_width = Some(side);
    limits.max_image_height = Some(side);
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    limits
}

/// Decodes the picture at `path` (its format from its content), refusing
/// one over [`MAX_PIXELS`] from its header before decoding any of it.
pub fn decode_limited(path: &Path) -> anyhow::Result<DynamicImage> {
    let shown = path.display();
    let reader = || -> anyhow::Result<ImageReader<std::io::BufReader<std::fs::File>>> {
        let mut reader = ImageReader::open(path)
            .with_context(|| format!("opening {shown}"))?
            .with_guessed_format()
            .with_context(|| format!("reading {shown}"))?;
        if reader.format().is_none() {
            anyhow::bail!(
                "{shown} is not a picture this program can decode (PNG, JPEG, WebP, GIF or TIFF)"
            );
        }
        reader.limits(limits());
        Ok(reader)
    };
    let (w, h) = reader()?
        .into_dimensions()
        .with_context(|| format!("reading the size of {shown}"))?;
    check_pixels(&shown.to_string(), w, h)?;
    reader()?
        .decode()
        .with_context(|| format!("decoding {shown}"))
}

/// The width and height of a PNG, from its header alone.
pub fn png_size(png: &[u8]) -> anyhow::Result<(u32, u32)> {
    ImageReader::with_format(std::io::Cursor::new(png), ImageFormat::Png)
        .into_dimensions()
        .context("the heatmap served is not a readable PNG")
}

/// The heatmap `png` laid over the picture at `original` at `opacity`, as
/// PNG bytes (what `classify --heatmap` saves as `NAME.overlay.png`).
pub fn overlay_png(original: &Path, png: &[u8], opacity: f32) -> anyhow::Result<Vec<u8>> {
    let base = decode_limited(original)?;
    let (hw, hh) = png_size(png)?;
    check_pixels("the heatmap served", hw, hh)?;
    let heat = decode_png(png)?;
    let blended = DynamicImage::ImageRgba8(blend(&base, &heat, opacity));
    // No alpha channel unless the original has one: a smaller file.
    let blended = if base.color().has_alpha() {
        blended
    } else {
        DynamicImage::ImageRgb8(blended.to_rgb8())
    };
    let mut out = Vec::new();
    let encoder = image::codecs::png::PngEncoder::new_with_quality(
        &mut out,
        image::codecs::png::CompressionType::Best,
        image::codecs::png::FilterType::Adaptive,
    );
    blended
        .write_with_encoder(encoder)
        .context("encoding the overlay")?;
    Ok(out)
}

fn decode_png(png: &[u8]) -> anyhow::Result<DynamicImage> {
    image::load_from_memory_with_format(png, ImageFormat::Png)
        .context("the heatmap served is not a readable PNG")
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
    Err(crate::usage(format!(
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

/// The heatmap stretched to the original's size and laid over it: each
/// pixel is `original * (1 - a) + heat * a`, with `a` the opacity times
/// the heatmap's own alpha. The original's alpha is kept.
pub fn blend(original: &DynamicImage, heat: &DynamicImage, opacity: f32) -> RgbaImage {
    let mut out = original.to_rgba8();
    let (w, h) = out.dimensions();
    let heat = image::imageops::resize(&heat.to_rgba8(), w, h, FilterType::Triangle);
    let opacity = opacity.clamp(0.0, 1.0);
    for (o, hp) in out.pixels_mut().zip(heat.pixels()) {
        let a = opacity * f32::from(hp[3]) / 255.0;
        for c in 0..3 {
            let v = f32::from(o[c]) * (1.0 - a) + f32::from(hp[c]) * a;
            o[c] = v.round().clamp(0.0, 255.0) as u8;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Rgba;

    #[test]
    fn blending_mixes_by_opacity_and_keeps_the_size() {
        let original = DynamicImage::ImageRgba8(RgbaImage::from_pixel(4, 3, Rgba([0, 0, 0, 200])));
        let heat = DynamicImage::ImageRgba8(RgbaImage::from_pixel(2, 2, Rgba([200, 100, 0, 255])));
        let out = blend(&original, &heat, 0.5);
        assert_eq!(out.dimensions(), (4, 3));
        assert_eq!(out.get_pixel(1, 1), &Rgba([100, 50, 0, 200]));
        let none = blend(&original, &heat, 0.0);
        assert_eq!(none.get_pixel(0, 0), &Rgba([0, 0, 0, 200]));
    }

    #[test]
    fn png_unless_the_extension_says_otherwise() {
        assert!(is_png(Path::new("a.png")));
        assert!(is_png(Path::new("a")));
        assert!(!is_png(Path::new("a.jpg")));
    }
}

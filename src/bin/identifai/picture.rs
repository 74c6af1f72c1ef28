//! Pictures: decoding under a pixel cap, the size of a PNG from its header,
//! and the heatmap blended over an original (`heatmap --overlay`,
//! `classify --heatmap`'s `NAME.overlay.png`).

use std::path::Path;

use anyhow::Context as _;
use image::imageops::FilterType;
use image::{DynamicImage, ImageFormat, ImageReader, RgbaImage};

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

pub fn check_pixels(what: &str, width: u32, height: u32) -> Result<(), TooManyPixels> {
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

pub fn decode_png(png: &[u8]) -> anyhow::Result<DynamicImage> {
    image::load_from_memory_with_format(png, ImageFormat::Png)
        .context("the heatmap served is not a readable PNG")
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
}

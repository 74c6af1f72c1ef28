//! Media bytes the tests upload: files that start like a PNG, MP4, WAV or
//! MP3 (enough for the client's content sniffing), unique per `n` where a
//! test needs distinct identifiers, and fixed samples where a snapshot pins
//! their hash.

/// The eight bytes every PNG starts with.
pub const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

/// Bytes that start like a PNG, unique per `n` (so each gets its own id).
pub fn png(n: u32) -> Vec<u8> {
    let mut v = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    v.extend_from_slice(&n.to_be_bytes());
    v.extend_from_slice(&[7u8; 64]);
    v
}

/// Bytes that start like an MP4 (`ftyp` box).
pub fn mp4(n: u32) -> Vec<u8> {
    let mut v = b"\0\0\0\x18ftypmp42\0\0\0\0mp42isom".to_vec();
    v.extend_from_slice(&n.to_be_bytes());
    v.extend_from_slice(&[1u8; 128]);
    v
}

/// A short 8 kHz mono WAV, unique per `n`.
pub fn wav(n: u32) -> Vec<u8> {
    let samples: Vec<u8> = (0..800u32)
        .flat_map(|i| (((i * (n + 3)) % 2000) as i16 - 1000).to_le_bytes())
        .collect();
    let mut v = b"RIFF".to_vec();
    v.extend_from_slice(&(36 + samples.len() as u32).to_le_bytes());
    v.extend_from_slice(b"WAVEfmt ");
    v.extend_from_slice(&16u32.to_le_bytes());
    v.extend_from_slice(&1u16.to_le_bytes()); // PCM
    v.extend_from_slice(&1u16.to_le_bytes()); // mono
    v.extend_from_slice(&8000u32.to_le_bytes());
    v.extend_from_slice(&16000u32.to_le_bytes());
    v.extend_from_slice(&2u16.to_le_bytes());
    v.extend_from_slice(&16u16.to_le_bytes());
    v.extend_from_slice(b"data");
    v.extend_from_slice(&(samples.len() as u32).to_le_bytes());
    v.extend_from_slice(&samples);
    v
}

/// Bytes that start like an MP3 (an ID3v2 tag), unique per `n`.
pub fn mp3(n: u32) -> Vec<u8> {
    let mut v = b"ID3\x03\0\0\0\0\0\x0a".to_vec();
    v.extend_from_slice(&[0u8; 10]);
    v.extend_from_slice(&[0xff, 0xfb, 0x90, 0x64]);
    v.extend_from_slice(&n.to_be_bytes());
    v.extend_from_slice(&[0x55u8; 256]);
    v
}

/// A fixed PNG-looking sample (its hash is in the wire-matrix snapshots).
pub fn png_sample() -> Vec<u8> {
    let mut v = PNG_SIGNATURE.to_vec();
    v.extend_from_slice(b"\0\0\0\rIHDR");
    v.extend_from_slice(&[7u8; 48]);
    v
}

/// A fixed MP3-looking sample (its hash is in the wire-matrix snapshots).
pub fn mp3_sample() -> Vec<u8> {
    let mut v = b"ID3\x04\0\0\0\0\0\0".to_vec();
    v.extend_from_slice(&[0xff, 0xfb, 0x90, 0x64]);
    v.extend_from_slice(&[2u8; 64]);
    v
}

/// A fixed MP4-looking sample (its hash is in the wire-matrix snapshots).
pub fn mp4_sample() -> Vec<u8> {
    let mut v = b"\0\0\0\x18ftypmp42\0\0\0\0mp42isom".to_vec();
    v.extend_from_slice(&[1u8; 96]);
    v
}

/// A file of kind `kind` the client accepts, unique per `n`, whatever kinds
/// the spec declares: bytes of the kind's shape where this file has one,
/// else made-up bytes, always sent with the first concrete content type the
/// spec's `encoding` lists for the kind (a wildcard such as `video/*` made
/// concrete), so nothing depends on sniffing. Returns the source's file
/// name, bytes and content type.
pub fn sample_of(kind: identifai::Kind, n: u32) -> (String, Vec<u8>, String) {
    let allowed = kind.content_types();
    let concrete = allowed
        .iter()
        .find(|t| !t.contains('*'))
        .map(|t| t.to_string())
        .or_else(|| allowed.first().map(|t| t.replace('*', "x-sample")))
        .unwrap_or_else(|| "application/octet-stream".into());
    let bytes = match concrete.split('/').next() {
        Some("image") => png(n),
        Some("video") => mp4(n),
        Some("audio") => wav(n),
        _ => {
            let mut v = format!("identifai sample {kind} {n}\n").into_bytes();
            v.extend_from_slice(&[0x42u8; 64]);
            v
        }
    };
    (format!("sample-{kind}-{n}"), bytes, concrete)
}

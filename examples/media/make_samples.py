#!/usr/bin/env python3
"""Writes the tiny audio and video samples of examples/media (stdlib only).

    python3 examples/media/make_samples.py

- speech.wav: 0.3 s of 8 kHz mono 16-bit PCM, a rising tone with a tremolo
  (4.8 KB): a real, playable WAV (RIFF/WAVE, as the upload checks sniff it).
- clip.mp4: an ISO base media file (ftyp `isom`, moov with one empty video
  track, 160x120, 1 s), 0.5 KB: the container the upload checks sniff as
  video/mp4. It holds no encoded frames: the built-in mock server does not
  decode media, and a real H.264 stream would not be a few hundred bytes.

The output is deterministic, so running it again changes nothing.
"""
import math
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def wav(path, seconds=0.3, rate=8000):
    n = int(seconds * rate)
    frames = bytearray()
    for i in range(n):
        t = i / rate
        freq = 220 + 440 * t / seconds
        amp = 0.5 + 0.3 * math.sin(2 * math.pi * 6 * t)
        frames += struct.pack("<h", int(12000 * amp * math.sin(2 * math.pi * freq * t)))
    header = b"RIFF" + struct.pack("<I", 36 + len(frames)) + b"WAVE"
    fmt = b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16)
    data = b"data" + struct.pack("<I", len(frames)) + bytes(frames)
    with open(path, "wb") as f:
        f.write(header + fmt + data)


def box(kind, *payload):
    body = b"".join(payload)
    return struct.pack(">I", 8 + len(body)) + kind + body


def full(kind, version_flags, *payload):
    return box(kind, struct.pack(">I", version_flags), *payload)


MATRIX = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)


def mp4(path):
    timescale, duration = 1000, 1000
    ftyp = box(b"ftyp", b"isom", struct.pack(">I", 0x200), b"isom", b"iso2", b"mp41")
    mvhd = full(b"mvhd", 0, struct.pack(">IIII", 0, 0, timescale, duration),
                struct.pack(">IH", 0x10000, 0x100), b"\0" * 10, MATRIX, b"\0" * 24,
                struct.pack(">I", 2))
    tkhd = full(b"tkhd", 3, struct.pack(">IIIII", 0, 0, 1, 0, duration), b"\0" * 8,
                struct.pack(">HHHH", 0, 0, 0, 0), MATRIX,
                struct.pack(">II", 160 << 16, 120 << 16))
    mdhd = full(b"mdhd", 0, struct.pack(">IIII", 0, 0, timescale, duration),
                struct.pack(">HH", 0x55C4, 0))
    hdlr = full(b"hdlr", 0, struct.pack(">I", 0), b"vide", b"\0" * 12, b"VideoHandler\0")
    vmhd = full(b"vmhd", 1, b"\0" * 8)
    dinf = box(b"dinf", full(b"dref", 0, struct.pack(">I", 1), full(b"url ", 1)))
    stbl = box(b"stbl",
               full(b"stsd", 0, struct.pack(">I", 0)),
               full(b"stts", 0, struct.pack(">I", 0)),
               full(b"stsc", 0, struct.pack(">I", 0)),
               full(b"stsz", 0, struct.pack(">II", 0, 0)),
               full(b"stco", 0, struct.pack(">I", 0)))
    minf = box(b"minf", vmhd, dinf, stbl)
    trak = box(b"trak", tkhd, box(b"mdia", mdhd, hdlr, minf))
    moov = box(b"moov", mvhd, trak)
    with open(path, "wb") as f:
        f.write(ftyp + moov + box(b"mdat"))


if __name__ == "__main__":
    wav(os.path.join(HERE, "speech.wav"))
    mp4(os.path.join(HERE, "clip.mp4"))

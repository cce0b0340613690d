#!/usr/bin/env python3
"""Generate the bundled demo data set (images, audio clips, simulated votes).

Usage::

    python data/demo/generate.py            # regenerate the bundle in rater/api/demo_data/
    python data/demo/generate.py OUTDIR     # write the same files somewhere else

Everything is deterministic: every random draw comes from a numpy Generator
seeded from a fixed string, so running the script twice produces
byte-identical files.  Only numpy, Pillow and the standard library are used.

Layout written under the output directory (by default the package data folder
rater/api/demo_data/, which ``rater demo`` loads)::

    demo.json                       manifest (leaderboards, prompts, models, media)
    images/<model>/<NN-slug>.png    256x256 palette PNGs, one per model per prompt
    audio/<model>/<NN-slug>.wav     16 kHz 16-bit mono, 1.5 s
    votes-images.jsonl              simulated pairwise votes, one JSON object a line
    votes-audio.jsonl
"""

from __future__ import annotations

import argparse
import io
import json
import math
import wave
import zlib
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

HERE = Path(__file__).resolve().parent
# The bundle ships inside the package (package data), so `rater demo` works from any folder.
BUNDLE = HERE.parents[1] / "rater" / "api" / "demo_data"

SIZE = 256  # output image size (square)
SAMPLE_RATE = 16_000
CLIP_SECONDS = 1.5

RATERS = ["rater-ana", "rater-ben", "rater-chen", "rater-dara", "rater-eli", "rater-fatima"]
# Probability that a rater ignores the clips and answers at random (attention lapses).
RATER_LAPSE = {
    "rater-ana": 0.04,
    "rater-ben": 0.10,
    "rater-chen": 0.06,
    "rater-dara": 0.18,
    "rater-eli": 0.08,
    "rater-fatima": 0.12,
}
# Davidson tie parameter: P(tie) = nu*sqrt(pa*pb) / (pa + pb + nu*sqrt(pa*pb)).
TIE_NU = 0.25


def rng_for(*parts: object) -> np.random.Generator:
    """A Generator seeded from a stable string (never Python's salted hash())."""
    key = "/".join(str(p) for p in parts).encode()
    return np.random.default_rng([zlib.crc32(key), zlib.adler32(key), len(key)])


# --------------------------------------------------------------------------------------
# Images
# --------------------------------------------------------------------------------------

IMAGE_PROMPTS = [
    ("01-red-sun", "A red sun setting over blue mountains", ["landscape", "warm", "sunset"]),
    ("02-yellow-house", "A yellow house with a green door", ["building", "bright"]),
    ("03-three-balloons", "Three balloons in a clear sky", ["sky", "objects", "counting"]),
    ("04-sailboat", "A sailboat on calm water", ["water", "boat", "calm"]),
    ("05-snowman", "A snowman wearing a hat", ["winter", "character"]),
    ("06-apple-tree", "A tree with red apples", ["nature", "fruit"]),
    ("07-night-sky", "A night sky with a crescent moon and stars", ["night", "sky", "cool"]),
    ("08-lighthouse", "A lighthouse on a rocky shore", ["coast", "building", "landscape"]),
]


@dataclass(frozen=True)
class Quality:
    name: str
    ss: int  # supersampling factor (anti-aliasing)
    gradient: bool  # gradient skies/fills instead of flat colours
    shading: bool  # radial highlights, glows, translucent effects
    detail: int  # 0..3, which optional scene details get drawn
    jitter: float  # std-dev of vertex jitter, in output pixels
    colour_noise: float  # std-dev of per-object colour error (0..255 scale)
    wrong_colour: float  # probability an object gets an unrelated colour
    drop: float  # probability a main object is left out
    count_error: float  # probability of drawing the wrong number of things
    scribbles: int  # random scribble strokes drawn over the picture
    noise: float  # std-dev of blocky pixel noise added at the end
    colours: int  # palette size of the saved PNG


PAINTERS = [
    Quality("painter-master", 4, True, True, 3, 0.0, 0.0, 0.00, 0.00, 0.00, 0, 0.0, 96),
    Quality("painter-good", 2, True, False, 2, 0.6, 6.0, 0.00, 0.00, 0.00, 0, 0.0, 64),
    Quality("painter-average", 1, False, False, 1, 2.0, 14.0, 0.03, 0.00, 0.10, 0, 0.0, 32),
    Quality("painter-sloppy", 1, False, False, 0, 5.5, 30.0, 0.30, 0.12, 0.45, 2, 6.0, 24),
    Quality("painter-scribbler", 1, False, False, 0, 10.0, 55.0, 0.50, 0.40, 0.70, 7, 22.0, 16),
    # Added after the votes below were cast, so it has none: the rater opens on placing it.
    # Its true quality lies between painter-good and painter-average.
    Quality("painter-newcomer", 2, True, False, 1, 1.2, 9.0, 0.01, 0.00, 0.05, 0, 0.0, 48),
]

# Extra variants: (model, slug) -> number of media.  Shows that a model may have
# several media for one prompt.
IMAGE_VARIANTS = {("painter-master", "01-red-sun"): 2, ("painter-master", "03-three-balloons"): 2}

GARISH = [
    (255, 0, 255),
    (0, 255, 0),
    (255, 128, 0),
    (0, 255, 255),
    (128, 0, 128),
    (255, 255, 0),
    (90, 60, 20),
    (255, 0, 0),
    (0, 0, 255),
]


def _mix(a, b, t: float):
    return tuple(int(round(a[i] + (b[i] - a[i]) * t)) for i in range(3))


@dataclass(frozen=True)
class VGrad:
    """Vertical gradient from `top` (at y0) to `bottom` (at y1), output coordinates."""

    top: tuple
    bottom: tuple
    y0: float
    y1: float


@dataclass(frozen=True)
class Radial:
    """Radial gradient: `inner` at (cx, cy) to `outer` at radius r (output coords)."""

    inner: tuple
    outer: tuple
    cx: float
    cy: float
    r: float


class Painter:
    """Drawing primitives whose fidelity depends on a Quality profile.

    All coordinates are in output pixels (0..256); the canvas itself is
    supersampled by ``q.ss`` and downscaled at the end (anti-aliasing).
    """

    def __init__(self, q: Quality, rng: np.random.Generator):
        self.q = q
        self.rng = rng
        self.s = q.ss
        self.n = SIZE * q.ss
        self.img = Image.new("RGB", (self.n, self.n), (255, 255, 255))

    # ---- decisions ---------------------------------------------------------------
    def detail(self, level: int) -> bool:
        return self.q.detail >= level

    def keep(self) -> bool:
        """Whether a main object is drawn (sloppy painters forget things)."""
        return self.q.drop == 0 or self.rng.random() >= self.q.drop

    def count(self, n: int) -> int:
        if self.q.count_error and self.rng.random() < self.q.count_error:
            return max(1, n + int(self.rng.choice([-2, -1, 1, 2])))
        return n

    # ---- colours -----------------------------------------------------------------
    def colour(self, rgb) -> tuple:
        q = self.q
        if q.wrong_colour and self.rng.random() < q.wrong_colour:
            rgb = GARISH[int(self.rng.integers(len(GARISH)))]
        if q.colour_noise:
            rgb = np.asarray(rgb, float) + self.rng.normal(0, q.colour_noise, 3)
        return tuple(int(v) for v in np.clip(np.round(rgb), 0, 255))

    def _layer(self, fill, box):
        """Resolve a fill spec to a colour tuple or an RGB image covering `box`.

        `box` is (x0, y0, x1, y1) in canvas pixels.
        """
        x0, y0, x1, y1 = box
        if isinstance(fill, VGrad):
            top, bottom = self.colour(fill.top), self.colour(fill.bottom)
            if not self.q.gradient:
                return _mix(top, bottom, 0.5)
            ys = (np.arange(y0, y1) + 0.5) / self.s
            t = np.clip((ys - fill.y0) / max(fill.y1 - fill.y0, 1e-6), 0, 1)[:, None]
            row = np.asarray(top, float) * (1 - t) + np.asarray(bottom, float) * t
            arr = np.broadcast_to(np.round(row)[:, None, :], (y1 - y0, x1 - x0, 3))
            return Image.fromarray(np.ascontiguousarray(arr, dtype=np.uint8))
        if isinstance(fill, Radial):
            inner, outer = self.colour(fill.inner), self.colour(fill.outer)
            if not self.q.shading:
                return outer
            xs = (np.arange(x0, x1) + 0.5) / self.s
            ys = (np.arange(y0, y1) + 0.5) / self.s
            d = np.hypot(xs[None, :] - fill.cx, ys[:, None] - fill.cy) / fill.r
            t = np.clip(d, 0, 1)[..., None] ** 1.3
            arr = np.asarray(inner, float) * (1 - t) + np.asarray(outer, float) * t
            return Image.fromarray(np.round(arr).astype(np.uint8))
        return self.colour(fill)

    def _paint(self, mask: Image.Image, fill, alpha: float = 1.0) -> None:
        box = mask.getbbox() or (0, 0, 1, 1)
        if alpha < 1.0:
            mask = mask.point(lambda v: int(v * alpha))
        layer = self._layer(fill, box)
        mask = mask.crop(box)
        if isinstance(layer, tuple):
            self.img.paste(layer, box, mask)
        else:
            self.img.paste(layer, box[:2], mask)

    def _mask(self) -> tuple[Image.Image, ImageDraw.ImageDraw]:
        m = Image.new("L", (self.n, self.n), 0)
        return m, ImageDraw.Draw(m)

    # ---- geometry ----------------------------------------------------------------
    def _jit(self, pts):
        pts = np.asarray(pts, float)
        if self.q.jitter:
            pts = pts + self.rng.normal(0, self.q.jitter, pts.shape)
        return [(float(x * self.s), float(y * self.s)) for x, y in pts]

    def _ellipse_pts(self, cx, cy, rx, ry, n=48):
        q = self.q
        th = np.linspace(0, 2 * np.pi, n, endpoint=False)
        wob = np.ones_like(th)
        if q.jitter:
            cx += self.rng.normal(0, q.jitter * 0.6)
            cy += self.rng.normal(0, q.jitter * 0.6)
            amp = q.jitter / max(min(rx, ry), 4) * 0.6
            for k in (2, 3, 5):
                wob = wob + amp * self.rng.normal(0, 1) * np.sin(k * th + self.rng.uniform(0, 2 * np.pi))
        return [(float((cx + rx * w * math.cos(a)) * self.s), float((cy + ry * w * math.sin(a)) * self.s))
                for a, w in zip(th, wob)]

    def fill(self, fill) -> None:
        m = Image.new("L", (self.n, self.n), 255)
        self._paint(m, fill)

    def poly(self, pts, fill, alpha: float = 1.0) -> None:
        m, d = self._mask()
        d.polygon(self._jit(pts), fill=255)
        self._paint(m, fill, alpha)

    def rect(self, x0, y0, x1, y1, fill, alpha: float = 1.0) -> None:
        self.poly([(x0, y0), (x1, y0), (x1, y1), (x0, y1)], fill, alpha)

    def ellipse(self, cx, cy, rx, ry=None, fill=(0, 0, 0), alpha: float = 1.0) -> None:
        ry = rx if ry is None else ry
        m, d = self._mask()
        if self.q.jitter == 0 and rx * self.s >= 1:
            s = self.s
            d.ellipse([(cx - rx) * s, (cy - ry) * s, (cx + rx) * s, (cy + ry) * s], fill=255)
        else:
            d.polygon(self._ellipse_pts(cx, cy, rx, ry), fill=255)
        self._paint(m, fill, alpha)

    def crescent(self, cx, cy, r, dx, dy, fill) -> None:
        """A disc of radius r minus a disc offset by (dx, dy)."""
        m, d = self._mask()
        d.polygon(self._ellipse_pts(cx, cy, r, r, 72), fill=255)
        d.polygon(self._ellipse_pts(cx + dx, cy + dy, r * 0.92, r * 0.92, 72), fill=0)
        self._paint(m, fill)

    def line(self, pts, fill, width: float = 2.0, alpha: float = 1.0) -> None:
        m, d = self._mask()
        w = max(1, int(round(width * self.s)))
        d.line(self._jit(pts), fill=255, width=w, joint="curve")
        self._paint(m, fill, alpha)

    def star(self, cx, cy, r, fill, points=4) -> None:
        pts = []
        for i in range(points * 2):
            a = math.pi * i / points - math.pi / 2
            rr = r if i % 2 == 0 else r * 0.3
            pts.append((cx + rr * math.cos(a), cy + rr * math.sin(a)))
        self.poly(pts, fill)

    # ---- output ------------------------------------------------------------------
    def finish(self) -> Image.Image:
        q = self.q
        img = self.img
        if q.scribbles:
            d = ImageDraw.Draw(img)
            for _ in range(q.scribbles):
                n = int(self.rng.integers(6, 16))
                start = self.rng.uniform(20, SIZE - 20, 2)
                steps = self.rng.normal(0, 18, (n, 2))
                pts = np.clip(start + np.cumsum(steps, axis=0), 0, SIZE - 1) * self.s
                col = GARISH[int(self.rng.integers(len(GARISH)))]
                d.line([tuple(map(float, p)) for p in pts], fill=col, width=int(self.rng.integers(2, 5)))
        if self.s > 1:
            img = img.resize((SIZE, SIZE), Image.Resampling.LANCZOS)
        if q.noise:
            blocks = self.rng.normal(0, q.noise, (SIZE // 4, SIZE // 4, 3))
            blocks = np.repeat(np.repeat(blocks, 4, axis=0), 4, axis=1)
            arr = np.asarray(img, float) + blocks
            img = Image.fromarray(np.clip(np.round(arr), 0, 255).astype(np.uint8))
        return img.quantize(colors=q.colours, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)


# ---- scenes (all coordinates in 0..256 output pixels) --------------------------------


def scene_red_sun(p: Painter, variant: int) -> None:
    p.fill(VGrad((250, 120, 80), (255, 214, 140), 0, 190))
    sx, sy, sr = (128, 142, 42) if variant == 0 else (84, 128, 34)
    if p.keep():
        if p.detail(3):
            p.ellipse(sx, sy, sr * 1.8, fill=(255, 190, 120), alpha=0.35)
            p.ellipse(sx, sy, sr * 1.35, fill=(255, 160, 100), alpha=0.45)
        p.ellipse(sx, sy, sr, fill=Radial((255, 120, 70), (215, 30, 25), sx - 10, sy - 12, sr * 1.3))
    if p.detail(2):  # thin clouds across the sun
        p.rect(30, sy - 6, 150, sy - 2, (255, 170, 120), alpha=0.8)
        p.rect(120, sy + 14, 240, sy + 18, (255, 170, 120), alpha=0.8)
    back = [(0, 190), (40, 140), (80, 165), (130, 120), (175, 160), (215, 128), (256, 170), (256, 256), (0, 256)]
    if p.keep():
        p.poly(back, VGrad((120, 145, 215), (70, 95, 175), 120, 210))
    if p.detail(3):
        p.poly([(130, 120), (120, 130), (127, 128), (133, 134), (140, 127)], (235, 240, 255))
        p.poly([(215, 128), (205, 137), (212, 135), (219, 140), (224, 134)], (235, 240, 255))
    front = [(0, 215), (55, 165), (100, 200), (150, 158), (205, 205), (256, 185), (256, 256), (0, 256)]
    if p.keep():
        p.poly(front, VGrad((45, 70, 160), (20, 35, 100), 160, 256))
    if p.detail(1):
        p.line([(20, 40), (30, 34), (40, 40)], (70, 40, 40), 2)
        p.line([(48, 58), (56, 53), (64, 58)], (70, 40, 40), 2)


def scene_yellow_house(p: Painter, variant: int) -> None:
    p.fill(VGrad((120, 185, 240), (205, 232, 255), 0, 190))
    if p.detail(3):
        p.ellipse(222, 36, 18, fill=Radial((255, 255, 200), (255, 215, 60), 218, 32, 20))
    p.rect(0, 196, 256, 256, VGrad((95, 185, 80), (50, 135, 45), 196, 256))
    if p.detail(3):  # path to the door
        p.poly([(116, 212), (142, 212), (160, 256), (100, 256)], (200, 180, 140))
        p.rect(166, 62, 184, 100, (150, 60, 45))  # chimney
    if p.keep():
        p.rect(56, 108, 200, 212, VGrad((250, 215, 70), (230, 180, 30), 108, 212))
    if p.keep():
        p.poly([(44, 112), (128, 46), (212, 112)], VGrad((190, 60, 45), (140, 40, 35), 46, 112))
    if p.keep():
        p.rect(111, 148, 145, 212, VGrad((40, 160, 70), (20, 110, 45), 148, 212))
        if p.detail(2):
            p.ellipse(138, 182, 3, fill=(240, 200, 60))
    if p.detail(1):
        for x0 in (70, 160):
            p.rect(x0, 130, x0 + 28, 158, (170, 215, 245))
            if p.detail(2):
                p.line([(x0 + 14, 130), (x0 + 14, 158)], (255, 255, 255), 2)
                p.line([(x0, 144), (x0 + 28, 144)], (255, 255, 255), 2)
                p.rect(x0 - 3, 158, x0 + 31, 162, (255, 255, 255))
    if p.detail(3):
        for x in range(8, 256, 14):
            p.line([(x, 214), (x + 3, 204)], (40, 120, 40), 1.5)


def scene_three_balloons(p: Painter, variant: int) -> None:
    p.fill(VGrad((80, 150, 235), (195, 228, 255), 0, 256))
    if variant == 0:
        spots = [(78, 96), (134, 70), (186, 108)]
    else:
        spots = [(96, 66), (164, 88), (118, 134)]
    colours = [(225, 40, 45), (250, 205, 40), (60, 170, 85)]
    n = p.count(3)
    extra = [(50, 160), (210, 170), (150, 150)]
    spots = (spots + extra)[:n]
    for i, (x, y) in enumerate(spots):
        if not p.keep():
            continue
        col = colours[i % 3]
        string = [(x, y + 36), (x - 6, y + 60), (x + 4, y + 90), (x - 2, y + 120)]
        p.line(string, (90, 90, 90), 1.5)
        if p.detail(1):
            p.poly([(x - 5, y + 38), (x + 5, y + 38), (x, y + 31)], _mix(col, (0, 0, 0), 0.25))
        p.ellipse(x, y, 27, 33, fill=Radial(_mix(col, (255, 255, 255), 0.45), col, x - 9, y - 12, 40))
        if p.detail(2):
            p.ellipse(x - 10, y - 14, 5, 8, fill=(255, 255, 255), alpha=0.75)


def scene_sailboat(p: Painter, variant: int) -> None:
    p.fill(VGrad((110, 170, 235), (215, 235, 250), 0, 160))
    if p.detail(2):
        p.ellipse(46, 48, 16, fill=Radial((255, 255, 220), (255, 225, 120), 44, 45, 18))
    p.rect(0, 160, 256, 256, VGrad((70, 140, 200), (25, 80, 150), 160, 256))
    if p.detail(3):  # reflection and ripples
        p.poly([(134, 196), (188, 196), (170, 236), (136, 236)], (235, 240, 245), alpha=0.25)
        for y, x0, x1 in [(205, 30, 80), (222, 170, 230), (238, 60, 110), (214, 196, 240)]:
            p.line([(x0, y), (x1, y)], (170, 210, 240), 1.5, alpha=0.7)
        for x, y in [(70, 80), (90, 70)]:
            p.line([(x - 7, y), (x, y - 4), (x + 7, y)], (60, 60, 70), 1.5)
    if p.keep():
        p.line([(128, 56), (128, 182)], (90, 60, 35), 3)
        p.poly([(133, 62), (133, 170), (196, 170)], VGrad((255, 255, 255), (220, 222, 228), 62, 170))
        p.poly([(123, 78), (123, 170), (78, 170)], VGrad((250, 250, 250), (215, 218, 225), 78, 170))
        if p.detail(2):
            p.poly([(128, 52), (128, 62), (144, 57)], (220, 50, 50))
    if p.keep():
        p.poly([(62, 172), (200, 172), (178, 198), (84, 198)], VGrad((150, 85, 45), (100, 55, 30), 172, 198))
        if p.detail(1):
            p.line([(70, 178), (192, 178)], (240, 240, 240), 2)


def scene_snowman(p: Painter, variant: int) -> None:
    p.fill(VGrad((150, 180, 220), (225, 235, 248), 0, 200))
    p.rect(0, 200, 256, 256, VGrad((240, 245, 252), (210, 222, 238), 200, 256))
    if p.detail(3):
        rs = rng_for("snow", p.q.name)
        for _ in range(45):
            x, y = rs.uniform(0, 256), rs.uniform(0, 200)
            p.ellipse(x, y, rs.uniform(1.2, 2.6), fill=(255, 255, 255), alpha=0.85)
    body = [(128, 192, 46), (128, 126, 34), (128, 78, 25)]
    if p.detail(1):  # soft outline so white balls read against the snow
        for x, y, r in body:
            p.ellipse(x, y, r + 2, fill=(150, 165, 190))
    for x, y, r in body:
        if p.keep():
            p.ellipse(x, y, r, fill=Radial((255, 255, 255), (215, 225, 240), x - r * 0.35, y - r * 0.4, r * 1.5))
    if p.detail(2):  # stick arms
        p.line([(96, 122), (62, 100), (52, 88)], (110, 70, 35), 3)
        p.line([(62, 100), (54, 104)], (110, 70, 35), 2)
        p.line([(160, 122), (194, 100), (204, 88)], (110, 70, 35), 3)
    if p.detail(3):  # scarf
        p.rect(102, 98, 154, 108, (200, 40, 50))
        p.poly([(140, 100), (152, 102), (150, 132), (138, 130)], (180, 30, 45))
    if p.keep():  # hat
        p.rect(96, 52, 160, 59, (25, 25, 32))
        p.rect(107, 18, 149, 54, VGrad((55, 55, 65), (20, 20, 26), 18, 54))
        if p.detail(2):
            p.rect(107, 44, 149, 51, (200, 40, 50))
    p.ellipse(119, 74, 3, fill=(20, 20, 20))
    p.ellipse(137, 74, 3, fill=(20, 20, 20))
    if p.keep():
        p.poly([(126, 80), (130, 80), (152, 88)], (245, 130, 30))
    if p.detail(1):
        for y in (116, 130, 144):
            p.ellipse(128, y, 3.5, fill=(30, 30, 35))


def scene_apple_tree(p: Painter, variant: int) -> None:
    p.fill(VGrad((120, 190, 245), (215, 238, 255), 0, 200))
    p.rect(0, 206, 256, 256, VGrad((110, 190, 80), (60, 140, 50), 206, 256))
    if p.keep():
        p.poly([(114, 236), (118, 140), (138, 140), (144, 236)], VGrad((130, 85, 45), (95, 60, 30), 140, 236))
        if p.detail(2):
            p.line([(128, 160), (100, 130)], (110, 70, 35), 6)
            p.line([(130, 150), (160, 122)], (110, 70, 35), 6)
    if p.keep():
        blobs = [(128, 96, 70, 58), (84, 118, 40, 34), (172, 118, 42, 34), (128, 60, 50, 38)]
        dark, light = (35, 115, 45), (80, 170, 70)
        for x, y, rx, ry in blobs:
            p.ellipse(x, y + 4, rx, ry, fill=dark)
        for x, y, rx, ry in blobs:
            p.ellipse(x - 4, y - 4, rx * 0.88, ry * 0.85, fill=Radial(light, (55, 145, 55), x - 16, y - 18, rx * 1.2))
    apples = [(96, 92), (150, 76), (176, 118), (120, 124), (80, 130), (140, 104), (112, 62), (164, 140)]
    n = p.count(len(apples))
    for x, y in (apples + [(60, 100), (196, 96)])[:n]:
        if not p.keep():
            continue
        p.ellipse(x, y, 8, fill=Radial((255, 120, 110), (205, 25, 30), x - 3, y - 3, 10))
        if p.detail(2):
            p.line([(x, y - 7), (x + 2, y - 11)], (90, 60, 30), 1.5)
    if p.detail(3):
        p.ellipse(176, 226, 8, fill=Radial((255, 120, 110), (205, 25, 30), 173, 223, 10))


def scene_night_sky(p: Painter, variant: int) -> None:
    p.fill(VGrad((8, 12, 45), (40, 55, 120), 0, 256))
    rs = rng_for("stars")  # same star field for every painter
    stars = [(rs.uniform(6, 250), rs.uniform(6, 200), rs.uniform(0.8, 2.2)) for _ in range(60)]
    n = p.count(len(stars)) if p.q.count_error else len(stars)
    for i, (x, y) in enumerate((s[0], s[1]) for s in stars[:n]):
        r = stars[i][2]
        if 140 < x < 215 and 35 < y < 115:
            continue  # keep the moon area clear
        if p.detail(2) and r > 2.0:
            p.star(x, y, r * 3.2, (255, 250, 215))
        else:
            p.ellipse(x, y, r if p.detail(1) else 2, fill=(255, 255, 235))
    if p.keep():
        if p.detail(3):
            p.ellipse(176, 74, 52, fill=(120, 130, 190), alpha=0.18)
        p.crescent(176, 74, 34, 14, -8, Radial((255, 252, 225), (245, 225, 140), 160, 80, 40))
    if p.detail(3):
        p.poly([(0, 256), (0, 222), (60, 205), (120, 226), (190, 200), (256, 218), (256, 256)], (12, 16, 35))


def scene_lighthouse(p: Painter, variant: int) -> None:
    p.fill(VGrad((95, 150, 215), (230, 225, 215), 0, 170))
    if p.detail(3):  # light beams
        p.poly([(128, 54), (256, 20), (256, 72)], (255, 245, 180), alpha=0.35)
        p.poly([(128, 54), (0, 26), (0, 70)], (255, 245, 180), alpha=0.25)
    p.rect(0, 168, 256, 256, VGrad((60, 120, 180), (25, 70, 130), 168, 256))
    if p.detail(2):
        for y, x0, x1 in [(186, 180, 230), (204, 196, 250), (224, 170, 215)]:
            p.line([(x0, y), (x1, y)], (200, 225, 245), 1.5)
    if p.keep():
        rocks = [(0, 256), (0, 190), (30, 176), (70, 182), (96, 186), (160, 186), (178, 200),
                 (200, 222), (186, 240), (210, 256)]
        p.poly(rocks, VGrad((150, 145, 140), (80, 75, 75), 176, 256))
        if p.detail(2):
            p.poly([(20, 230), (50, 205), (90, 215), (70, 240)], (110, 105, 105))
            p.poly([(130, 232), (160, 215), (180, 236)], (105, 100, 100))
    if p.keep():
        tower = [(110, 70), (146, 70), (156, 190), (100, 190)]
        p.poly(tower, VGrad((252, 252, 252), (215, 215, 222), 70, 190))
        if p.detail(1):
            for ya, yb in [(94, 112), (136, 154)]:
                wa = 18 + (ya - 70) / 120 * 10
                wb = 18 + (yb - 70) / 120 * 10
                p.poly([(128 - wa, ya), (128 + wa, ya), (128 + wb, yb), (128 - wb, yb)], (205, 40, 45))
            p.rect(122, 168, 134, 190, (70, 60, 60))
        p.rect(106, 64, 150, 70, (40, 40, 45))
        p.rect(112, 44, 144, 64, Radial((255, 255, 220), (255, 215, 80), 128, 54, 20))
        p.poly([(108, 44), (148, 44), (128, 26)], (190, 35, 40))


SCENES = {
    "01-red-sun": scene_red_sun,
    "02-yellow-house": scene_yellow_house,
    "03-three-balloons": scene_three_balloons,
    "04-sailboat": scene_sailboat,
    "05-snowman": scene_snowman,
    "06-apple-tree": scene_apple_tree,
    "07-night-sky": scene_night_sky,
    "08-lighthouse": scene_lighthouse,
}


def render_image(q: Quality, slug: str, variant: int) -> bytes:
    p = Painter(q, rng_for("image", q.name, slug, variant))
    SCENES[slug](p, variant)
    img = p.finish()
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=True)
    return buf.getvalue()


# --------------------------------------------------------------------------------------
# Audio
# --------------------------------------------------------------------------------------

AUDIO_PROMPTS = [
    ("01-calm-chord", "A calm major chord", ["chord", "calm"]),
    ("02-rising-arpeggio", "A rising arpeggio", ["melody", "arpeggio"]),
    ("03-drum-beat", "A short drum beat", ["percussion", "rhythm"]),
    ("04-bell-chime", "A bell chime", ["bell", "tonal"]),
]
SYNTHS = ["synth-clean", "synth-buzzy", "synth-noisy"]

N_SAMPLES = int(SAMPLE_RATE * CLIP_SECONDS)
T = np.arange(N_SAMPLES) / SAMPLE_RATE
C4, E4, G4, C5 = 261.63, 329.63, 392.00, 523.25


def adsr(n: int, a: float, d: float, s: float, r: float) -> np.ndarray:
    """Attack/decay/sustain-level/release envelope over n samples (times in seconds)."""
    na, nd, nr = int(a * SAMPLE_RATE), int(d * SAMPLE_RATE), int(r * SAMPLE_RATE)
    ns = max(n - na - nd - nr, 0)
    env = np.concatenate([
        np.linspace(0, 1, na, endpoint=False),
        np.linspace(1, s, nd, endpoint=False),
        np.full(ns, s),
        np.linspace(s, 0, nr),
    ])
    return np.pad(env, (0, max(0, n - len(env))))[:n]


def _osc(kind: str, freq, t: np.ndarray) -> np.ndarray:
    phase = 2 * np.pi * np.cumsum(np.broadcast_to(freq, t.shape)) / SAMPLE_RATE
    if kind == "square":
        return np.where(np.sin(phase) >= 0, 1.0, -1.0)
    return np.sin(phase) + 0.25 * np.sin(2 * phase) + 0.08 * np.sin(3 * phase)


def _note(kind: str, freq: float, start: float, length: float, clean: bool) -> np.ndarray:
    out = np.zeros(N_SAMPLES)
    i0, n = int(start * SAMPLE_RATE), int(length * SAMPLE_RATE)
    n = min(n, N_SAMPLES - i0)
    tone = _osc(kind, freq, T[:n])
    env = adsr(n, 0.02, 0.15, 0.65, min(0.35, length * 0.5)) if clean else np.ones(n)
    out[i0:i0 + n] = tone * env
    return out


def _drums(kind: str, rng: np.random.Generator, clean: bool) -> np.ndarray:
    out = np.zeros(N_SAMPLES)
    step = 0.1875  # sixteenth notes at 80 bpm
    for i in range(8):
        t0 = i * step
        i0 = int(t0 * SAMPLE_RATE)
        n = N_SAMPLES - i0
        t = T[:n]
        if i % 4 == 0:  # kick: pitch sweep with exponential decay
            freq = 45 + 110 * np.exp(-t / 0.04)
            body = _osc("sine" if clean else "square", freq, t) * np.exp(-t / (0.14 if clean else 0.5))
            out[i0:] += 0.9 * body
        elif i % 4 == 2:  # snare: noise burst + tone
            noise = rng.normal(0, 1, n)
            env = np.exp(-t / (0.07 if clean else 0.4))
            out[i0:] += (0.35 * noise + 0.4 * np.sin(2 * np.pi * 185 * t)) * env
        # hi-hat on every step: high-passed noise, very short
        hat = np.diff(rng.normal(0, 1, n + 1)) * np.exp(-t / (0.018 if clean else 0.2))
        out[i0:] += (0.12 if clean else 0.3) * hat
    return out


def _bell(kind: str, clean: bool) -> np.ndarray:
    f0 = 587.33
    partials = [(1.0, 1.0, 1.1), (2.0, 0.55, 0.7), (2.76, 0.4, 0.5), (5.4, 0.2, 0.25), (8.93, 0.1, 0.15)]
    out = np.zeros(N_SAMPLES)
    for ratio, amp, decay in partials:
        tone = np.sin(2 * np.pi * f0 * ratio * T) if clean else _osc("square", f0 * ratio * 1.013, T)
        env = np.exp(-T / decay) if clean else np.ones_like(T) * (0.8 if ratio == 1.0 else 0.3)
        out += amp * tone * env
    if clean:
        out *= np.minimum(T / 0.003, 1)  # 3 ms attack, no click
    return out


def _content(slug: str, kind: str, rng: np.random.Generator, clean: bool) -> np.ndarray:
    if slug == "01-calm-chord":
        detune = 1.0 if clean else 1.031  # buzzy: sour, beating intervals
        return sum(_note(kind, f * (detune if i == 1 else 1.0), 0, CLIP_SECONDS, clean)
                   for i, f in enumerate((C4, E4, G4)))
    if slug == "02-rising-arpeggio":
        notes = (C4, E4, G4, C5)
        return sum(_note(kind, f, 0.3 * i, 0.55 if i < 3 else 0.6, clean) for i, f in enumerate(notes))
    if slug == "03-drum-beat":
        return _drums(kind, rng, clean)
    if slug == "04-bell-chime":
        return _bell(kind, clean)
    raise KeyError(slug)


def render_audio(model: str, slug: str) -> np.ndarray:
    rng = rng_for("audio", model, slug)
    if model == "synth-clean":
        x = _content(slug, "sine", rng, clean=True)
        x = 0.7 * x / np.max(np.abs(x))
        return x * np.minimum(1.0, (N_SAMPLES - np.arange(N_SAMPLES)) / (0.02 * SAMPLE_RATE))
    if model == "synth-buzzy":
        x = _content(slug, "square", rng, clean=False)
        x = 3.0 * x / np.max(np.abs(x))
        return np.clip(x, -0.45, 0.45)  # hard clipping, abrupt start/stop
    if model == "synth-noisy":
        x = _content(slug, "sine", rng, clean=True)
        x = 0.35 * x / np.max(np.abs(x))
        hiss = rng.normal(0, 0.18, N_SAMPLES)
        hum = 0.12 * np.sin(2 * np.pi * 50 * T) + 0.06 * np.sin(2 * np.pi * 150 * T)
        crackle = np.zeros(N_SAMPLES)
        idx = rng.integers(0, N_SAMPLES, 90)
        crackle[idx] = rng.choice([-0.6, 0.6], 90)
        gate = np.ones(N_SAMPLES)  # dropouts
        for s in rng.integers(0, N_SAMPLES - 1600, 4):
            gate[s:s + int(rng.integers(400, 1600))] = 0.1
        return np.clip(x * gate + hiss + hum + crackle, -1, 1)
    raise KeyError(model)


def wav_bytes(x: np.ndarray) -> bytes:
    pcm = np.round(np.clip(x, -1, 1) * 32767).astype("<i2").tobytes()
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SAMPLE_RATE)
        w.writeframes(pcm)
    return buf.getvalue()


# --------------------------------------------------------------------------------------
# Votes
# --------------------------------------------------------------------------------------

# Log-strengths of the simulated "true" Bradley-Terry model, in intended quality order. Only
# these models get simulated votes (painter-newcomer is added to the board without any).
IMAGE_STRENGTH = {
    "painter-master": 1.9,
    "painter-good": 1.0,
    "painter-average": 0.2,
    "painter-sloppy": -0.8,
    "painter-scribbler": -1.9,
}
AUDIO_STRENGTH = {"synth-clean": 1.3, "synth-buzzy": -0.1, "synth-noisy": -1.2}


def _ts(iso: str) -> float:
    return datetime.fromisoformat(iso).astimezone(timezone.utc).timestamp()


def simulate_votes(
    key: str,
    board: dict,
    strength: dict,
    n_votes: int,
    start: str,
    session: tuple[int, int],
    pause_minutes: tuple[float, float],
) -> list[dict]:
    """Davidson (Bradley-Terry with ties) votes in rater sessions over a few days."""
    rng = rng_for("votes", key)
    models = [m["name"] for m in board["models"] if m["name"] in strength]
    media = {(m["name"], x["prompt"]): [] for m in board["models"] for x in m["media"]}
    for m in board["models"]:
        for x in m["media"]:
            media[(m["name"], x["prompt"])].append(x["path"])
    pairs = [(a, b) for i, a in enumerate(models) for b in models[i + 1:]]
    t = _ts(start)
    day_start = t
    votes: list[dict] = []
    while len(votes) < n_votes:
        rater = RATERS[int(rng.integers(len(RATERS)))]
        n_session = int(rng.integers(session[0], session[1] + 1))
        for _ in range(min(n_session, n_votes - len(votes))):
            a, b = pairs[int(rng.integers(len(pairs)))]
            if rng.random() < 0.5:
                a, b = b, a
            prompt = board["prompts"][int(rng.integers(len(board["prompts"])))]
            ma = media[(a, prompt)][int(rng.integers(len(media[(a, prompt)])))]
            mb = media[(b, prompt)][int(rng.integers(len(media[(b, prompt)])))]
            if rng.random() < RATER_LAPSE[rater]:
                choice = ["a", "b", "tie"][int(rng.integers(3))]
            else:
                pa, pb = math.exp(strength[a]), math.exp(strength[b])
                tie = TIE_NU * math.sqrt(pa * pb)
                u = rng.random() * (pa + pb + tie)
                choice = "a" if u < pa else ("b" if u < pa + pb else "tie")
            t += 4.0 + float(rng.exponential(11.0))
            votes.append({
                "model_a": a,
                "model_b": b,
                "prompt": prompt,
                "media_a": ma,
                "media_b": mb,
                "choice": choice,
                "rater": rater,
                "time": round(t, 3),
            })
        t += float(rng.uniform(*pause_minutes)) * 60  # break between sessions
        if t - day_start > 9 * 3600:  # end of the working day: resume next morning
            day_start += 24 * 3600
            t = max(t, day_start + float(rng.uniform(0, 45)) * 60)
    return votes


# --------------------------------------------------------------------------------------
# Assembly
# --------------------------------------------------------------------------------------


def build(out: Path) -> list[Path]:
    """Write the whole demo bundle under `out`; returns the files written."""
    files: dict[Path, bytes] = {}

    img_models = []
    for q in PAINTERS:
        media = []
        for slug, prompt, _tags in IMAGE_PROMPTS:
            for v in range(IMAGE_VARIANTS.get((q.name, slug), 1)):
                rel = f"images/{q.name}/{slug}{'' if v == 0 else '-' + 'abcdef'[v]}.png"
                files[Path(rel)] = render_image(q, slug, v)
                media.append({"path": rel, "prompt": prompt})
        img_models.append({"name": q.name, "media": media})
    images = {
        "key": "images",
        "name": "Demo: Pillow painters",
        "instruction": "Which image better matches the prompt?",
        "show_prompt": True,
        "prompts": [p for _s, p, _t in IMAGE_PROMPTS],
        "tags": [t for _s, _p, t in IMAGE_PROMPTS],
        "models": img_models,
        "votes": "votes-images.jsonl",
    }

    audio_models = []
    for model in SYNTHS:
        media = []
        for slug, prompt, _tags in AUDIO_PROMPTS:
            rel = f"audio/{model}/{slug}.wav"
            files[Path(rel)] = wav_bytes(render_audio(model, slug))
            media.append({"path": rel, "prompt": prompt})
        audio_models.append({"name": model, "media": media})
    audio = {
        "key": "audio",
        "name": "Demo: synth tones",
        "instruction": "Which clip sounds more pleasant?",
        "show_prompt": True,
        "prompts": [p for _s, p, _t in AUDIO_PROMPTS],
        "tags": [t for _s, _p, t in AUDIO_PROMPTS],
        "models": audio_models,
        "votes": "votes-audio.jsonl",
    }

    for board, strength, n, start, session, pause in [
        (images, IMAGE_STRENGTH, 600, "2026-11-01T09:00:00+00:00", (12, 45), (15, 110)),
        (audio, AUDIO_STRENGTH, 150, "2026-11-01T10:30:00+00:00", (5, 16), (40, 200)),
    ]:
        votes = simulate_votes(board["key"], board, strength, n, start, session, pause)
        lines = "".join(json.dumps(v, ensure_ascii=False) + "\n" for v in votes)
        files[Path(board["votes"])] = lines.encode()

    manifest = {"leaderboards": [images, audio]}
    files[Path("demo.json")] = (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode()

    out.mkdir(parents=True, exist_ok=True)
    # Remove stale generated media (e.g. after renaming a model) so the bundle
    # always equals exactly what this script produces.  Only our own subtrees.
    for sub, pattern in (("images", "*.png"), ("audio", "*.wav")):
        for old in sorted((out / sub).rglob(pattern)) if (out / sub).is_dir() else []:
            if old.relative_to(out) not in files:
                old.unlink()
    written = []
    for rel, data in files.items():
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("outdir", nargs="?", default=str(BUNDLE), help="output directory (default: %(default)s)")
    args = ap.parse_args(argv)
    out = Path(args.outdir)
    written = build(out)
    total = sum(p.stat().st_size for p in written)
    print(f"wrote {len(written)} files, {total / 1024:.0f} KiB, under {out}")


if __name__ == "__main__":
    main()

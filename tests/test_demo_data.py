"""The bundled demo data (rater/api/demo_data/, made by data/demo/generate.py) is consistent and matches its generator."""

from __future__ import annotations

import json
import subprocess
import sys
import wave
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from rater.api.demo import DEMO_DIR as DEMO

GENERATOR = Path(__file__).resolve().parents[1] / "data" / "demo" / "generate.py"
MAX_TOTAL_BYTES = 2 * 1024 * 1024  # it ships in every install of the package

IMAGE_ORDER = ["painter-master", "painter-good", "painter-average", "painter-sloppy", "painter-scribbler"]
NEWCOMER = "painter-newcomer"  # on the image board without any votes yet: the rater places it
AUDIO_ORDER = ["synth-clean", "synth-buzzy", "synth-noisy"]


def _files(root: Path) -> dict[str, Path]:
    out = {}
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root)
        if p.is_file() and "__pycache__" not in rel.parts:
            out[rel.as_posix()] = p
    return out


def _run_generator(out: Path) -> None:
    subprocess.run([sys.executable, str(GENERATOR), str(out)], check=True, capture_output=True, text=True)


@pytest.fixture(scope="module")
def fresh(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    _run_generator(out)
    return out


@pytest.fixture(scope="module")
def manifest() -> dict:
    return json.loads((DEMO / "demo.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def boards(manifest) -> dict[str, dict]:
    return {b["key"]: b for b in manifest["leaderboards"]}


def _votes(board: dict) -> list[dict]:
    lines = (DEMO / board["votes"]).read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


def _same_png_pixels(a: Path, b: Path) -> bool:
    with Image.open(a) as ia, Image.open(b) as ib:
        return (
            ia.mode == ib.mode
            and ia.size == ib.size
            and ia.getpalette() == ib.getpalette()
            and ia.tobytes() == ib.tobytes()
        )


# ---- the bundle cannot drift from the script ------------------------------------------


def test_bundle_is_exactly_what_the_generator_writes(fresh):
    bundled, generated = _files(DEMO), _files(fresh)
    assert sorted(bundled) == sorted(generated), "bundle and generator disagree on the file list"
    differing = []
    for rel, path in generated.items():
        if path.read_bytes() == bundled[rel].read_bytes():
            continue
        # PNG bytes depend on the zlib build Pillow links (zlib vs zlib-ng differs by
        # platform and Pillow version) although the decoded image is identical; accept
        # that, but nothing else.
        if rel.endswith(".png") and _same_png_pixels(path, bundled[rel]):
            continue
        differing.append(rel)
    assert not differing, f"regenerate with `python data/demo/generate.py`; stale: {differing[:10]}"


@pytest.mark.slow
def test_generator_is_deterministic(fresh, tmp_path):
    _run_generator(tmp_path)
    first, second = _files(fresh), _files(tmp_path)
    assert sorted(first) == sorted(second)
    for rel, path in first.items():
        assert path.read_bytes() == second[rel].read_bytes(), rel


def test_total_size_is_small():
    total = sum(p.stat().st_size for p in DEMO.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    assert total < MAX_TOTAL_BYTES, f"{total} bytes"


def test_every_bundled_file_is_package_data():
    """pyproject's package-data patterns reach every demo file, so a plain pip install has them."""
    import tomllib

    root = Path(__file__).resolve().parents[1]
    patterns = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"][
        "package-data"]["rater"]
    shipped = {p.relative_to(root / "rater").as_posix() for pattern in patterns for p in (root / "rater").glob(pattern)}
    bundled = {(DEMO / rel).relative_to(root / "rater").as_posix() for rel in _files(DEMO)}
    assert bundled and not bundled - shipped, sorted(bundled - shipped)[:5]


# ---- manifest consistency ---------------------------------------------------------------


def test_manifest_shape(manifest, boards):
    assert [b["key"] for b in manifest["leaderboards"]] == ["images", "audio"]
    for b in manifest["leaderboards"]:
        assert set(b) >= {"key", "name", "instruction", "show_prompt", "prompts", "tags", "models", "votes"}
        assert b["name"].startswith("Demo: ") and b["instruction"].endswith("?")
        assert b["show_prompt"] is True
        assert len(b["prompts"]) == len(set(b["prompts"]))
        assert len(b["tags"]) == len(b["prompts"])
        assert all(isinstance(t, list) and t and all(isinstance(x, str) and x for x in t) for t in b["tags"])
        names = [m["name"] for m in b["models"]]
        assert len(names) == len(set(names))
    assert [m["name"] for m in boards["images"]["models"]] == IMAGE_ORDER + [NEWCOMER]
    assert [m["name"] for m in boards["audio"]["models"]] == AUDIO_ORDER
    assert len(boards["images"]["prompts"]) == 8
    assert len(boards["audio"]["prompts"]) == 4
    assert boards["images"]["name"] == "Demo: Pillow painters"
    assert boards["audio"]["name"] == "Demo: synth tones"


def test_manifest_is_pretty_printed_json(manifest):
    text = (DEMO / "demo.json").read_text(encoding="utf-8")
    assert text == json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"


def test_every_media_exists_and_belongs_to_a_registered_prompt(boards):
    all_paths = []
    for b in boards.values():
        prompts = set(b["prompts"])
        for m in b["models"]:
            covered = Counter(x["prompt"] for x in m["media"])
            assert set(covered) == prompts, f"{m['name']} must have media for every prompt"
            for x in m["media"]:
                assert x["prompt"] in prompts
                assert not Path(x["path"]).is_absolute() and ".." not in Path(x["path"]).parts
                assert (DEMO / x["path"]).is_file(), x["path"]
                all_paths.append(x["path"])
    assert len(all_paths) == len(set(all_paths)), "a media file is listed twice"
    # Every generated media file is referenced by the manifest.
    on_disk = {rel for rel in _files(DEMO) if rel.endswith((".png", ".wav"))}
    assert on_disk == set(all_paths)


def test_a_model_may_have_several_media_for_one_prompt(boards):
    master = boards["images"]["models"][0]
    counts = Counter(x["prompt"] for x in master["media"])
    assert sorted(counts.values(), reverse=True)[:2] == [2, 2]


def test_votes_reference_the_right_media(boards):
    for b in boards.values():
        media = defaultdict(set)
        for m in b["models"]:
            for x in m["media"]:
                media[(m["name"], x["prompt"])].add(x["path"])
        votes = _votes(b)
        raters = set()
        times = []
        for v in votes:
            assert list(v) == ["model_a", "model_b", "prompt", "media_a", "media_b", "choice", "rater", "time"]
            assert v["model_a"] != v["model_b"]
            assert v["prompt"] in b["prompts"]
            assert v["media_a"] in media[(v["model_a"], v["prompt"])]
            assert v["media_b"] in media[(v["model_b"], v["prompt"])]
            assert v["choice"] in ("a", "b", "tie")
            assert isinstance(v["time"], float)
            raters.add(v["rater"])
            times.append(v["time"])
        assert all(t1 < t2 for t1, t2 in zip(times, times[1:])), "vote times must increase"
        assert times[0] >= 1793523600.0  # 2026-11-01T09:00Z
        assert times[-1] - times[0] > 36 * 3600, "votes should span a few days"
        assert len(raters) >= 4
        assert all(r.startswith("rater-") for r in raters)
        ties = sum(v["choice"] == "tie" for v in votes) / len(votes)
        assert 0.04 <= ties <= 0.2
    assert 500 <= len(_votes(boards["images"])) <= 700
    assert 100 <= len(_votes(boards["audio"])) <= 200


def test_every_pair_of_models_was_compared_except_the_newcomer(boards):
    for b in boards.values():
        names = [m["name"] for m in b["models"] if m["name"] != NEWCOMER]
        seen = Counter(frozenset((v["model_a"], v["model_b"])) for v in _votes(b))
        for i, a in enumerate(names):
            for c in names[i + 1:]:
                assert seen[frozenset((a, c))] >= 5, (a, c)
    voted = {v[side] for v in _votes(boards["images"]) for side in ("model_a", "model_b")}
    assert voted == set(IMAGE_ORDER) and NEWCOMER not in voted


@pytest.mark.parametrize("key,order", [("images", IMAGE_ORDER), ("audio", AUDIO_ORDER)])
def test_win_rates_follow_the_intended_quality_order(boards, key, order):
    wins, games = Counter(), Counter()
    for v in _votes(boards[key]):
        a, b = v["model_a"], v["model_b"]
        games[a] += 1
        games[b] += 1
        if v["choice"] == "tie":
            wins[a] += 0.5
            wins[b] += 0.5
        else:
            wins[a if v["choice"] == "a" else b] += 1
    rate = {m: wins[m] / games[m] for m in order}
    assert sorted(order, key=rate.__getitem__, reverse=True) == order, rate
    assert rate[order[0]] > 0.65 and rate[order[-1]] < 0.3, rate


# ---- media files ------------------------------------------------------------------------


def _media(board: dict, suffix: str) -> list[tuple[str, Path]]:
    return [(m["name"], DEMO / x["path"]) for m in board["models"] for x in m["media"] if x["path"].endswith(suffix)]


def test_images_decode_with_expected_size(boards):
    images = _media(boards["images"], ".png")
    assert len(images) == 50
    for _model, path in images:
        assert path.stat().st_size <= 25 * 1024, path
        with Image.open(path) as im:
            assert im.format == "PNG"
            assert im.size == (256, 256)
            im.load()


def _roughness(path: Path) -> float:
    """Mean absolute difference between neighbouring pixels: noise and scribbles raise it."""
    with Image.open(path) as im:
        a = np.asarray(im.convert("L"), dtype=float)
    return float(np.abs(np.diff(a, axis=0)).mean() + np.abs(np.diff(a, axis=1)).mean())


def test_image_quality_is_visible_in_the_pixels(boards):
    per_model = defaultdict(list)
    for model, path in _media(boards["images"], ".png"):
        per_model[model].append(_roughness(path))
    mean = {m: float(np.mean(v)) for m, v in per_model.items()}
    # Clean painters draw smooth, tidy pictures; the scribbler's are noisy.
    assert mean["painter-master"] < mean["painter-sloppy"] < mean["painter-scribbler"], mean
    assert mean["painter-good"] < mean["painter-sloppy"], mean
    assert mean[NEWCOMER] < mean["painter-sloppy"], mean  # meant to land between good and average


def test_wavs_are_valid(boards):
    clips = _media(boards["audio"], ".wav")
    assert len(clips) == 12
    stats = defaultdict(list)
    for model, path in clips:
        with wave.open(str(path), "rb") as w:
            assert w.getnchannels() == 1
            assert w.getsampwidth() == 2
            assert w.getframerate() == 16_000
            assert abs(w.getnframes() / 16_000 - 1.5) < 0.01
            x = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(float) / 32768
        assert np.abs(x).max() > 0.1, f"{path} is (nearly) silent"
        # High-frequency energy share: the noisy synth's hiss dominates it.
        hf = np.abs(np.diff(x)).mean() / (np.abs(x).mean() + 1e-9)
        stats[model].append(hf)
    mean = {m: float(np.mean(v)) for m, v in stats.items()}
    assert mean["synth-clean"] < mean["synth-noisy"], mean

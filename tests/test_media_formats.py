"""Which files are media: real video and audio parse to the end, bombs and fakes are refused.

Every file here is made in the test: video and audio encoded with PyAV, images with Pillow or
written row by row (:mod:`media_support`).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from media_support import AUDIO, VIDEOS, make_audio, make_big_png, make_video, truncated
from PIL import Image

from rater import Client, MediaError, ValidationError
from rater.api.demo import DEMO_DIR
from rater.intake.media import DEFAULT_MAX_PIXELS, inspect_media

ROOT = Path(__file__).resolve().parents[1]
PROMPTS = ["A red sun over blue mountains", "A sailboat on calm water"]
HTML = b"<!doctype html><html><body><script>alert(document.cookie)</script>" + b"<p>x</p>" * 200 + b"</body></html>"


@pytest.fixture
def board(client: Client):
    return client.mri.create_new_leaderboard("Media", "Which is better?", PROMPTS, True)


def stored_kinds(client: Client) -> list[tuple[str, str, str]]:
    return list(client.store.conn.execute("SELECT kind, mime, ext FROM blobs ORDER BY ext"))


def one_line_error(excinfo: pytest.ExceptionInfo[BaseException]) -> str:
    text = str(excinfo.value)
    assert "\n" not in text, text
    return text


# -- real files of every supported format -----------------------------------------------------------


@pytest.mark.parametrize("name, container, codec", VIDEOS, ids=[v[0] for v in VIDEOS])
def test_real_videos_of_every_supported_container_are_stored_as_video(client, board, tmp_path, name, container, codec) -> None:
    clip = make_video(tmp_path / name, container, codec)
    board.evaluate_model("m", [clip], [PROMPTS[0]])
    [(kind, mime, ext)] = stored_kinds(client)
    assert kind == "video" and ext == {"clip.mkv": "mkv", "clip.mov": "mov"}.get(name, name.split(".")[1])
    assert mime.startswith("video/")


@pytest.mark.parametrize("name, container, codec, rate", AUDIO, ids=[a[0] for a in AUDIO])
def test_real_audio_of_every_supported_format_is_stored_as_audio(client, board, tmp_path, name, container, codec, rate) -> None:
    clip = make_audio(tmp_path / name, container, codec, rate)
    board.evaluate_model("m", [clip], [PROMPTS[0]])
    assert stored_kinds(client) == [("audio", {"mp3": "audio/mpeg", "ogg": "audio/ogg", "flac": "audio/flac",
                                               "m4a": "audio/mp4", "wav": "audio/wav"}[name[5:]], name[5:])]


def test_an_mp4_holding_only_audio_is_stored_as_m4a_audio(client, board, tmp_path) -> None:
    clip = make_audio(tmp_path / "song.mp4", "mp4", "aac", 44100)
    assert clip.read_bytes()[8:12] == b"isom"  # the first bytes alone say "video"
    board.evaluate_model("m", [clip], [PROMPTS[0]])
    assert stored_kinds(client) == [("audio", "audio/mp4", "m4a")]


def test_the_bundled_video_fixtures_and_demo_audio_still_pass() -> None:
    for path in [ROOT / "tests" / "fixtures" / "tiny.mp4", ROOT / "tests" / "fixtures" / "tiny.webm",
                 *sorted((DEMO_DIR / "audio").rglob("*.wav"))[:3]]:
        assert inspect_media(path).kind in ("video", "audio"), path


# -- fakes and broken files ---------------------------------------------------------------------------

FAKES = [
    ("page.mp4", b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + HTML, r"corrupt or truncated MP4 file: .*page\.mp4"),
    ("page.mov", b"\x00\x00\x00\x14ftypqt  \x00\x00\x02\x00" + HTML, r"corrupt or truncated MOV file: .*page\.mov"),
    ("page.m4a", b"\x00\x00\x00\x18ftypM4A \x00\x00\x02\x00isomiso2" + HTML, r"corrupt or truncated M4A file"),
    ("page.mp3", b"ID3\x04\x00\x00\x00\x00\x00\x00" + HTML, r"corrupt or truncated MP3 file: .*page\.mp3"),
    ("sync.mp3", b"\xff\xfb\x90\x00" + HTML, r"(corrupt or truncated|no decodable audio).* .*sync\.mp3"),
    ("page.ogg", b"OggS" + HTML, r"corrupt or truncated OGG file: .*page\.ogg"),
    ("page.webm", b"\x1a\x45\xdf\xa3webm" + HTML, r"corrupt or truncated WebM file: .*page\.webm"),
    ("page.flac", b"fLaC" + HTML, r"corrupt or truncated FLAC file: .*page\.flac"),
    ("page.avi", b"RIFF\x00\x10\x00\x00AVI LIST" + HTML, r"AVI file has no video stream: .*page\.avi \(streams found: none\)"),
]


@pytest.mark.parametrize("name, data, message", FAKES, ids=[f[0] for f in FAKES])
def test_html_behind_a_media_signature_is_refused(client, board, tmp_path, name, data, message) -> None:
    fake = tmp_path / name
    fake.write_bytes(data)
    with pytest.raises(MediaError, match=message) as caught:
        board.evaluate_model("m", [fake], [PROMPTS[0]])
    one_line_error(caught)
    assert board.models() == [] and not client.store.media_dir.exists()


def _broken(tmp_path: Path, kind: str) -> Path:
    if kind == "mp4 (index first)":
        whole = make_video(tmp_path / "whole.mp4", "mp4", "libx264", frames=30, options={"movflags": "faststart"})
        return truncated(whole, tmp_path / "cut.mp4", 0.6)
    if kind == "mp4 (index last)":
        return truncated(make_video(tmp_path / "whole.mp4", "mp4", "libx264", frames=30), tmp_path / "cut.mp4", 0.9)
    if kind == "webm":
        return truncated(make_video(tmp_path / "whole.webm", "webm", "libvpx", frames=30), tmp_path / "cut.webm", 0.6)
    if kind == "mkv":
        return truncated(make_video(tmp_path / "whole.mkv", "matroska", "mpeg4", frames=30), tmp_path / "cut.mkv", 0.6)
    name, container, codec, rate = next(a for a in AUDIO if a[0].endswith(kind))
    return truncated(make_audio(tmp_path / name, container, codec, rate), tmp_path / f"cut.{kind}", 0.6)


@pytest.mark.parametrize("kind", ["mp4 (index first)", "mp4 (index last)", "webm", "mkv", "flac", "wav", "ogg", "m4a"])
def test_truncated_video_and_audio_are_refused(client, board, tmp_path, kind) -> None:
    cut = _broken(tmp_path, kind)
    with pytest.raises(MediaError, match=r"truncated .*cut\.") as caught:
        board.evaluate_model("m", [cut], [PROMPTS[0]])
    one_line_error(caught)
    assert board.models() == []


def test_a_video_whose_frames_are_zeroed_is_refused(board, tmp_path) -> None:
    data = bytearray(make_video(tmp_path / "v.mp4", "mp4", "libx264", options={"movflags": "faststart"}).read_bytes())
    start = data.find(b"mdat") + 4
    data[start:] = bytes(len(data) - start)
    (tmp_path / "zeroed.mp4").write_bytes(bytes(data))
    with pytest.raises(MediaError, match=r"zeroed\.mp4") as caught:
        board.evaluate_model("m", [tmp_path / "zeroed.mp4"], [PROMPTS[0]])
    one_line_error(caught)


# -- the pixel limit ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bomb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A valid 13000x13000 PNG, the size of the issue's (169 megapixels)."""
    return make_big_png(tmp_path_factory.mktemp("bomb") / "bomb.png", 13000, 13000)


def test_a_13000_pixel_square_png_is_refused_from_its_header(client, board, bomb) -> None:
    assert bomb.stat().st_size < 600_000  # small on disk, 169 megapixels decoded
    with pytest.raises(MediaError) as caught:
        board.evaluate_model("m", [bomb], [PROMPTS[0]])
    assert one_line_error(caught) == (
        f"image is too large: {bomb} is 13000x13000 pixels (169.0 megapixels), the limit is "
        "50,000,000 pixels (raise it with max_pixels= or add-model --max-pixels)"
    )
    assert board.models() == [] and not client.store.media_dir.exists()


def test_the_bomb_is_refused_without_decoding_it(bomb) -> None:
    """Peak memory of refusing the bomb stays near the interpreter's own: decoding it would
    take 169 MB more (measured in a fresh process: ``ru_maxrss`` only grows)."""
    script = (
        "import resource, sys\n"
        "from rater.intake.media import inspect_media\n"
        "from rater import MediaError\n"
        "base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "try:\n    inspect_media(sys.argv[1])\nexcept MediaError:\n    pass\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base)\n"
    )
    grown_kb = int(subprocess.run([sys.executable, "-c", script, str(bomb)], check=True,
                                  capture_output=True, text=True, timeout=120).stdout)
    assert grown_kb < 40_000, f"refusing the bomb grew the process by {grown_kb / 1000:.0f} MB"


def test_a_pillow_sized_bomb_is_refused_with_the_same_message(board, tmp_path) -> None:
    bomb = make_big_png(tmp_path / "huge.png", 20000, 20000, level=1)  # above Pillow's ceiling too
    with pytest.raises(MediaError, match=r"image is too large: .*huge\.png is 400,000,000 pixels \(400\.0 megapixels\)"):
        board.evaluate_model("m", [bomb], [PROMPTS[0]])


def test_the_pixel_limit_is_an_option_of_the_client(tmp_path) -> None:
    photo = tmp_path / "photo.png"
    Image.new("RGB", (3000, 2000), (10, 200, 30)).save(photo)
    with Client(tmp_path / "strict" / "lb.db", max_pixels=5_000_000) as strict:
        lb = strict.mri.create_new_leaderboard("B", "Which?", PROMPTS, False)
        with pytest.raises(MediaError, match=r"photo\.png is 3000x2000 pixels \(6\.0 megapixels\), the limit is 5,000,000"):
            lb.evaluate_model("m", [photo], [PROMPTS[0]])
        with pytest.raises(MediaError, match="3000x2000"):  # prompt assets too
            strict.mri.create_new_leaderboard("C", "Which?", ["a"], False, prompt_assets=[photo])
    with Client(tmp_path / "roomy" / "lb.db", max_pixels=6_000_000) as roomy:
        lb = roomy.mri.create_new_leaderboard("B", "Which?", PROMPTS, False)
        assert lb.evaluate_model("m", [photo], [PROMPTS[0]]).media_added == 1
    assert DEFAULT_MAX_PIXELS == 50_000_000


def test_video_frames_count_against_the_pixel_limit(tmp_path) -> None:
    clip = make_video(tmp_path / "wide.mp4", "mp4", "libx264", size=(320, 240))
    with Client(tmp_path / "lb.db", max_pixels=50_000) as client:
        lb = client.mri.create_new_leaderboard("B", "Which?", PROMPTS, False)
        with pytest.raises(MediaError, match=r"video is too large: .*wide\.mp4 is 320x240 pixels"):
            lb.evaluate_model("m", [clip], [PROMPTS[0]])


@pytest.mark.parametrize("limit", ["x", 0, -5, 1.5, True])
def test_a_bad_pixel_limit_is_refused(tmp_path: Path, limit) -> None:
    with pytest.raises(ValidationError, match="max_pixels must be a whole number of pixels >= 1"):
        Client(tmp_path / "lb.db", max_pixels=limit)

"""Memory and time of adding big media, and of showing a big image to a rater.

Two measurements, each against a baseline measured in the same run:

* **add-model, 4 files of ``--megabytes`` MB** (WAVs written here; parsed by FFmpeg, hashed and
  copied): peak resident memory of a fresh ``rater add-model`` process, against a process that
  only reads the same four files into memory, as add-model did before it streamed them, and
  against add-model of four 1 MB files. Target: peak memory independent of file size.
* **showing a 7000x7000 image in the rater app** (49 MP, just under the default pixel limit):
  time and peak memory of a fresh process rendering it with ``st.image`` as the Rate page does,
  for the stored preview against the original (what the app showed before previews).

    python benchmarks/media_intake.py [--megabytes 200]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from media_support import make_long_wav  # noqa: E402  (tests/ is not a package)
from PIL import Image  # noqa: E402

from rater import Client  # noqa: E402
from rater.intake.media import display_file  # noqa: E402

# VmHWM, not ru_maxrss: a child started by a big parent reports the parent's peak in the latter.
_PEAK = ("print(next(int(l.split()[1]) // 1024 for l in open('/proc/self/status') if l.startswith('VmHWM')),"
         " file=sys.stderr)")


def _run(code: str, *args: str) -> tuple[float, int]:
    """Seconds and peak RSS (MB) of a fresh Python process running ``code``."""
    script = "import sys, time\nstart = time.perf_counter()\n" + code + (
        "\nprint(time.perf_counter() - start, file=sys.stderr)\n" + _PEAK)
    done = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, check=True)
    seconds, peak = done.stderr.strip().splitlines()[-2:]
    return float(seconds), int(peak)


def _add_model(root: Path, megabytes: int) -> tuple[float, int, list[Path]]:
    """Seconds and peak MB of ``rater add-model`` adding 4 WAVs of ``megabytes`` MB; the files."""
    db = root / "db" / "lb.db"
    prompts = [f"prompt {i}" for i in range(4)]
    with Client(db, create=True) as client:
        board = client.mri.create_new_leaderboard("Bench", "Which?", prompts, False).id
    manifest = root / "in" / "manifest.csv"
    files = [make_long_wav(root / "in" / f"{i}.wav", megabytes, 220 * (i + 1)) for i in range(4)]
    manifest.write_text("media,prompt\n" + "".join(f"{f.name},{p}\n" for f, p in zip(files, prompts)))
    add = ("from rater.cli import cli\n"
           "cli(['--db', sys.argv[1], 'add-model', sys.argv[2], '--name', 'm', '--manifest', sys.argv[3]],"
           " standalone_mode=False)")
    return (*_run(add, str(db), board, str(manifest)), files)


def add_model_rows(root: Path, megabytes: int) -> list[tuple[str, float, int]]:
    seconds, peak, files = _add_model(root / "big", megabytes)
    small_seconds, small_peak, _ = _add_model(root / "small", 1)
    read_all = "from pathlib import Path\nkept = [Path(a).read_bytes() for a in sys.argv[1:]]"
    baseline = _run(read_all, *map(str, files))
    return [(f"add-model, 4 x {megabytes} MB WAV", seconds, peak),
            ("baseline: read the same 4 files into memory", *baseline),
            ("  (add-model, 4 x 1 MB WAV)", small_seconds, small_peak)]


def display_rows(root: Path) -> list[tuple[str, float, int]]:
    original = root / "shown" / ("ab" * 32 + ".png")
    original.parent.mkdir(parents=True)
    Image.radial_gradient("L").resize((7000, 7000)).convert("RGB").save(original)
    preview = display_file(original)
    show = textwrap.dedent("""
        from streamlit.testing.v1 import AppTest
        app = "import streamlit as st\\nst.image(%r, width='stretch', output_format='PNG')" % sys.argv[1]
        at = AppTest.from_string(app, default_timeout=300).run()
        assert not at.exception, at.exception
    """)
    return [("rater app shows a 49 MP image: its preview", *_run(show, str(preview))),
            ("baseline: the original", *_run(show, str(original)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--megabytes", type=int, default=200, help="size of each of the 4 files")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        rows = add_model_rows(Path(tmp) / "add", args.megabytes) + display_rows(Path(tmp) / "show")
    print(f"{'what':44} {'seconds':>8} {'peak MB':>8} {'x baseline':>11}")
    for (name, seconds, peak), (_, base_s, base) in zip(rows, [rows[1]] * 3 + [rows[4]] * 2):
        print(f"{name:44} {seconds:8.2f} {peak:8d} {peak / base:7.2f} MB {seconds / base_s:5.2f} s")
    extra = rows[0][2] - rows[2][2]
    print(f"\nadd-model of 4 x {args.megabytes} MB peaked {extra} MB above add-model of 4 x 1 MB")


if __name__ == "__main__":
    main()

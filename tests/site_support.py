"""Helpers for the site builder's tests: a small database with hostile user-typed text, the
site built from it, and HTML parsing helpers."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urlsplit

from bs4 import BeautifulSoup
from PIL import Image

from conftest import make_png, make_wav
from rater import Client, Leaderboard

HOSTILE = '<script>alert("x")</script>'
BOARD_NAME = f"Best pictures {HOSTILE} & more"
INSTRUCTION = 'Which is better? <img src=x onerror="alert(1)">'
PROMPTS = ["A red cat", f"A dog <b>bold</b> {HOSTILE}", "A quiet lake at dawn"]
TAGS = [["animals", "<i>tag</i>"], ["animals"], ["landscape"]]
MODELS = ["alpha", f"{HOSTILE}", "O'Brien & \"Co\"", "delta"]  # best first
AUDIO_MODELS = ["tone-clean", "tone-noisy"]


def _large_png(path: Path, seed: int) -> Path:
    rng = random.Random(seed)
    img = Image.new("RGB", (900, 700))
    img.putdata([(rng.randrange(256), rng.randrange(256), rng.randrange(256))
                 for _ in range(900 * 700)])
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path, "PNG")
    return path


def vote_until(board: Leaderboard, votes: int, strength: list[str], raters: int = 3,
               prefix: str = "extra") -> int:
    """Cast ``votes`` votes through the matchmaker; the model earlier in ``strength`` wins
    (on inverse boards it is chosen as the worse, so it loses), with a tie now and then.
    Quality-control repeats are left unanswered, so every vote cast counts in the standings."""
    cast = 0
    for k in range(votes):
        # when a regular rater has seen every pair (or has only repeats left), a newcomer
        # takes over
        for rater in (f"rater-{k % raters}", f"{prefix}-{k}"):
            matchup = board.next_matchup(rater, continue_when_settled=True)
            while matchup is not None and matchup.is_repeat:
                matchup = board.next_matchup(rater, continue_when_settled=True)
            if matchup is not None:
                break
        if matchup is None:
            continue
        left, right = strength.index(matchup.left.model), strength.index(matchup.right.model)
        better = "left" if left < right else "right"
        worse = "right" if better == "left" else "left"
        choice = "tie" if k % 11 == 5 else (worse if board.inverse_ranking else better)
        board.record_vote(matchup.id, choice, rater)
        cast += 1
    return cast


def make_database(folder: Path) -> tuple[Path, Leaderboard, Leaderboard]:
    """Two boards: images with hostile text everywhere, and an inverse audio board."""
    media = folder / "inputs"
    db = folder / "db" / "leaderboards.db"
    client = Client(db)
    images = client.mri.create_new_leaderboard(BOARD_NAME, INSTRUCTION, PROMPTS, True, tags=TAGS)
    seed = 0
    for m, name in enumerate(MODELS):
        paths, prompts = [], []
        for p, prompt in enumerate(PROMPTS):
            seed += 1
            if m == 0 and p == 0:
                paths.append(_large_png(media / f"big-{seed}.png", seed))
            else:
                paths.append(make_png(media / f"img-{seed}.png", seed, size=16))
            prompts.append(prompt)
        images.evaluate_model(name, paths, prompts)
    vote_until(images, 120, MODELS)
    audio = client.mri.create_new_leaderboard(
        "Tones", "Which clip is worse?", ["beep", "boop"], False, inverse_ranking=True,
        publish_prompts=False,
        prompt_assets=[make_png(media / "score-1.png", 901), make_png(media / "score-2.png", 902)],
        show_prompt_asset=True)
    for k, name in enumerate(AUDIO_MODELS):
        audio.evaluate_model(name, [make_wav(media / f"{name}-{p}.wav", 300 + 100 * k + p)
                                    for p in range(2)], ["beep", "boop"])
    vote_until(audio, 20, AUDIO_MODELS)
    images_id, audio_id = images.id, audio.id
    client.close()
    client = Client(db)
    return db, client.mri.get_leaderboard_by_id(images_id), client.mri.get_leaderboard_by_id(audio_id)


#: Model names that once broke the charts: text that looks like unsafe SVG markup, long emoji
#: names (Vega cut their surrogate pairs), and two long names that differ only at the end.
CHART_MODELS = [
    "see http://example.com",
    "model x onclick=1",
    "javascript:alert(1)",
    "href=x src=y url(http://evil.example/x)",
    "<svg onload=alert(1)>",
    "🎨" * 100,
    "a😀" * 40,
    "p" * 100 + " first",
    "p" * 100 + " second",
    "\u202eevil override",
    "שלום עולם",
]
RTL_BOARD = "\u202eלוח draob"
RTL_TAG = "\u202eגת"
RTL_PROMPTS = ["\u202ereversed prompt", "חתול אדום"]


def make_chart_names_database(folder: Path) -> tuple[Path, Leaderboard]:
    """One image board whose models are :data:`CHART_MODELS`, with right-to-left text and
    unterminated U+202E in its name, prompts and tags."""
    media = folder / "inputs"
    db = folder / "db" / "leaderboards.db"
    client = Client(db)
    board = client.mri.create_new_leaderboard(RTL_BOARD, "Which is better? \u202e", RTL_PROMPTS,
                                              True, tags=[[RTL_TAG], ["plain"]])
    for m, name in enumerate(CHART_MODELS):
        board.evaluate_model(name, [make_png(media / f"m{m}-{p}.png", 100 * m + p, size=16)
                                    for p in range(len(RTL_PROMPTS))], RTL_PROMPTS)
    vote_until(board, 90, CHART_MODELS)
    board_id = board.id
    client.close()
    return db, Client(db).mri.get_leaderboard_by_id(board_id)


def parse(path: Path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html5lib")


def pages(site: Path) -> Iterator[Path]:
    yield from sorted(site.rglob("*.html"))


def local_targets(page: Path, soup: BeautifulSoup) -> Iterator[tuple[str, Path]]:
    """Every href/src in the page that points inside the site, resolved to a path."""
    for tag in soup.find_all(True):
        for attr in ("href", "src"):
            value = tag.get(attr)
            if not value or value.startswith("#") or value.startswith("data:"):
                continue
            parts = urlsplit(value)
            if parts.scheme or parts.netloc:
                yield value, Path("/nonexistent-external")
                continue
            yield value, (page.parent / unquote(parts.path)).resolve()


def make_named_database(folder: Path, models: list[str], *, votes: int = 40,
                        tags: list[list[str]] | None = None, db: str | None = None) -> tuple[Path, Leaderboard]:
    """One small image board with these model names (best first) and two prompts (in a new
    database at ``db``, by default ``folder/db/leaderboards.db``)."""
    media = folder / "inputs"
    db = db or folder / "db" / "leaderboards.db"
    client = Client(db, create=True)
    prompts = ["first prompt", "second prompt"]
    board = client.mri.create_new_leaderboard("Named", "Which is better?", prompts, True,
                                              tags=tags)
    for m, name in enumerate(models):
        board.evaluate_model(name, [make_png(media / f"n{m}-{p}.png", 500 + 10 * m + p, size=16)
                                    for p in range(len(prompts))], prompts)
    vote_until(board, votes, models)
    board_id = board.id
    client.close()
    return db, Client(db).mri.get_leaderboard_by_id(board_id)


def set_vote_time(db: Path, board_id: str, value: object) -> None:
    """Write ``value`` as the time of the board's first vote, straight into the SQLite file
    (as a vote imported before times were checked would be)."""
    import sqlite3

    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE votes SET voted_at = ? WHERE id = (SELECT min(v.id) FROM votes v "
                     "JOIN matchups m ON m.id = v.matchup_id WHERE m.leaderboard_id = ?)",
                     (value, board_id))
    conn.close()


def tree(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (relative path -> bytes)."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}

"""Gold pairs (known-answer pairs) and a board's quality rules, behind ``Leaderboard``'s methods.

A side of a gold pair is a media file (checked and stored like any medium, content-addressed)
or the sha256 of a medium already stored. Both sides are registered under the benchmark's two
hidden gold participants for the pair's prompt (:mod:`rater.store.gold`), so they are shown
like any pair of that prompt and their votes count nowhere but in the raters' gold figures.
How they are served and judged: :mod:`rater.matchmaking.gold`.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rater.errors import LeaderboardNotFound, MediaError, NotFoundError, ValidationError
from rater.intake.evaluate import resolve_prompts
from rater.intake.media import MediaFile, inspect_media, write_with_blobs
from rater.intake.validation import check_count
from rater.matchmaking.gold import QualityRules, judge_board, quality_rules
from rater.store import Store, catalog
from rater.store import gold as gold_sql

from .owner import BoardOwner

__all__ = ["GoldMethods", "GoldPair", "add_gold_pairs", "gold_pairs", "remove_gold_pair", "set_quality_rules"]

_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class GoldPair:
    """A known-answer pair on a leaderboard: ``better`` is the right answer.

    :param votes: votes cast on it; ``correct``: those that picked ``better`` (a tie never does).
    """

    id: int
    leaderboard_id: str
    identifier: str
    prompt: str
    better: Path
    worse: Path
    better_sha256: str
    worse_sha256: str
    created_at: float
    votes: int
    correct: int


@dataclass(frozen=True)
class _Side:
    sha256: str
    kind: str
    name: str
    file: MediaFile | None  # None: a stored medium named by its sha256


def _side(store: Store, value: object, what: str, max_bytes: int, max_pixels: int) -> _Side:
    if isinstance(value, str) and _SHA256.fullmatch(value) and not Path(value).exists():
        row = store.conn.execute("SELECT kind, ext FROM blobs WHERE sha256 = ?", (value,)).fetchone()
        if row is None:
            raise ValidationError(f"{what}: no stored medium has sha256 {value}; give a file path instead")
        return _Side(value, str(row[0]), value, None)
    if not isinstance(value, (str, os.PathLike)):
        raise ValidationError(f"{what} must be a file path or the sha256 of a stored medium, "
                              f"got {type(value).__name__}")
    file = inspect_media(Path(value), max_bytes=max_bytes, max_pixels=max_pixels)
    return _Side(file.sha256, file.kind, file.source.name, file)


def _prompt_id(store: Store, leaderboard_id: str, prompts: list[dict[str, Any]], identifier: object,
               sides: tuple[_Side, _Side], what: str) -> int:
    """The pair's prompt: the identifier given, else the one prompt a stored copy of either
    medium is for, else the benchmark's only prompt."""
    if identifier is not None:
        return resolve_prompts(prompts, [identifier], None, 1, lambda i, w: f"{what} identifier")[0]
    shas = [s.sha256 for s in sides]
    found = {int(r[0]) for r in store.conn.execute(
        "SELECT DISTINCT prompt_id FROM board_media WHERE leaderboard_id = ? AND sha256 IN (?, ?)",
        (leaderboard_id, *shas))}
    if len(found) == 1:
        return found.pop()
    if len(prompts) == 1:
        return int(prompts[0]["id"])
    raise ValidationError(f"{what}: name the pair's prompt (identifier=, or the CSV's identifier "
                          "column): neither medium is a stored medium of exactly one prompt")


def add_gold_pairs(store: Store, leaderboard_id: str, pairs: Sequence[tuple[object, object, object]], *,
                   sources: Sequence[str] | None = None, max_bytes: int, max_pixels: int) -> list[int]:
    """Add gold pairs ``(better, worse, identifier or None)`` to the board, all or nothing;
    returns their ids. Every side is checked (a file whole, as ``evaluate_model`` checks it)
    before any file is copied.

    :param sources: for each pair, where it came from (a CSV's file and line), named in errors.
    :raises ValidationError: a side is neither a media file nor a stored medium's sha256, both
        sides are the same medium or of different kinds, the prompt is unknown, outside the
        board's tag scope or cannot be told, or the board has the pair already.
    :raises MediaError: a file is missing, corrupt or too large.
    """
    if isinstance(pairs, (str, bytes)) or not pairs:
        raise ValidationError("give at least one gold pair (better, worse[, identifier])")
    prompts = catalog.list_prompts(store.conn, leaderboard_id)
    by_id = {int(p["id"]): p for p in prompts}
    planned: list[tuple[int, _Side, _Side]] = []
    for i, pair in enumerate(pairs):
        what = sources[i] if sources is not None else f"gold pair {i + 1}"
        better, worse, identifier = pair
        try:
            sides = (_side(store, better, f"{what} better", max_bytes, max_pixels),
                     _side(store, worse, f"{what} worse", max_bytes, max_pixels))
        except MediaError as exc:  # from inspect_media: name the pair
            raise MediaError(f"{what}: {exc}") from None
        if sides[0].sha256 == sides[1].sha256:
            raise ValidationError(f"{what}: better and worse are the same medium ({sides[0].name})")
        if sides[0].kind != sides[1].kind:
            raise ValidationError(f"{what}: better is {sides[0].kind} and worse is {sides[1].kind}: "
                                  "a gold pair must look like any pair of the board")
        prompt_id = _prompt_id(store, leaderboard_id, prompts, identifier, sides, what)
        if not by_id[prompt_id]["in_scope"]:
            raise ValidationError(f"{what}: prompt {by_id[prompt_id]['identifier']!r} is outside the "
                                  "board's tag scope: raters would see a prompt the board never shows")
        planned.append((prompt_id, *sides))
    files = [s.file for _, *sides in planned for s in sides if s.file is not None]
    bench = catalog.board_benchmark(store.conn, leaderboard_id)
    now = time.time()
    ids = []
    with write_with_blobs(store, files) as (conn, _new):
        for i, (prompt_id, better, worse) in enumerate(planned):
            media = []
            for role, side in (("better", better), ("worse", worse)):
                if side.file is not None:
                    f = side.file
                    catalog.insert_blob(conn, f.sha256, f.kind, f.mime, f.ext, f.size)
                media.append(gold_sql.gold_media(conn, bench, role, prompt_id, side.sha256, side.name, now))
            pair_id = gold_sql.add_gold_pair(conn, leaderboard_id, prompt_id, media[0], media[1], now)
            if pair_id is None:
                what = sources[i] if sources is not None else f"gold pair {i + 1}"
                raise ValidationError(f"{what}: the board already has this gold pair ({better.name} "
                                      f"better than {worse.name}); nothing added")
            ids.append(pair_id)
    return ids


def gold_pairs(store: Store, leaderboard_id: str) -> list[GoldPair]:
    """The board's gold pairs, oldest first."""
    return [GoldPair(
        id=int(r["id"]), leaderboard_id=r["leaderboard_id"], identifier=r["identifier"], prompt=r["prompt"],
        better=store.media_file(r["better_sha256"], r["better_ext"]),
        worse=store.media_file(r["worse_sha256"], r["worse_ext"]),
        better_sha256=r["better_sha256"], worse_sha256=r["worse_sha256"], created_at=float(r["created_at"]),
        votes=int(r["votes"]), correct=int(r["correct"]),
    ) for r in gold_sql.gold_pairs(store.conn, leaderboard_id)]


def remove_gold_pair(store: Store, leaderboard_id: str, pair_id: int) -> None:
    """Serve the pair no more; its votes stay (and keep counting in raters' gold figures).

    :raises NotFoundError: the board has no such gold pair.
    """
    with store.write() as conn:
        if not isinstance(pair_id, int) or not gold_sql.remove_gold_pair(conn, leaderboard_id, pair_id, time.time()):
            known = ", ".join(str(r["id"]) for r in gold_sql.gold_pairs(conn, leaderboard_id)[:10]) or "none"
            raise NotFoundError(f"leaderboard {leaderboard_id!r} has no gold pair {pair_id!r} (gold pairs: {known})")


def _share(value: object, what: str, top: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= top:
        raise ValidationError(f"{what} must be a number from 0 to {top:g}, got {value!r}")
    return float(value)


def set_quality_rules(store: Store, leaderboard_id: str, given: dict[str, Any]) -> QualityRules:
    """Change some of the board's quality rules (``None`` values are left as they are), checked
    whole, then applies the thresholds to every included rater; returns the rules as they now are.

    :raises ValidationError: a value out of range, ``qualification_required`` above
        ``qualification_pairs``, a qualification asking for more gold pairs than the board has,
        or nothing to change; nothing changes then.
    """
    rules: dict[str, Any] = {}
    for key, value in given.items():
        if value is None:
            continue
        if key in ("qualification_pairs", "qualification_required"):
            rules[key] = check_count(value, key)
        elif key == "min_quality_votes":
            rules[key] = check_count(value, key, 1)
        else:
            rules[key] = _share(value, key, 0.5 if key == "gold_share" else 1.0)
    if not rules:
        raise ValidationError(f"nothing to change: give one of {', '.join(gold_sql.RULE_COLUMNS)}")
    with store.write() as conn:
        now = quality_rules(conn, leaderboard_id)
        n = rules.get("qualification_pairs", now.qualification_pairs)
        k = rules.get("qualification_required", now.qualification_required)
        if k > n:
            raise ValidationError(f"qualification_required ({k}) must not exceed qualification_pairs ({n})")
        if k > 0 and n > now.gold_pairs:
            raise ValidationError(f"a qualification of {n} gold pairs needs {n} gold pairs on the board; "
                                  f"it has {now.gold_pairs}: add them first (rater gold add)")
        if not gold_sql.set_quality_rules(conn, leaderboard_id, rules):
            raise LeaderboardNotFound(f"no leaderboard with id {leaderboard_id!r} (it was deleted)")
        judge_board(conn, leaderboard_id)  # stricter thresholds apply to the votes already cast
        return quality_rules(conn, leaderboard_id)


class GoldMethods:
    """``Leaderboard``'s gold-pair and quality-rule methods (a mixin: ``id`` and ``_client``
    are the leaderboard's)."""

    id: str
    _client: BoardOwner

    def add_gold_pair(self, better: str | os.PathLike[str], worse: str | os.PathLike[str],
                      identifier: str | None = None) -> GoldPair:
        """Add a known-answer pair: ``better`` must win. Each side is a media file (stored like
        any medium) or the sha256 of a stored one; ``identifier`` names the prompt (optional
        when a stored copy of either medium, or the benchmark's only prompt, tells it).
        Served like any pair, its votes count only in raters' gold figures."""
        return self.add_gold_pairs([(better, worse, identifier)])[0]

    def add_gold_pairs(self, pairs: Sequence[tuple[Any, Any, Any]], *,
                       sources: Sequence[str] | None = None) -> list[GoldPair]:
        """Add several gold pairs ``(better, worse, identifier or None)``, all or nothing."""
        ids = add_gold_pairs(self._client.store, self.id, pairs, sources=sources,
                             max_bytes=self._client.max_media_bytes, max_pixels=self._client.max_pixels)
        return [p for p in self.gold_pairs() if p.id in ids]

    def gold_pairs(self) -> list[GoldPair]:
        """The board's gold pairs (removed ones aside), oldest first, with their votes."""
        return gold_pairs(self._client.store, self.id)

    def remove_gold_pair(self, pair_id: int) -> None:
        """Serve a gold pair no more (its votes stay in the raters' gold figures)."""
        remove_gold_pair(self._client.store, self.id, pair_id)

    def quality_rules(self) -> QualityRules:
        """Qualification, gold share and exclusion thresholds (see :mod:`rater.matchmaking.gold`)."""
        return quality_rules(self._client.store.conn, self.id)

    def set_quality_rules(self, *, qualification_pairs: int | None = None,
                          qualification_required: int | None = None, gold_share: float | None = None,
                          min_gold_accuracy: float | None = None, min_repeat_agreement: float | None = None,
                          min_quality_votes: int | None = None) -> QualityRules:
        """Change the rules given (k = ``qualification_required`` of n = ``qualification_pairs``
        gold pairs right before a new rater's votes count, 0 = none; ``gold_share`` of pairs
        served afterwards; exclusion below ``min_gold_accuracy`` / ``min_repeat_agreement``
        after ``min_quality_votes`` such votes, 0 = not checked); returns them."""
        return set_quality_rules(self._client.store, self.id, {
            "qualification_pairs": qualification_pairs, "qualification_required": qualification_required,
            "gold_share": gold_share, "min_gold_accuracy": min_gold_accuracy,
            "min_repeat_agreement": min_repeat_agreement, "min_quality_votes": min_quality_votes})

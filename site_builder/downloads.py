"""Downloadable files: standings as CSV and JSON, votes as CSV with rater pseudonyms.

Rater names never leave the database. In ``votes.csv`` each rater appears as a pseudonym,
``r-`` plus the first 12 hex digits of HMAC-SHA256(key, name), where the key is 32 random
bytes kept in a file beside the database (``<db>.pseudonym-key``, created on first use,
readable by its owner only). The same rater gets the same pseudonym in every build and on
every board of that database, yet without the key nobody can test guesses such as common
first names against the pseudonyms. Delete the key file to re-pseudonymise everything (the
key is one of the build's inputs, so the next build rewrites every board).

Text cells that a spreadsheet would read as a formula get a leading ``'`` (see
:mod:`rater.results.csv_cells`); ``standings.json`` keeps the exact names.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import os
import secrets
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from rater import CARD_FIELDS
from rater.results.csv_cells import csv_field, safe_cell

from .data import BoardData
from .publish import SiteError

__all__ = ["STANDINGS_FIELDS", "Pseudonyms", "pseudonym_key", "pseudonym_key_path", "write_downloads"]

STANDINGS_FIELDS = ["rank", "rank_low", "rank_high", "tied_group", "name", "score", "ci_low",
                    "ci_high", "mu", "sigma", "wins", "losses", "ties", "total_matches",
                    "win_rate"]


def pseudonym_key_path(db: Path | str) -> Path:
    """Where the database's pseudonym key lives: beside an SQLite file; for a server database
    (its URL without a password), in this host's ``$XDG_CONFIG_HOME/rater/site-keys`` (default
    ``~/.config``), named by a hash of the URL: the server holds no file of ours. A site built
    on another host keeps the same pseudonyms once that file is copied there."""
    if isinstance(db, Path):
        return Path(f"{db}.pseudonym-key")
    config = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return config / "rater" / "site-keys" / f"{hashlib.sha256(db.encode()).hexdigest()[:16]}.pseudonym-key"


def pseudonym_key(db: Path | str) -> bytes:
    """The database's pseudonym key (see :func:`pseudonym_key_path`), created (0600) on first use."""
    path = pseudonym_key_path(db)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():  # written whole beside it, then linked in: never a partial key
        tmp = Path(f"{path}.tmp-{os.getpid()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(fd, "w", encoding="ascii") as fh:
                fh.write(secrets.token_bytes(32).hex() + "\n")
                fh.flush()
                os.fsync(fh.fileno())
            os.link(tmp, path)
        except FileExistsError:
            pass  # another build made one first: use it
        finally:
            tmp.unlink(missing_ok=True)
    text = path.read_text(encoding="ascii").strip()
    try:
        key = bytes.fromhex(text)
    except ValueError:
        key = b""
    if len(key) < 16:
        raise SiteError(f"{path} is not a pseudonym key (delete it to make a new one)")
    return key


class Pseudonyms:
    """Maps rater names to stable, keyed pseudonyms."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def __call__(self, rater: str) -> str:
        mac = hmac.new(self._key, rater.encode("utf-8"), hashlib.sha256).hexdigest()
        return f"r-{mac[:12]}"


def _clean(value: Any) -> Any:
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return None if math.isnan(value) else round(float(value), 4)
    return value


def standings_records(data: BoardData) -> list[dict[str, Any]]:
    """The standings as plain dicts (NaN as None), with each model's matchmaking status."""
    status = data.model_status
    records = []
    for row in data.standings[STANDINGS_FIELDS].to_dict("records"):
        record = {k: _clean(v) for k, v in row.items()}
        record["status"] = status.get(row["name"], "")
        card = data.cards.get(row["name"])
        record.update({f: getattr(card, f) if card else "" for f in CARD_FIELDS})
        records.append(record)
    return records


def write_downloads(data: BoardData, folder: Path, pseudonyms: Pseudonyms,
                    meta: dict[str, Any]) -> dict[str, str]:
    """Write ``standings.csv``, ``standings.json`` and ``votes.csv`` into ``folder``.

    :param meta: build facts copied into ``standings.json`` (build time, settings, version).
    :return: the file names written, by kind.
    """
    board = data.board
    records = standings_records(data)
    table = pd.DataFrame(records, columns=[*STANDINGS_FIELDS, "status", *CARD_FIELDS])
    for column in ("name", *CARD_FIELDS):
        table[column] = table[column].map(safe_cell)
    table.to_csv(
        folder / "standings.csv", index=False, float_format="%.4f")
    document = {
        "leaderboard": {"id": board.id, "name": board.name, "instruction": board.instruction,
                        "inverse_ranking": board.inverse_ranking},
        "votes": int(data.standings.attrs.get("votes", len(data.used))),
        "excluded_votes": int(data.standings.attrs.get("excluded_votes", 0)),
        "vote_log_sha256": data.vote_hash,
        "interval": data.standings.attrs.get("interval_method"),
        **meta,
        "standings": records,
    }
    (folder / "standings.json").write_text(
        json.dumps(document, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    _write_votes(data, folder / "votes.csv", pseudonyms)
    return {"standings_csv": "standings.csv", "standings_json": "standings.json",
            "votes_csv": "votes.csv"}


def _write_votes(data: BoardData, path: Path, pseudonyms: Pseudonyms) -> None:
    """One row per stored vote, excluded ones flagged; choices as the rater clicked them.

    Written with precomputed, quoted names per model, prompt and rater (pandas' writer takes
    seconds per million rows; this takes about one).
    """
    raw = data.raw
    models = [csv_field(m) for m in raw.models]
    prompts = [csv_field(p) if data.board.publish_prompts else f"prompt {i + 1}"
               for i, p in enumerate(raw.prompts)]
    raters = [pseudonyms(r) for r in raw.raters]
    choices = {1.0: "left", 0.5: "tie", 0.0: "right"}
    columns = zip(raw.time.tolist(), raw.prompt.tolist(), raw.a.tolist(), raw.b.tolist(),
                  raw.score_a.tolist(), raw.rater.tolist(), raw.excluded.tolist())
    with open(path, "w", encoding="utf-8", newline="") as fh:
        fh.write("vote,time_unix,prompt_number,prompt,left,right,choice,rater,excluded\r\n")
        fh.writelines(
            f"{n},{t:.3f},{p + 1},{prompts[p]},{models[a]},{models[b]},{choices[s]},"
            f"{raters[r]},{int(e)}\r\n"
            for n, (t, p, a, b, s, r, e) in enumerate(columns, 1))

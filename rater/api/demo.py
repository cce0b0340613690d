"""Loading the bundled demo leaderboards (package data: ``rater/api/demo_data/demo.json``) into a database.

The demo has an image board and an audio board with models of visibly different quality and a
log of simulated past votes, so a fresh checkout has standings, a site and a rater to try.
Loading is idempotent: a board whose name already exists is left alone. The files ship with the
package, so this works after a plain ``pip install`` from any folder; ``data/demo/generate.py``
regenerates them.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from .client import Client
from rater.errors import ValidationError
from rater.formats import json_objects
from .leaderboard import Leaderboard
from rater.store import catalog, votes

__all__ = ["DEMO_DIR", "demo_manifest", "load_demo"]

DEMO_DIR = Path(__file__).resolve().parent / "demo_data"

_CHOICE = {"a": "left", "b": "right", "tie": "tie"}


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def demo_manifest(source: str | Path) -> Path:
    """The demo manifest in ``source``.

    :raises ValidationError: the folder has no ``demo.json``.
    """
    path = Path(source) / "demo.json"
    if not path.is_file():
        raise ValidationError(f"no demo manifest at {path} (give the folder holding demo.json)")
    return path


def load_demo(
    client: Client, source: str | Path = DEMO_DIR, progress: Callable[[str], None] | None = None
) -> Iterator[str]:
    """Load every board of the demo manifest; yield one summary line per board.

    :param source: the folder holding ``demo.json`` (default: the bundled demo).
    :param progress: called with a short message as each step starts.
    :raises ValidationError: the folder has no ``demo.json``.
    """
    source = Path(source)
    manifest = json.loads(demo_manifest(source).read_text(encoding="utf-8"))
    say = progress or (lambda _msg: None)
    for spec in manifest["leaderboards"]:
        existing = [b for b in client.mri.find_leaderboards(spec["name"], amount=1000) if b.name == spec["name"]]
        if existing:
            yield f"{existing[0].id}\t{spec['name']}\t(already loaded)"
            continue
        say(f"creating {spec['name']!r}")
        lb = client.mri.create_new_leaderboard(
            spec["name"], spec["instruction"], spec["prompts"], bool(spec.get("show_prompt", False)),
            tags=spec.get("tags"), inverse_ranking=bool(spec.get("inverse_ranking", False)),
        )
        for model in spec["models"]:
            say(f"  adding model {model['name']} ({len(model['media'])} media)")
            lb.evaluate_model(
                model["name"], [source / m["path"] for m in model["media"]], [m["prompt"] for m in model["media"]]
            )
        count = 0
        if spec.get("votes"):
            votes_path = source / spec["votes"]
            rows = [row for _, row in json_objects(votes_path.read_text(encoding="utf-8"), str(votes_path), ValidationError)]
            say(f"  importing {len(rows)} past votes")
            count = _import_votes(client, lb, source, rows)
        models = len(spec["models"])
        yield f"{lb.id}\t{spec['name']}\t{models} models, {len(spec['prompts'])} prompts, {count} votes"


def _import_votes(client: Client, lb: Leaderboard, source: Path, rows: list[dict[str, Any]]) -> int:
    """Record past votes as served-and-voted matchups, in one transaction."""
    store = client.store
    media = {
        (m["model"], m["prompt"], m["sha256"]): m for m in catalog.list_media(store.conn, lb.id)
    }
    hashes: dict[str, str] = {}

    def find(model: str, prompt: str, rel: str) -> dict[str, Any]:
        sha = hashes.setdefault(rel, _sha256(source / rel))
        return media[(model, prompt, sha)]

    with store.write() as conn:
        for i, row in enumerate(rows):
            left = find(row["model_a"], row["prompt"], row["media_a"])
            right = find(row["model_b"], row["prompt"], row["media_b"])
            # Deterministic ids: the same demo gives the same matchup ids on every machine.
            matchup_id = uuid.uuid5(uuid.NAMESPACE_URL, f"rater-demo/{lb.name}/{i}").hex
            votes.insert_matchup(conn, {
                "id": matchup_id, "leaderboard_id": lb.id, "prompt_id": left["prompt_id"],
                "left_media": left["id"], "left_model": left["model_id"],
                "right_media": right["id"], "right_model": right["model_id"],
                "rater": row["rater"], "served_at": float(row["time"]) - 5.0, "repeat_of": None,
            })
            votes.insert_vote(conn, matchup_id, row["rater"], _CHOICE[row["choice"]], float(row["time"]))
    return len(rows)

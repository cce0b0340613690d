"""``history.json``: one snapshot of each rebuilt board per site build, carried from build to
build, so pages can show how ranks moved between builds (and not only per day of votes)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["MAX_SNAPSHOTS", "History"]

MAX_SNAPSHOTS = 500


class History:
    """The list of build snapshots, oldest first."""

    def __init__(self, builds: list[dict[str, Any]] | None = None) -> None:
        self.builds = builds or []

    @classmethod
    def load(cls, site: Path) -> History:
        """The history of the published site at ``site`` (empty when there is none or it is
        unreadable: history is a convenience, never a reason to fail a build)."""
        try:
            document = json.loads((site / "history.json").read_text(encoding="utf-8"))
            builds = document["builds"]
            if not isinstance(builds, list):
                raise ValueError("builds is not a list")
        except (OSError, ValueError, KeyError, TypeError):
            return cls()
        return cls([b for b in builds if isinstance(b, dict) and isinstance(b.get("boards"), dict)])

    def snapshots(self, board_id: str) -> list[dict[str, Any]]:
        """This board's snapshots, oldest first, each with its build time as ``built_at``."""
        return [{"built_at": b.get("built_at"), **b["boards"][board_id]}
                for b in self.builds if board_id in b["boards"]]

    def previous_ranks(self, board_id: str) -> dict[str, int] | None:
        """The ranks in this board's latest snapshot, or None."""
        snaps = self.snapshots(board_id)
        return dict(snaps[-1].get("ranks", {})) if snaps else None

    def append(self, built_at: float, boards: dict[str, dict[str, Any]]) -> None:
        """Add this build's snapshots, leaving out boards whose votes and ranks are the same
        as in their latest snapshot."""
        boards = {b: snap for b, snap in boards.items()
                  if not (last := self.snapshots(b)) or
                  (last[-1].get("vote_log_sha256"), last[-1].get("ranks"))
                  != (snap.get("vote_log_sha256"), snap.get("ranks"))}
        if boards:
            self.builds.append({"built_at": built_at, "boards": boards})
            del self.builds[:-MAX_SNAPSHOTS]

    def frame(self, board_id: str) -> pd.DataFrame:
        """Long frame ``period, name, rank`` of this board's snapshots."""
        rows = [(pd.Timestamp(s["built_at"], unit="s", tz="UTC"), name, rank)
                for s in self.snapshots(board_id) for name, rank in s.get("ranks", {}).items()]
        return pd.DataFrame(rows, columns=["period", "name", "rank"])

    def write(self, site: Path) -> None:
        (site / "history.json").write_text(
            json.dumps({"version": 1, "builds": self.builds}, ensure_ascii=False), encoding="utf-8")

"""``client.mri``'s benchmark methods: create, fetch and find benchmarks (the hosted SDK's
``RapidataBenchmarkManager``)."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from rater.errors import ValidationError
from rater.intake.validation import check_count, check_name
from rater.store import benchmarks, catalog

from .benchmark import Benchmark
from .ids import new_leaderboard_id
from .settings import Tag, check_prompt_lists, check_tag_lists

if TYPE_CHECKING:
    from rater.intake.media import MediaFile

    from .owner import BoardOwner

__all__ = ["BenchmarkManager"]


class BenchmarkManager:
    """The benchmark half of :class:`rater.LeaderboardManager` (``client.mri``)."""

    _client: BoardOwner

    def _check_assets(
        self, assets: Sequence[str | os.PathLike[str]] | None, n: int
    ) -> list[MediaFile | None]:
        if assets is None:
            return [None] * n
        if not isinstance(assets, (list, tuple)) or len(assets) != n:
            raise ValidationError(
                f"prompt_assets must be a list with one media path (or None) per prompt ({n} paths)"
            )
        for i, a in enumerate(assets):
            if a is not None and not isinstance(a, (str, os.PathLike)):
                raise ValidationError(
                    f"prompt_assets[{i}] must be a file path or None, got {type(a).__name__}"
                )
        from rater.intake.media import inspect_media

        return [
            None if a is None
            else inspect_media(a, max_bytes=self._client.max_media_bytes, max_pixels=self._client.max_pixels)
            for a in assets
        ]

    def create_new_benchmark(
        self, name: str, identifiers: Sequence[str] | None = None, prompts: Sequence[str | None] | None = None,
        prompt_assets: Sequence[str | os.PathLike[str] | None] | None = None,
        tags: Sequence[Sequence[str | Tag] | None] | None = None,
    ) -> Benchmark:
        """Create a benchmark: its registered prompts, matched by index.

        :param name: shown to everyone; need not be unique.
        :param identifiers: one unique identifier per prompt (media are matched to prompts by
            it, so the same text may appear with different assets or seeds). Default: the
            prompt texts, which must then be unique.
        :param prompts: the prompt texts (None for a prompt that is only an asset).
        :param prompt_assets: a media file per prompt (e.g. the source image of an edit), or None.
        :param tags: one list of tags (strings or :class:`rater.Tag`) per prompt.
        :raises ValidationError: a malformed argument; nothing is stored then.
        """
        from rater.intake.media import write_with_blobs

        name = check_name(name, "benchmark name")
        idents, texts = check_prompt_lists(identifiers, prompts, prompt_assets, tags)
        tag_lists = check_tag_lists(tags, len(idents))
        assets = self._check_assets(prompt_assets, len(idents))
        bench = {"id": new_leaderboard_id(), "name": name, "created_at": time.time()}
        store = self._client.store
        store.require(create=True)  # like create_new_leaderboard: this call may make the database
        with write_with_blobs(store, [a for a in assets if a is not None]) as (conn, _):
            while benchmarks.get_benchmark(conn, bench["id"]) is not None or catalog.get_leaderboard(conn, bench["id"]):
                bench["id"] = new_leaderboard_id()
            for a in assets:
                if a is not None:
                    catalog.insert_blob(conn, a.sha256, a.kind, a.mime, a.ext, a.size)
            benchmarks.insert_benchmark(conn, bench, [
                (i, t, g[0], g[1], a.sha256 if a else None) for i, t, g, a in zip(idents, texts, tag_lists, assets)])
        return self.get_benchmark_by_id(bench["id"])

    def get_benchmark_by_id(self, benchmark_id: str) -> Benchmark:
        """The benchmark with this id (a board made by ``create_new_leaderboard`` is the one
        leaderboard of a benchmark of the same id).

        :raises BenchmarkNotFound: no benchmark has that id.
        """
        return Benchmark.load(self._client, benchmark_id)

    def find_benchmarks(self, name: str = "", amount: int = 10, page: int = 1) -> list[Benchmark]:
        """Benchmarks whose name contains ``name`` (case-insensitive), newest first, ``amount``
        per page."""
        check_count(amount, "amount")
        check_count(page, "page", 1)
        if not isinstance(name, str):
            raise ValidationError(f"name must be text, got {type(name).__name__}")
        rows = benchmarks.find_benchmarks(self._client.store.conn, name)
        return [Benchmark(self._client, r) for r in rows[(page - 1) * amount : page * amount]]

    def list_benchmarks(self) -> list[Benchmark]:
        """Every benchmark, oldest first."""
        return [self.get_benchmark_by_id(i) for i in benchmarks.benchmark_ids(self._client.store.conn)]

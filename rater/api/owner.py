"""What the API objects use of the :class:`~rater.api.client.Client` that made them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from rater.store import Store

__all__ = ["BoardOwner"]


class BoardOwner(Protocol):
    """What a Leaderboard uses of the :class:`~rater.api.client.Client` that made it (typed
    structurally, so that this module does not import the one that imports it)."""

    store: Store
    max_media_bytes: int
    max_pixels: int

    @property
    def mri(self) -> Any: ...

    @property
    def audience(self) -> Any: ...

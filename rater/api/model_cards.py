"""``Leaderboard``'s model card methods: the card shown on the site's model page and standings
(see :mod:`rater.intake.model_card` for the fields and their rules)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rater.errors import NotFoundError
from rater.intake.model_card import ModelCard, check_card
from rater.store import cards

from .owner import BoardOwner

__all__ = ["CardMethods"]


class CardMethods:
    """A mixin: ``id``, ``_client`` and ``models()`` are the leaderboard's."""

    id: str
    _client: BoardOwner

    if TYPE_CHECKING:
        def models(self) -> list[Any]: ...

    def set_model_info(self, name: str, *, organization: str | None = None,
                       url: str | None = None, license: str | None = None,
                       released: str | None = None, description: str | None = None) -> ModelCard:
        """Set a model's card, shown on the site's model page and standings; returns the card.

        Only the fields given change; ``""`` clears one. See :mod:`rater.intake.model_card`.

        :param organization: who made the model (up to 100 characters, one line).
        :param url: an ``http://`` or ``https://`` link about the model (up to 500 characters).
        :param license: its licence, e.g. ``"Apache-2.0"`` (up to 100 characters).
        :param released: its release date, ``YYYY-MM-DD``.
        :param description: a few words about it (up to 1,000 characters).
        :raises ValidationError: a malformed value; nothing is stored then.
        :raises NotFoundError: the board has no model of that name.
        """
        fields = check_card({"organization": organization, "url": url, "license": license,
                             "released": released, "description": description})
        with self._client.store.write() as conn:
            found = cards.set_model_card(conn, self.id, name, fields)
        if not found:
            raise self._no_model(name)
        return self.model_info(name)

    def model_info(self, name: str) -> ModelCard:
        """A model's card (``""`` for fields never set).

        :raises NotFoundError: the board has no model of that name.
        """
        card = self.model_cards().get(name)
        if card is None:
            raise self._no_model(name)
        return card

    def model_cards(self) -> dict[str, ModelCard]:
        """Every model's card, by name, in the order models were added."""
        return {name: ModelCard(name, **fields)
                for name, fields in cards.model_cards(self._client.store.conn, self.id).items()}

    def _no_model(self, name: str) -> NotFoundError:
        known = ", ".join(repr(m.name) for m in self.models()[:10]) or "none yet"
        return NotFoundError(f"leaderboard {self.id!r} has no model {name!r} (models: {known})")

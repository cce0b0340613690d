"""Benchmark and leaderboard settings shared by the API classes: tags, vote aggregation,
levels of detail, and the checks of prompt lists."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rater.errors import NotFoundError, ValidationError
from rater.intake.validation import MAX_TAG_LENGTH, check_count, check_name, check_text

__all__ = ["LEVELS_OF_DETAIL", "BenchmarkNotFound", "Tag", "VoteAggregation", "check_prompt_lists",
           "check_tag_lists", "check_tags", "resolve_level"]

#: Named response budgets, as the hosted service has them: votes per participant run.
LEVELS_OF_DETAIL = {"debug": 20, "low": 2000, "medium": 4000, "high": 8000, "very high": 16000}


class BenchmarkNotFound(NotFoundError):
    """No benchmark has that id."""


class VoteAggregation(str, enum.Enum):
    """How a leaderboard's votes count.

    ``ALL_VOTES`` (our default): every vote counts on its own. The ranking model is fitted on
    all votes with prompt-clustered uncertainty, so repeated judgements of a pair add evidence
    in proportion, and a vote is never thrown away. ``MAJORITY_VOTE`` (the hosted default):
    each media pair counts once, for the side most of its raters picked (a tie splits
    0.5/0.5), and only once ``min_responses_per_matchup`` raters judged it.
    """

    ALL_VOTES = "all"
    MAJORITY_VOTE = "majority"


@dataclass(frozen=True)
class Tag:
    """A prompt tag with an optional category (``Tag("beach", category="scene")``); plain
    strings are tags without a category. Matching (``tags=``, ``included_tags``) is on the value."""

    value: str
    category: str | None = None


def resolve_level(level: str | int | None) -> tuple[str | None, int | None]:
    """``(level name, budget)`` of a ``level_of_detail``: a named level, a positive whole
    number (``"custom"``), or None (no budget: our stopping rule alone decides)."""
    if level is None:
        return None, None
    if isinstance(level, str):
        key = level.strip().lower()
        if key not in LEVELS_OF_DETAIL:
            raise ValidationError(f"level_of_detail must be one of {', '.join(map(repr, LEVELS_OF_DETAIL))} "
                                  f"or a positive whole number, got {level!r}")
        return key, LEVELS_OF_DETAIL[key]
    return "custom", check_count(level, "level_of_detail", 1)


def check_tag_lists(tags: object, n: int, *, allow_none: bool = True) -> list[tuple[list[str], dict[str, str]]]:
    """One ``(values, {value: category})`` per prompt from lists of strings or :class:`Tag`
    (``None`` for a prompt without tags where ``allow_none``, as the benchmark calls take it)."""
    if tags is None:
        return [([], {}) for _ in range(n)]
    if not isinstance(tags, (list, tuple)) or len(tags) != n:
        raise ValidationError(f"tags must be a list with one list of tags per prompt ({n} lists)")
    return [check_tags(group, f"tags[{i}]", allow_none=allow_none) for i, group in enumerate(tags)]


def check_tags(group: object, what: str, *, allow_none: bool = True) -> tuple[list[str], dict[str, str]]:
    """The values and categories of one prompt's tags (``None`` is no tags where ``allow_none``)."""
    if group is None and allow_none:
        return [], {}
    if isinstance(group, str):
        raise ValidationError(f"{what} must be a list of tags, got the text {group!r}"[:200])
    if isinstance(group, Tag) or not isinstance(group, (list, tuple, set, frozenset)):
        raise ValidationError(f"{what} must be a list of tags, got {type(group).__name__}")
    values: list[str] = []
    categories: dict[str, str] = {}
    for tag in group:
        tag = tag if isinstance(tag, Tag) else Tag(tag)  # type: ignore[arg-type]
        value = check_name(tag.value, f"{what} entry", max_length=MAX_TAG_LENGTH)
        if value not in values:
            values.append(value)
        if tag.category is not None:
            categories[value] = check_name(tag.category, f"{what} category", max_length=MAX_TAG_LENGTH)
    return values, categories


def check_prompt_lists(identifiers: object, prompts: object, assets: object, n_tags: object,
                       existing: Sequence[str] = ()) -> tuple[list[str], list[str]]:
    """Identifiers and prompt texts of new prompts, matched by index (identifiers default to
    the prompt texts, which must then be unique)."""
    def as_list(value: object, what: str) -> list[Any] | None:
        if value is None:
            return None
        if isinstance(value, str) or not isinstance(value, (list, tuple)):
            raise ValidationError(f"{what} must be a list, got {type(value).__name__}")
        return list(value)

    idents, texts, asset_list = as_list(identifiers, "identifiers"), as_list(prompts, "prompts"), as_list(assets, "prompt_assets")
    if not idents and not texts:
        raise ValidationError("give prompts or identifiers (at least one prompt)")
    if texts is None and asset_list is None:
        raise ValidationError("give prompts or prompt_assets: a prompt needs a text or an asset")
    n = len(idents if idents else texts)  # type: ignore[arg-type]
    for what, values in (("prompts", texts), ("prompt_assets", asset_list)):
        if values is not None and len(values) != n:
            raise ValidationError(f"{what} must have one entry per identifier ({n}), got {len(values)}")
    texts = ["" if t is None else check_text(t, f"prompts[{i}]") for i, t in enumerate(texts)] if texts else [""] * n
    if idents is None:
        idents = list(texts)
    idents = [check_text(x, f"identifiers[{i}]") for i, x in enumerate(idents)]
    first: dict[str, int] = {}
    for i, ident in enumerate(idents):
        if ident in first:
            raise ValidationError(f"identifiers[{i}] repeats identifiers[{first[ident]}] ({ident!r}): identifiers "
                                  "must be unique (give identifiers= when a prompt text repeats)")
        if ident in existing:
            raise ValidationError(f"identifier {ident!r} is already registered on the benchmark")
        first[ident] = i
    for i, (text, asset) in enumerate(zip(texts, asset_list or [None] * n)):
        if not text and asset is None:
            raise ValidationError(f"prompt {idents[i]!r} has neither a text nor an asset")
    return idents, texts



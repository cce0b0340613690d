"""From computed board data to plain dicts the templates read (no HTML here).

Links inside a board are relative to the board's folder; templates prefix them with
``base`` (``""`` on the board page, ``"../"`` one folder down) and site-wide files with
``root``. File names are derived from ids, positions and hashes, never from raw user text.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import Counter
from collections.abc import Iterable
from typing import Any

import numpy as np

from .data import BoardData
from .media import MediaItem, SiteMedia

__all__ = ["board_folder", "board_context", "criterion_entries", "podium_showcase", "slug",
           "standing", "tie_bands", "unique_slugs"]


def slug(text: str, limit: int = 40, digits: int = 6) -> str:
    """A safe file-name stem: lowercase ASCII words joined by dashes, plus a short hash."""
    words = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:limit].strip("-")
    digest = hashlib.sha1(text.encode("utf-8")).hexdigest()[:digits]
    return f"{words}-{digest}" if words else digest


def unique_slugs(texts: Iterable[str]) -> dict[str, str]:
    """A :func:`slug` per distinct text, distinct within the set: texts whose slugs coincide
    (the words are cut at 40 letters and the hash is short) get longer hashes. A text keeps
    its slug from build to build unless another text's slug collides with it."""
    texts = list(dict.fromkeys(texts))
    found = {t: slug(t) for t in texts}
    for digits in range(8, 41, 2):
        counts = Counter(found.values())
        clashing = [t for t in texts if counts[found[t]] > 1]
        if not clashing:
            break
        for text in clashing:
            found[text] = slug(text, digits=digits)
    return found


def board_folder(board_id: str) -> str:
    """The board's folder under ``boards/`` (the id itself when it is file-name safe)."""
    return board_id if re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,63}", board_id) else slug(board_id)


def tag_href(data: BoardData, tag: str) -> str:
    """The page of one of the board's tags, relative to the board's folder."""
    return f"tags/{unique_slugs(data.tags)[tag]}.html"


def _num(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) else value


def media_entry(item: MediaItem, media: SiteMedia) -> dict[str, Any]:
    """A medium as templates see it. A text's ``source`` (its stored file, never published) is
    read when a page showing it is rendered (the ``excerpt`` filter)."""
    entry = {"kind": item.kind, "href": item.href, "preview": media.preview(item), "mime": item.mime}
    if item.kind == "text":
        entry["source"] = str(item.source)
    return entry


def _best_images(data: BoardData, media: SiteMedia) -> dict[str, dict[str, Any]]:
    """Per model, the image from the prompt where it did best (its first image if no votes)."""
    index = {name: k for k, name in enumerate(data.raw.models)}
    rates, votes = data.by_prompt.win_rate, data.by_prompt.votes
    best: dict[str, tuple[float, dict[str, Any]]] = {}
    for row in data.media:
        if row["kind"] != "image":
            continue
        k, p = index[row["model"]], row["prompt_position"]
        quality = float(rates[k, p]) + votes[k, p] * 1e-9 if votes[k, p] else -1.0
        if row["model"] not in best or quality > best[row["model"]][0]:
            best[row["model"]] = (quality, media_entry(row["item"], media))
    return {name: entry for name, (_, entry) in best.items()}


def _kinds(data: BoardData) -> dict[str, str]:
    kinds: dict[str, str] = {}
    for row in data.media:
        kinds.setdefault(row["model"], row["kind"])
    return kinds


def tie_bands(ranks: Iterable[int], groups: Iterable[int],
              rated: Iterable[bool]) -> dict[int, tuple[int, int]]:
    """The places each tied group of rated models shares: group -> (first rank, last rank),
    for groups of two models or more (``tied 1–3``: no model of the three can be told apart
    from the others)."""
    places: dict[int, list[int]] = {}
    for rank, group, ok in zip(ranks, groups, rated):
        if ok:
            places.setdefault(int(group), []).append(int(rank))
    return {g: (min(r), max(r)) for g, r in places.items() if len(r) > 1}


def _bands(standings: Any) -> dict[int, tuple[int, int]]:
    """Tie bands among the established models (preliminary ones are listed apart)."""
    rated = [_num(v) is not None and not p for v, p in zip(standings["score"], _preliminary(standings))]
    return tie_bands(standings["rank"], standings["tied_group"], rated)


def standing(row: dict[str, Any], bands: dict[int, tuple[int, int]]) -> dict[str, Any]:
    """A standings row's figures as the tables show them (``bands``: see :func:`tie_bands`)."""
    rated = _num(row["score"]) is not None
    preliminary = bool(row.get("preliminary", False))
    return {
        "rank": int(row["rank"]), "rank_low": int(row["rank_low"]),
        "rank_high": int(row["rank_high"]), "score": _num(row["score"]),
        "ci_low": _num(row["ci_low"]), "ci_high": _num(row["ci_high"]), "rated": rated,
        "preliminary": preliminary, "votes": int(row["total_matches"]), "wins": int(row["wins"]),
        "losses": int(row["losses"]), "ties": int(row["ties"]),
        "win_rate": _num(row["win_rate"]) if row["total_matches"] else None,
        "tied_group": int(row["tied_group"]), "band": int(row["tied_group"]) % 2,
        "tied": bands.get(int(row["tied_group"])) if rated and not preliminary else None,
    }


def criterion_entries(data: BoardData) -> dict[str, dict[str, Any]]:
    """Each model's figures on the board by name, with ``href`` (its page, relative to the
    board's folder): what a benchmark's pages show of one criterion."""
    bands = _bands(data.standings)
    slugs = unique_slugs(str(n) for n in data.standings["name"])
    return {row["name"]: {**standing(row, bands), "href": f"models/{slugs[row['name']]}.html"}
            for row in data.standings.to_dict("records")}


def _preliminary(standings: Any) -> list[bool]:
    if "preliminary" not in standings:
        return [False] * len(standings)
    return [bool(p) for p in standings["preliminary"]]


def model_entries(data: BoardData, media: SiteMedia,
                  previous_ranks: dict[str, int] | None) -> list[dict[str, Any]]:
    """One dict per model in standings order, for tables, podium and links."""
    status = data.model_status
    thumbs = _best_images(data, media)
    kinds = _kinds(data)
    bands = _bands(data.standings)
    slugs = unique_slugs(str(n) for n in data.standings["name"])
    entries = []
    for row in data.standings.to_dict("records"):
        name = row["name"]
        rated = _num(row["score"]) is not None
        before = (previous_ranks or {}).get(name)
        entries.append({
            "name": name,
            "href": f"models/{slugs[name]}.html",
            **standing(row, bands),
            "status": status.get(name, ""),
            "thumb": thumbs.get(name),
            "kind": kinds.get(name, "image"),
            "delta": (before - int(row["rank"])) if before is not None and rated else None,
            "card": _card(data, name),
        })
    return entries


def _card(data: BoardData, name: str) -> dict[str, str]:
    card = data.cards.get(name)
    return card.as_dict() if card is not None else {}


def card_filters(entries: list[dict[str, Any]]) -> dict[str, Any]:
    """Whether any model has a card, and the organisations and licences to filter the
    standings by (sorted, each once)."""
    values = {f: sorted({e["card"].get(f, "") for e in entries} - {""}, key=str.casefold)
              for f in ("organization", "license")}
    shown = any(v for e in entries for v in e["card"].values())
    return {"shown": shown, "organizations": values["organization"],
            "licenses": values["license"]}


def tag_table(data: BoardData, entries: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Rank of every model within each tag: rows in overall order, one column per tag."""
    if not data.tag_standings:
        return None
    tags = [{"name": t, "href": tag_href(data, t),
             "votes": int(df.attrs.get("votes", 0))} for t, df in data.tag_standings.items()]
    return _rank_table(data.tag_standings, tags, entries)


def view_table(data: BoardData, entries: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Rank of every model in the standings counted other ways (unweighted beside weighted, per
    audience): rows in the board's order, one column per way."""
    if not data.views:
        return None
    return _rank_table(data.views, [{"name": v, "href": None} for v in data.views], entries)


def _rank_table(tables: dict[str, Any], columns: list[dict[str, Any]], entries: list[dict[str, Any]]) -> dict[str, Any]:
    ranks: dict[str, dict[str, Any]] = {}
    for tag, df in tables.items():
        for row in df.to_dict("records"):
            rated = _num(row["score"]) is not None
            ranks.setdefault(row["name"], {})[tag] = {
                "rank": int(row["rank"]) if rated else None,
                "range": (int(row["rank_low"]), int(row["rank_high"])),
                "score": _num(row["score"]),
            }
    rows = [{"entry": e, "cells": [ranks.get(e["name"], {}).get(t["name"]) for t in columns]}
            for e in entries]
    return {"tags": columns, "rows": rows}


def prompt_contexts(data: BoardData, media: SiteMedia,
                    entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One context per prompt: its text (when shown), tags, asset, and each model's media and
    record on it, models in overall standings order."""
    board = data.board
    index = {name: k for k, name in enumerate(data.raw.models)}
    tally = data.by_prompt
    per: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for row in data.media:
        per.setdefault((row["model"], row["prompt_position"]), []).append(
            media_entry(row["item"], media))
    prompts = []
    total = len(board.prompts)
    for p, text in enumerate(board.prompts):
        models = []
        for entry in entries:
            k = index[entry["name"]]
            items = per.get((entry["name"], p), [])
            if not items and not tally.votes[k, p]:
                continue
            models.append({"entry": entry, "media": items, "wins": int(tally.wins[k, p]),
                           "losses": int(tally.losses[k, p]), "ties": int(tally.ties[k, p]),
                           "votes": int(tally.votes[k, p]),
                           "win_rate": _num(tally.win_rate[k, p])})
        asset_row = data.prompt_rows[p]["asset"] if p < len(data.prompt_rows) else None
        prompts.append({
            "number": p + 1,
            "href": f"prompts/{p + 1}.html",
            "text": text if board.publish_prompts else None,
            "tags": [{"name": t, "href": tag_href(data, t)} for t in board.tags[p]],
            "asset": media_entry(asset_row, media) if asset_row is not None and
            board.show_prompt_asset else None,
            "votes": int(tally.votes[:, p].sum() // 2),
            "models": models,
            "thumb": next((m["media"][0] for m in models
                           if m["media"] and m["media"][0]["kind"] == "image"), None),
            "prev": f"{p}.html" if p > 0 else None,
            "next": f"{p + 2}.html" if p + 1 < total else None,
            "total": total,
        })
    return prompts


def model_contexts(data: BoardData, entries: list[dict[str, Any]],
                   prompts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One context per model: its record on each prompt and against each opponent."""
    index = {name: k for k, name in enumerate(data.raw.models)}
    pair = data.by_pair
    predicted = data.predicted
    records = {(m["entry"]["name"], prompt["number"]): (prompt, m)
               for prompt in prompts for m in prompt["models"]}
    out = []
    for entry in entries:
        k = index[entry["name"]]
        per_prompt = [{"prompt": found[0], **found[1]} for prompt in prompts
                      if (found := records.get((entry["name"], prompt["number"])))]
        opponents = []
        for other in entries:
            j = index[other["name"]]
            if j == k:
                continue
            votes = int(pair.votes[k, j])
            p_win = predicted.iat[k, j] if predicted.shape == (len(index), len(index)) else np.nan
            opponents.append({"entry": other, "votes": votes, "wins": int(pair.wins[k, j]),
                              "losses": int(pair.losses[k, j]), "ties": int(pair.ties[k, j]),
                              "win_rate": _num(pair.win_rate[k, j]), "predicted": _num(p_win)})
        out.append({"entry": entry, "per_prompt": per_prompt, "opponents": opponents})
    return out


def board_context(data: BoardData, media: SiteMedia,
                  previous_ranks: dict[str, int] | None) -> dict[str, Any]:
    """Everything the board's pages share."""
    entries = model_entries(data, media, previous_ranks)
    rated = [e for e in entries if e["rated"] and not e["preliminary"]]  # established models
    leader = rated[0] if rated else None
    return {
        "id": data.board.id,
        "board": data.board,
        "benchmark": None,  # its benchmark page (name, href) when it has one
        "folder": f"boards/{board_folder(data.board.id)}",
        "summary": data.summary,
        "settled": bool(data.status.settled),
        "placing": sum(1 for e in entries if e["status"] == "placing"),
        "entries": entries,
        "podium": rated[:3],
        # votes exist but every voted model is preliminary: no podium, no leader
        "all_preliminary": not rated and any(e["rated"] for e in entries),
        "top_tie": leader["tied"] if leader else None,
        "leader": leader,
        "co_leaders": [e for e in rated[1:] if leader and e["tied_group"] == leader["tied_group"]],
        "interval": data.standings.attrs.get("interval_method", ""),
        "confidence": data.standings.attrs.get("confidence", 0.95),
        "used_votes": int(data.standings.attrs.get("votes", len(data.used))),
        "excluded_votes": int(data.standings.attrs.get("excluded_votes", 0)),
        "vote_hash": data.vote_hash,
        "tag_table": tag_table(data, entries),
        "view_table": view_table(data, entries),
        "cards": card_filters(entries),
    }


def podium_showcase(podium: list[dict[str, Any]],
                    prompts: list[dict[str, Any]]) -> dict[str, Any] | None:
    """One prompt on which to compare the podium's models side by side, and each one's output
    on it: a prompt all of them have media for (else the one most of them have), the most
    voted on first. ``None`` when no podium model has media."""
    names = [e["name"] for e in podium]
    best: tuple[int, int, int] | None = None
    found: dict[str, Any] | None = None
    for prompt in prompts:
        media = {m["entry"]["name"]: m["media"][0] for m in prompt["models"]
                 if m["media"] and m["entry"]["name"] in names}
        key = (len(media), prompt["votes"], -prompt["number"])
        if media and (best is None or key > best):
            best, found = key, {"prompt": prompt, "media": media}
    return found


def tag_entries(standings: Any, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Entries for a per-tag standings table: the model's links and thumbnail, the tag's
    numbers."""
    by_name = {e["name"]: e for e in entries}
    bands = _bands(standings)
    out = []
    for row in standings.to_dict("records"):
        out.append({**by_name[row["name"]], **standing(row, bands), "delta": None})
    return out

"""A gold pair on the Rate page looks like any pair (AppTest): same prompt display, same
layout, both sides alike, nothing naming it gold; the app's vote on it is stored, judged
(the qualification is passed) and never counted."""

from __future__ import annotations

import re

from rater.app import pair_api

from app_support import PROMPTS, SECRET, blind_board, open_app, page_text, pair_view, session
from test_app_blind import check_blind, masked


def normalised(at) -> str:
    """The page with the pair component's view normalised: the session's token, the answer
    count, the matchup id, media names, prompt texts and the progress strip masked; what the
    component draws (the kinds of media, labels, prompt line or not, given or not) stays."""
    view = pair_view(at)
    pair = view["pair"]
    shown = {"prompt": "PROMPT" if pair["prompt"] in PROMPTS else pair["prompt"],
             "given": pair["given"] and masked(pair["given"]),
             "left": masked(pair["left"]), "right": masked(pair["right"]),
             "labels": view["labels"], "error": view["error"], "rerun": view["rerun"],
             "progress": re.sub(r"Your votes this session: \d+", "PROGRESS", view["progress"])}
    others = [el for el in at.main if getattr(el, "type", None) != "bidi_component"]
    return "\n".join([*(str(el.proto) for el in others if hasattr(el, "proto")),
                      *(str(el.proto) for el in at.sidebar if hasattr(el, "proto")),
                      str(sorted(shown.items()))])


def test_a_gold_pair_looks_like_any_pair(client, png, monkeypatch):
    lb = blind_board(client, png, None, "ordinary")
    lb.add_gold_pair(png(9001, f"{SECRET}-GOLD-better.png"), png(9002, f"{SECRET}-GOLD-worse.png"),
                     lb.identifiers[1])
    lb.set_quality_rules(qualification_pairs=1, qualification_required=1, gold_share=0.0)
    counted = lb.status().votes
    at = open_app(monkeypatch, client.db_path, lb.id, rater="zoe")
    check_blind(at, lb.id)  # names no model, no file; the A and B sides alike
    assert "gold" not in page_text(at).lower()  # the view included
    gold = session(at, lb.id).current
    assert gold is not None and gold.is_gold and gold.prompt == lb.prompts[1]
    view = pair_view(at)
    assert view["pair"]["id"] == gold.id and view["pair"]["prompt"] == gold.prompt
    gold_page = normalised(at)
    better = lb.gold_pairs()[0].better_sha256
    status, reply = pair_api.answer(view["session"], gold.id,
                                    "left" if gold.left.sha256 == better else "right")
    assert status == 200 and reply["error"] is None and "gold" not in str(reply).lower()
    at.run()
    check_blind(at, lb.id)
    ordinary = session(at, lb.id).current
    assert ordinary is not None and not ordinary.is_gold and pair_view(at)["pair"] == reply["pair"]
    assert normalised(at) == gold_page  # the same page, element for element
    assert lb.gold_pairs()[0].votes == 1 and lb.status().votes == counted
    assert {s.name: s for s in lb.raters()}["zoe"].qualified is True


def test_the_raters_page_shows_gold_figures_and_why_a_rater_is_excluded(client, png, monkeypatch):
    lb = blind_board(client, png, None, "ordinary")
    lb.add_gold_pairs([(png(9100 + i), png(9200 + i), lb.identifiers[i % 3]) for i in range(3)])
    lb.set_quality_rules(gold_share=0.5, min_gold_accuracy=0.7, min_quality_votes=2)
    better = {g.better_sha256 for g in lb.gold_pairs()}
    for _ in range(40):  # "carl" always picks the worse side of a gold pair
        pair = lb.next_matchup("carl", continue_when_settled=True)
        if pair is None or {s.name: s for s in lb.raters()}["carl"].excluded:
            break
        choice = "right" if pair.left.sha256 in better else "left"
        lb.record_vote(pair.id, choice, "carl")
    at = open_app(monkeypatch, client.db_path, lb.id)
    at.switch_page("views/raters.py").run()
    table = at.dataframe[0].value.set_index("Rater")
    assert table.loc["carl", "Excluded"] and table.loc["carl", "Gold votes"] == 2
    assert table.loc["carl", "Gold accuracy %"] == 0
    assert table.loc["carl", "Reason"] == "gold accuracy 0% (0 of 2) below 70%"
    assert not table.loc["alice", "Excluded"] and table.loc["alice", "Gold votes"] == 0

"""A gold pair on the Rate page looks like any pair (AppTest): same prompt display, same
layout, both sides alike, nothing naming it gold; the app's vote on it is stored, judged
(the qualification is passed) and never counted."""

from __future__ import annotations

import re

from app_support import SECRET, blind_board, button, open_app, page_text, session
from test_app_blind import MEDIA_URL, check_blind, sides

from app_support import PROMPTS


def normalised(at) -> str:
    """The page with media URLs, widget and matchup ids, prompt texts and the session's vote
    count masked."""
    text = re.sub(r"[0-9a-f]{32}", "ID", MEDIA_URL.sub("MEDIA", page_text(at)))
    for prompt in PROMPTS:
        text = text.replace(prompt, "PROMPT")
    return re.sub(r"Your votes this session[^\n\"]*", "PROGRESS", text)


def test_a_gold_pair_looks_like_any_pair(client, png, monkeypatch):
    lb = blind_board(client, png, None, "ordinary")
    lb.add_gold_pair(png(9001, f"{SECRET}-GOLD-better.png"), png(9002, f"{SECRET}-GOLD-worse.png"),
                     lb.identifiers[1])
    lb.set_quality_rules(qualification_pairs=1, qualification_required=1, gold_share=0.0)
    counted = lb.status().votes
    at = open_app(monkeypatch, client.db_path, lb.id, rater="zoe")
    check_blind(at)  # names no model, no file, no "gold"; the A and B columns alike
    assert "gold" not in page_text(at).lower()
    gold = session(at, lb.id).current
    assert gold is not None and gold.is_gold and gold.prompt == lb.prompts[1]
    assert len(sides(at)) == 2
    gold_page = normalised(at)
    better = lb.gold_pairs()[0].better_sha256
    button(at, "A is better" if gold.left.sha256 == better else "B is better").click()
    at.run()
    check_blind(at)
    ordinary = session(at, lb.id).current
    assert ordinary is not None and not ordinary.is_gold
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

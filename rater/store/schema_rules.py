"""Rules two schema steps share: the quality-control repeat rule (steps 4 and 7 make its
triggers) and the model card checks (steps 5 and 7 make their columns)."""

from __future__ import annotations

__all__ = ["CARD_COLUMNS", "REPEAT_RULE"]

REPEAT_RULE = (
    "WHEN NEW.repeat_of IS NOT NULL AND NOT EXISTS ("
    " SELECT 1 FROM matchups o WHERE o.id = NEW.repeat_of AND o.id <> NEW.id"
    " AND o.leaderboard_id = NEW.leaderboard_id AND o.rater = NEW.rater"
    " AND o.left_media = NEW.right_media AND o.right_media = NEW.left_media"
    " AND o.served_at < NEW.served_at) "
    "BEGIN SELECT RAISE(ABORT, 'a quality-control repeat must repeat an earlier matchup of the "
    "same rater on the same board and media pair, sides swapped'); END"
)
CARD_COLUMNS = [
    ("organization", "length(organization) <= 100"),
    ("url", "url = '' OR ((url LIKE 'http://%' OR url LIKE 'https://%') AND length(url) <= 500)"),
    ("license", "length(license) <= 100"),
    ("released", "released = '' OR (released GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'"
                 " AND date(released, '+0 days') = released)"),
    ("description", "length(description) <= 1000"),
]

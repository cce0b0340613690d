"""Text shown as typed by Streamlit's Markdown: :func:`escape_markdown` (used for every text a
user typed that the rating app draws: names, prompts, instructions, error messages)."""

from __future__ import annotations

import re

__all__ = ["escape_markdown"]

# Backslash-escaped (see _SPECIAL) for CommonMark/GFM and Streamlit's syntax extensions:
# emphasis, code, links and images, headings (ATX and setext), lists, quotes, tables,
# strikethrough, HTML and entities (``<`` ``>`` ``&``), maths (``$``) and directives
# (``:red[...]``). A colon followed by a space starts nothing (a directive, emoji or link
# needs a name or "//" right after it), so "Votes: 3" stays as it is.
_SPECIAL = re.compile(r"[\\`*_{}\[\]()#+\-.!|<>~$=&]|:(?!\s)")
# Streamlit also rewrites *text* after parsing, where a backslash no longer counts: emoji
# (``:smile:``), icons (``:material/home:``, ``:streamlit:``), bare links (``https://...``,
# ``www.x.y``, ``a@b.c``) and arrows (`` -> `` becomes an arrow). An invisible WORD JOINER
# (U+2060) placed inside each such pattern keeps it as typed.
_JOINER = "\u2060"
_TEXT_REWRITES = re.compile(
    r"(?<=:)(?=\S)"                                  # :smile: :material/x: https:// mailto:x
    r"|(?<=www)(?=\.)|(?<=@)(?=[-\w])"               # www.x.y  a@b.c
    r"|(?<=(?<!\S)[<>~-])(?=(?:->|-|>|=)(?!\S))",      # -> <- <-> -- >= <= ~= between spaces
    re.IGNORECASE,
)
_LINE_BREAK = re.compile(r"\s*(?:\r\n|\r|\n)\s*")
_PARAGRAPH_BREAK = re.compile(r"(?:\r\n|\r|\n)\s*(?:\r\n|\r|\n)\s*")


def _escape_line(text: str) -> str:
    return _SPECIAL.sub(r"\\\g<0>", _TEXT_REWRITES.sub(_JOINER, text.strip()))


def escape_markdown(text: str, *, lines: bool = False) -> str:
    """``text`` shown as typed by Streamlit's Markdown (``st.markdown``, ``st.write``, headers,
    captions, alerts, toasts, widget labels): no emphasis, links, headings, lists, maths,
    colours, emoji or icons.

    The result is one line: line breaks (and the spaces around them) become one space, so a
    value cannot start a Markdown block (an indented code block, a heading, a list). With
    ``lines=True`` line breaks are kept as line breaks and blank lines as paragraph breaks.
    """
    if not lines:
        return _escape_line(_LINE_BREAK.sub(" ", text))
    return "\n\n".join(
        "  \n".join(_escape_line(line) for line in para.splitlines() if line.strip())
        for para in _PARAGRAPH_BREAK.split(text.strip())
    )

"""site_builder: render leaderboards to a static website (``build-site``).

    from site_builder import build_site
    build_site("data/leaderboards.db", "site")       # then open site/index.html

Pages are plain HTML with inline SVG charts made at build time: they work from any static
host or straight from disk, with no request leaving the site folder.
"""

from .build import BuildResult, build_site, default_db_path
from .data import Settings
from .downloads import Pseudonyms, pseudonym_key, pseudonym_key_path
from .publish import SiteError
from .stats import vote_log_hash
from .watch import watch

__all__ = [
    "BuildResult",
    "Pseudonyms",
    "Settings",
    "SiteError",
    "build_site",
    "default_db_path",
    "pseudonym_key",
    "pseudonym_key_path",
    "vote_log_hash",
    "watch",
]

"""The board page's model-card columns in real Chromium, opened from disk: without
JavaScript the table shows every model and no filter; with it the filter by organisation or
licence hides the other rows and the Released column sorts by date."""

from __future__ import annotations

from pathlib import Path

import pytest

import site_builder
from site_builder import build_site
from site_support import make_named_database
from test_site_browser import ARGS, CHROMIUM

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium"),
]

CARDS = {"alpha": ("Acme", "MIT", "2024-03-01"), "beta": ("Zeta Lab", "MIT", "2022-07-15"),
         "gamma": ("Acme", "Apache-2.0", "2023-11-30")}


def test_filter_and_date_sort_work_from_disk_and_the_table_reads_without_them(tmp_path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    db, lb = make_named_database(tmp_path, [*CARDS, "delta"], votes=30)
    for name, (org, lic, day) in CARDS.items():
        lb.set_model_info(name, organization=org, license=lic, released=day)
    site = tmp_path / "site"
    build_site(db, site, progress=None, settings=site_builder.Settings(n_bootstrap=0))
    page_uri = (next((site / "boards").iterdir()) / "index.html").resolve().as_uri()
    rows = "#standings table.standings tbody tr"
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            plain = browser.new_context(java_script_enabled=False).new_page()
            plain.goto(page_uri)
            assert not plain.locator("#card-filter").is_visible()
            assert plain.locator(f"{rows}:visible").count() == 4

            context = browser.new_context()
            page = context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(page_uri)
            page.wait_for_load_state("load")
            assert page.locator("#card-filter").is_visible()
            page.select_option("#card-filter select[name=organization]", "Acme")
            visible = page.locator(f"{rows}:visible td:nth-child(2) a").all_inner_texts()
            assert sorted(v.strip() for v in visible) == ["alpha", "gamma"]
            assert page.locator("#card-filter output").inner_text() == "2 of 4 models"
            page.select_option("#card-filter select[name=license]", "MIT")
            visible = page.locator(f"{rows}:visible td:nth-child(2) a").all_inner_texts()
            assert [v.strip() for v in visible] == ["alpha"]
            page.select_option("#card-filter select[name=organization]", "")
            page.select_option("#card-filter select[name=license]", "")
            assert page.locator(f"{rows}:visible").count() == 4
            released = page.locator("#standings table.standings thead th", has_text="Released")
            released.locator("button").click()  # ascending: no date first, then oldest
            names = page.locator(f"{rows} td:nth-child(2) a").all_inner_texts()
            assert [n.strip() for n in names] == ["delta", "beta", "gamma", "alpha"]
            assert not errors, errors
        finally:
            browser.close()

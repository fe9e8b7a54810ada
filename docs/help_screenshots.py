"""Screenshots of the help centre's home and contact pages for docs/front-doors.md, from a running local stack.

    make serve PORT=8000 MOTO_PORT=5500          # terminal 1 (demo data)
    .venv/bin/python docs/help_screenshots.py --url http://127.0.0.1:8000

Writes docs/help-home-{375,1280}.png and docs/help-contact-{375,1280}.png with Debian's Chromium
(/usr/bin/chromium, as the browser tests use). Each page is shot whole: the viewport is stretched to the
page's height so the fixed call bar sits at its end. Look at the pictures before committing them.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from playwright.sync_api import sync_playwright

DOCS = Path(__file__).resolve().parent
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
SIZES = {375: {"viewport": {"width": 375, "height": 812}, "device_scale_factor": 2, "is_mobile": True,
               "has_touch": True, "locale": "zh-CN"},
         1280: {"viewport": {"width": 1280, "height": 900}, "locale": "zh-CN"}}
PAGES = {"help-home": "/help", "help-contact": "/help/contact"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    args = parser.parse_args()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        for width, options in SIZES.items():
            context = browser.new_context(base_url=args.url, **options)
            page = context.new_page()
            for name, path in PAGES.items():
                page.goto(path)
                page.wait_for_load_state("networkidle")
                height = page.evaluate("document.documentElement.scrollHeight")
                page.set_viewport_size({"width": width, "height": max(height, options["viewport"]["height"])})
                out = DOCS / f"{name}-{width}.png"
                page.screenshot(path=str(out))
                page.set_viewport_size(options["viewport"])
                print(out.relative_to(DOCS.parent))
            context.close()
        browser.close()


if __name__ == "__main__":
    main()

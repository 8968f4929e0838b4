"""What a reader sees in a rendered HTML output, checked in a real browser (Playwright + Chromium).

:func:`review` looks at a loaded page the way a reviewer at 1280 px (or at print width) would:
content wider than its box (a table past its card, a page that scrolls sideways), words broken
inside a column too narrow for them ("325 61", "trainin g", "organizati / on"), and Python's own
spellings of values (``True``, ``False``, ``None``, ``dtype``, ``Name: count``, literal backticks)
where a reader expects words. It returns the problems as readable lines (empty: none).
"""

from __future__ import annotations

import re
from typing import Any

#: Screen width the pages are reviewed at, and the printable width of an A4 page (210 mm less
#: 2 x 12.7 mm margins at 96 px per inch).
SCREEN_WIDTH = 1280
PRINT_WIDTH = 698
#: Python's spellings of values a reader should never see in an output.
PYTHON_REPRS = re.compile(r"\b(True|False|None|NaN|nan|dtype|Name: \w+)\b|`")
#: A percentage not written as the product writes them (``25.0 %``): ``25%``, ``25.00 %``, or a
#: share written as a bare fraction after a "score"/"rate" label.
OTHER_PERCENT = re.compile(r"\d%|\d\.\d{2,} %")

_FIND_PROBLEMS = """
() => {
  const problems = [];
  const doc = document.documentElement;
  if (doc.scrollWidth > window.innerWidth + 1) {
    problems.push(
      `the page scrolls sideways: ${doc.scrollWidth} px wide in a ${window.innerWidth} px window`);
  }
  const canvas = document.createElement("canvas");
  const ctx = canvas.getContext("2d");
  const label = (el) => {
    const text = (el.innerText || "").trim().replace(/\\s+/g, " ");
    const cls = el.className ? "." + String(el.className).split(" ")[0] : "";
    return `<${el.tagName.toLowerCase()}${cls}> "${text.slice(0, 60)}"`;
  };
  const visible = (el) => {
    const box = el.getBoundingClientRect();
    return box.width > 0 && box.height > 0 && getComputedStyle(el).visibility !== "hidden";
  };
  // a box whose content is wider than the box (and not meant to scroll)
  for (const el of document.querySelectorAll("section, table, td, th, div, p, li, pre")) {
    if (!visible(el)) continue;
    const style = getComputedStyle(el);
    if (["auto", "scroll"].includes(style.overflowX)) continue;
    if (el.scrollWidth > el.clientWidth + 2 && el.clientWidth > 0) {
      problems.push(`content wider than its box: ${label(el)} ` +
        `(${el.scrollWidth} px in ${el.clientWidth} px)`);
    }
  }
  // a table reaching past the box that holds it
  for (const table of document.querySelectorAll("table")) {
    if (!visible(table)) continue;
    const parent = table.parentElement;
    const inner = parent.getBoundingClientRect().right
      - parseFloat(getComputedStyle(parent).paddingRight);
    if (table.getBoundingClientRect().right > inner + 2) {
      problems.push(`table past its box: ${label(table)}`);
    }
  }
  // a word broken inside a cell: the cell is narrower than the word
  for (const cell of document.querySelectorAll("td, th")) {
    if (!visible(cell)) continue;
    const style = getComputedStyle(cell);
    ctx.font = `${style.fontStyle} ${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
    const room = cell.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    // a line may break after a hyphen or a slash: only the pieces between must fit
    const words = (cell.innerText || "").split(/\\s+|(?<=[-\\/])/)
      // hashes and ids (hex, 8 characters or more) may break anywhere
      .filter((w) => w.length > 1 && w.length <= 24 && !/^#?[0-9a-f]{8,}[,;]?$/.test(w));
    for (const word of words) {
      if (ctx.measureText(word).width > room + 1) {
        problems.push(`column too narrow for "${word}": ${label(cell)} (${Math.round(room)} px)`);
        break;
      }
    }
  }
  // printed text (a <pre>) that wraps inside words: Jupyter's default for long output lines
  for (const pre of document.querySelectorAll("pre")) {
    if (!visible(pre)) continue;
    const style = getComputedStyle(pre);
    if (style.wordBreak !== "break-all" || style.whiteSpace === "pre") continue;
    ctx.font = `${style.fontStyle} ${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
    const longest = (pre.innerText || "").split("\\n")
      .reduce((a, b) => (ctx.measureText(b).width > ctx.measureText(a).width ? b : a), "");
    if (ctx.measureText(longest).width > pre.clientWidth + 1) {
      problems.push(`printed text wraps inside words: ${label(pre)}`);
    }
  }
  return problems;
}
"""


_TALLEST = "() => Math.max(...Array.from(document.querySelectorAll('*'), (e) => e.scrollHeight))"
_TEXT_WITHOUT = """
(selector) => {
  const copy = document.body.cloneNode(true);
  if (selector) copy.querySelectorAll(selector).forEach((el) => el.remove());
  document.body.appendChild(copy);  // innerText needs a rendered node
  copy.style.position = "absolute"; copy.style.left = "-99999px";
  const text = copy.innerText;
  copy.remove();
  return text;
}
"""


def review(page: Any, *, record_texts: str | None = None) -> list[str]:
    """The problems a reader would see on ``page`` as it is laid out now.

    ``record_texts``: a CSS selector of the texts the page quotes from evidence records and the
    engine (reasons); their percentages are left out of the percentage check (they are written
    where the record is made), everything else is checked."""
    problems: list[str] = list(dict.fromkeys(page.evaluate(_FIND_PROBLEMS)))
    text = page.evaluate("() => document.body.innerText")
    for line in text.splitlines():
        for match in PYTHON_REPRS.finditer(line):
            problems.append(f"Python spelling {match.group(0)!r} in: {line.strip()[:120]}")
    own = page.evaluate(_TEXT_WITHOUT, record_texts) if record_texts else text
    for line in own.splitlines():
        for match in OTHER_PERCENT.finditer(line):
            problems.append(f"percentage {match.group(0)!r} not like '25.0 %' in: {line[:120]}")
    return problems


def review_at_widths(
    page: Any, *, shots: dict[str, Any] | None = None, record_texts: str | None = None
) -> list[str]:
    """:func:`review` at 1280 px on screen and at A4 print width (print media); ``shots`` maps
    ``"screen"`` / ``"print"`` to PNG paths to save full-page screenshots to."""
    found: list[str] = []
    for where, width in (("screen", SCREEN_WIDTH), ("print", PRINT_WIDTH)):
        media = where
        page.set_viewport_size({"width": width, "height": 900})
        page.emulate_media(media=media)
        page.wait_for_timeout(200)
        found += [f"{where} {width} px: {p}" for p in review(page, record_texts=record_texts)]
        if shots and shots.get(where):
            # pages that scroll inside a container (Voilà's) show whole only in a window as tall
            tallest = page.evaluate(_TALLEST)
            page.set_viewport_size({"width": width, "height": min(int(tallest) + 40, 30_000)})
            page.wait_for_timeout(200)
            page.screenshot(path=str(shots[where]), full_page=True)
    page.emulate_media(media="screen")
    return found

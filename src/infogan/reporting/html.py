"""Self-contained HTML pages (the run report, the comparison of runs): the style sheet, the content policy that
keeps a page self-contained, and the small pieces every page is made of: table cells, tables, inlined images."""

from __future__ import annotations

import base64
import html
import io
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
STYLE = """
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1d2330;
       max-width: 1120px; margin: 0 auto; padding: 24px 32px 64px; background: #fff; }
h1 { font-size: 1.7em; margin-bottom: 0.2em; } h2 { border-bottom: 2px solid #dde3ee; padding-bottom: 4px;
     margin-top: 2em; } h3 { margin: 1.2em 0 0.4em; }
nav { margin: 0.6em 0 1em; } nav a { margin-right: 1em; color: #2856b6; text-decoration: none; }
table { border-collapse: collapse; margin: 0.5em 0 1em; font-size: 0.93em; }
th, td { border: 1px solid #d5dbe5; padding: 3px 10px; text-align: left; vertical-align: top; }
th { background: #eef2f8; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr:nth-child(even) td { background: #f8f9fc; }
pre { background: #f4f6fa; border: 1px solid #d5dbe5; padding: 10px 14px; font-size: 0.85em; overflow-x: auto; }
figure { display: inline-block; margin: 0 24px 18px 0; vertical-align: top; }
figure img { max-width: 100%; height: auto; border: 1px solid #e3e7ee; }
img.pixels { image-rendering: pixelated; }
figcaption { font-size: 0.88em; color: #4a5468; margin-top: 4px; }
p.note { background: #fff7e0; border-left: 4px solid #f0b429; padding: 8px 12px; }
p.hint { color: #4a5468; font-size: 0.9em; }
"""


def fmt(value: Any) -> str:
    """A value for a table cell: 4 significant digits for floats, thousands separators for integers."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:.4g}" if math.isfinite(value) else str(value)
    if value is None:
        return "n/a"
    if isinstance(value, list):
        if len(value) <= 12 and all(not isinstance(v, list | dict) for v in value):
            return ", ".join(fmt(v) for v in value)
        return f"[{len(value)} values]"
    return str(value)


def cell(value: Any, tag: str = "td") -> str:
    numeric = isinstance(value, int | float) and not isinstance(value, bool)
    return f"<{tag}{' class=num' if numeric else ''}>{html.escape(fmt(value))}</{tag}>"


def table(headers: Sequence[str] | None, rows: Iterable[Sequence[Any]]) -> str:
    head = "<tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in headers) + "</tr>\n" if headers else ""
    body = "".join("<tr>" + "".join(cell(v) for v in row) + "</tr>\n" for row in rows)
    return f"<table>\n{head}{body}</table>\n"


def flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, Mapping):
            flat.update(flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def png_img(data: bytes, alt: str, *, pixels: bool = False, max_width: int | None = None) -> str:
    """An <img> with the PNG inlined; small image grids are scaled up by a whole factor to stay crisp."""
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        image.load()  # a truncated file fails here (OSError), not as a broken picture in the page
        width = image.width
    shown = width * max(1, 360 // width) if pixels else min(width, max_width or width)
    uri = "data:image/png;base64," + base64.b64encode(data).decode("ascii")
    css = ' class="pixels"' if pixels else ""
    return f'<img{css} src="{uri}" width="{shown}" alt="{html.escape(alt)}">'


def figure(img: str, caption: str) -> str:
    return f"<figure>{img}<figcaption>{html.escape(caption)}</figcaption></figure>\n"


def page(title: str, body: str) -> str:
    """A whole HTML document around `body`, with the style sheet and the content policy."""
    return (
        "<!doctype html>\n<html lang=en>\n<head>\n<meta charset=utf-8>\n"
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n{body}</body>\n</html>\n"
    )

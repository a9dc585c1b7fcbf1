"""A self-contained HTML report: inline CSS, tables, figures embedded as base64 PNGs.

The page has no external resources, so it can be mailed, archived or opened offline. Every
piece of text that goes in is HTML-escaped; only the page skeleton written here is markup.
"""

from __future__ import annotations

import base64
import html
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure

from aekit.atomic import atomic_write_text
from aekit.viz.figures import figure_to_base64

__all__ = ["ReportImage", "Section", "render_report", "write_report"]

_CSS = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: #222;
       max-width: 1100px; margin: 2em auto; padding: 0 1.2em; line-height: 1.45; }
h1 { font-size: 1.6em; border-bottom: 2px solid #ddd; padding-bottom: .3em; }
h2 { font-size: 1.25em; margin-top: 2em; border-bottom: 1px solid #eee; padding-bottom: .2em; }
table { border-collapse: collapse; margin: 1em 0; font-size: .92em; }
th, td { border: 1px solid #ccc; padding: .35em .7em; text-align: right; }
th { background: #f3f3f3; }
td:first-child, th:first-child { text-align: left; }
tr:nth-child(even) td { background: #fafafa; }
figure { margin: 1.2em 0; }
figure img { max-width: 100%; border: 1px solid #e4e4e4; }
figcaption { font-size: .9em; color: #555; margin-top: .4em; }
p.meta { color: #666; font-size: .9em; }
"""


@dataclass
class ReportImage:
    """One embedded figure: a matplotlib Figure, PNG bytes, or the path of a PNG file."""

    image: Figure | bytes | str | Path
    caption: str = ""
    alt: str = ""


@dataclass
class Section:
    """A titled part of the report: paragraphs, then links, then a table, then figures.

    ``table`` is a list of rows, each a dict from column name to value; the columns are the
    union of the rows' keys in first-seen order, and a row without a key shows an empty cell.
    ``links`` are ``(label, href)`` pairs, e.g. pages written beside the report.
    """

    title: str
    text: str | Sequence[str] = ()
    table: Sequence[Mapping[str, Any]] | None = None
    images: Sequence[ReportImage | Figure | tuple] = field(default_factory=list)
    links: Sequence[tuple[str, str]] = ()


def _esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _format_cell(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return "" if value is None else str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        return f"{value:.4g}" if abs(value) < 1e4 else f"{value:.0f}"
    return str(value)


def _table_html(rows: Sequence[Mapping[str, Any]]) -> str:
    columns: list[str] = []
    for row in rows:
        for key in row:
            if key not in columns:
                columns.append(key)
    head = "".join(f"<th>{_esc(c)}</th>" for c in columns)
    body = "\n".join(
        "<tr>" + "".join(f"<td>{_esc(_format_cell(row.get(c)))}</td>" for c in columns) + "</tr>"
        for row in rows
    )
    return f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody>\n</table>"


def _image_base64(image: Figure | bytes | str | Path) -> str:
    if isinstance(image, Figure):
        return figure_to_base64(image)
    if isinstance(image, bytes):
        data = image
    else:
        path = Path(image)
        if not path.is_file():
            raise FileNotFoundError(f"report image {path} does not exist; save the figure first")
        data = path.read_bytes()
    if not data.startswith(b"\x89PNG"):
        raise ValueError("report images must be PNG (a Figure, PNG bytes or a .png file)")
    return base64.b64encode(data).decode("ascii")


def _as_image(item: ReportImage | Figure | tuple) -> ReportImage:
    if isinstance(item, ReportImage):
        return item
    if isinstance(item, tuple):
        return ReportImage(*item)
    return ReportImage(item)


def _as_section(section: Section | Mapping[str, Any]) -> Section:
    if isinstance(section, Section):
        return section
    if isinstance(section, Mapping):
        unknown = set(section) - {"title", "text", "table", "images", "links"}
        if unknown:
            raise ValueError(
                f"unknown report section keys {sorted(unknown)}; use title, text, table, "
                "images, links"
            )
        return Section(**section)
    raise TypeError(f"a report section is a Section or a dict, got {type(section).__name__}")


def render_report(
    title: str, sections: Sequence[Section | Mapping[str, Any]], subtitle: str = ""
) -> str:
    """The report as one HTML string (see :func:`write_report`)."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_esc(title)}</title>",
        f"<style>{_CSS}</style>",
        "</head>",
        "<body>",
        f"<h1>{_esc(title)}</h1>",
    ]
    if subtitle:
        parts.append(f'<p class="meta">{_esc(subtitle)}</p>')
    for raw in sections:
        section = _as_section(raw)
        parts.append(f"<section>\n<h2>{_esc(section.title)}</h2>")
        paragraphs = [section.text] if isinstance(section.text, str) else list(section.text)
        parts.extend(f"<p>{_esc(p)}</p>" for p in paragraphs if p)
        if section.links:
            items = "".join(f'<li><a href="{_esc(h)}">{_esc(t)}</a></li>' for t, h in section.links)
            parts.append(f"<ul>{items}</ul>")
        if section.table:
            parts.append(_table_html(section.table))
        for item in section.images:
            image = _as_image(item)
            alt = image.alt or image.caption or section.title
            parts.append(
                "<figure>"
                f'<img alt="{_esc(alt)}" src="data:image/png;base64,{_image_base64(image.image)}">'
                + (f"<figcaption>{_esc(image.caption)}</figcaption>" if image.caption else "")
                + "</figure>"
            )
        parts.append("</section>")
    parts += ["</body>", "</html>", ""]
    return "\n".join(parts)


def write_report(
    path: str | Path,
    title: str,
    sections: Sequence[Section | Mapping[str, Any]],
    subtitle: str = "",
) -> Path:
    """Write a self-contained HTML report.

    Parameters
    ----------
    path : path
        The ``.html`` file to write (atomically; parent folders are created).
    title : str
        Page title and top heading.
    sections : sequence of Section or dict
        Each with ``title``, optional ``text`` (a paragraph or a list of them), ``table``
        (a list of dicts) and ``images`` (Figures, PNG bytes or PNG paths, optionally as
        :class:`ReportImage` or ``(image, caption)`` tuples).
    subtitle : str
        A line under the title (e.g. the date and settings).

    Returns
    -------
    Path
    """
    path = Path(path)
    atomic_write_text(path, render_report(title, sections, subtitle))
    return path

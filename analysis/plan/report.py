"""Write analysis results: one CSV per table, one JSON with all tables, and a
self-contained HTML report (tables and inline SVG figures; no external resources)."""

from __future__ import annotations

import html
import json
import math
import re
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_") or "table"


def _clean(value):
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    if hasattr(value, "item"):  # numpy scalars
        return _clean(value.item())
    return value


def write_outputs(
    results: dict[str, pd.DataFrame],
    out_dir,
    title: str,
    figures: dict[str, str] | None = None,
    notes: list[str] | None = None,
) -> dict[str, Path]:
    """Write ``<slug>.csv`` per result, ``results.json`` and ``report.html`` to out_dir.

    ``figures`` maps a caption to an SVG string; ``notes`` are sentences shown above the
    tables (what could not run and why, sidedness, degrees of freedom). Returns the paths
    written.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = {}
    payload = {
        "title": title,
        "generated": datetime.now(UTC).isoformat(timespec="seconds"),
        "notes": list(notes or []),
        "results": {},
    }
    parts = []
    if notes:
        parts.append(
            '<ul class="notes">' + "".join(f"<li>{html.escape(n)}</li>" for n in notes) + "</ul>"
        )
    for name, table in results.items():
        path = out / f"{_slug(name)}.csv"
        table.to_csv(path, index=False)
        written[name] = path
        payload["results"][name] = [
            {k: _clean(v) for k, v in rec.items()} for rec in table.to_dict("records")
        ]
        parts.append(
            f"<h2>{html.escape(name)}</h2>\n"
            + table.to_html(
                index=False,
                float_format=lambda x: f"{x:.4g}",
                na_rep="",
                border=0,
                classes="estimates",
            )
        )
    for caption, svg in (figures or {}).items():
        svg_body = svg[svg.find("<svg") :] if "<svg" in svg else ""
        parts.append(f"<figure>{svg_body}<figcaption>{html.escape(caption)}</figcaption></figure>")
    json_path = out / "results.json"
    json_path.write_text(json.dumps(payload, indent=2, default=str), encoding="utf-8")
    written["json"] = json_path
    page = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>"
        "body{font-family:sans-serif;margin:2em;max-width:80em}"
        "table.estimates{border-collapse:collapse;font-size:0.9em;margin-bottom:1.5em}"
        "table.estimates th,table.estimates td{border:1px solid #ccc;padding:0.2em 0.5em}"
        "figure{display:inline-block;margin:1em}svg{max-width:100%;height:auto}"
        "</style></head><body>\n"
        f"<h1>{html.escape(title)}</h1>\n<p>Generated {payload['generated']}</p>\n"
        + "\n".join(parts)
        + "\n</body></html>\n"
    )
    html_path = out / "report.html"
    html_path.write_text(page, encoding="utf-8")
    written["html"] = html_path
    return written

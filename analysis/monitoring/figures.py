"""Monitoring figures drawn on the server with matplotlib: SVG for the page (text kept as
text, so it scales on a tablet and the numbers can be searched), PDF for the paper.

Only the object-oriented API (``Figure``), never pyplot: no global state, safe in a
threaded server. Every figure is a function of the plain data from
:mod:`analysis.monitoring`, so a test can check the drawn numbers against the data, and
the SVGs are cached keyed on that data: a dashboard whose numbers have not changed
since the last view is not drawn again.

Left whole although it is over 400 lines: the figures share one style, one cache and one
way to write SVG and PDF, and each figure is a short function beside them.
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
from collections.abc import Callable
from pathlib import Path

import matplotlib
from django.core.cache import cache
from django.utils import dateformat
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure
from matplotlib.patches import FancyBboxPatch
from matplotlib.ticker import MaxNLocator

from .consort import ConsortFlow
from .pure import Recruitment

matplotlib.use("Agg")
# Embedding the font in a PDF logs every subset step at INFO: not worth a log line.
logging.getLogger("fontTools").setLevel(logging.WARNING)

CONTROL = "#c9ccd1"
INTERVENTION = "#5aa77f"
COLOURS = ["#1f6fb2", "#e08a1e", "#6a3d9a", "#2a9d8f", "#b23a48", "#7a7a7a"]
RC = {"svg.fonttype": "none", "font.size": 9, "svg.hashsalt": "monitoring"}
CACHE_SECONDS = 24 * 3600
# A new drawing code or matplotlib draws differently: part of every cache key.
_DRAWING = hashlib.sha256(Path(__file__).read_bytes() + matplotlib.__version__.encode()).hexdigest()


def _cached(kind: str, data: object, draw: Callable[[], str]) -> str:
    """The SVG ``draw()`` makes of ``data``, drawn once per distinct ``data``. The key is
    the repr of the data (dataclasses, dicts, lists, dates and numbers), so a changed
    number is a new key, never a stale figure. The figure's words are in the user's
    language, so the language is part of the key too."""
    key = (
        "monitoring-svg:"
        + hashlib.sha256(repr((_DRAWING, get_language(), kind, data)).encode()).hexdigest()
    )
    svg = cache.get(key)
    if svg is None:
        svg = draw()
        cache.set(key, svg, CACHE_SECONDS)
    return svg


def _svg(fig: Figure) -> str:
    buf = io.StringIO()
    with matplotlib.rc_context(RC):
        # What bbox_inches="tight" does, less the extra draw it makes before measuring:
        # the same box (the same SVG, byte for byte), a draw pass fewer.
        FigureCanvasSVG(fig)
        bbox = fig.get_tightbbox().padded(matplotlib.rcParams["savefig.pad_inches"])
        fig.savefig(buf, format="svg", bbox_inches=bbox)
    svg = buf.getvalue()
    # Inline in the page: drop the XML prolog and the fixed size, keep the viewBox, so
    # CSS scales the figure to the column on a laptop or a tablet.
    svg = svg[svg.index("<svg") :]
    svg = re.sub(r'<svg([^>]*?) width="[^"]*" height="[^"]*"', r"<svg\1", svg, count=1)
    return svg


def _pdf(fig: Figure) -> bytes:
    buf = io.BytesIO()
    with matplotlib.rc_context({**RC, "pdf.fonttype": 42}):
        fig.savefig(buf, format="pdf", bbox_inches="tight", metadata={"CreationDate": None})
    return buf.getvalue()


def _month_label(m) -> str:
    return dateformat.format(m, "M y")  # the month's name in the user's language


def recruitment_figure(rec: Recruitment) -> Figure:
    with matplotlib.rc_context(RC):
        fig = Figure(figsize=(8, 5.6))
        ax, ax2 = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 2]})
        x = list(range(len(rec.months)))
        k = max(len(rec.clusters), 1)
        width = 0.8 / k
        bars = []
        for i, cl in enumerate(rec.clusters):
            # One collection per cluster, drawn as ax.bar would draw its bars: a
            # Rectangle artist per bar costs a transform chain each (most of the time).
            left = [xi - 0.4 + width * i for xi in x]
            cluster = PolyCollection(
                [
                    [(x0, 0), (x0, n), (x0 + width, n), (x0 + width, 0)]
                    for x0, n in zip(left, cl["months"], strict=True)
                ],
                facecolors=COLOURS[i % len(COLOURS)],
                edgecolors="none",
                label=cl["name"],
            )
            cluster.sticky_edges.y.append(0)  # as ax.bar: no margin below zero
            bars.append(ax.add_collection(cluster))
        lines = []
        if rec.target:
            lines.append(
                ax.axhline(
                    rec.target,
                    color="black",
                    lw=1,
                    ls="--",
                    label=_("target %(n)s") % {"n": rec.target},
                )
            )
        if rec.ceiling:
            lines.append(
                ax.axhline(
                    rec.ceiling,
                    color="#b23a48",
                    lw=1,
                    ls=":",
                    label=_("ceiling %(n)s") % {"n": rec.ceiling},
                )
            )
        ax.set_ylabel(_("enrolled per cluster"))
        ax.set_title(_("Recruitment per cluster and month"))
        # The lines first, as the legend listed them when the bars were ax.bar containers.
        ax.legend(handles=lines + bars, fontsize=8, ncol=3, loc="upper left", frameon=False)
        ax2.plot(x, rec.cumulative, marker="o", color="#1f6fb2", label=_("enrolled (cumulative)"))
        if rec.planned_cumulative:
            ax2.plot(x, rec.planned_cumulative, color="black", ls="--", label=_("planned"))
        if rec.sample_size:
            ax2.axhline(
                rec.sample_size,
                color="#b23a48",
                lw=1,
                label=_("sample size %(n)s") % {"n": rec.sample_size},
            )
        ax2.set_ylabel(_("cumulative"))
        ax2.legend(fontsize=8, loc="upper left", frameon=False)
        ax2.set_xticks(x, [_month_label(m) for m in rec.months], rotation=45, ha="right")
        for a in (ax, ax2):
            a.spines[["top", "right"]].set_visible(False)
            # People, counted from none: no 2.5 ticks, no axis of 2.84 to 3.16 for a flat 3.
            a.set_ylim(bottom=0)
            a.yaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
        fig.tight_layout()
    return fig


def recruitment_svg(rec: Recruitment) -> str:
    return _cached("recruitment", rec, lambda: _svg(recruitment_figure(rec)))


def sms_rate_figure(weeks: list[dict]) -> Figure:
    """The share of each week's SMS question answered, by week since baseline."""
    fig = Figure(figsize=(6.4, 2.4))
    ax = fig.add_subplot()
    x = [w["week"] for w in weeks]
    ax.plot(x, [100 * w["rate"] for w in weeks], color=COLOURS[0], marker=".", linewidth=1.2)
    ax.set_ylim(0, 100)
    ax.set_xlim(0.5, max(x) + 0.5)
    ax.set_xlabel(_("Week since baseline"))
    ax.set_ylabel(_("Answered (%)"))
    ax.grid(axis="y", color="#e5e5e5")
    ax.spines[["top", "right"]].set_visible(False)
    return fig


def sms_rate_svg(weeks: list[dict]) -> str:
    return _cached("sms", weeks, lambda: _svg(sms_rate_figure(weeks)))


def _box(x: float, y: float, w: float, h: float) -> list[tuple[float, float]]:
    # Anticlockwise from the lower left, as a Rectangle: dashes start where they did.
    return [(x, y), (x + w, y), (x + w, y + h), (x, y + h)]


def schedule_figure(rows: list[dict], months: list) -> Figure:
    """The dog-leg schedule as the protocol's Table 2: 0 = control, 1 = intervention,
    the crossover month split and outlined."""
    with matplotlib.rc_context(RC):
        fig = Figure(figsize=(max(4, 0.6 * len(months) + 2), 0.5 * len(rows) + 1.2))
        ax = fig.subplots()
        # Cells as three collections (control, intervention, crossover outline) rather
        # than a Rectangle each; the labels lie inside the axes, so the layout need not
        # measure them.
        control, intervention, outlines = [], [], []
        for r, row in enumerate(rows):
            y = len(rows) - 1 - r
            for c, cell in enumerate(row["cells"]):
                if cell["state"] == "crossover":
                    control.append(_box(c, y, 0.5, 1))
                    intervention.append(_box(c + 0.5, y, 0.5, 1))
                elif cell["state"] == "intervention":
                    intervention.append(_box(c, y, 1, 1))
                else:
                    control.append(_box(c, y, 1, 1))
                if cell["crossover"]:
                    outlines.append(_box(c + 0.04, y + 0.04, 0.92, 0.92))
                ax.text(c + 0.5, y + 0.5, cell["label"], ha="center", va="center", in_layout=False)
        for boxes, fc in ((control, CONTROL), (intervention, INTERVENTION)):
            ax.add_collection(
                PolyCollection(boxes, facecolors=fc, edgecolors="white", linewidths=1),
                autolim=False,
            )
        ax.add_collection(
            PolyCollection(
                outlines, facecolors="none", edgecolors="black", linewidths=1.5, linestyles="--"
            ),
            autolim=False,
        )
        ax.set_xlim(0, len(months))
        ax.set_ylim(0, len(rows))
        ax.set_xticks(
            [c + 0.5 for c in range(len(months))],
            [_month_label(m) for m in months],
            rotation=45,
            ha="right",
        )
        ax.set_yticks(
            [len(rows) - 0.5 - r for r in range(len(rows))], [row["name"] for row in rows]
        )
        ax.tick_params(length=0)
        for s in ax.spines.values():
            s.set_visible(False)
        ax.set_title(_("Schedule: 0 control, 1 intervention, dashed = crossover"), fontsize=9)
        fig.tight_layout()
    return fig


def schedule_svg(rows: list[dict], months: list) -> str:
    return _cached("schedule", (rows, months), lambda: _svg(schedule_figure(rows, months)))


# --- CONSORT -------------------------------------------------------------------------


def consort_boxes(flow: ConsortFlow, criteria: dict[str, str] | None = None) -> list[dict]:
    """The boxes of the diagram as data: id, column (0..arms-1 or "all"/"side"), row and
    text. The figure and the tests both read these."""
    criteria = criteria or {}
    reasons = "\n".join(
        f"  {criteria.get(k, k)[:38]}: {n}" for k, n in flow.excluded_by_reason.most_common()
    )
    boxes = [
        {
            "id": "assessed",
            "col": "all",
            "row": 0,
            "text": _("Assessed for eligibility (n=%(n)s)") % {"n": flow.assessed},
        },
        {
            "id": "excluded",
            "col": "side",
            "row": 1,
            "text": _("Excluded (n=%(n)s)")
            % {"n": flow.excluded + flow.declined + flow.awaiting_consent}
            + "\n"
            + _("Not meeting criteria (n=%(n)s)") % {"n": flow.excluded}
            + f"\n{reasons}\n"
            + _("Declined to participate (n=%(n)s)") % {"n": flow.declined}
            + "\n"
            + _("Eligible, awaiting consent (n=%(n)s)") % {"n": flow.awaiting_consent},
        },
        {
            "id": "enrolled",
            "col": "all",
            "row": 2,
            "text": _("Enrolled (n=%(n)s)") % {"n": flow.enrolled}
            + (
                "\n" + _("incl. %(n)s without a screening-log entry") % {"n": flow.unscreened}
                if flow.unscreened
                else ""
            ),
        },
    ]
    labels = {t["code"]: t["label"] for t in flow.timepoints}
    for a, arm in enumerate(flow.arms):
        boxes.append(
            {
                "id": f"allocated-{arm.condition}",
                "col": a,
                "row": 3,
                "text": _("Allocated to %(arm)s") % {"arm": arm.label} + f"\n(n={arm.allocated})",
            }
        )
        for t, code in enumerate(labels):
            boxes.append(
                {
                    "id": f"{code}-{arm.condition}",
                    "col": a,
                    "row": 4 + t,
                    "text": "\n".join(
                        [
                            labels[code],
                            _("Responded (n=%(n)s)") % {"n": arm.responded[code]},
                            _("No response (n=%(n)s)") % {"n": arm.no_response[code]},
                            _("Awaiting (n=%(n)s)") % {"n": arm.awaiting[code]},
                            (
                                _("Withdrawn before (n=%(n)s, died %(died)s)")
                                if arm.died_before[code]
                                else _("Withdrawn before (n=%(n)s)")
                            )
                            % {"n": arm.withdrawn_before[code], "died": arm.died_before[code]},
                        ]
                        # Only where an amendment added the timepoint after some dates.
                        + (
                            [
                                _("Not scheduled, added later (n=%(n)s)")
                                % {"n": arm.not_scheduled[code]}
                            ]
                            if arm.not_scheduled[code]
                            else []
                        )
                    ),
                }
            )
        boxes.append(
            {
                "id": f"analysed-{arm.condition}",
                "col": a,
                "row": 4 + len(labels),
                "text": "\n".join(
                    [
                        _("Analysed at %(timepoint)s (n=%(n)s)")
                        % {
                            "timepoint": labels.get(flow.analysis_timepoint, "-"),
                            "n": arm.analysed,
                        },
                        _("Lost to follow-up (n=%(n)s)") % {"n": arm.lost},
                        _("Follow-up not yet due (n=%(n)s)") % {"n": arm.pending},
                        _("Withdrawn (n=%(n)s)") % {"n": arm.withdrawn},
                    ]
                ),
            }
        )
    return boxes


def consort_figure(flow: ConsortFlow, criteria: dict[str, str] | None = None) -> Figure:
    boxes = consort_boxes(flow, criteria)
    arms = max(len(flow.arms), 1)
    rows = max(b["row"] for b in boxes) + 1
    height = {0: 0.45, 1: 0.3 + 0.17 * boxes[1]["text"].count("\n"), 2: 0.45, 3: 0.55}
    with matplotlib.rc_context(RC):
        fig = Figure(figsize=(3.3 * arms + 0.8, 1.25 * rows + 0.6 + height[1]))
        ax = fig.subplots()
        ax.set_axis_off()
        col_w = 1.0 / arms

        def centre(b):
            if b["col"] == "all":
                return 0.3 if arms > 1 else 0.25, 0.38
            if b["col"] == "side":
                return 0.78 if arms > 1 else 0.72, 0.42
            return col_w * (b["col"] + 0.5), col_w * 0.9

        ys = {}
        y = 0.0
        for r in range(rows):
            h = height.get(r, 0.85)
            ys[r] = (y - h / 2, h)
            y -= h / 2 + 0.45 + (height.get(r + 1, 0.85) / 2)
        for b in boxes:
            cx, w = centre(b)
            cy, h = ys[b["row"]]
            ax.add_patch(
                FancyBboxPatch(
                    (cx - w / 2, cy - h / 2),
                    w,
                    h,
                    boxstyle="round,pad=0.01,rounding_size=0.02",
                    fc="white",
                    ec="#333333",
                    lw=1,
                )
            )
            ax.text(cx, cy, b["text"], ha="center", va="center", fontsize=8, linespacing=1.3)
            b["_xy"] = (cx, cy, h)

        def arrow(x0, y0, x1, y1):
            ax.annotate(
                "", (x1, y1), (x0, y0), arrowprops={"arrowstyle": "->", "color": "#333333", "lw": 1}
            )

        by_id = {b["id"]: b for b in boxes}
        ax_, ay_, ah_ = by_id["assessed"]["_xy"]
        ex, ey, eh = by_id["enrolled"]["_xy"]
        sx, sy, sh = by_id["excluded"]["_xy"]
        arrow(ax_, ay_ - ah_ / 2, ex, ey + eh / 2)
        arrow(ax_, sy, centre(by_id["excluded"])[0] - centre(by_id["excluded"])[1] / 2, sy)
        for arm in flow.arms:
            chain = [b for b in boxes if b["id"].endswith(f"-{arm.condition}")]
            chain.sort(key=lambda b: b["row"])
            cx, cy, ch = chain[0]["_xy"]
            arrow(ex, ey - eh / 2, cx, cy + ch / 2)
            for upper, lower in zip(chain, chain[1:], strict=False):
                ux, uy, uh = upper["_xy"]
                lx, ly, lh = lower["_xy"]
                arrow(ux, uy - uh / 2, lx, ly + lh / 2)
        ax.set_xlim(0, 1)
        ax.set_ylim(y + 0.3, 0.1)
        fig.subplots_adjust(0.01, 0.01, 0.99, 0.99)
    return fig


def consort_svg(flow: ConsortFlow, criteria: dict[str, str] | None = None) -> str:
    return _cached("consort", (flow, criteria), lambda: _svg(consort_figure(flow, criteria)))


def consort_pdf(flow: ConsortFlow, criteria: dict[str, str] | None = None) -> bytes:
    return _pdf(consort_figure(flow, criteria))

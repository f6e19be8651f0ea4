"""What the first page of a new web process would otherwise pay for (about two seconds
for the monitoring dashboard): matplotlib's fonts, the instrument definitions and the
largest templates, loaded once when the process starts."""

from __future__ import annotations

import logging

logger = logging.getLogger(__name__)

TEMPLATES = ("base.html", "analysis/monitoring/dashboard.html", "enrolment/participant_detail.html")


def warm_up() -> None:
    try:
        from django.template.loader import get_template
        from matplotlib.figure import Figure

        from analysis import monitoring_figures
        from questionnaires import instruments

        instruments.get("odi")  # the registry imports every definition
        fig = Figure(figsize=(1, 1))
        fig.add_subplot().plot([0, 1], [0, 1], label="x")
        monitoring_figures._svg(fig)
        for name in TEMPLATES:
            get_template(name)
    except Exception:  # noqa: BLE001 - a slower first page, never a process that fails to start
        logger.exception("warm-up failed; the first request will be slower")

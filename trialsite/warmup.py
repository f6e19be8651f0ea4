"""What the first page of a new web process would otherwise pay for (about two seconds
for the monitoring dashboard): the URLconf with every view module it imports (1.7 s on
the demo machine: the analysis plan's statistics libraries), matplotlib's fonts, the
instrument definitions and the largest templates, loaded once when the process starts.
What stays for the first dashboard is drawing its figures (about 0.6 s), which are then
cached by their input."""

from __future__ import annotations

import logging

logger = logging.getLogger(__name__)

TEMPLATES = ("base.html", "analysis/monitoring/dashboard.html", "enrolment/participant_detail.html")


def warm_up() -> None:
    try:
        from django.template.loader import get_template
        from django.urls import get_resolver
        from matplotlib.figure import Figure

        from analysis.monitoring import figures as monitoring_figures
        from questionnaires import instruments

        get_resolver().url_patterns  # noqa: B018 - imports the URLconf and every view
        instruments.get("odi")  # the registry imports every definition
        fig = Figure(figsize=(1, 1))
        fig.add_subplot().plot([0, 1], [0, 1], label="x")
        monitoring_figures._svg(fig)
        for name in TEMPLATES:
            get_template(name)
    except Exception:  # noqa: BLE001 - a slower first page, never a process that fails to start
        logger.exception("warm-up failed; the first request will be slower")

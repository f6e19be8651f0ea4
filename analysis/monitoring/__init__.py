"""Monitoring: recruitment, follow-up, SMS, data quality, the CONSORT flow and the weekly
email, in modules by kind:

* :mod:`.pure` and :mod:`.consort`: pure functions of plain rows (dicts), tested with
  plain data;
* :mod:`.queries` and :mod:`.quality`: the database side (``values().annotate()``) that
  feeds them, with the expressions written per database in :mod:`.sql`; their number of
  queries does not depend on the number of participants;
* :mod:`.clinics`: a clinic's recruitment week by week (clinic managers);
* :mod:`.weekly`: the weekly recruitment email; :mod:`.figures` and :mod:`.missing`: the
  dashboard's drawings and missing data by reason; :mod:`.drawing`: the dashboard's
  figures drawn in a thread beside its queries.

The names other modules use are re-exported here (``from analysis import monitoring as
mon``). :mod:`.figures` is not: it imports matplotlib.
"""

from .clinics import clinic_recruitment, clinic_weeks
from .consort import (
    AWAITING,
    NO_RESPONSE,
    NOT_SCHEDULED,
    RESPONDED,
    WITHDRAWN,
    ArmFlow,
    ConsortFlow,
    consort_flow,
    left_on,
    placement,
)
from .pure import (
    OPEN_STATUSES,
    Recruitment,
    deviation_table,
    dogleg_schedule,
    followup_summary,
    missing_item_counts,
    month_range,
    month_start,
    recruitment,
    sms_summary,
    sms_weekly_rates,
    week_start,
    window_counts,
    window_of,
)
from .quality import (
    crpe_missing_at_final_visit,
    data_quality,
    deviations_for,
    missing_items,
    missing_items_participants,
    out_of_window,
    unresolved_double_entries,
)
from .queries import (
    completed_finals,
    consort_for,
    consort_groups,
    consort_participants,
    contact_model,
    followup_rows,
    patient_timepoints,
    planned_from,
    recruitment_for,
    required_items,
    scope,
    sms_for,
    trial_wide,
)
from .sql import ShiftedDate, Unanswered
from .weekly import (
    cluster_recipients,
    send_weekly_summaries_now,
    weekly_email_enabled,
    weekly_summaries,
)

__all__ = [
    "AWAITING",
    "NO_RESPONSE",
    "NOT_SCHEDULED",
    "OPEN_STATUSES",
    "RESPONDED",
    "WITHDRAWN",
    "ArmFlow",
    "ConsortFlow",
    "Recruitment",
    "ShiftedDate",
    "Unanswered",
    "clinic_recruitment",
    "clinic_weeks",
    "cluster_recipients",
    "completed_finals",
    "consort_flow",
    "consort_for",
    "consort_groups",
    "consort_participants",
    "planned_from",
    "contact_model",
    "crpe_missing_at_final_visit",
    "data_quality",
    "deviation_table",
    "deviations_for",
    "dogleg_schedule",
    "followup_rows",
    "followup_summary",
    "left_on",
    "missing_item_counts",
    "missing_items",
    "missing_items_participants",
    "month_range",
    "month_start",
    "out_of_window",
    "patient_timepoints",
    "placement",
    "recruitment",
    "recruitment_for",
    "required_items",
    "scope",
    "send_weekly_summaries_now",
    "sms_for",
    "sms_summary",
    "sms_weekly_rates",
    "trial_wide",
    "unresolved_double_entries",
    "week_start",
    "weekly_email_enabled",
    "weekly_summaries",
    "window_counts",
    "window_of",
]

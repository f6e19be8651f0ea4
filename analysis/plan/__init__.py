"""Pure statistical functions of the analysis plan (issue 7).

Every function takes pandas DataFrames or numbers and returns data (mostly a tidy
DataFrame with the columns of ``ESTIMATE_COLUMNS``); nothing here touches the database.
The analysis dataset format is documented in :mod:`analysis.plan.dataset`.
"""

ESTIMATE_COLUMNS = ["term", "estimate", "std_error", "ci_low", "ci_high", "p_value"]


class InsufficientData(ValueError):
    """The data cannot support the analysis; the message is one sentence for the user."""


def arms(df) -> tuple[str, str]:
    """(reference, comparator) condition labels: control/intervention, or A/B when blinded.

    A blinded export codes the conditions A and B; analyses then report B minus A and
    never guess which is the intervention.
    """
    values = set(df["condition"].dropna().astype(str)) if "condition" in df else set()
    if values and values <= {"control", "intervention"}:
        return "control", "intervention"
    if values and values <= {"A", "B"}:
        return "A", "B"
    found = ", ".join(sorted(values)) or "none"
    raise InsufficientData(
        f"The condition column must hold control/intervention (or blinded A/B); found: {found}."
    )


def contrast_label(df) -> str:
    ref, comp = arms(df)
    return f"{comp} - {ref}"

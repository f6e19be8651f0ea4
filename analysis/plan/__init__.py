"""Pure statistical functions of the analysis plan (issue 7).

Every function takes pandas DataFrames or numbers and returns data (mostly a tidy
DataFrame with the columns of ``ESTIMATE_COLUMNS``); nothing here touches the database.
The analysis dataset format is documented in :mod:`analysis.plan.dataset`.
"""

ESTIMATE_COLUMNS = ["term", "estimate", "std_error", "ci_low", "ci_high", "p_value"]

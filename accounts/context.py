from . import staff


def nav(request) -> dict:
    """The staff pages a user manages, for the menu."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"staff_trials": list(staff.managed_trials(user).values_list("code", "study_id_prefix"))}

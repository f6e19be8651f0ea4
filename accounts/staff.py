"""Staff of a trial, managed by its coordinators: invite, roles, deactivation.

One write path for each change; every change is in the access log. Which staff a manager
sees is a queryset (:func:`staff_of` over :func:`managed_trials`), never a template's
choice.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q, QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from enrolment import permissions as roles
from enrolment.models import Clinic, Physiotherapist, Trial, TrialRole

from . import access_log
from .models import AccessEvent

MANAGERS = roles.STAFF_MANAGERS
PHYSIOTHERAPIST = roles.PHYSIOTHERAPIST
# Roles held at a clinic of the trial.
AT_A_CLINIC = {PHYSIOTHERAPIST, roles.CLINIC_MANAGER}


def managed_trials(user) -> QuerySet[Trial]:
    """The trials whose staff ``user`` manages: coordinators and administrators."""
    if not user.is_authenticated or not user.is_active:
        return Trial.objects.none()
    if user.is_superuser:
        return Trial.objects.all()
    return Trial.objects.filter(roles__user=user, roles__role__in=MANAGERS).distinct()


def staff_of(trial: Trial) -> QuerySet:
    """Everyone with a role in ``trial``, or who had one as a physiotherapist there."""
    return (
        get_user_model()
        .objects.filter(
            Q(pk__in=TrialRole.objects.filter(trial=trial).values("user_id"))
            | Q(
                pk__in=Physiotherapist.objects.filter(clinic__cluster__trial=trial).values(
                    "user_id"
                )
            )
        )
        .order_by("username")
    )


def role_choices() -> list[tuple[str, str]]:
    return [*TrialRole.ROLES, (PHYSIOTHERAPIST, _("Physiotherapist"))]


@transaction.atomic
def assign(user, trial: Trial, role: str, *, clinic: Clinic | None = None,
           study_code: str = "", by=None, request=None) -> None:
    """Give ``user`` ``role`` in ``trial``; a physiotherapist works at ``clinic``, a clinic
    manager manages it (and may manage others: given once per clinic)."""
    if role in AT_A_CLINIC and (clinic is None or clinic.cluster.trial_id != trial.pk):
        raise ValidationError(_("Choose a clinic of this trial."))
    if role == PHYSIOTHERAPIST:
        record = Physiotherapist.objects.filter(user=user, clinic=clinic).first()
        if record is None:
            if not study_code:
                raise ValidationError(_("A physiotherapist needs a study code."))
            if Physiotherapist.objects.filter(study_code=study_code).exists():
                raise ValidationError(_("The study code %(code)s is taken.") % {"code": study_code})
            Physiotherapist.objects.create(user=user, clinic=clinic, study_code=study_code)
        elif not record.active:
            record.active = True
            record.save(update_fields=["active"])
        detail = f"{trial.code}: physiotherapist at {clinic.code}"
    elif role == roles.CLINIC_MANAGER:
        TrialRole.objects.get_or_create(user=user, trial=trial, role=role)[0].clinics.add(clinic)
        detail = f"{trial.code}: clinic manager at {clinic.code}"
    else:
        if role not in dict(TrialRole.ROLES):
            raise ValidationError(_("Unknown role."))
        TrialRole.objects.get_or_create(user=user, trial=trial, role=role)
        detail = f"{trial.code}: {role}"
    access_log.record(AccessEvent.ROLE_CHANGED, request, user=user, actor=by,
                      detail=f"given {detail}")


@transaction.atomic
def remove(user, trial: Trial, role: str, *, clinic: Clinic | None = None, by=None,
           request=None) -> None:
    """Take ``role`` away; a physiotherapist's record stays (their questionnaires refer
    to it), marked inactive."""
    if role == PHYSIOTHERAPIST:
        Physiotherapist.objects.filter(user=user, clinic=clinic, clinic__cluster__trial=trial
                                       ).update(active=False)  # fmt: skip
        detail = f"{trial.code}: physiotherapist at {clinic.code if clinic else '?'}"
    elif role == roles.CLINIC_MANAGER and clinic is not None:
        # One clinic at a time; the role goes with the last one.
        for record in TrialRole.objects.filter(user=user, trial=trial, role=role):
            record.clinics.remove(clinic)
            if not record.clinics.exists():
                record.delete()
        detail = f"{trial.code}: clinic manager at {clinic.code}"
    else:
        TrialRole.objects.filter(user=user, trial=trial, role=role).delete()
        detail = f"{trial.code}: {role}"
    end_sessions(user)
    access_log.record(AccessEvent.ROLE_CHANGED, request, user=user, actor=by,
                      detail=f"removed {detail}")


def can_deactivate(manager, user) -> bool:
    """A coordinator deactivates only accounts that work in no trial but theirs;
    administrators any account but their own."""
    if user.pk == manager.pk:
        return False
    if manager.is_superuser:
        return True
    if user.is_superuser:
        return False
    theirs = set(
        TrialRole.objects.filter(user=user).values_list("trial_id", flat=True)
    ) | set(
        Physiotherapist.objects.filter(user=user, active=True).values_list(
            "clinic__cluster__trial_id", flat=True
        )
    )
    return theirs <= set(managed_trials(manager).values_list("pk", flat=True))


def set_active(user, active: bool, *, by, request=None) -> None:
    """Deactivate (sessions ended at once) or reactivate an account."""
    if not can_deactivate(by, user):
        raise ValidationError(_("This account works in other trials: ask an administrator."))
    user.is_active = active
    user.save(update_fields=["is_active"])
    if not active:
        end_sessions(user)
    access_log.record(AccessEvent.REACTIVATED if active else AccessEvent.DEACTIVATED, request,
                      user=user, actor=by)


def end_sessions(user) -> int:
    """Delete every session of ``user``: the next request from any browser is logged out.
    Sessions live at most the idle time, so few rows are read."""
    ended = 0
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        if session.get_decoded().get("_auth_user_id") == str(user.pk):
            session.delete()
            ended += 1
    return ended


@transaction.atomic
def invite(*, trial: Trial, email: str, username: str, first_name: str, last_name: str,
           role: str, clinic: Clinic | None, study_code: str, by, request) -> object:
    """A new account without a password, its role, and an email with a one-time link to
    set the password (Django's password-reset token: used once, expires after
    PASSWORD_RESET_TIMEOUT)."""
    User = get_user_model()
    if User.objects.filter(username=username).exists():
        raise ValidationError(_("The user name %(name)s is taken.") % {"name": username})
    if User.objects.filter(email__iexact=email).exists():
        raise ValidationError(
            _("An account with this email exists: ask an administrator to give it a role here.")
        )
    user = User(username=username, email=email, first_name=first_name, last_name=last_name)
    user.set_unusable_password()
    user.save()
    assign(user, trial, role, clinic=clinic, study_code=study_code, by=by, request=request)
    access_log.record(AccessEvent.INVITED, request, user=user, actor=by,
                      detail=f"{trial.code}: {role}")
    send_invitation(user, trial, by=by, request=request)
    return user


def send_invitation(user, trial: Trial, *, by, request) -> None:
    """The email with the one-time link to set a password. Sent inside the caller's
    transaction: if the mail server refuses, no account is left behind without its
    link, and the coordinator sees the error and tries again."""
    link = request.build_absolute_uri(
        reverse(
            "staff_set_password",
            kwargs={
                "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
                "token": default_token_generator.make_token(user),
            },
        )
    )
    context = {"user": user, "trial": trial, "link": link, "by": by}
    send_mail(
        render_to_string("accounts/email/invitation_subject.txt", context).strip(),
        render_to_string("accounts/email/invitation.txt", context),
        None,
        [user.email],
    )


def resend_invitation(user, trial: Trial, *, by, request) -> None:
    """A new link for someone who never set a password (the first one expired or got
    lost). Django's password reset does not serve accounts without a password."""
    if user.has_usable_password():
        raise ValidationError(_("This person has set a password: they can use the "
                                "'Forgot your password?' link on the login page."))
    send_invitation(user, trial, by=by, request=request)
    access_log.record(AccessEvent.INVITED, request, user=user, actor=by,
                      detail=f"{trial.code}: link sent again")

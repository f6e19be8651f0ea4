"""factory_boy factories for staff and participants. Trials come from the real protocol
files (see conftest), so tests run against the shapes the trials really have."""

from datetime import date

import factory
from django.contrib.auth import get_user_model
from django_otp.plugins.otp_totp.models import TOTPDevice

from enrolment.actions.enrol import enrol_participant
from enrolment.models import Physiotherapist, TrialRole


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("correct horse battery staple")


class AuthenticatorFactory(factory.django.DjangoModelFactory):
    """A confirmed TOTP authenticator, as a staff member has after setting one up."""

    class Meta:
        model = TOTPDevice

    user = factory.SubFactory(UserFactory)
    name = "authenticator"
    confirmed = True


def current_code(user) -> str:
    """The code the user's authenticator app shows now."""
    from django_otp.oath import TOTP

    device = TOTPDevice.objects.get(user=user, confirmed=True)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


class TrialRoleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TrialRole

    user = factory.SubFactory(UserFactory)
    role = TrialRole.COORDINATOR


class PhysiotherapistFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Physiotherapist

    user = factory.SubFactory(UserFactory)
    study_code = factory.Sequence(lambda n: f"PT-{n:04d}")


class PersonalFactory(factory.DictFactory):
    full_name = factory.Faker("name")
    national_id = factory.Sequence(lambda n: f"19800101-{n:04d}")
    date_of_birth = date(1980, 1, 1)
    email = factory.Sequence(lambda n: f"patient{n}@example.com")
    mobile = factory.Sequence(lambda n: f"+46701{n:06d}")
    preferred_language = "sv"


def enrol(
    clinic,
    enrolled_on=date(2017, 5, 2),
    user=None,
    stratum_values=None,
    sex=None,
    first_contact_clinician=None,
    **personal,
):
    """Enrol through the real action, as the site does, with consent given that day.
    Where the protocol's [enrolment] asks sex or the first-contact clinician and the
    test gives none, a value is filled in."""
    from enrolment import allocation, enrol_fields

    trial = clinic.cluster.trial
    if sex is None:
        sex = "female" if enrol_fields.asks_sex(trial) else ""
    if first_contact_clinician is None:
        condition = (
            allocation.cluster_condition(clinic.cluster.crossover, enrolled_on)
            if trial.is_cluster_design
            else ""
        )
        asked = enrol_fields.asks_first_contact(trial, condition)
        first_contact_clinician = "physiotherapist" if asked else ""
    return enrol_participant(
        sex=sex,
        first_contact_clinician=first_contact_clinician,
        clinic=clinic,
        enrolled_on=enrolled_on,
        user=user,
        personal=PersonalFactory(**personal),
        consent={
            "consented_on": enrolled_on,
            "form_version": "1.0",
            # get_or_create without a password: hashing one per enrolment is slow.
            "taken_by": user or get_user_model().objects.get_or_create(username="consent-taker")[0],
        },
        stratum_values=stratum_values,
    )

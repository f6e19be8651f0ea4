"""The error every enrolment action raises when its input is refused
(:class:`EnrolmentError`, a ``ValidationError`` whose message is shown to the user), and
:class:`AlreadyEnrolled` for a patient enrolled twice.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError

from ..models import ScreeningRecord


class EnrolmentError(ValidationError):
    pass


class AlreadyEnrolled(EnrolmentError):
    """The screening was closed (enrolled or declined) by another request first."""

    def __init__(self, screening: ScreeningRecord):
        self.screening = screening
        super().__init__("This screening is already closed: only one enrolment comes of it.")

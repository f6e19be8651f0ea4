"""Read-only: workshops, attendance, SWOT analyses and interviews are written through
:mod:`implementation.workshops` and :mod:`implementation.process` (role, reasons, history)."""

from django.contrib import admin

from enrolment.admin import ReadOnly

from .models import Attendance, Interview, SwotAnalysis, Workshop


class ImplementationAdmin(ReadOnly, admin.ModelAdmin):
    pass


for model in (Workshop, Attendance, SwotAnalysis, Interview):
    admin.site.register(model, ImplementationAdmin)

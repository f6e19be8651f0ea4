"""The audit rule every clinical model shares: :class:`AuditedModel` keeps a saved value
from changing without a reason (:class:`ReasonRequired`), and the reason goes into the
row's django-simple-history record.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from .. import guards


class ReasonRequired(ValidationError):
    """A saved clinical value was changed without saying why."""


class AuditedModel(models.Model):
    """A model whose saved values may only change with a reason.

    The reason goes into the history row (simple-history's ``history_change_reason``).
    Set it with ``obj._change_reason = "..."`` before ``save()``; the action functions
    in :mod:`enrolment.actions` do this for you.
    """

    audit_exempt_fields: tuple[str, ...] = ()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        guards.check(self, "save")
        if self.pk is not None and not getattr(self, "_change_reason", None):
            saved = self._saved_values()
            changes = self.changed_fields(saved)
            if changes and self.needs_reason(saved):
                raise ReasonRequired(
                    _("A reason is required to change %(fields)s.")
                    % {"fields": ", ".join(sorted(changes))}
                )
        super().save(*args, **kwargs)
        # A reason covers one save: a stale one must not let a later change through.
        self._change_reason = None

    def delete(self, *args, **kwargs):
        guards.check(self, "delete")
        return super().delete(*args, **kwargs)

    def needs_reason(self, saved: dict | None) -> bool:
        """Whether a change to this saved row needs a reason; always, unless a model
        says otherwise (a response being answered page by page does not)."""
        return True

    def _saved_values(self) -> dict | None:
        if self.pk is None:
            return None
        return type(self)._default_manager.filter(pk=self.pk).values().first()

    def changed_fields(self, saved: dict | None = None) -> dict[str, tuple[object, object]]:
        """Field name -> (saved value, new value) for every audited field that differs."""
        if saved is None:
            saved = self._saved_values()
        if saved is None:
            return {}
        changes = {}
        for f in self._meta.concrete_fields:
            if f.primary_key or f.name in self.audit_exempt_fields:
                continue
            old, new = saved.get(f.attname), getattr(self, f.attname)
            if old != new:
                changes[f.name] = (old, new)
        return changes

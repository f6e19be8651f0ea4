"""django-simple-history's ``Model.history``, with its manager class built once.

simple-history's descriptor builds the history manager's class anew on every access
(``HistoryManager.from_queryset``, which walks the queryset class's members), and every
audited save asks for it once: 6% of the time of saving a survey page
(benchmarks/survey.py, profiled with py-spy). The class is the same every time, so it
is built once per model; the manager itself is still made per access, as simple-history
makes it.
"""

from __future__ import annotations

from django.apps import apps
from simple_history.manager import HistoryDescriptor


class HistoryDescriptorBuiltOnce(HistoryDescriptor):
    def __init__(self, model, manager, queryset):
        super().__init__(model, manager=manager, queryset=queryset)
        self.built = manager.from_queryset(queryset)

    def __get__(self, instance, owner):
        return self.built(self.model, instance)


def build_history_managers_once() -> int:
    """Swap each audited model's descriptor for one that keeps its manager class; the
    number swapped."""
    swapped = 0
    for model in apps.get_models():
        name = getattr(model._meta, "simple_history_manager_attribute", None)
        descriptor = model.__dict__.get(name) if name else None
        if type(descriptor) is HistoryDescriptor:
            setattr(
                model,
                name,
                HistoryDescriptorBuiltOnce(
                    descriptor.model, descriptor.manager_class, descriptor.queryset_class
                ),
            )
            swapped += 1
    return swapped

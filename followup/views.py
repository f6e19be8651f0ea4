from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import render

from trialsite import roles

from .models import OutboxMessage


@login_required
def outbox(request):
    """What the embedded installation would have sent. Recipients are personal data, so
    only roles that may see personal details read this page."""
    user = request.user
    allowed = user.is_superuser or any(
        roles.roles_in(user, t) & {roles.COORDINATOR, roles.ADMINISTRATOR}
        for t in roles.trials_of(user)
    )
    if not allowed:
        raise PermissionDenied
    page = Paginator(OutboxMessage.objects.all(), 50).get_page(request.GET.get("page"))
    return render(request, "followup/outbox.html", {"page": page})

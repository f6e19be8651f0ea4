from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from .views import access, staff, two_factor

urlpatterns = [
    # Password reset by email, with Django's views and token; the link is the
    # invitation's page.
    path(
        "password-reset/",
        auth_views.PasswordResetView.as_view(
            template_name="accounts/password_reset.html",
            email_template_name="accounts/email/password_reset.txt",
            subject_template_name="accounts/email/password_reset_subject.txt",
            success_url=reverse_lazy("password_reset_done"),
        ),
        name="password_reset",
    ),
    path(
        "password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(template_name="accounts/password_reset_done.html"),
        name="password_reset_done",
    ),
    path("password/<uidb64>/<token>/", staff.SetPasswordView.as_view(), name="staff_set_password"),
    path("two-factor/", two_factor.overview, name="two_factor"),
    path("two-factor/code/", two_factor.verify, name="two_factor_verify"),
    path("two-factor/set-up/", two_factor.setup, name="two_factor_setup"),
    path("two-factor/recovery-codes/", two_factor.recovery_codes, name="two_factor_recovery"),
    path("staff/<slug:code>/", staff.staff_list, name="staff_list"),
    path("staff/<slug:code>/invite/", staff.invite, name="staff_invite"),
    path("staff/<slug:code>/<int:pk>/", staff.member, name="staff_member"),
    path("staff/<slug:code>/<int:pk>/remove-role/", staff.remove_role, name="staff_remove_role"),
    path("staff/<slug:code>/<int:pk>/active/", staff.set_active, name="staff_set_active"),
    path("staff/<slug:code>/<int:pk>/resend/", staff.resend_invitation,
         name="staff_resend_invitation"),  # fmt: skip
    path("staff/<slug:code>/<int:pk>/reset-two-factor/", staff.reset_two_factor,
         name="staff_reset_two_factor"),  # fmt: skip
    path("access-log/", access.log, name="access_log"),
    path("access-log.csv", access.log_csv, name="access_log_csv"),
    path("lockouts/", access.lockouts, name="lockouts"),
    path("lockouts/unlock/", access.unlock, name="unlock"),
]

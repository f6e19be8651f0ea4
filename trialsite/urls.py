from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic.base import RedirectView

urlpatterns = [
    # Browsers ask for /favicon.ico whatever the page's <link rel="icon"> says.
    path("favicon.ico", RedirectView.as_view(url=static("favicon.ico"), permanent=True)),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/", include("accounts.urls")),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("followup.urls")),
    path("questionnaires/", include("questionnaires.urls")),
    path("analysis/", include("analysis.urls")),
    path("monitoring/", include("analysis.urls_monitoring")),
    path("", include("privacy.urls")),
    path("data-management/", include("datamanagement.urls")),
    path("paper/", include("paper.urls")),
    path("api/", include("api.urls")),
    path("exchange/", include("api.odm.urls")),
    path("", include("implementation.urls")),
    path("", include("enrolment.urls")),
]

handler403 = "trialsite.errors.permission_denied"
handler404 = "trialsite.errors.page_not_found"
handler500 = "trialsite.errors.server_error"

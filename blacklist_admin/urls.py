from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.shortcuts import redirect
from django.templatetags.static import static
from django.urls import include, path, reverse_lazy
from django.views.generic import RedirectView

from accounts.views import PasswordChangeView

from .health import healthz


def favicon(request):
    """Browsers ask for /favicon.ico whatever a page links (a CSV or JSON download has no <link>);
    the static file's URL is read per request, as it is only known once collectstatic has run."""
    return redirect(static("img/favicon.ico"))


handler400 = "blacklist_admin.params.bad_request"  # names the bad parameter (params.py)

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="blacklist:review"), name="home"),
    path("blacklist/", include("blacklist.urls")),
    path("tasks/", include("tasks_logs.urls")),
    path("api/", include("api.urls")),
    path("activity/", include("audit.urls")),
    path("roles/", include("roles.urls")),
    path("registry/", include("registry.urls")),
    # Of django.contrib.auth's pages, only these: no e-mail is set up, so no password reset pages.
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password_change/", PasswordChangeView.as_view(), name="password_change"),  # throttled
    path("accounts/password_change/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    # The admin's own password change page checks the old password too: the same throttled view.
    path("admin/password_change/", PasswordChangeView.as_view(success_url=reverse_lazy("admin:password_change_done"))),
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("favicon.ico", favicon),
]

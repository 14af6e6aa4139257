from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from .health import healthz

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="blacklist:review"), name="home"),
    path("blacklist/", include("blacklist.urls")),
    path("tasks/", include("tasks_logs.urls")),
    path("api/", include("api.urls")),
    path("activity/", include("audit.urls")),
    path("roles/", include("roles.urls")),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
]

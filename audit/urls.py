from django.urls import path

from . import views

app_name = "audit"
urlpatterns = [
    path("", views.activity, name="activity"),
    path("export.csv", views.export, name="export"),
    path("history/", views.history, name="history"),  # ?phone=…: the evidence record
    path("history/evidence.<str:kind>", views.evidence_download, name="evidence"),  # kind: json or csv; ?phone=…
]

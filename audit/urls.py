from django.urls import path

from . import views

app_name = "audit"
urlpatterns = [
    path("", views.activity, name="activity"),
    path("export.csv", views.export, name="export"),
    path("history/", views.history, name="history"),  # ?phone=…: the evidence record
    path("history/evidence.<str:kind>", views.evidence_download, name="evidence"),  # kind: json or csv; ?phone=…
    path("compliance/", views.compliance, name="compliance"),  # ?period=week|month&first=…&last=…
    path("compliance.csv", views.compliance_export, name="compliance_export"),
]

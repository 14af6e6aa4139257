from django.urls import path

from . import views

app_name = "blacklist"
urlpatterns = [
    path("add/", views.add, name="add"),
    path("review/", views.review, name="review"),
    path("approved/", views.approved, name="approved"),
    path("<str:tab>/numbers/<int:pk>/<str:action>/", views.row_action, name="row_action"),
    path("<str:tab>/bulk/", views.bulk_action, name="bulk_action"),
]

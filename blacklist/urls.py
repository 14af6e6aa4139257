from django.urls import path

from . import lists, reasons, views

app_name = "blacklist"
urlpatterns = [
    path("add/", views.add, name="add"),
    path("add/upload/", views.upload, name="upload"),
    path("add/upload/<int:pk>/confirm/", views.confirm_upload, name="confirm_upload"),
    path("review/", views.review, name="review"),
    path("approved/", views.approved, name="approved"),
    path("reasons/", reasons.reasons, name="reasons"),
    path("reasons/<int:pk>/", reasons.edit_reason, name="edit_reason"),
    path("reasons/<int:pk>/delete/", reasons.delete_reason, name="delete_reason"),
    path("lists/", lists.lists, name="lists"),
    path("lists/<int:pk>/", lists.edit_list, name="edit_list"),
    path("lists/<int:pk>/archive/", lists.archive_list, name="archive_list"),
    path("lists/<int:pk>/unarchive/", lists.unarchive_list, name="unarchive_list"),
    path("lists/<int:pk>/delete/", lists.delete_list, name="delete_list"),
    path("<str:tab>/numbers/<str:action>/", views.row_action, name="row_action"),  # POST pk
    path("<str:tab>/bulk/", views.bulk_action, name="bulk_action"),
    path("<str:tab>/export.csv", views.export, name="export"),
]

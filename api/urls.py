from django.urls import path, re_path

from . import key_views, views

app_name = "api"
urlpatterns = [
    path("", key_views.keys, name="keys"),
    path("keys/new", key_views.create_key, name="create_key"),
    path("keys/<int:pk>/revoke", key_views.revoke_key, name="revoke_key"),
    path("v1/blacklist/check", views.check, name="check"),
    path("v1/blacklist/scrub", views.scrub, name="scrub"),
    path("v1/blacklist/numbers", views.add_numbers, name="add_numbers"),
    path("v1/openapi.json", views.openapi, name="openapi"),
    re_path(r"^v1/", views.not_found, name="not_found"),  # last: a JSON 404 for any other API path
]

from django.urls import path

from . import views

app_name = "registry"
urlpatterns = [
    path("", views.registry, name="registry"),
    path("load/", views.load, name="load"),
]

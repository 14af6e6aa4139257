from django.urls import path

from . import views

app_name = "blacklist"
urlpatterns = [
    path("add/", views.add, name="add"),
    path("review/", views.review, name="review"),
    path("approved/", views.approved, name="approved"),
]

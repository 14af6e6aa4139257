from django.urls import path

from . import views

app_name = "roles"
urlpatterns = [
    path("", views.user_list, name="list"),
    path("<int:pk>/", views.set_role, name="set_role"),  # POST role
]

from django.urls import path

from . import views

app_name = "tasks_logs"
urlpatterns = [
    path("", views.task_list, name="list"),
]

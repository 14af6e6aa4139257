from django.urls import path

from . import views

app_name = "tasks_logs"
urlpatterns = [
    path("", views.task_list, name="list"),
    path("rows/", views.rows, name="rows"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/rejected.csv", views.rejected_csv, name="rejected_csv"),
]

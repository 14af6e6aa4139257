from django.apps import AppConfig


class TasksLogsConfig(AppConfig):
    name = "tasks_logs"
    verbose_name = "Tasks Logs"

from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = "API des communes"
    default_auto_field = "django.db.models.BigAutoField"

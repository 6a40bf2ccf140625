from django.apps import AppConfig


class MairieConfig(AppConfig):
    name = "mairie"

from django.apps import AppConfig


class ElusConfig(AppConfig):
    name = "elus"
    verbose_name = "Élus : crédit d'heures"

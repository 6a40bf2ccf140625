from django.apps import AppConfig


class MandantConfig(AppConfig):
    name = "mandant"

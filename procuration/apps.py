from django.apps import AppConfig


class ProcurationConfig(AppConfig):
    name = "procuration"
    verbose_name = "Procurations (domaine partagé)"

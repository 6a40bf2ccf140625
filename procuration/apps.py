from django.apps import AppConfig


class ProcurationConfig(AppConfig):
    name = "procuration"
    verbose_name = "Procurations (domaine partagé)"

    def ready(self):
        from procuration import signals  # noqa: F401  (connects the receivers)

from django.apps import AppConfig


class ListesConfig(AppConfig):
    name = "listes"

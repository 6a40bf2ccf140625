"""The form renderer: django-dsfr's, with our own form templates looked up first."""

from pathlib import Path

import dsfr
from django import forms
from django.conf import settings
from django.utils.functional import cached_property
from dsfr.forms import DsfrDjangoTemplates


class FormRenderer(DsfrDjangoTemplates):
    """django-dsfr's renderer searches its own templates, then Django's, never the project's.
    This one puts templates/ first, so templates/django/forms/… can change how a widget is
    written (templates/django/forms/widgets/attrs.html: no dsfr="dsfr" in the HTML)."""

    @cached_property
    def engine(self):
        return self.backend({
            "APP_DIRS": True,
            "DIRS": [
                Path(settings.BASE_DIR) / "templates",
                Path(dsfr.__path__[0]) / "templates",  # as DsfrDjangoTemplates
                Path(forms.__path__[0]) / "templates",
            ],
            "NAME": "djangoforms",
            "OPTIONS": {},
        })

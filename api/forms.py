from django import forms
from dsfr.forms import DsfrBaseForm

from api.models import Scope


class ApiKeyForm(DsfrBaseForm):
    name = forms.CharField(label="Nom de la clé", max_length=100,
                           help_text="Le logiciel qui l'utilisera, p. ex. « Logiciel élections ».")
    scopes = forms.MultipleChoiceField(label="Droits", choices=Scope.choices, widget=forms.CheckboxSelectMultiple,
                                       error_messages={"required": "Choisissez au moins un droit."})


class WebhookForm(DsfrBaseForm):
    url = forms.URLField(label="Adresse HTTPS qui recevra les événements", max_length=500, assume_scheme="https",
                         help_text="Par exemple https://elections.mairie.example/webhooks/demarches")

"""The commune administrator's pages of the mairie portal: API keys (and, later, webhooks)."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from api.forms import ApiKeyForm
from api.keys import create_key, revoke_key
from api.models import ApiKey
from mairie.views import commune_admin_required
from procuration.exceptions import DomainError


@commune_admin_required
def keys(request):
    form = ApiKeyForm(request.POST or None)
    new_key = raw = None
    if request.method == "POST" and form.is_valid():
        try:
            new_key, raw = create_key(request=request, name=form.cleaned_data["name"], scopes=form.cleaned_data["scopes"])
        except DomainError as e:
            form.add_error(e.field, e.message)
        else:
            form = ApiKeyForm()
    response = render(request, "api/keys.html", {
        "form": form, "keys": ApiKey.objects.of_commune(request.user), "new_key": new_key, "raw_key": raw,
    })
    response["Cache-Control"] = "no-store"  # the page that shows a key once must not be kept
    return response


@require_POST
@commune_admin_required
def key_revoke(request, key_pk):
    key = get_object_or_404(ApiKey.objects.of_commune(request.user), pk=key_pk)
    if revoke_key(request=request, key=key):
        messages.success(request, f"La clé « {key.name} » est révoquée : elle ne permet plus aucun appel.")
    return redirect("mairie_api:keys")

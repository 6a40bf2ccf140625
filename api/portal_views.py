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


# ----------------------------------------------------------------- webhooks


def _endpoint(request, pk):
    from api.models import WebhookEndpoint

    return get_object_or_404(WebhookEndpoint.objects.filter(commune_id=request.user.commune_id), pk=pk)


@commune_admin_required
def webhooks(request):
    from api.forms import WebhookForm
    from api.models import WebhookEndpoint
    from api.webhooks import check_url, new_secret
    from procuration.models import AuditLog

    form = WebhookForm(request.POST or None)
    created = None
    if request.method == "POST" and form.is_valid():
        try:
            check_url(form.cleaned_data["url"])
        except DomainError as e:
            form.add_error("url", e.message)
        else:
            created = WebhookEndpoint.objects.create(commune_id=request.user.commune_id, url=form.cleaned_data["url"],
                                                     secret=new_secret(), created_by=request.user)
            AuditLog.record(request, "api.webhook_create", created, url=created.url)
            form = WebhookForm()
    response = render(request, "api/webhooks.html", {
        "form": form, "created": created,
        "endpoints": WebhookEndpoint.objects.filter(commune_id=request.user.commune_id),
    })
    response["Cache-Control"] = "no-store"
    return response


@commune_admin_required
def webhook_log(request, endpoint_pk):
    endpoint = _endpoint(request, endpoint_pk)
    deliveries = endpoint.deliveries.select_related("change").prefetch_related("attempt_log")[:100]
    return render(request, "api/webhook_log.html", {"endpoint": endpoint, "deliveries": deliveries})


@require_POST
@commune_admin_required
def webhook_rotate(request, endpoint_pk):
    import datetime

    from django.conf import settings
    from django.utils import timezone

    from api.webhooks import new_secret
    from procuration.models import AuditLog

    endpoint = _endpoint(request, endpoint_pk)
    endpoint.previous_secret, endpoint.secret = endpoint.secret, new_secret()
    endpoint.previous_secret_until = timezone.now() + datetime.timedelta(seconds=settings.API_WEBHOOK_ROTATION_SECONDS)
    endpoint.save(update_fields=["previous_secret", "secret", "previous_secret_until"])
    AuditLog.record(request, "api.webhook_rotate", endpoint)
    response = render(request, "api/webhook_log.html", {
        "endpoint": endpoint, "new_secret": endpoint.secret,
        "deliveries": endpoint.deliveries.select_related("change").prefetch_related("attempt_log")[:100],
    })
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@commune_admin_required
def webhook_replay(request, delivery_pk):
    from api.models import WebhookDelivery
    from api.webhooks import replay
    from procuration.models import AuditLog

    delivery = get_object_or_404(WebhookDelivery.objects.filter(endpoint__commune_id=request.user.commune_id),
                                 pk=delivery_pk)
    new = replay(delivery)
    AuditLog.record(request, "api.webhook_replay", new.endpoint, delivery=delivery.pk)
    messages.success(request, "L'envoi est rejoué : il apparaîtra dans le journal dans quelques instants.")
    return redirect("mairie_api:webhook_log", endpoint_pk=delivery.endpoint_id)

"""The queue's filter options are read by statements compiled once per process (mairie.forms,
issue 16): the same options as the ModelChoiceFields over the scope's querysets gave, a submitted
value still checked against the commune's scope, and no queryset of the scope or of the queue built
again on the queue's everyday requests."""

import datetime

import pytest
from django import forms
from django.urls import reverse
from dsfr.forms import DsfrBaseForm

from mairie import listing
from mairie.forms import QueueFilterForm
from procuration.models import BureauDeVote, Scrutin
from procuration.models.territory import ScrutinQuerySet
from tests.factories import BureauDeVoteFactory, ProcurationFactory, ScrutinFactory

pytestmark = pytest.mark.django_db


class _ByQuerysets(DsfrBaseForm):
    """The two fields as they were built before: ModelChoiceFields over the scope's querysets."""

    scrutin = forms.ModelChoiceField(label="Scrutin", queryset=Scrutin.objects.none(), required=False, empty_label="Tous")
    bureau = forms.ModelChoiceField(label="Bureau de vote", queryset=BureauDeVote.objects.none(), required=False,
                                    empty_label="Tous")

    def __init__(self, *args, commune, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["scrutin"].queryset = Scrutin.objects.concernant(commune).order_by("-date_tour1")
        self.fields["bureau"].queryset = BureauDeVote.objects.filter(commune=commune).order_by("numero")


def _scope(commune, other_commune):
    today = datetime.date.today()
    national = ScrutinFactory(libelle="Européennes <2026> & « test »", date_tour1=today + datetime.timedelta(days=30))
    partielle = ScrutinFactory(libelle="Partielle d'Almayrac", date_tour1=today + datetime.timedelta(days=60))
    partielle.communes.add(commune)
    elsewhere = ScrutinFactory(libelle="Partielle de Loisieux", date_tour1=today + datetime.timedelta(days=90))
    elsewhere.communes.add(other_commune)
    mine = [BureauDeVoteFactory(commune=commune, numero=n) for n in (4, 1, 12)]
    theirs = BureauDeVoteFactory(commune=other_commune, numero=2)
    return national, partielle, elsewhere, mine, theirs


@pytest.mark.parametrize("data", [None, {}, {"status": "annulee"}, "scrutin", "bureau"])
def test_the_options_are_those_of_the_scopes_querysets(commune, other_commune, data):
    national, partielle, elsewhere, mine, theirs = _scope(commune, other_commune)
    if data == "scrutin":
        data = {"scrutin": str(partielle.pk)}
    elif data == "bureau":
        data = {"bureau": str(mine[0].pk)}
    for key in (commune.pk, commune):  # the commune's pk (the queue) or the Commune
        ours = QueueFilterForm(data, commune=key)
        before = _ByQuerysets(data, commune=commune)
        for name in ("scrutin", "bureau"):
            assert str(ours[name]) == str(before[name])
        assert "Partielle d&#x27;Almayrac" in str(ours["scrutin"]) and "Partielle de Loisieux" not in str(ours["scrutin"])
        assert f'value="{theirs.pk}"' not in str(ours["bureau"])


@pytest.mark.parametrize("field, outside", [("scrutin", "elsewhere"), ("bureau", "theirs"), ("scrutin", "999999")])
def test_a_submitted_value_outside_the_communes_scope_is_refused_on_its_field(commune, other_commune, field, outside):
    national, partielle, elsewhere, mine, theirs = _scope(commune, other_commune)
    value = {"elsewhere": elsewhere.pk, "theirs": theirs.pk}.get(outside, outside)
    form = QueueFilterForm({field: str(value)}, commune=commune.pk)
    assert not form.is_valid()
    assert list(form.errors) == [field]
    assert "Sélectionnez un choix valide" in form.errors[field][0]
    good = QueueFilterForm({"scrutin": str(partielle.pk), "bureau": str(mine[1].pk)}, commune=commune.pk)
    assert good.is_valid(), good.errors
    assert good.cleaned_data["scrutin"] == partielle and good.cleaned_data["bureau"] == mine[1]


def test_a_bureau_of_another_commune_in_the_url_filters_nothing_and_says_so(client, agent_mairie, commune,
                                                                            other_commune):
    _national, _partielle, _elsewhere, mine, theirs = _scope(commune, other_commune)
    client.force_login(agent_mairie)
    response = client.get(reverse("mairie:queue"), {"bureau": theirs.pk})
    assert response.status_code == 200
    assert "Sélectionnez un choix valide" in response.content.decode()


def test_the_queues_everyday_requests_build_no_queryset_of_the_scope_nor_of_the_queue(client, agent_mairie, commune,
                                                                                      other_commune, monkeypatch):
    """After the first request of the process (the statements compiled), an unfiltered queue page
    or one filtered by status builds neither the scope's queryset (ScrutinQuerySet.concernant) nor
    the queue's (listing.queue_queryset): the counts' page and the options are compiled statements."""
    national, partielle, _elsewhere, mine, _theirs = _scope(commune, other_commune)
    waiting = ProcurationFactory(validee_autorite=True, commune=commune, scrutin=national)
    client.force_login(agent_mairie)

    def shown(params):
        response = client.get(reverse("mairie:queue"), params)
        assert response.status_code == 200
        page = response.context["page"]
        return str(response.context["filters_html"]), str(response.context["rows_html"]), page.paginator.count, page.number

    first = {params: shown(params) for params in ((), (("status", "validee_autorite"),), (("page", "1"),))}

    def built(*args, **kwargs):
        raise AssertionError("built on an everyday request")

    monkeypatch.setattr(ScrutinQuerySet, "concernant", built)
    monkeypatch.setattr(listing, "queue_queryset", built)
    for params, before in first.items():
        filters, rows, count, number = shown(params)
        assert (filters, rows, count, number) == before
        assert waiting.reference in rows and "Partielle d&#x27;Almayrac" in filters and "Bureau n° 12" in filters
        assert (count, number) == (1, 1)

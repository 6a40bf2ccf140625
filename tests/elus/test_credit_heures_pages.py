"""The élu's space (mairie portal) and the public simulator: each calls the one rule of
procuration/credit_heures.py, shows its errors on the field, and changes nothing when it refuses."""

import datetime
import html
import subprocess

import pytest
from django.urls import reverse
from django.utils import timezone

from elus.models import Absence, Mandat
from procuration.credit_heures import Nature, quarter_bounds
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def text(response) -> str:
    return html.unescape(response.content.decode())


@pytest.fixture
def maire(commune_admin, commune):
    commune.population = 380
    commune.save()
    return Mandat.objects.create(user=commune_admin, fonction="maire", employeur="Boulangerie Roux")


def _future(days=10):
    return timezone.localdate() + datetime.timedelta(days=days)


def _same_quarter_day():
    """A day of the current quarter at least 3 days ahead when possible, else today."""
    today = timezone.localdate()
    day = today + datetime.timedelta(days=3)
    return day if quarter_bounds(day) == quarter_bounds(today) else today


def test_espace_shows_the_quarter_credit_from_function_and_population(client, maire, commune):
    client.force_login(maire.user)
    page = text(client.get(reverse("elus:espace")))
    assert "Maire d'Almayrac (380 habitants)" in page
    assert '<strong id="credit">122 h 30</strong>' in page
    commune.majoration_credit_heures = 10
    commune.save()
    page = text(client.get(reverse("elus:espace")))
    assert '<strong id="credit">134 h 45</strong>' in page  # 122 h 30 × 1,1


def test_record_absence_then_refused_past_the_quarter_credit(client, maire):
    client.force_login(maire.user)
    day = _same_quarter_day()
    r = client.post(reverse("elus:espace"), {"date": day.isoformat(), "duree": "120 h", "nature": Nature.CREDIT})
    assert r.status_code == 302
    absence = Absence.objects.get(mandat=maire)
    assert (absence.duree, absence.nature, absence.date) == (7200, Nature.CREDIT, day)
    r = client.post(reverse("elus:espace"), {"date": day.isoformat(), "duree": "2 h 31", "nature": Nature.CREDIT})
    assert r.status_code == 200
    page = text(r)
    assert "Cette absence dépasse votre crédit d'heures du trimestre : il vous reste 2 h 30 sur 122 h 30" in page
    assert 'aria-invalid="true"' in r.content.decode() or "fr-input-group--error" in page
    assert Absence.objects.filter(mandat=maire).count() == 1
    # A meeting does not use the crédit.
    r = client.post(reverse("elus:espace"), {"date": day.isoformat(), "duree": "3:00", "nature": Nature.REUNION,
                                             "objet": "Conseil municipal"})
    assert r.status_code == 302
    assert Absence.objects.filter(mandat=maire).count() == 2


def test_refused_past_the_yearly_cap(client, maire):
    day = _same_quarter_day()
    # 800 h of meetings already this year (spread over the year's first day).
    Absence.objects.create(mandat=maire, date=datetime.date(day.year, 1, 1), duree=800 * 60, nature=Nature.REUNION)
    client.force_login(maire.user)
    r = client.post(reverse("elus:espace"), {"date": day.isoformat(), "duree": "4 h", "nature": Nature.REUNION})
    assert r.status_code == 200
    assert "dépasse le plafond annuel de 803 h 30" in text(r)
    assert "il vous reste 3 h 30 cette année" in text(r)
    assert Absence.objects.filter(mandat=maire).count() == 1


@pytest.mark.parametrize("duree", ["", "abc", "2 h 75", "-3", "1,01"])
def test_bad_duration_is_a_field_error(client, maire, duree):
    client.force_login(maire.user)
    r = client.post(reverse("elus:espace"), {"date": _future().isoformat(), "duree": duree, "nature": Nature.CREDIT})
    assert r.status_code == 200
    assert not Absence.objects.exists()


def test_late_notice_is_said(client, maire):
    client.force_login(maire.user)
    r = client.post(reverse("elus:espace"), {"date": timezone.localdate().isoformat(), "duree": "1 h",
                                             "nature": Nature.REUNION}, follow=True)
    assert "doit être informé par écrit au moins 3 jours avant" in text(r)
    r = client.post(reverse("elus:espace"), {"date": _future(3).isoformat(), "duree": "1 h",
                                             "nature": Nature.REUNION}, follow=True)
    assert "Attention : votre employeur" not in text(r)


def test_notice_pdf_states_date_duration_and_remaining_credit(client, maire):
    day = _same_quarter_day()
    absence = maire.enregistrer_absence(date=day, duree=150, nature=Nature.CREDIT)
    client.force_login(maire.user)
    r = client.get(reverse("elus:avis", args=[absence.pk]))
    assert r["Content-Type"] == "application/pdf"
    # Tagged like every PDF of the product (procuration/pdf.py): structure tree, title, language.
    from tests.procuration.test_pdf_accessible import assert_accessible_pdf

    assert_accessible_pdf(r.content, "Information de l'employeur — absence d'un élu municipal", has={"/Document", "/P"})
    pdf = subprocess.run(["pdftotext", "-layout", "-", "-"], input=r.content, capture_output=True, check=True).stdout
    body = " ".join(pdf.decode().split())
    assert "Information de l'employeur" in body
    assert "Durée de l'absence 2 h 30" in body
    assert "Crédit restant ce trimestre 120 h" in body
    assert "Boulangerie Roux" in body
    assert f"{day.year}" in body


def test_agent_without_mandate_403_and_other_elus_notice_404(client, maire, agent_mairie, commune):
    client.force_login(agent_mairie)
    assert client.get(reverse("elus:espace")).status_code == 403
    absence = maire.enregistrer_absence(date=_same_quarter_day(), duree=60, nature=Nature.CREDIT)
    other = Mandat.objects.create(user=UserFactory(agent_mairie=True, commune=commune), fonction="conseiller")
    client.force_login(other.user)
    assert client.get(reverse("elus:avis", args=[absence.pk])).status_code == 404
    assert client.get(reverse("elus:espace")).status_code == 200


def test_mairie_nav_links_the_space_for_elus_only(client, maire, agent_mairie):
    client.force_login(maire.user)
    assert reverse("elus:espace") in client.get(reverse("mairie:home")).content.decode()
    client.force_login(agent_mairie)
    assert reverse("elus:espace") not in client.get(reverse("mairie:home")).content.decode()


# ---------------------------------------------------------------- simulator (public)
@pytest.mark.parametrize(("params", "expected"), [
    ({"assemblee": "commune", "fonction": "adjoint", "population": "45000"}, "140 h par trimestre"),
    ({"assemblee": "commune", "fonction": "conseiller", "population": "5000", "majoration": "30"},
     "13 h 39 par trimestre"),
    ({"assemblee": "departement", "fonction": "conseiller", "temps_travail": "50"}, "52 h 30 par trimestre"),
    ({"assemblee": "region", "fonction": "vice_president"}, "140 h par trimestre"),
])
def test_simulator_answers(client, params, expected):
    page = text(client.get(reverse("elus:simulateur"), params))
    assert f"Crédit d'heures : {expected}" in page
    assert "803 h 30" in page and "16,91 € de l'heure" in page


def test_simulator_states_cap_and_compensation(client):
    page = text(client.get(reverse("elus:simulateur")))
    assert "<strong id=\"plafond\">803 h 30</strong>" in page
    assert "72 heures par an au plus, à 16,91 € de l'heure au plus" in page
    assert "(soit 1217,52 € par an au maximum)" in page


@pytest.mark.parametrize(("params", "field", "message"), [
    ({"assemblee": "commune", "fonction": "maire", "population": "100", "majoration": "40"}, "majoration",
     "La majoration est comprise entre 0 et 30 %."),
    ({"assemblee": "commune", "fonction": "maire"}, "population", "Indiquez la population de la commune"),
    ({"assemblee": "region", "fonction": "adjoint"}, "fonction", "Cette fonction n'existe pas dans ce conseil"),
])
def test_simulator_domain_errors_on_their_field(client, params, field, message):
    r = client.get(reverse("elus:simulateur"), params)
    form = r.context["form"]
    assert any(message in e for e in form.errors[field])
    assert r.context["result"] is None

import pytest
from django.urls import reverse

from procuration import demo
from procuration.access import has_totp
from procuration.models import User

pytestmark = pytest.mark.django_db


def test_demo_has_elus_and_a_national_admin_with_totp(client):
    demo.load(3)
    demo.load(3)  # idempotent
    admin = User.objects.get(username="admin")
    assert has_totp(admin)
    client.force_login(admin)
    assert client.get(reverse("backoffice:home")).status_code == 200
    conseiller = User.objects.get(username="elu.almayrac")
    assert (conseiller.mandat.fonction, conseiller.mandat.temps_travail) == ("conseiller", 80)
    client.force_login(conseiller)
    page = client.get(reverse("elus:espace")).content.decode()
    assert '<strong id="credit">8 h 24</strong>' in page  # 10 h 30 × 80 % (Almayrac, 380 habitants)
    assert User.objects.get(username="maire.almayrac").mandat.fonction == "maire"

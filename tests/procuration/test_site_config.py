"""The DSFR site configuration (notice banner, mourning…) is read once per process, not per page,
and an edit made in the admin shows at once."""

from django.db import connection
from django.test.utils import CaptureQueriesContext
from dsfr.models import DsfrConfig

from tests.police._helpers import text


def _config_queries(ctx):
    return [q["sql"] for q in ctx.captured_queries if "dsfr_dsfrconfig" in q["sql"]]


def test_site_config_is_read_once_and_an_edit_shows_at_once(client, db):
    config = DsfrConfig.objects.create(language="fr", notice_title="Scrutin du 14 mars : pensez à votre procuration")
    with CaptureQueriesContext(connection) as first:
        assert "Scrutin du 14 mars" in text(client.get("/"))
    assert _config_queries(first)
    with CaptureQueriesContext(connection) as second:
        assert "Scrutin du 14 mars" in text(client.get("/accessibilite/"))
    assert _config_queries(second) == []

    config.notice_title = "Maintenance ce soir de 22 h à 23 h"
    config.save()
    page = text(client.get("/"))
    assert "Maintenance ce soir" in page and "Scrutin du 14 mars" not in page
    config.delete()
    assert "Maintenance ce soir" not in text(client.get("/"))

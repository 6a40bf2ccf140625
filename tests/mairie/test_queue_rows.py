"""The queue's rows written in Python (mairie/queue_rows.py, issue 16) are the HTML the template's
loop wrote, byte for byte: that loop is kept below as it was, and both are rendered and compared."""

import datetime

import pytest
from django.template import Context, Template
from django.urls import reverse

from procuration.models import AnnulationMotif, Status
from tests.factories import ElecteurFactory, ProcurationFactory, ScrutinFactory

pytestmark = pytest.mark.django_db

# mairie/templates/mairie/queue.html before issue 16: the loop over the rows, verbatim.
TEMPLATE_LOOP = '  {% for p in rows %}\n    <tr data-reference="{{ p.reference }}">\n      {% if waiting_view %}<td>{% if p.verdict.all_ok %}<div class="fr-checkbox-group fr-checkbox-group--sm"><input type="checkbox" name="ids" value="{{ p.pk }}" id="sel-{{ p.pk }}"><label class="fr-label" for="sel-{{ p.pk }}"><span class="fr-sr-only">Sélectionner {{ p.reference }}</span></label></div>{% endif %}</td>{% endif %}\n      <td><a href="{% url \'mairie:detail\' p.pk %}">{{ p.reference }}</a></td>\n      <td>{{ p.mandant.nom|upper }} {{ p.mandant.prenoms }}</td>\n      <td>{{ p.mandataire.nom|upper }} {{ p.mandataire.prenoms }}</td>\n      <td>{% if p.scrutin %}{{ p.scrutin.libelle }}{% else %}Du {{ p.valid_from|date:"d/m/Y" }} au {{ p.valid_until|date:"d/m/Y" }}{% endif %}</td>\n      <td>{% if p.mandant.bureau %}n° {{ p.mandant.bureau.numero }}{% else %}—{% endif %}</td>\n      <td>{{ p.autorite_at|date:"d/m/Y H:i" }}</td>\n      {% for r in p.columns %}<td>{% if r.ok %}<p class="fr-badge fr-badge--success fr-badge--sm" title="{{ r.message }}">Conforme</p>{% else %}<p class="fr-badge fr-badge--error fr-badge--sm" title="{{ r.message }}">Non conforme</p>{% endif %}</td>{% endfor %}\n      <td class="verdict">{% if p.annulation_motif %}<strong>{{ p.get_status_display }}</strong> : {{ p.get_annulation_motif_display }}{% elif p.verdict.all_ok %}<strong>Tous les contrôles sont conformes</strong>{% else %}<strong>À examiner</strong>{% for r in p.verdict.results %}{% if not r.ok %}<br><span class="fr-text--xs">{{ r.message }}</span>{% endif %}{% endfor %}{% endif %}</td>\n    </tr>\n  {% endfor %}\n'


def _rows(commune):
    s = ScrutinFactory(libelle="Européennes <2026> & « test »")
    ok = ProcurationFactory(validee_autorite=True, commune=commune, scrutin=s,
                            mandant=ElecteurFactory(commune=commune, nom="o'brien <b>", prenoms="Zoé & Léa"))
    radie = ProcurationFactory(validee_autorite=True, commune=commune, mandant=ElecteurFactory(commune=commune),
                               mandataire=ElecteurFactory(commune=commune, inscrit=False, nom="d'Almayrac"))
    no_bureau = ProcurationFactory(validee_autorite=True, commune=commune, scrutin=None,
                                   valid_from=datetime.date.today() + datetime.timedelta(days=3),
                                   valid_until=datetime.date.today() + datetime.timedelta(days=200),
                                   mandant=ElecteurFactory(commune=commune, bureau=None))
    done = ProcurationFactory(validee_mairie=True, commune=commune, mandant=ElecteurFactory(commune=commune))
    annulee = ProcurationFactory(validee_mairie=True, status=Status.ANNULEE, annulation_motif=AnnulationMotif.PLAFOND,
                                 commune=commune, mandant=ElecteurFactory(commune=commune))
    return ok, radie, no_bureau, done, annulee


@pytest.mark.parametrize("status", ["", Status.VALIDEE_MAIRIE, Status.ANNULEE])
def test_queue_rows_are_the_templates_html(client, agent_mairie, commune, status):
    ok, radie, no_bureau, done, annulee = _rows(commune)
    client.force_login(agent_mairie)
    response = client.get(reverse("mairie:queue"), {"status": status} if status else {})
    assert response.status_code == 200
    context = response.context
    rows = context["rows"]
    expected_refs = {"": {ok.reference, radie.reference, no_bureau.reference}, Status.VALIDEE_MAIRIE: {done.reference},
                     Status.ANNULEE: {annulee.reference}}[status]
    assert {p.reference for p in rows} == expected_refs
    old = Template(TEMPLATE_LOOP).render(Context({"rows": rows, "waiting_view": context["waiting_view"]}))
    assert str(context["rows_html"]) == old[len("  "):-len("\n")]  # the loop without its own indentation
    assert "  <tbody>\n" + old + "  </tbody>" in response.content.decode()
    if not status:  # every branch of the row was rendered
        page = response.content.decode()
        assert "O&#x27;BRIEN &lt;B&gt; Zoé &amp; Léa" in page and "Européennes &lt;2026&gt; &amp; « test »" in page
        assert f'id="sel-{ok.pk}"' in page and f'id="sel-{radie.pk}"' not in page
        assert "Non conforme" in page and "À examiner" in page and "<td>—</td>" in page and "<td>Du " in page
    if status == Status.ANNULEE:
        assert "(article L.73 du code électoral)" in response.content.decode()

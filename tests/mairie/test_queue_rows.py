"""The queue's rows written in Python (mairie/queue_rows.py, issue 16) are the HTML the template's
loop wrote, byte for byte: that loop is kept below as it was, and both are rendered and compared.
The page reads light rows (procuration.rows, only the columns shown and checked); the old loop is
rendered here with the model instances, loaded in full, and their verdicts."""

import datetime

import pytest
from django.template import Context, Template
from django.urls import reverse

from mairie import queue_rows
from mairie.views import QUEUE_COLUMNS
from procuration import checks
from procuration.models import AnnulationMotif, Procuration, Status
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
    # Every column, as the page read them before.
    full = list(Procuration.objects.filter(pk__in=[p.pk for p in rows]).select_related(*checks.RELATED))
    order = [p.pk for p in rows]
    full.sort(key=lambda p: order.index(p.pk))  # the page's order
    verdicts = checks.evaluate_page(full)
    for p in full:
        p.verdict = verdicts[p.pk]
        p.columns = [r for r in p.verdict.results if r.code in QUEUE_COLUMNS]
    old = Template(TEMPLATE_LOOP).render(Context({"rows": full, "waiting_view": context["waiting_view"]}))
    assert str(context["rows_html"]) == old[len("  "):-len("\n")]  # the loop without its own indentation
    assert "  <tbody>\n" + old + "  </tbody>" in response.content.decode()
    if not status:  # every branch of the row was rendered
        page = response.content.decode()
        assert "O&#x27;BRIEN &lt;B&gt; Zoé &amp; Léa" in page and "Européennes &lt;2026&gt; &amp; « test »" in page
        assert f'id="sel-{ok.pk}"' in page and f'id="sel-{radie.pk}"' not in page
        assert "Non conforme" in page and "À examiner" in page and "<td>—</td>" in page and "<td>Du " in page
    if status == Status.ANNULEE:
        assert "(article L.73 du code électoral)" in response.content.decode()


# mairie/templates/mairie/queue.html before issue 16: the loop over the filter fields, verbatim.
FILTERS_LOOP = '{% for field in form %}<div class="fr-col-12 fr-col-md-3">{{ field.as_field_group }}</div>{% endfor %}'


def _filters(client, params):
    response = client.get(reverse("mairie:queue"), params)
    assert response.status_code == 200
    return response, str(response.context["filters_html"])


@pytest.mark.parametrize("params", [
    {}, {"status": Status.ANNULEE, "age": "3"}, {"status": Status.VALIDEE_MAIRIE, "age": "14", "page": "2"},
    {"age": "deux", "status": "inconnu"},  # errors: rendered each time, the same markup
], ids=["unbound", "filtered", "filtered-page-2", "errors"])
def test_queue_filters_are_the_templates_html_and_follow_the_choices(client, agent_mairie, commune, params):
    """Kept per process, the filters are still the loop's HTML, and a new scrutin or bureau shows at once."""
    from mairie.listing import queue_form
    from tests.factories import BureauDeVoteFactory

    s = ScrutinFactory(libelle="Municipales <2026> & « test »")
    BureauDeVoteFactory(commune=commune, numero=7)
    client.force_login(agent_mairie)
    for _ in range(2):  # the second one from the process's cache (or rendered again, with errors)
        response, html = _filters(client, {**params, "scrutin": s.pk} if params else params)
        form = queue_form(agent_mairie, response.wsgi_request.GET)
        assert html == Template(FILTERS_LOOP).render(Context({"form": form}))
        assert '<div class="fr-grid-row fr-grid-row--gutters">\n    ' + html + "\n  </div>" in response.content.decode()
        assert (html in queue_rows._FILTERS.values()) == (not form.errors)  # kept unless it shows errors
    assert "Municipales &lt;2026&gt; &amp; « test »" in html and "Bureau n° 7 — " in html
    new_scrutin = ScrutinFactory(libelle="Législatives partielles")
    BureauDeVoteFactory(commune=commune, numero=12)
    _response, html = _filters(client, params)
    assert "Législatives partielles" in html and f'value="{new_scrutin.pk}"' in html and "Bureau n° 12 — " in html
    assert html == Template(FILTERS_LOOP).render(Context({"form": queue_form(agent_mairie, _response.wsgi_request.GET)}))


def test_queue_filters_of_one_commune_are_not_shown_to_another(client, agent_mairie, agent_mairie_b, commune,
                                                             other_commune):
    from tests.factories import BureauDeVoteFactory

    mine = BureauDeVoteFactory(commune=commune, numero=3, nom="École Jean Jaurès")
    theirs = BureauDeVoteFactory(commune=other_commune, numero=3, nom="Salle des fêtes")
    client.force_login(agent_mairie)
    _response, html = _filters(client, {})
    client.force_login(agent_mairie_b)
    _response, html_b = _filters(client, {})
    assert f'value="{mine.pk}"' in html and f'value="{mine.pk}"' not in html_b
    assert f'value="{theirs.pk}"' in html_b and f'value="{theirs.pk}"' not in html

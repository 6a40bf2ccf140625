"""The mairie's decisions, to the word and to the boundary (mairie/views.py): what the agent is told
after a validation, a replay or a refusal; which ticked ids a batch takes (the first 200, digits only)
and where it goes back; the dashboard's « tour within 7 days » tile and its scrutins' order."""

import datetime
import html as htmllib

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.urls import reverse

from procuration.models import InvalidationMotif, Procuration, Status, User
from procuration.models.territory import de
from tests.factories import ElecteurFactory, ProcurationFactory, ScrutinFactory, UserFactory

pytestmark = pytest.mark.django_db


def waiting(commune, **kwargs):
    kwargs.setdefault("mandant", ElecteurFactory(commune=commune))
    return ProcurationFactory(validee_autorite=True, commune=commune, **kwargs)


def told(response) -> list[tuple[str, str]]:
    """The messages the view queued, as (level, text)."""
    return [(m.level_tag, str(m)) for m in get_messages(response.wsgi_request)]


def post(client, url, data=None):
    """POST, then read the page it redirects to, as the browser does (the messages are shown there, once)."""
    r = client.post(url, data or {})
    r.told = told(r)
    if r.status_code == 302:
        client.get(r["Location"])
    return r


def status(p) -> str:
    return Procuration.objects.values_list("status", flat=True).get(pk=p.pk)


# ------------------------------------------------------------------ one procuration


def test_validate_then_replay_is_told_apart(client, agent_mairie, commune):
    p = waiting(commune)
    client.force_login(agent_mairie)
    url = reverse("mairie:validate", args=[p.pk])
    r = post(client, url)
    assert (r.status_code, r["Location"]) == (302, reverse("mairie:detail", args=[p.pk]))
    assert r.told == [("success", f"Procuration {p.reference} validée. Le mandant en est informé par courriel.")]
    r = post(client, url)
    assert r.status_code == 302
    assert r.told == [("info", f"La procuration {p.reference} était déjà validée.")]
    assert status(p) == Status.VALIDEE_MAIRIE and Procuration.objects.get(pk=p.pk).events.count() == 1


def test_invalidate_then_replay_is_told_apart(client, agent_mairie, commune):
    p = waiting(commune)
    client.force_login(agent_mairie)
    url = reverse("mairie:invalidate", args=[p.pk])
    data = {"motif": InvalidationMotif.AUTRE, "detail": "  Le mandant a déménagé.  "}
    r = post(client, url, data)
    assert (r.status_code, r["Location"]) == (302, reverse("mairie:detail", args=[p.pk]))
    assert r.told == [("success", f"Procuration {p.reference} invalidée. Le mandant reçoit le motif par courriel.")]
    assert Procuration.objects.get(pk=p.pk).motif_detail == "Le mandant a déménagé."
    r = post(client, url, data)
    assert r.told == [("info", f"La procuration {p.reference} était déjà invalidée.")]
    assert status(p) == Status.INVALIDEE_MAIRIE


def test_a_decision_the_state_machine_refuses_is_a_message_and_a_redirect_not_a_form_error(
        client, agent_mairie, commune):
    validated, invalidated = waiting(commune), waiting(commune)
    client.force_login(agent_mairie)
    post(client, reverse("mairie:validate", args=[validated.pk]))
    post(client, reverse("mairie:invalidate", args=[invalidated.pk]), {"motif": InvalidationMotif.PLAFOND_ATTEINT})

    r = post(client, reverse("mairie:invalidate", args=[validated.pk]), {"motif": InvalidationMotif.PLAFOND_ATTEINT})
    assert (r.status_code, r["Location"]) == (302, reverse("mairie:detail", args=[validated.pk]))
    [(level, message)] = r.told
    assert level == "error"
    assert message.endswith(" une procuration dont le statut est « Validée par la mairie ».")
    assert status(validated) == Status.VALIDEE_MAIRIE

    r = post(client, reverse("mairie:validate", args=[invalidated.pk]))
    assert (r.status_code, r["Location"]) == (302, reverse("mairie:detail", args=[invalidated.pk]))
    assert r.told == [("error", "Impossible de valider (mairie) une procuration dont le statut est "
                                 "« Invalidée par la mairie ».")]
    assert status(invalidated) == Status.INVALIDEE_MAIRIE


@pytest.mark.parametrize("name", ["validate", "invalidate", "batch_validate"])
def test_a_decision_is_a_post(client, agent_mairie, commune, name):
    p = waiting(commune)
    client.force_login(agent_mairie)
    url = reverse(f"mairie:{name}", args=[] if name == "batch_validate" else [p.pk])
    r = client.get(url, {"ids": p.pk})
    assert r.status_code == 405 and r["Allow"] == "POST"
    for method in ("put", "patch", "delete", "options"):  # only POST acts, whatever sorts after it
        r = getattr(client, method)(url, f"ids={p.pk}", content_type="application/x-www-form-urlencoded")
        assert r.status_code == 405 and r["Allow"] == "POST", method
    assert status(p) == Status.VALIDEE_AUTORITE


def test_a_validation_form_that_does_not_hold_answers_400_and_validates_nothing(client, agent_mairie, commune):
    p = waiting(commune)
    client.force_login(agent_mairie)
    r = client.post(reverse("mairie:validate", args=[p.pk]), {"forcer": "on", "motif_forcage": "x" * 1001})
    assert r.status_code == 400
    assert r.context["validation_form"].errors["motif_forcage"] == [
        "Assurez-vous que cette valeur comporte au plus 1000 caractères (actuellement 1001)."]
    assert status(p) == Status.VALIDEE_AUTORITE


# ------------------------------------------------------------------ batch


@pytest.mark.parametrize("n, message", [
    (1, "1 procuration validée."),
    (2, "2 procurations validées."),
])
def test_batch_says_how_many_in_the_singular_or_the_plural(client, agent_mairie, commune, n, message):
    ps = [waiting(commune) for _ in range(n)]
    client.force_login(agent_mairie)
    r = post(client, reverse("mairie:batch_validate"), {"ids": [p.pk for p in ps]})
    assert r.told == [("success", message)]
    assert [status(p) for p in ps] == [Status.VALIDEE_MAIRIE] * n


def test_batch_where_every_row_was_left_alone_says_only_that(client, agent_mairie, commune):
    bad = waiting(commune)
    bad.mandataire.inscrit = False
    bad.mandataire.save()
    client.force_login(agent_mairie)
    r = post(client, reverse("mairie:batch_validate"), {"ids": [bad.pk]})
    assert r.told == [("warning", "Non validées (un contrôle n'est plus conforme ou le statut a changé) : "
                                   f"{bad.reference}.")]
    done = ProcurationFactory(validee_mairie=True, commune=commune, mandant=ElecteurFactory(commune=commune))
    r = post(client, reverse("mairie:batch_validate"), {"ids": [done.pk]})
    assert r.told == [("info", "Aucune des procurations cochées n'attendait plus la mairie.")]


@pytest.mark.parametrize("position, validated", [(200, True), (201, False)])
def test_batch_takes_the_first_200_ids_ticked(client, agent_mairie, commune, position, validated):
    p = waiting(commune)
    others = [str(10_000_000 + i) for i in range(position - 1)]  # ids of nothing
    client.force_login(agent_mairie)
    r = post(client, reverse("mairie:batch_validate"), {"ids": [*others, p.pk]})
    assert status(p) == (Status.VALIDEE_MAIRIE if validated else Status.VALIDEE_AUTORITE)
    assert r.told == ([("success", "1 procuration validée.")] if validated else
                       [("info", "Aucune des procurations cochées n'attendait plus la mairie.")])


def test_batch_skips_what_is_not_a_number_in_ascii_digits(client, agent_mairie, commune):
    p = waiting(commune)
    client.force_login(agent_mairie)
    r = post(client, reverse("mairie:batch_validate"), {"ids": ["²", "١٢", "abc", "-1", "", " 7", str(p.pk)]})
    assert r.status_code == 302
    assert r.told == [("success", "1 procuration validée.")]
    assert status(p) == Status.VALIDEE_MAIRIE


@pytest.mark.parametrize("next_url, back", [
    ("", "/mairie/file/"),
    ("/mairie/file/?scrutin=3&page=2", "/mairie/file/?scrutin=3&page=2"),
    ("https://ailleurs.example/mairie/file/", "/mairie/file/"),
    ("/mairie/recherche/", "/mairie/file/"),
])
def test_batch_goes_back_to_the_queue_page_it_came_from_and_nowhere_else(client, agent_mairie, commune, next_url,
                                                                         back):
    assert reverse("mairie:queue") == "/mairie/file/"
    p = waiting(commune)
    client.force_login(agent_mairie)
    r = post(client, reverse("mairie:batch_validate"), {"ids": [p.pk], "next": next_url})
    assert r["Location"] == back
    r = post(client, reverse("mairie:batch_validate"), {"next": next_url})  # nothing ticked: the same way back
    assert r["Location"] == back


# ------------------------------------------------------------------ dashboard

TODAY = datetime.date(2027, 3, 10)


def test_the_urgent_tile_counts_what_waits_for_a_tour_from_today_to_seven_days_ahead(client, agent_mairie, commune):
    def day(n):
        return TODAY + datetime.timedelta(days=n)

    def w(scrutin, tour1, tour2):
        return waiting(commune, scrutin=scrutin, tour1=tour1, tour2=tour2)

    edge_ahead = ScrutinFactory(libelle="A", date_tour1=day(7), date_tour2=day(14))
    edge_today = ScrutinFactory(libelle="B", date_tour1=day(-7), date_tour2=day(0))
    single = ScrutinFactory(libelle="C", date_tour1=day(3), date_tour2=None)
    both = ScrutinFactory(libelle="D", date_tour1=day(1), date_tour2=day(6))
    too_late = ScrutinFactory(libelle="E", date_tour1=day(8), date_tour2=day(15))
    past = ScrutinFactory(libelle="F", date_tour1=day(-1), date_tour2=None)
    counted = [w(edge_ahead, True, False), w(edge_today, False, True), w(single, True, False), w(both, True, True)]
    not_counted = [w(edge_ahead, False, True), w(edge_today, True, False), w(too_late, True, True),
                   w(past, True, False)]
    ProcurationFactory(validee_mairie=True, commune=commune, scrutin=single, mandant=ElecteurFactory(commune=commune))
    assert len(counted) == 4 and len(not_counted) == 4
    client.force_login(agent_mairie)
    with time_machine.travel(datetime.datetime(2027, 3, 10, 9, 0, tzinfo=datetime.UTC), tick=False):
        page = htmllib.unescape(client.get(reverse("mairie:home")).content.decode())
    assert '<p class="fr-tile__detail" id="urgent-count">4</p>' in page
    assert '<p class="fr-tile__detail" id="waiting-count">8</p>' in page


def test_the_dashboard_lists_the_duree_first_then_the_scrutins_latest_first(client, agent_mairie, commune):
    for libelle, tour1 in (("Municipales", 20), ("Européennes", 90), ("Partielle", 45)):
        waiting(commune, scrutin=ScrutinFactory(libelle=libelle, date_tour1=TODAY + datetime.timedelta(days=tour1),
                                                date_tour2=None))
    ProcurationFactory(validee_autorite=True, commune=commune, mandant=ElecteurFactory(commune=commune),
                       portee="duree", scrutin=None, tour1=False, tour2=False,
                       valid_from=TODAY, valid_until=TODAY + datetime.timedelta(days=200))
    client.force_login(agent_mairie)
    with time_machine.travel(datetime.datetime(2027, 3, 10, 9, 0, tzinfo=datetime.UTC), tick=False):
        page = htmllib.unescape(client.get(reverse("mairie:home")).content.decode())
    rows = [label for label in ("Procurations pour une durée limitée", "Européennes", "Partielle", "Municipales")
            if f"<tr><td>{label}</td>" in page]
    assert len(rows) == 4
    assert sorted(rows, key=lambda label: page.index(f"<tr><td>{label}</td>")) == [
        "Procurations pour une durée limitée", "Européennes", "Partielle", "Municipales"]


# ------------------------------------------------------------------ the commune's administrator


def test_an_administrator_cannot_manage_another_administrator_of_the_same_commune(client, commune_admin, commune):
    from tests.factories import UserFactory

    other_admin = UserFactory(username="admin-a2", commune_admin=True, commune=commune)
    client.force_login(commune_admin)
    for name in ("agent_edit", "agent_toggle", "agent_reset"):
        url = reverse(f"mairie:{name}", args=[other_admin.pk])
        r = client.get(url) if name == "agent_edit" else client.post(url)
        assert r.status_code == 403, name
    other_admin.refresh_from_db()
    assert other_admin.is_active and other_admin.is_commune_admin


@pytest.mark.parametrize("appointed", ["before", "after"])
def test_the_administrator_manages_the_agents_whenever_either_was_created(client, commune, appointed):
    """Appointed before or after the agent (whatever their order in the table), the administrator
    edits, disables and resets the agent's account."""
    from tests.factories import UserFactory

    admin = UserFactory(username="admin-a", commune_admin=True, commune=commune) if appointed == "before" else None
    agent = UserFactory(username="agent-a", agent_mairie=True, commune=commune)
    admin = admin or UserFactory(username="admin-a", commune_admin=True, commune=commune)
    assert (admin.pk < agent.pk) == (appointed == "before")
    client.force_login(admin)
    assert client.get(reverse("mairie:agent_edit", args=[agent.pk])).status_code == 200
    r = post(client, reverse("mairie:agent_reset", args=[agent.pk]))
    assert r.status_code == 302 and r.told[0][0] == "success"
    r = post(client, reverse("mairie:agent_toggle", args=[agent.pk]))
    assert r.told == [("success", f"Le compte {de(str(agent))} est désactivé.")]
    assert not User.objects.get(pk=agent.pk).is_active


def test_the_agents_messages_elide_before_a_vowel(client, commune_admin, commune):
    agent = UserFactory(username="agent-anne", agent_mairie=True, commune=commune, first_name="Anne", last_name="Roy")
    client.force_login(commune_admin)
    r = post(client, reverse("mairie:agent_toggle", args=[agent.pk]))
    assert r.told == [("success", "Le compte d'Anne ROY est désactivé.")]


def test_disabling_then_enabling_an_agent_says_which_and_audits_which(client, commune_admin, agent_mairie):
    from procuration.models import AuditLog

    client.force_login(commune_admin)
    url = reverse("mairie:agent_toggle", args=[agent_mairie.pk])
    r = post(client, url)
    assert r.told == [("success", f"Le compte {de(str(agent_mairie))} est désactivé.")]
    r = post(client, url)
    assert r.told == [("success", f"Le compte {de(str(agent_mairie))} est réactivé.")]
    assert list(AuditLog.objects.filter(object_id=str(agent_mairie.pk), action__startswith="mairie.agent_")
                .order_by("pk").values_list("action", flat=True)) == ["mairie.agent_disable", "mairie.agent_enable"]


def test_editing_an_agents_name_only_tells_no_former_address(client, commune_admin, agent_mairie, mailoutbox,
                                                            django_capture_on_commit_callbacks):
    client.force_login(commune_admin)
    with django_capture_on_commit_callbacks(execute=True):
        r = post(client, reverse("mairie:agent_edit", args=[agent_mairie.pk]), {
            "first_name": agent_mairie.first_name, "last_name": "Nouveau-Nom", "email": agent_mairie.email})
    edited = User.objects.get(pk=agent_mairie.pk)
    assert edited.last_name == "Nouveau-Nom"
    assert r.told == [("success", f"Le compte {de(str(edited))} est modifié.")]
    assert mailoutbox == []


def test_saving_the_same_automatic_validation_setting_records_no_change(client, commune_admin, commune):
    from procuration.models import AuditLog

    client.force_login(commune_admin)
    r = post(client, reverse("mairie:parametres"), {})
    assert r.told == [("success", "Validation automatique désactivée : chaque procuration sera contrôlée par un agent.")]
    assert not AuditLog.objects.filter(action="mairie.auto_validation").exists()
    post(client, reverse("mairie:parametres"), {"auto_validation": "on"})
    r = post(client, reverse("mairie:parametres"), {"auto_validation": "on"})
    assert r.told == [("success", "Validation automatique activée.")]
    assert AuditLog.objects.filter(action="mairie.auto_validation").count() == 1


# ------------------------------------------------------------------ exports


@pytest.mark.parametrize("fmt, content_type", [("pdf", "application/pdf"), ("csv", "text/csv; charset=utf-8")])
def test_a_finished_export_downloads_with_its_type_and_one_without_its_file_answers_404(
        client, agent_mairie, commune, fmt, content_type, settings, tmp_path):
    from django.core.files.base import ContentFile

    from mairie.models import ExportJob

    settings.MEDIA_ROOT = tmp_path
    scrutin = ScrutinFactory()
    job = ExportJob.objects.create(commune=commune, requested_by=agent_mairie, scrutin=scrutin, tour=1, format=fmt,
                                   state="done")
    job.file.save(f"registre.{fmt}", ContentFile(b"contenu"))
    empty = ExportJob.objects.create(commune=commune, requested_by=agent_mairie, scrutin=scrutin, tour=1, format=fmt,
                                     state="done")
    client.force_login(agent_mairie)
    r = client.get(reverse("mairie:export_download", args=[job.pk]))
    assert (r.status_code, r["Content-Type"], b"".join(r.streaming_content)) == (200, content_type, b"contenu")
    assert client.get(reverse("mairie:export_download", args=[empty.pk])).status_code == 404


@pytest.mark.parametrize("state", ["pending", "running", "failed"])
def test_an_export_not_finished_is_not_downloaded_even_with_a_file(client, agent_mairie, commune, state, settings,
                                                                   tmp_path):
    """A file is served once its job is done: not while it is being written, nor after a failure."""
    from django.core.files.base import ContentFile

    from mairie.models import ExportJob

    settings.MEDIA_ROOT = tmp_path
    job = ExportJob.objects.create(commune=commune, requested_by=agent_mairie, scrutin=ScrutinFactory(), tour=1,
                                   format="csv", state=state)
    job.file.save("registre.csv", ContentFile(b"bureau;mandant\n"))
    client.force_login(agent_mairie)
    assert client.get(reverse("mairie:export_download", args=[job.pk])).status_code == 404


# ------------------------------------------------------------------ a paper CERFA keyed in


@pytest.mark.parametrize("case", ["to_check", "auto_validated", "over_the_plafond"])
def test_a_paper_cerfa_keyed_in_tells_what_became_of_it(client, agent_mairie, commune, case):
    from tests.mairie.test_dashboard_cerfa import _cerfa_data

    mandant, mandataire, scrutin = ElecteurFactory(commune=commune), ElecteurFactory(commune=commune), ScrutinFactory()
    if case == "auto_validated":
        commune.auto_validation = True
        commune.save()
    if case == "over_the_plafond":  # the mandataire already holds a procuration established in France for it
        ProcurationFactory(validee_mairie=True, commune=commune, scrutin=scrutin, mandataire=mandataire,
                           mandant=ElecteurFactory(commune=commune))
    client.force_login(agent_mairie)
    r = post(client, reverse("mairie:cerfa"), _cerfa_data(mandant, mandataire, scrutin))
    p = Procuration.objects.get(mandant=mandant)
    assert r["Location"] == reverse("mairie:detail", args=[p.pk])
    expected = {
        "to_check": (Status.VALIDEE_AUTORITE, "success",
                     f"Formulaire enregistré sous la référence {p.reference}. Contrôlez-le puis validez-le."),
        "auto_validated": (Status.VALIDEE_MAIRIE, "success",
                           f"Formulaire enregistré sous la référence {p.reference} et validé automatiquement : "
                           "tous les contrôles sont conformes."),
        "over_the_plafond": (Status.ANNULEE, "warning",
                             f"Formulaire enregistré sous la référence {p.reference} : la procuration est nulle. "
                             f"{p.get_annulation_motif_display()}. {p.motif_detail} Le mandant en est informé "
                             "s'il a donné son adresse électronique."),
    }[case]
    assert (p.status, *r.told[0]) == expected and len(r.told) == 1


def test_a_paper_cerfa_the_domain_refuses_shows_why_and_keeps_nothing(client, agent_mairie, commune):
    """The form finds both electors; the domain (Procuration.etablir) then refuses a mandataire on a
    liste complémentaire for a présidentielle: the page says why, on the form, and nothing is kept."""
    from procuration.models import Liste, ScrutinType
    from tests.mairie.test_dashboard_cerfa import _cerfa_data

    mandant = ElecteurFactory(commune=commune)
    ue = ElecteurFactory(commune=commune, liste=Liste.COMPLEMENTAIRE, nationalite="IT", complementaire_municipales=True)
    client.force_login(agent_mairie)
    r = client.post(reverse("mairie:cerfa"), _cerfa_data(mandant, ue, ScrutinFactory(type=ScrutinType.PRESIDENTIELLE)))
    assert r.status_code == 200
    errors = [e for field_errors in r.context["form"].errors.values() for e in field_errors]
    assert errors == ["Un électeur inscrit sur une liste complémentaire (citoyen de l'Union européenne) ne peut être "
                      "mandataire que pour les élections municipales et européennes, et pour chacune s'il est "
                      "inscrit sur sa liste."]
    assert not Procuration.objects.exists()

"""Domain rules of the listes portal: ILE lists, CERFA(s) and EU declaration, ILE deadline, RCO age
window, upload checks."""

import datetime
import zoneinfo
from typing import NamedTuple

import filetype
from django.conf import settings
from django.utils import timezone
from django.utils.formats import date_format

from procuration.exceptions import DomainError
from procuration.models import territory

PARIS = zoneinfo.ZoneInfo("Europe/Paris")
ACCEPTED_PIECE_TYPES = {"application/pdf": "PDF", "image/jpeg": "JPEG", "image/png": "PNG"}


def _fr(d: datetime.date) -> str:
    return date_format(d, "l j F Y")


# ------------------------------------------------------------------ flood

def check_teledossiers_today(usager, now=None) -> None:
    """At most LISTES_TELEDOSSIERS_PER_DAY télédossiers per usager per day (Paris time): a flood by
    one account is refused before anything is written. deposer() calls it again under a lock."""
    from listes.models import Teledossier

    limit = settings.LISTES_TELEDOSSIERS_PER_DAY
    local = timezone.localtime(now or timezone.now(), PARIS)
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    if Teledossier.objects.filter(usager=usager, created_at__gte=start).count() >= limit:
        raise DomainError(
            f"Vous avez déjà déposé {limit} télédossiers aujourd'hui, le maximum par jour. Votre démarche n'a "
            "pas été enregistrée : réessayez demain ou adressez-vous à votre mairie.",
            code="teledossiers_par_jour",
        )


# ------------------------------------------------------------------ ILE nationality and lists

# The nationality → list rule and the member states: procuration.models.territory (the register's
# import reads them too).
FRANCAISE, ETATS_MEMBRES_UE = territory.FRANCAISE, territory.ETATS_MEMBRES_UE
COMPLEMENTAIRE_MUNICIPALES = "municipales"
COMPLEMENTAIRE_EUROPEENNES = "europeennes"


class Listes(NamedTuple):
    """Where an accepted ILE registers the person (procuration.Electeur.liste and its flags)."""

    nationalite: str
    liste: str
    complementaire_municipales: bool
    complementaire_europeennes: bool


def ile_listes(nationalite: str, complementaires=()) -> Listes:
    """The list(s) of an inscription by nationality (L.11; LO.227-1, loi 77-729 art. 2-1): French
    → liste principale; a national of another EU member state → the liste complémentaire of the
    municipales and/or of the européennes, as asked (at least one); any other nationality is
    refused. Raises DomainError naming the form field."""
    from procuration.models import Liste

    nationalite = (nationalite or "").strip().upper()
    ouvertes = territory.listes_de_la_nationalite(nationalite)
    if Liste.PRINCIPALE in ouvertes:
        return Listes(FRANCAISE, Liste.PRINCIPALE, False, False)
    if Liste.COMPLEMENTAIRE not in ouvertes:
        raise DomainError(
            "L'inscription sur les listes électorales est ouverte aux personnes de nationalité française et, sur "
            "les listes complémentaires (élections municipales et européennes), aux ressortissants d'un autre État "
            "membre de l'Union européenne. Votre nationalité ne permet pas de vous inscrire.",
            code="ile_nationalite", field="nationalite",
        )
    chosen = set(complementaires or ())
    if not chosen & {COMPLEMENTAIRE_MUNICIPALES, COMPLEMENTAIRE_EUROPEENNES}:
        raise DomainError(
            "Choisissez au moins une liste complémentaire : celle des élections municipales, celle des élections "
            "européennes, ou les deux.", code="ile_complementaire", field="complementaires",
        )
    return Listes(nationalite, Liste.COMPLEMENTAIRE, COMPLEMENTAIRE_MUNICIPALES in chosen,
                  COMPLEMENTAIRE_EUROPEENNES in chosen)


# ------------------------------------------------------------------ ILE: the CERFA(s) and the EU citizen's declaration

# The legal bases of the declaration an EU citizen writes (each list has its own).
LO227_4 = "code électoral, article LO227-4"
LOI_77_729_ART_2_3 = "loi n° 77-729 du 7 juillet 1977, article 2-3"


class Cerfa(NamedTuple):
    """A form pre-filled into the dossier's ZIP: its number, title, file name in the ZIP, and the
    legal basis of the declaration it carries ("" for the French nationals' form)."""

    numero: str
    titre: str
    filename: str
    base_legale: str
    declaration: str


CERFA_12669 = Cerfa(
    "12669*02", "Demande d'inscription sur les listes électorales à l'usage des citoyens français",
    "cerfa_12669-02_inscription.pdf", "Code électoral, articles L. 9 à L. 15-1 et R. 5 à R. 8", "",
)
CERFA_12670 = Cerfa(
    "12670*02", "Demande d'inscription sur les listes électorales à l'usage des citoyens non-français de l'Union "
    "européenne — élections municipales",
    "cerfa_12670-02_inscription_municipales.pdf", "Code électoral, articles LO227-1 à LO227-5", LO227_4,
)
CERFA_12671 = Cerfa(
    "12671*02", "Demande d'inscription sur les listes électorales à l'usage des citoyens non-français de l'Union "
    "européenne — élections au Parlement européen",
    "cerfa_12671-02_inscription_europeennes.pdf", "Loi n° 77-729 du 7 juillet 1977, articles 2-1 à 2-3",
    LOI_77_729_ART_2_3,
)


def ile_cerfas(listes) -> tuple[Cerfa, ...]:
    """The CERFA(s) of an inscription, the one home of this rule (listes.documents: the dossier's
    ZIP and its PDFs). `listes`: anything with `nationalite`, `complementaire_municipales` and
    `complementaire_europeennes` (a Listes from ile_listes, a Teledossier). French → n° 12669*02;
    a citizen of another EU member state files on their own forms, one per liste complémentaire
    asked: n° 12670*02 (municipales, LO227-1 s.), n° 12671*02 (européennes, loi 77-729 art. 2-1 s.)."""
    if (listes.nationalite or "").upper() == FRANCAISE:
        return (CERFA_12669,)
    return tuple(cerfa for cerfa, asked in ((CERFA_12670, listes.complementaire_municipales),
                                            (CERFA_12671, listes.complementaire_europeennes)) if asked)


class Declaration(NamedTuple):
    """One statement of the EU citizen's written declaration: the Teledossier's (and the form's)
    BooleanField, its wording « Je déclare sur l'honneur … », and the texts that require it."""

    field: str
    text: str
    sources: tuple[str, ...]


# field -> wording, in the order of the form, the CERFA and the XML.
DECLARATIONS_UE = {
    "declaration_nationalite": "Je déclare sur l'honneur avoir la nationalité de l'État membre de l'Union "
                               "européenne indiqué dans cette demande.",
    "declaration_adresse": "Je déclare sur l'honneur que mon adresse en France est celle indiquée dans cette demande.",
    "declaration_droit_de_vote": "Je déclare sur l'honneur ne pas être déchu(e) du droit de vote dans l'État dont "
                                 "j'ai la nationalité.",
    "declaration_vote_en_france": "Je déclare sur l'honneur que je n'exercerai mon droit de vote aux élections au "
                                  "Parlement européen qu'en France.",
}


def ile_declarations(listes) -> tuple[Declaration, ...]:
    """The declarations required of an inscription, the one home of this rule (the form, the
    filing, the CERFA, the XML, the guichet). `listes` as for ile_cerfas. A French national: none.
    A citizen of another EU member state states (a) their nationality, (b) their address in France,
    (c) that they are not deprived of the right to vote in their state (LO227-4 for the municipales,
    loi 77-729 art. 2-3 for the européennes) and, for the européennes, (d) that they will vote for
    the European Parliament only in France (art. 2-3)."""
    if (listes.nationalite or "").upper() == FRANCAISE:
        return ()
    sources = tuple(source for source, asked in ((LO227_4, listes.complementaire_municipales),
                                                 (LOI_77_729_ART_2_3, listes.complementaire_europeennes)) if asked)
    if not sources:
        return ()
    required = [Declaration(field, DECLARATIONS_UE[field], sources)
                for field in ("declaration_nationalite", "declaration_adresse", "declaration_droit_de_vote")]
    if listes.complementaire_europeennes:
        required.append(Declaration("declaration_vote_en_france", DECLARATIONS_UE["declaration_vote_en_france"],
                                    (LOI_77_729_ART_2_3,)))
    return tuple(required)


def ile_declaration_errors(listes, declared=None) -> list[DomainError]:
    """One DomainError (French message, code, field) per required declaration (ile_declarations)
    not made. `declared`: field name -> bool (the form's cleaned_data, the filing's data); None
    reads the fields of `listes` itself (a Teledossier)."""
    def made(field):
        return bool(declared.get(field)) if declared is not None else bool(getattr(listes, field, False))

    return [
        DomainError(
            "Cochez cette déclaration : elle est exigée des citoyens de l'Union européenne "
            f"({' ; '.join(d.sources)}).", code="ile_declaration", field=d.field,
        )
        for d in ile_declarations(listes) if not made(d.field)
    ]


def check_ile_declarations(listes, declared=None) -> None:
    """Raise the first of ile_declaration_errors, if any (Teledossier.deposer)."""
    errors = ile_declaration_errors(listes, declared)
    if errors:
        raise errors[0]


# ------------------------------------------------------------------ ILE deadline


def nth_wednesday_before(day: datetime.date, n: int) -> datetime.date:
    """The n-th Wednesday strictly before `day` (a Sunday: 1st = day - 4, 6th = day - 39)."""
    back = (day.weekday() - 2) % 7 or 7
    return day - datetime.timedelta(days=back + 7 * (n - 1))


def ile_deadline(scrutin) -> datetime.datetime:
    """Online filing closes at midnight at the end of the 6th Wednesday before the 1st round (Paris)."""
    wednesday = nth_wednesday_before(scrutin.date_tour1, settings.LISTES_ILE_DEADLINE_WEEKS)
    return datetime.datetime.combine(wednesday + datetime.timedelta(days=1), datetime.time(0, 0), tzinfo=PARIS)


def ile_mairie_last_day(scrutin) -> datetime.date:
    """At the mairie, inscriptions are taken until the 6th Friday before the 1st round (included):
    two days after the 6th Wednesday."""
    return nth_wednesday_before(scrutin.date_tour1, settings.LISTES_ILE_DEADLINE_WEEKS) + datetime.timedelta(days=2)


def next_scrutin(commune, now=None):
    """The next scrutin whose scope includes `commune` (national, or listing it: an élection
    partielle elsewhere does not count), by Scrutin.objects.concernant."""
    from procuration.models import Scrutin

    today = timezone.localdate(now or timezone.now())
    return Scrutin.objects.concernant(commune).filter(date_tour1__gte=today).order_by("date_tour1", "pk").first()


def check_ile_deadline(commune, now=None):
    """Return the scrutin of `commune` the inscription is for (or None), or raise with a clear
    French message naming the last day online and the last day at the mairie."""
    now = now or timezone.now()
    scrutin = next_scrutin(commune, now)
    if scrutin is None:
        return None
    deadline = ile_deadline(scrutin)
    if now >= deadline:
        last_day = deadline.date() - datetime.timedelta(days=1)
        raise DomainError(
            f"Les inscriptions en ligne dans la commune {commune.de_nom} pour « {scrutin.libelle} » (1er tour le "
            f"{_fr(scrutin.date_tour1)}) étaient ouvertes jusqu'au {_fr(last_day)} à minuit. Vous pouvez encore "
            f"vous inscrire en mairie jusqu'au {_fr(ile_mairie_last_day(scrutin))} ; la demande en ligne rouvrira "
            "après le scrutin.",
            code="ile_deadline", field="commune",
        )
    return scrutin


def check_ile_age(birthdate: datetime.date | None, scrutin=None, today=None) -> None:
    """Electors are 18 or over; a person turning 18 by the 1st round may register for it."""
    today = today or timezone.localdate()
    if birthdate is None:
        raise DomainError("Votre date de naissance est inconnue : adressez-vous à votre mairie.")
    on = max(today, scrutin.date_tour1) if scrutin else today
    if age_on(birthdate, on) < 18:
        raise DomainError(
            "L'inscription sur les listes électorales est ouverte aux personnes majeures"
            + (f" (18 ans au plus tard le {_fr(scrutin.date_tour1)}, jour du 1er tour)." if scrutin else ".")
            + " Si vous avez fait votre recensement citoyen, vous serez inscrit(e) d'office à 18 ans.",
            code="ile_too_young",
        )


# ------------------------------------------------------------------ RCO age window


def age_on(birthdate: datetime.date, day: datetime.date) -> int:
    return day.year - birthdate.year - ((day.month, day.day) < (birthdate.month, birthdate.day))


def check_rco_age(birthdate: datetime.date | None, today=None) -> None:
    today = today or timezone.localdate()
    if birthdate is None:
        raise DomainError("Votre date de naissance est inconnue : le recensement se fait alors en mairie.")
    age = age_on(birthdate, today)
    if age < settings.LISTES_RCO_AGE_MIN:
        try:
            birthday = birthdate.replace(year=birthdate.year + settings.LISTES_RCO_AGE_MIN)
        except ValueError:  # born on 29 February
            birthday = datetime.date(birthdate.year + settings.LISTES_RCO_AGE_MIN, 3, 1)
        raise DomainError(
            f"Le recensement citoyen se fait à partir de {settings.LISTES_RCO_AGE_MIN} ans : "
            f"vous pourrez le faire à partir du {_fr(birthday)}.",
            code="rco_too_young",
        )
    if age >= settings.LISTES_RCO_AGE_MAX:
        raise DomainError(
            f"Le recensement peut être régularisé jusqu'à {settings.LISTES_RCO_AGE_MAX} ans. "
            "Au-delà, adressez-vous au centre du service national de votre département.",
            code="rco_too_old",
        )


# ------------------------------------------------------------------ uploads


def _human_size(n: int) -> str:
    return f"{n // 1024} Ko" if n < 1024 * 1024 else f"{n / (1024 * 1024):.0f} Mo".replace(".", ",")


def sniff(upload) -> str | None:
    """The MIME type read from the file's content (not its name), or None."""
    upload.seek(0)
    head = upload.read(8192)
    upload.seek(0)
    kind = filetype.guess(head)
    if kind is None:
        return None
    if kind.mime == "application/pdf" and not head.startswith(b"%PDF-"):
        return None
    return kind.mime


def check_piece(upload) -> str:
    """A pièce justificative: PDF, JPEG or PNG by content, at most LISTES_PIECE_MAX_BYTES."""
    limit = settings.LISTES_PIECE_MAX_BYTES
    if upload.size > limit:
        raise DomainError(
            f"Le fichier « {upload.name} » pèse {_human_size(upload.size)} : la taille maximale est de "
            f"{_human_size(limit)} par pièce."
        )
    if upload.size == 0:
        raise DomainError(f"Le fichier « {upload.name} » est vide.")
    mime = sniff(upload)
    if mime not in ACCEPTED_PIECE_TYPES:
        raise DomainError(
            f"Le fichier « {upload.name} » n'est pas un PDF, un JPEG ou un PNG (son contenu a été vérifié, "
            "pas seulement son extension)."
        )
    return mime


def check_document(upload) -> None:
    """A document from the mairie: PDF only, by content, at most LISTES_DOCUMENT_MAX_BYTES (1024 Ko)."""
    limit = settings.LISTES_DOCUMENT_MAX_BYTES
    if upload.size > limit:
        raise DomainError(
            f"Le document « {upload.name} » pèse {upload.size // 1024 + (1 if upload.size % 1024 else 0)} Ko : "
            f"la taille maximale est de {limit // 1024} Ko."
        )
    if sniff(upload) != "application/pdf":
        raise DomainError(
            f"Le document « {upload.name} » n'est pas un PDF (son contenu a été vérifié, pas seulement son extension)."
        )


def check_image(upload) -> str:
    limit = settings.LISTES_IMAGE_MAX_BYTES
    if upload.size > limit:
        raise DomainError(f"L'image « {upload.name} » dépasse {limit // 1024} Ko.")
    mime = sniff(upload)
    if mime not in ("image/png", "image/jpeg"):
        raise DomainError(f"L'image « {upload.name} » doit être un PNG ou un JPEG (contenu vérifié).")
    return mime


# The maire decides on an inscription within five days of its filing (article L.18 of the code
# électoral); an ILE télédossier still undecided after that is overdue. The one home of this rule:
# the guichet (days left, « en retard » filter), the mairie dashboard and the mairie alerts.
ILE_DECISION_DAYS = 5
ILE_DECISION_DELAY = datetime.timedelta(days=ILE_DECISION_DAYS)


def _waiting_ile(qs):
    from listes.models import Demarche, Etat

    return qs.filter(demarche=Demarche.ILE, decision="").exclude(etat=Etat.CLOS)


def ile_decisions_overdue(qs, now=None):
    """The ILE télédossiers of `qs` filed more than ILE_DECISION_DAYS ago and not decided yet."""
    now = now or timezone.now()
    return _waiting_ile(qs).filter(created_at__lte=now - ILE_DECISION_DELAY)


class DecisionDelai(NamedTuple):
    """Where an ILE waiting for the maire's decision stands: due by `due`; `days_left` whole days
    (rounded up) before then, 0 once overdue."""

    due: datetime.datetime
    overdue: bool
    days_left: int


def ile_decision_delai(d, now=None) -> DecisionDelai | None:
    """The 5-day delay of one télédossier, or None when no decision is awaited (RCO, decided, closed).
    Same boundary as ile_decisions_overdue: overdue from the instant five days after the filing."""
    from listes.models import Demarche, Etat

    if d.demarche != Demarche.ILE or d.decision or d.etat == Etat.CLOS:
        return None
    now = now or timezone.now()
    due = d.created_at + ILE_DECISION_DELAY
    if now >= due:
        return DecisionDelai(due, True, 0)
    left = due - now
    return DecisionDelai(due, False, left.days + (1 if left % datetime.timedelta(days=1) else 0))

"""Import of a commune's electoral register extract (REU) from a CSV file (docs/backoffice.md).

All or nothing: every line is checked first; one rejected line and nothing is written, the report
lists each rejected line with its number and its reason in French. A valid file replaces the
commune's register in one transaction: electors are created or updated by NNE, those of the
commune absent from the extract are marked radiated (inscrit = False).

Names and NNE go through the one normalisation (procuration.normalize: normalize_nne, fold). The
COG codes of the place and country of birth are what FranceConnect logins are matched on
(procuration.registry.electeur_for_pivot).
"""

import csv
import datetime
import io
import re
from dataclasses import dataclass, field

from django.db import transaction

from procuration import search
from procuration.exceptions import DomainError
from procuration.models.territory import FRANCAISE, Commune, Electeur, Liste, listes_de_la_nationalite
from procuration.normalize import fold, normalize_nne
from procuration.registry import RadiationMotif, radier_electeur

COLUMNS = ["nne", "nom", "nom_usage", "prenoms", "sexe", "date_naissance", "lieu_naissance", "bureau", "liste", "adresse",
           "code_lieu_naissance", "code_pays_naissance", "radiation", "nationalite"]
_COG = re.compile(r"^(?:\d{5}|2[AB]\d{3})$")
FRANCE = "99100"
REQUIRED_COLUMNS = ["nne", "nom", "prenoms", "sexe", "date_naissance"]
MAX_BYTES = 20 * 1024 * 1024
# The column « liste »: (liste, on the liste complémentaire municipale, on the européenne). None: the
# extract does not say which liste complémentaire (« complementaire »): the elector's flags are kept
# (an accepted ILE set them), and with neither set only the scrutin types closed to every liste
# complémentaire are (procuration.models.territory.liste_complementaire_fermee). The REU's own codes:
# LCM, LCE, both as « lcm+lce ».
_PRINCIPALE, _CONSULAIRE = (Liste.PRINCIPALE, False, False), (Liste.CONSULAIRE, False, False)
_LCM, _LCE, _LCM_LCE = ((Liste.COMPLEMENTAIRE, True, False), (Liste.COMPLEMENTAIRE, False, True),
                        (Liste.COMPLEMENTAIRE, True, True))
LISTES = {fold(label): (value, False, False) for value, label in Liste.choices} | {
    "principale": _PRINCIPALE, "p": _PRINCIPALE, "lp": _PRINCIPALE,
    "complementaire": (Liste.COMPLEMENTAIRE, None, None), "c": (Liste.COMPLEMENTAIRE, None, None),
    fold(Liste.COMPLEMENTAIRE.label): (Liste.COMPLEMENTAIRE, None, None),
    "lcm": _LCM, "complementaire municipale": _LCM, "complementaire municipales": _LCM,
    "lce": _LCE, "complementaire europeenne": _LCE, "complementaire europeennes": _LCE,
    "lcm lce": _LCM_LCE, "lce lcm": _LCM_LCE,  # « lcm+lce », « LCE / LCM »: fold() reads punctuation as a space
    "consulaire": _CONSULAIRE, "lec": _CONSULAIRE,
}
_LISTE_NAMES = {Liste.PRINCIPALE: "la liste principale", Liste.CONSULAIRE: "la liste consulaire",
                Liste.COMPLEMENTAIRE: "une liste complémentaire"}
# The optional column « radiation »: an event of the register (procuration.registry.radier_electeur).
RADIATIONS = {fold(label): value for value, label in RadiationMotif.choices} | {
    "deces": RadiationMotif.DECES, "decede": RadiationMotif.DECES, "decedee": RadiationMotif.DECES,
    "radiation": RadiationMotif.RADIATION, "radie": RadiationMotif.RADIATION, "radiee": RadiationMotif.RADIATION,
    "droits civiques": RadiationMotif.DROITS_CIVIQUES,
}
MAX_LEN = {"nom": 150, "nom_usage": 150, "prenoms": 200, "lieu_naissance": 150, "adresse": 300}


@dataclass
class ImportReport:
    errors: list[tuple[int, str]] = field(default_factory=list)  # (line number, reason)
    lines: int = 0
    created: int = 0
    updated: int = 0
    radiated: int = 0  # absent from the extract
    deaths_and_radiations: int = 0  # rows of the column « radiation »
    voided: int = 0  # procurations void by them (procuration.registry.radier_electeur)

    @property
    def ok(self) -> bool:
        return not self.errors


def _clean_name(value: str) -> str:
    return " ".join(value.split())


def _decode(data: bytes) -> str:
    if len(data) > MAX_BYTES:
        raise DomainError("Le fichier dépasse 20 Mo : découpez l'extrait.", code="taille", field="fichier")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DomainError(
            "Le fichier n'est pas encodé en UTF-8 : enregistrez-le en « CSV UTF-8 ».", code="encodage", field="fichier"
        ) from None


def _parse_row(row: dict, bureaux: dict[int, int], today: datetime.date) -> tuple[dict | None, list[str]]:
    problems = []
    values = {k: (row.get(k) or "").strip() for k in COLUMNS}
    try:
        nne = normalize_nne(values["nne"])
    except DomainError as e:
        problems.append(f"NNE « {values['nne']} » : {e.message}")
        nne = None
    for name, label in (("nom", "le nom de naissance"), ("prenoms", "les prénoms")):
        if not fold(values[name]):
            problems.append(f"{label.capitalize()} manque{'nt' if name == 'prenoms' else ''}.")
    for name, limit in MAX_LEN.items():
        if len(values[name]) > limit:
            problems.append(f"La colonne {name} dépasse {limit} caractères.")
    sexe = values["sexe"].upper()
    if sexe not in ("F", "M"):
        problems.append(f"Sexe « {values['sexe']} » : F ou M attendu.")
    try:
        naissance = datetime.datetime.strptime(values["date_naissance"], "%d/%m/%Y").date()
    except ValueError:
        problems.append(f"Date de naissance « {values['date_naissance']} » : format JJ/MM/AAAA attendu.")
        naissance = None
    else:
        if naissance > today:
            problems.append(f"Date de naissance « {values['date_naissance']} » dans le futur.")
    bureau_id = None
    if values["bureau"]:
        if not values["bureau"].isdigit() or int(values["bureau"]) not in bureaux:
            problems.append(f"Bureau de vote « {values['bureau']} » inconnu dans cette commune.")
        else:
            bureau_id = bureaux[int(values["bureau"])]
    lieu, pays = values["code_lieu_naissance"].upper(), values["code_pays_naissance"] or (
        FRANCE if values["code_lieu_naissance"] else "")
    if lieu and not _COG.match(lieu):
        problems.append(f"Code COG du lieu de naissance « {lieu} » : 5 caractères attendus (ex. 81004, 2A004).")
    if pays and not (pays.isdigit() and len(pays) == 5 and pays.startswith("99")):
        problems.append(f"Code COG du pays de naissance « {pays} » : 5 chiffres commençant par 99 (99100 pour la France).")
    elif lieu and pays != FRANCE:
        problems.append("Un lieu de naissance en France (code COG) va avec le pays 99100.")
    listes = LISTES.get(fold(values["liste"]) or "principale")
    if listes is None:
        problems.append(f"Liste « {values['liste']} » : principale, lcm (complémentaire municipale), lce "
                        "(complémentaire européenne), lcm+lce, complementaire ou consulaire attendu.")
        listes = (None, None, None)
    liste, municipales, europeennes = listes
    nationalite = values["nationalite"].upper()
    ouvertes = listes_de_la_nationalite(nationalite) if nationalite else ()
    if nationalite and not ouvertes:
        problems.append(f"Nationalité « {values['nationalite']} » : FR ou le code à deux lettres d'un État membre de "
                        "l'Union européenne attendu (DE, IT, PT…) ; une autre nationalité n'est inscrite sur aucune "
                        "liste.")
    elif ouvertes and liste and liste not in ouvertes:
        problems.append(f"Nationalité « {nationalite} » et {_LISTE_NAMES[liste]} : un électeur de cette nationalité "
                        f"est inscrit sur {' ou '.join(_LISTE_NAMES[li] for li in ouvertes)}.")
    radiation = RADIATIONS.get(fold(values["radiation"])) if values["radiation"] else ""
    if radiation is None:
        problems.append(f"Radiation « {values['radiation']} » : vide, deces, radiation ou droits_civiques attendu.")
    if problems:
        return None, problems
    return {
        "nne": nne, "nom": _clean_name(values["nom"]).upper(), "nom_usage": _clean_name(values["nom_usage"]).upper(),
        "prenoms": _clean_name(values["prenoms"]), "sexe": sexe, "date_naissance": naissance,
        "lieu_naissance": _clean_name(values["lieu_naissance"]), "bureau_id": bureau_id, "liste": liste,
        "adresse": _clean_name(values["adresse"]), "code_lieu_naissance": lieu, "code_pays_naissance": pays,
        "radiation": radiation,
        # None: what the extract does not say, kept from the elector's record (import_extract).
        "nationalite": nationalite or (FRANCAISE if liste != Liste.COMPLEMENTAIRE else None),
        "complementaire_municipales": municipales, "complementaire_europeennes": europeennes,
    }, []


def import_extract(commune: Commune, data: bytes, today: datetime.date | None = None) -> ImportReport:
    """Check every line of the extract, then (only if all are valid) write them in one transaction.
    Raises DomainError (field fichier) when the file itself is unreadable."""
    today = today or datetime.date.today()
    text = _decode(data)
    sample = text[:2048]
    delimiter = ";" if sample.count(";") >= sample.count(",") else ","
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = [(h or "").strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise DomainError(
            "La ligne 1 (en-tête) doit nommer les colonnes " + ", ".join(REQUIRED_COLUMNS)
            + " ; il manque : " + ", ".join(missing) + ".",
            code="entete", field="fichier",
        )
    reader.fieldnames = header
    report = ImportReport()
    bureaux = dict(commune.bureaux.values_list("numero", "pk"))
    rows: dict[str, dict] = {}
    seen_line: dict[str, int] = {}
    for row in reader:
        line = reader.line_num
        if not any((v or "").strip() for k, v in row.items() if k is not None):
            continue  # blank line
        report.lines += 1
        if None in row:
            report.errors.append((line, "Trop de colonnes sur cette ligne (un séparateur en trop ?)."))
            continue
        parsed, problems = _parse_row(row, bureaux, today)
        if parsed and parsed["nne"] in seen_line:
            problems = [f"NNE {parsed['nne']} déjà présent à la ligne {seen_line[parsed['nne']]}."]
        if problems:
            report.errors.append((line, " ".join(problems)))
            continue
        seen_line[parsed["nne"]] = line
        rows[parsed["nne"]] = parsed
    if report.lines == 0 and not report.errors:
        raise DomainError("Le fichier ne contient aucun électeur.", code="vide", field="fichier")
    if report.errors:
        return report
    radiations = {nne: values.pop("radiation") for nne, values in rows.items()}
    with transaction.atomic():
        Commune.objects.select_for_update().get(pk=commune.pk)
        existing = {e.nne: e for e in Electeur.objects.select_for_update().filter(nne__in=list(rows))}
        new, changed = [], []
        for nne, values in rows.items():
            electeur = existing.get(nne)
            if electeur is None:
                new.append(Electeur(commune=commune, inscrit=True, **{k: v for k, v in values.items() if v is not None}))
                continue
            for k, v in values.items():
                if v is not None:  # else kept (_parse_row: what the extract does not say)
                    setattr(electeur, k, v)
            electeur.commune = commune
            electeur.inscrit = True
            changed.append(electeur)
        renamed = []
        for electeur in (*new, *changed):  # bulk writes skip Electeur.save(): keep the search column true
            key = electeur.search_key()
            if electeur.pk is not None and key != electeur.noms_recherche:
                renamed.append(electeur.pk)
            electeur.noms_recherche = key
        Electeur.objects.bulk_create(new, batch_size=1000)
        Electeur.objects.bulk_update(
            changed, [*rows[next(iter(rows))].keys(), "commune", "inscrit", "noms_recherche"], batch_size=1000
        )
        search.rewrite_keys_of_electeurs(renamed)  # the mairies' search keys of their procurations
        report.radiated = (
            Electeur.objects.filter(commune=commune, inscrit=True).exclude(nne__in=list(rows)).update(inscrit=False)
        )
        report.created, report.updated = len(new), len(changed)
        # A death or a radiation row: recorded on the elector, and the procurations it voids end, their
        # mandants e-mailed, in this same transaction. (An elector merely absent from the extract may have
        # moved to another commune's list: marked radiated above, its procurations are left to the checks.)
        by_nne = {e.nne: e for e in (*new, *changed)}
        for nne, motif in radiations.items():
            if motif:
                report.deaths_and_radiations += 1
                report.voided += len(radier_electeur(by_nne[nne], motif))
    return report

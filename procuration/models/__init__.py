from procuration.models.accounts import Role, User
from procuration.models.audit import AuditLog
from procuration.models.outbox import OutboxEmail
from procuration.models.procuration import (
    InvalidationMotif,
    Origine,
    Portee,
    Procuration,
    ProcurationEvent,
    RefusMotif,
    Status,
)
from procuration.models.territory import BureauDeVote, Commune, Electeur, Liste, Scrutin, ScrutinType, Sexe

__all__ = [
    "AuditLog",
    "BureauDeVote",
    "Commune",
    "Electeur",
    "InvalidationMotif",
    "Liste",
    "Origine",
    "OutboxEmail",
    "Portee",
    "Procuration",
    "ProcurationEvent",
    "RefusMotif",
    "Role",
    "Scrutin",
    "ScrutinType",
    "Sexe",
    "Status",
    "User",
]

from procuration.models.accounts import Role, User
from procuration.models.audit import AppendOnlyError, AuditDigest, AuditLog, ChainHead, purge_mode
from procuration.models.counts import ProcurationCount
from procuration.models.outbox import OutboxEmail
from procuration.models.procuration import (
    AnnulationMotif,
    IdentiteVerifiee,
    InvalidationMotif,
    Origine,
    Portee,
    Procuration,
    ProcurationEvent,
    RefusMotif,
    Status,
    Verificateur,
)
from procuration.models.search import SearchKey
from procuration.models.territory import BureauDeVote, Commune, Electeur, Liste, Scrutin, ScrutinType, Sexe

__all__ = [
    "AnnulationMotif",
    "AppendOnlyError",
    "AuditDigest",
    "AuditLog",
    "ChainHead",
    "BureauDeVote",
    "Commune",
    "Electeur",
    "IdentiteVerifiee",
    "InvalidationMotif",
    "Liste",
    "Origine",
    "OutboxEmail",
    "Portee",
    "Procuration",
    "ProcurationCount",
    "ProcurationEvent",
    "RefusMotif",
    "Role",
    "Scrutin",
    "SearchKey",
    "ScrutinType",
    "Sexe",
    "Status",
    "User",
    "Verificateur",
    "purge_mode",
]

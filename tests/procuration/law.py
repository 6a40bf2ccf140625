"""The law's tables, written out as literals for the tests: never imported from production.

If the code's tables (procuration.models.procuration: TRANSITIONS, ACTIVE_FOR_PLAFOND,
ACTIVE_FOR_MANDANT) drift from these, the tests that use them fail. Sources: ../shared/domain.md
and docs/domain.md.
"""

# The ten statuses of a dossier, and for each move: the statuses it may start from, where it leads.
STATUSES = {"brouillon", "en_attente", "validee_autorite", "refusee_autorite", "validee_mairie", "invalidee_mairie",
            "resiliee", "expiree", "echue", "annulee"}
LAW = {
    # The mandant submits a brouillon: it gets its reference.
    "soumettre": ({"brouillon"}, "en_attente"),
    # Only an officer who checked the identity (or France Identité) validates or refuses a demande.
    "valider_autorite": ({"en_attente"}, "validee_autorite"),
    "refuser_autorite": ({"en_attente"}, "refusee_autorite"),
    # The mairie decides only after the identity check: never on a demande still « en attente ».
    "valider_mairie": ({"validee_autorite"}, "validee_mairie"),
    "invalider_mairie": ({"validee_autorite"}, "invalidee_mairie"),
    # L.75: the mandant revokes what is pending or in force, not what was refused, ended or voided.
    "resilier": ({"en_attente", "validee_autorite", "validee_mairie"}, "resiliee"),
    # Arrêté du 31 mars 2021: a demande not validated in time expires (a brouillon has no reference).
    "expirer": ({"en_attente"}, "expiree"),
    # A procuration in force ends with its validity.
    "echoir": ({"validee_autorite", "validee_mairie"}, "echue"),
    # Void by law, never a decision: L.73, a procuration established when its mandataire already holds two
    # (or one in France, for one established in France) established before it is void, the earliest stand;
    # and the death or radiation of the mandataire (or of the mandant) ends what is pending or in force.
    "annuler": ({"en_attente", "validee_autorite", "validee_mairie"}, "annulee"),
}
# L.73 in numbers: at most two procurations for a mandataire, of which at most one established in France.
PLAFOND_TOTAL, PLAFOND_FRANCE = 2, 1
# L.75: revoking what an authority established takes effect only once the mandant's identity is
# checked (counter or certified France Identité). Online without that check it is only a request:
# "demander_resiliation" from these statuses, which leaves the status as it is (the procuration stays
# in force and counts towards the plafond) until "resilier" is called with the verified identity.
RESILIATION_NEEDS_IDENTITY = {"validee_autorite", "validee_mairie"}
# L.73: the procurations that count towards the mandataire's plafond (two, only one established in
# France): those an authority has established, whether or not the mairie has recorded them yet.
PLAFOND_STATUSES = {"validee_autorite", "validee_mairie"}
# One procuration per scrutin and tour for a mandant: a pending demande already binds its dates,
# so that a second one cannot be filed for the same tour.
MANDANT_STATUSES = {"en_attente", "validee_autorite", "validee_mairie"}
# The mandataire notice: the mandataire is told (by e-mail, when the mandant gave their address) when a
# procuration becomes established (it enters PLAFOND_STATUSES) and when an established one ends, i.e.
# moves to one of these statuses. A demande withdrawn, refused or expired before being established was
# never theirs to hold: nothing is sent.
MANDATAIRE_NOTICE_ENDS = {"resiliee", "echue", "invalidee_mairie", "annulee"}

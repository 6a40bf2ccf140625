"""The mairie's search keys: one row per word of the folded names (procuration.normalize.fold) of a
procuration's mandant and of its mandataire, scoped by the procuration's commune. procuration.search
writes them and reads them (docs/performance.md, « Recherche de la mairie à coût constant »)."""

from django.db import models


class TokenField(models.CharField):
    """A word compared byte by byte: the search reads the words that begin with what was typed as a
    range (token >= 'mart' AND token < 'mars'), which needs the "C" collation on PostgreSQL (a
    language collation may sort 'mart{' before 'martin'). SQLite compares bytes by default."""

    def db_parameters(self, connection):
        params = super().db_parameters(connection)
        if connection.vendor == "postgresql":
            params["collation"] = "C"
        return params


class SearchKey(models.Model):
    commune = models.ForeignKey("procuration.Commune", on_delete=models.CASCADE, db_index=False, related_name="+")
    token = TokenField("mot", max_length=150)
    procuration = models.ForeignKey("procuration.Procuration", on_delete=models.CASCADE, related_name="+")
    # False: a word of the mandant's names; True: of the mandataire's. Several words typed must all
    # be in the names of the same person, as they had to be in one elector's noms_recherche.
    mandataire = models.BooleanField()

    class Meta:
        verbose_name = "clé de recherche"
        indexes = [
            # Every column: the search reads the index only (PostgreSQL's index-only scan).
            models.Index(fields=["commune", "token", "procuration", "mandataire"], name="searchkey_commune_token_idx"),
        ]

    def __str__(self):
        return self.token

"""The commune's figures kept as they change (issue 16, docs/performance.md « Dashboard counts »).

One row is a change of the number of procurations of a commune, for a scrutin (or none: a
procuration for a limited period) and a stored status: +1 or -1 written by every change, in its
transaction; the periodic compaction folds them into one row per key. The figure of a key is the
sum of its rows. Brouillons are not counted (nobody but their mandant sees them). The rules that
write and read them live in procuration/counts.py."""

from django.db import models


class ProcurationCount(models.Model):
    commune = models.ForeignKey("procuration.Commune", on_delete=models.CASCADE, related_name="+")
    scrutin = models.ForeignKey("procuration.Scrutin", null=True, blank=True, on_delete=models.CASCADE,
                                related_name="+")
    status = models.CharField("statut enregistré", max_length=20)
    n = models.BigIntegerField("variation du nombre de procurations")

    class Meta:
        verbose_name = "compte de procurations"
        indexes = [models.Index(fields=["commune", "scrutin", "status"], name="proc_count_key_idx")]

    def __str__(self):
        return f"{self.commune_id}/{self.scrutin_id}/{self.status}: {self.n:+d}"

"""Audit trail: hash chains (one per dossier for the procuration events, one for the audit entries),
the daily digest, and on PostgreSQL a trigger that refuses UPDATE and DELETE outside the purge."""

import django.utils.timezone
from django.db import migrations, models

import procuration.models.procuration
from procuration import chain

APPEND_ONLY_TABLES = ("procuration_auditlog", "procuration_procurationevent", "procuration_auditdigest")

TRIGGER_FUNCTION = """
CREATE OR REPLACE FUNCTION procuration_append_only() RETURNS trigger AS $$
BEGIN
    IF current_setting('procuration.purge', true) = 'on' THEN
        IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'La table % est en ajout seul : % refusé hors de la purge de conservation.', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$ LANGUAGE plpgsql;
"""


def install_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return  # SQLite: the model-level guard (procuration/models/audit.py) only
    schema_editor.execute(TRIGGER_FUNCTION, params=None)
    for table in APPEND_ONLY_TABLES:
        schema_editor.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION procuration_append_only()"
        )


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in APPEND_ONLY_TABLES:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
    schema_editor.execute("DROP FUNCTION IF EXISTS procuration_append_only()")


def chain_existing_rows(apps, schema_editor):
    """Rows written before the chains: sealed in the order they were written (at, pk)."""
    Event = apps.get_model("procuration", "ProcurationEvent")
    AuditLog = apps.get_model("procuration", "AuditLog")
    ChainHead = apps.get_model("procuration", "ChainHead")
    heads = {}
    for e in Event.objects.order_by("procuration_id", "at", "pk").iterator(chunk_size=2000):
        seq, prev = heads.get(e.procuration_id, (0, chain.GENESIS))
        e.dossier, e.seq, e.prev_hash, e.salt = e.procuration_id, seq + 1, prev, chain.new_salt()
        e.pii_digest = chain.pii_digest(e.salt, chain.event_personal(e.reason))
        e.hash = chain.link_hash(prev, chain.event_payload(
            dossier=e.dossier, seq=e.seq, from_status=e.from_status, to_status=e.to_status, actor_id=e.actor_id,
            at=e.at, pii=e.pii_digest,
        ))
        e.save(update_fields=["dossier", "seq", "prev_hash", "salt", "pii_digest", "hash"])
        heads[e.procuration_id] = (e.seq, e.hash)
    seq, prev = 0, chain.GENESIS
    for a in AuditLog.objects.order_by("at", "pk").iterator(chunk_size=2000):
        a.seq, a.prev_hash, a.salt = seq + 1, prev, chain.new_salt()
        a.pii_digest = chain.pii_digest(a.salt, chain.audit_personal(a.ip, a.detail))
        a.hash = chain.link_hash(prev, chain.audit_payload(
            seq=a.seq, actor_id=a.actor_id, action=a.action, object_type=a.object_type, object_id=a.object_id,
            at=a.at, pii=a.pii_digest,
        ))
        a.save(update_fields=["seq", "prev_hash", "salt", "pii_digest", "hash"])
        seq, prev = a.seq, a.hash
    ChainHead.objects.create(name="audit", seq=seq, hash=prev)


def _chain_fields(model_name):
    return [
        migrations.AddField(model_name, "seq", models.PositiveBigIntegerField(null=True, verbose_name="rang dans la chaîne")),
        migrations.AddField(model_name, "prev_hash", models.CharField(default="", max_length=64,
                                                                      verbose_name="empreinte du maillon précédent"),
                            preserve_default=False),
        migrations.AddField(model_name, "hash", models.CharField(default="", max_length=64, verbose_name="empreinte"),
                            preserve_default=False),
        migrations.AddField(model_name, "salt", models.CharField(blank=True, max_length=32)),
        migrations.AddField(model_name, "pii_digest", models.CharField(default="", max_length=64,
                                                                       verbose_name="empreinte des données personnelles"),
                            preserve_default=False),
        migrations.AddField(model_name, "purged", models.BooleanField(default=False,
                                                                      verbose_name="données personnelles purgées")),
    ]


class Migration(migrations.Migration):

    dependencies = [
        ("procuration", "0003_electeur_birth_cog_user_drop_identity_certified"),
    ]

    operations = [
        migrations.CreateModel(
            name="ChainHead",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(max_length=40, unique=True)),
                ("seq", models.PositiveBigIntegerField(default=0)),
                ("hash", models.CharField(default=chain.GENESIS, max_length=64)),
            ],
            options={"verbose_name": "tête de chaîne"},
        ),
        migrations.CreateModel(
            name="AuditDigest",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("day", models.DateField(unique=True, verbose_name="jour")),
                ("audit_seq", models.PositiveBigIntegerField(verbose_name="rang de la tête du journal d'audit")),
                ("audit_hash", models.CharField(max_length=64, verbose_name="empreinte de la tête du journal d'audit")),
                ("dossiers", models.PositiveIntegerField(verbose_name="chaînes de dossier")),
                ("dossiers_hash", models.CharField(max_length=64,
                                                   verbose_name="empreinte des têtes des chaînes de dossier")),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
            ],
            options={"verbose_name": "empreinte quotidienne du journal", "ordering": ["-day"]},
        ),
        *_chain_fields("auditlog"),
        *_chain_fields("procurationevent"),
        migrations.AddField("procurationevent", "dossier", models.BigIntegerField(null=True,
                                                                                  verbose_name="dossier (procuration)")),
        migrations.AlterField(
            "procurationevent", "procuration",
            models.ForeignKey(blank=True, null=True, on_delete=procuration.models.procuration._keep_events,
                              related_name="events", to="procuration.procuration"),
        ),
        migrations.RunPython(chain_existing_rows, migrations.RunPython.noop),
        migrations.AlterField("auditlog", "seq", models.PositiveBigIntegerField(verbose_name="rang dans la chaîne")),
        migrations.AlterField("procurationevent", "seq", models.PositiveBigIntegerField(verbose_name="rang dans la chaîne")),
        migrations.AlterField("procurationevent", "dossier", models.BigIntegerField(verbose_name="dossier (procuration)")),
        migrations.AddConstraint("auditlog", models.UniqueConstraint(fields=["seq"], name="auditlog_chain_seq_unique")),
        migrations.AddConstraint(
            "procurationevent", models.UniqueConstraint(fields=["dossier", "seq"], name="procurationevent_chain_seq_unique")
        ),
        migrations.RunPython(install_triggers, drop_triggers),
    ]

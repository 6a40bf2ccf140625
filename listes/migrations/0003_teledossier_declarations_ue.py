# The written declaration of a citizen of another EU member state (LO227-4; loi 77-729 art. 2-3).
# Columns added with a database default: the previous release keeps inserting rows (zero downtime,
# tests/ops/test_migrations.py).

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('listes', '0002_teledossier_nationalite_listes_complementaires'),
    ]

    operations = [
        migrations.AddField(
            model_name='teledossier',
            name='declaration_nationalite',
            field=models.BooleanField(db_default=False, default=False, verbose_name="déclaration : nationalité de l'État membre"),
        ),
        migrations.AddField(
            model_name='teledossier',
            name='declaration_adresse',
            field=models.BooleanField(db_default=False, default=False, verbose_name='déclaration : adresse en France'),
        ),
        migrations.AddField(
            model_name='teledossier',
            name='declaration_droit_de_vote',
            field=models.BooleanField(db_default=False, default=False, verbose_name='déclaration : non déchu du droit de vote dans son État'),
        ),
        migrations.AddField(
            model_name='teledossier',
            name='declaration_vote_en_france',
            field=models.BooleanField(db_default=False, default=False, verbose_name='déclaration : vote aux européennes en France seulement'),
        ),
    ]

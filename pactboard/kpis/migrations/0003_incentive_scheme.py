"""An agreement version carries its incentive scheme; once proposed, the database keeps it as signed."""

from django.db import migrations, models

from pactboard.core.dbguard import guard_install, guard_remove
from pactboard.kpis.guard import KPIS_GUARD, KPIS_SCHEME_GUARD


def install(apps, schema_editor):
    # Adding a column may rebuild the table on SQLite, which drops its triggers: install both again.
    guard_install(schema_editor.connection, KPIS_GUARD.name)
    guard_install(schema_editor.connection, KPIS_SCHEME_GUARD.name)


def remove(apps, schema_editor):
    guard_remove(schema_editor.connection, KPIS_SCHEME_GUARD.name)


class Migration(migrations.Migration):
    dependencies = [("kpis", "0002_frozen_versions")]

    operations = [
        migrations.AddField(
            model_name="agreementversion",
            name="incentive_scheme",
            field=models.JSONField(blank=True, null=True),
        ),
        migrations.RunPython(install, remove),
    ]

"""Values may become undefined (a revision with no value, saying why); recomputations are tracked as jobs.

SQLite alters a column by rebuilding its table, which drops the table's triggers: the revision
guard is lifted around the change and installed again, so revisions stay append-only.
"""

from django.db import migrations, models

from pactboard.core.dbguard import guard_install, guard_remove
from pactboard.measurements.guard import MEASUREMENTS_GUARD


def install(apps, schema_editor):
    guard_install(schema_editor.connection, MEASUREMENTS_GUARD.name)


def remove(apps, schema_editor):
    guard_remove(schema_editor.connection, MEASUREMENTS_GUARD.name)


class Migration(migrations.Migration):
    dependencies = [
        ("measurements", "0002_immutable_rows"),
    ]

    operations = [
        migrations.RunPython(remove, install),
        migrations.AddField(
            model_name="importbatch",
            name="options",
            field=models.JSONField(
                blank=True, default=dict, help_text='A recomputation\'s scope: {"kpi": ..., "from": ...}.'
            ),
        ),
        migrations.AlterField(
            model_name="importbatch",
            name="kind",
            field=models.CharField(
                choices=[
                    ("values", "KPI values"),
                    ("records", "Dataset records"),
                    ("recompute", "Recomputation from the datasets in force"),
                ],
                max_length=10,
            ),
        ),
        migrations.AlterField(
            model_name="measurement",
            name="value",
            field=models.DecimalField(blank=True, decimal_places=6, max_digits=24, null=True),
        ),
        migrations.AlterField(
            model_name="revision",
            name="value",
            field=models.DecimalField(
                blank=True,
                decimal_places=6,
                help_text="Empty: undefined (the note says why).",
                max_digits=24,
                null=True,
            ),
        ),
        migrations.RunPython(install, remove),
    ]

"""Idempotency keys belong to one engagement and one endpoint.

Keys stored before carry neither, so they are dropped: a retry of such a batch is applied again,
which records nothing new (the same value for the same period is counted as unchanged).
"""

import django.db.models.deletion
from django.db import migrations, models


def drop_unscoped_keys(apps, schema_editor):
    apps.get_model("measurements", "IdempotencyKey").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("engagements", "0002_objective_key"),
        ("measurements", "0003_undefined_values_and_recompute"),
    ]

    operations = [
        migrations.RunPython(drop_unscoped_keys, migrations.RunPython.noop),
        migrations.RemoveConstraint(model_name="idempotencykey", name="idempotency_key_unique"),
        migrations.AddField(
            model_name="idempotencykey",
            name="engagement",
            # No row is left to fill: the default is never written, Django only needs one.
            field=models.ForeignKey(
                default=0, on_delete=django.db.models.deletion.CASCADE, related_name="+", to="engagements.engagement"
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="idempotencykey",
            name="endpoint",
            field=models.CharField(default="measurements.push", max_length=100),
            preserve_default=False,
        ),
        migrations.AddConstraint(
            model_name="idempotencykey",
            constraint=models.UniqueConstraint(
                fields=("organisation", "engagement", "endpoint", "key"), name="idempotency_key_unique"
            ),
        ),
    ]

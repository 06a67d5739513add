from django.db import migrations, models


def fill_keys(apps, schema_editor):
    Objective = apps.get_model("engagements", "Objective")
    for objective in Objective.objects.filter(key=""):
        objective.key = f"objective-{objective.pk}"
        objective.save(update_fields=["key"])


class Migration(migrations.Migration):
    dependencies = [("engagements", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="objective",
            name="key",
            field=models.SlugField(
                default="",
                help_text="Short name that KPIs and engagement documents use to refer to the objective.",
                max_length=60,
            ),
            preserve_default=False,
        ),
        migrations.RunPython(fill_keys, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="objective",
            constraint=models.UniqueConstraint(fields=("engagement", "key"), name="objective_key_unique"),
        ),
    ]

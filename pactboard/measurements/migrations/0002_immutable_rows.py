"""The database refuses updates and deletes of revisions and dataset versions."""

from django.db import migrations

from pactboard.core.dbguard import guard_install, guard_remove
from pactboard.measurements.guard import MEASUREMENTS_GUARD


def install(apps, schema_editor):
    guard_install(schema_editor.connection, MEASUREMENTS_GUARD.name)


def remove(apps, schema_editor):
    guard_remove(schema_editor.connection, MEASUREMENTS_GUARD.name)


class Migration(migrations.Migration):
    dependencies = [("measurements", "0001_initial")]

    operations = [migrations.RunPython(install, remove)]

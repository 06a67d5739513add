"""The database refuses changes to final settlements."""

from django.db import migrations

from pactboard.core.dbguard import guard_install, guard_remove
from pactboard.incentives.guard import INCENTIVES_GUARD


def install(apps, schema_editor):
    guard_install(schema_editor.connection, INCENTIVES_GUARD.name)


def remove(apps, schema_editor):
    guard_remove(schema_editor.connection, INCENTIVES_GUARD.name)


class Migration(migrations.Migration):
    dependencies = [("incentives", "0001_initial")]

    operations = [migrations.RunPython(install, remove)]

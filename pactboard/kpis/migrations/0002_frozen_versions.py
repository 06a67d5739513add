"""The database refuses changes to proposed and agreed versions and to signatures."""

from django.db import migrations

from pactboard.core.dbguard import guard_install, guard_remove
from pactboard.kpis.guard import KPIS_GUARD


def install(apps, schema_editor):
    guard_install(schema_editor.connection, KPIS_GUARD.name)


def remove(apps, schema_editor):
    guard_remove(schema_editor.connection, KPIS_GUARD.name)


class Migration(migrations.Migration):
    dependencies = [("kpis", "0001_initial")]

    operations = [migrations.RunPython(install, remove)]

"""The database itself refuses UPDATE and DELETE on audit events (SQLite and PostgreSQL)."""

from django.db import migrations

from pactboard.audit.guard import guard_install, guard_remove


def install(apps, schema_editor):
    guard_install(schema_editor.connection)


def remove(apps, schema_editor):
    guard_remove(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]

    operations = [migrations.RunPython(install, remove)]

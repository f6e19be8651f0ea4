"""Response.updated_at (auto_now, indexed) for the API's incremental pulls; existing rows
get their completion (else start) time, so a first pull after the upgrade sees them in
the order they were answered."""

import django.utils.timezone
from django.db import migrations, models
from django.db.models.functions import Coalesce


def stamp_existing(apps, schema_editor):
    Response = apps.get_model("questionnaires", "Response")
    Response.objects.update(updated_at=Coalesce("completed_at", "started_at"))


class Migration(migrations.Migration):

    dependencies = [
        ('questionnaires', '0004_response_not_done'),
    ]

    operations = [
        migrations.AddField(
            model_name="response",
            name="updated_at",
            field=models.DateTimeField(
                auto_now=True, db_index=True, default=django.utils.timezone.now
            ),
            preserve_default=False,
        ),
        migrations.RunPython(stamp_existing, migrations.RunPython.noop),
    ]

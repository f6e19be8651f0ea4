"""AnsweredTimepoints (questionnaires.answered): kept on every save of a response;
existing participants get theirs here (issue 19: the CONSORT flow reads them)."""

import django.db.models.deletion
from django.db import migrations, models


def backfill(apps, schema_editor):
    from questionnaires.answered import answered_sets

    answered = apps.get_model("questionnaires", "AnsweredTimepoints")
    sets = answered_sets(apps.get_model("questionnaires", "Response").objects.all())
    answered.objects.bulk_create(
        [answered(participant_id=pid, timepoints=s) for pid, s in sets.items()], batch_size=5000
    )


class Migration(migrations.Migration):

    dependencies = [
        ('enrolment', '0027_trial_wording_stamp'),
        ('questionnaires', '0007_response_flags'),
    ]

    operations = [
        migrations.CreateModel(
            name='AnsweredTimepoints',
            fields=[
                ('participant', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='+', serialize=False, to='enrolment.participant')),
                ('timepoints', models.TextField(blank=True, default='')),
            ],
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]

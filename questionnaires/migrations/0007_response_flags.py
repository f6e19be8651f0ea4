"""Response.unanswered and Response.outside_window (questionnaires.flags): kept on
every save; existing rows get theirs here (issue 19: the monitoring counts them)."""

from django.conf import settings
from django.db import migrations, models


def backfill(apps, schema_editor):
    from questionnaires.flags import refresh

    refresh(apps.get_model("questionnaires", "Response").objects.all())


class Migration(migrations.Migration):

    dependencies = [
        ('enrolment', '0026_historicalparticipant_first_contact_clinician_and_more'),
        ('questionnaires', '0006_response_monitoring_indexes'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='response',
            name='response_completed_final_idx',
        ),
        migrations.AddField(
            model_name='response',
            name='outside_window',
            field=models.SmallIntegerField(default=0, editable=False),
        ),
        migrations.AddField(
            model_name='response',
            name='unanswered',
            field=models.BigIntegerField(default=0, editable=False),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name='response',
            index=models.Index(condition=models.Q(('completed_at__isnull', False), ('entry', 0)), fields=['participant', 'timepoint'], include=('completed_at', 'instrument', 'version', 'unanswered', 'outside_window'), name='response_completed_final_idx'),
        ),
        migrations.AddIndex(
            model_name='response',
            index=models.Index(condition=models.Q(('completed_at__isnull', False), ('entry', 0), models.Q(('outside_window', 0), _negated=True)), fields=['timepoint', 'outside_window'], include=('participant',), name='response_outside_window_idx'),
        ),
    ]

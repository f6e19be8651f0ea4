"""Autovacuum settings of the message tables (PostgreSQL only; see README "What the
production database needs"): every message is written twice (claimed, then its
outcome), so dead row versions pile up fast in the tables and their partial
"waiting" indexes; vacuum them after 2% of their rows changed, not PostgreSQL's 20%."""

from django.db import migrations

TABLES = {
    "followup_message": "autovacuum_vacuum_scale_factor = 0.02, "
    "autovacuum_vacuum_threshold = 1000, autovacuum_analyze_scale_factor = 0.02",
    "followup_smsmessage": "autovacuum_vacuum_scale_factor = 0.02, "
    "autovacuum_vacuum_threshold = 1000, autovacuum_analyze_scale_factor = 0.02",
    "followup_contact": "autovacuum_vacuum_scale_factor = 0.05",
}
RESET = {
    "followup_message": "autovacuum_vacuum_scale_factor, autovacuum_vacuum_threshold, "
    "autovacuum_analyze_scale_factor",
    "followup_smsmessage": "autovacuum_vacuum_scale_factor, autovacuum_vacuum_threshold, "
    "autovacuum_analyze_scale_factor",
    "followup_contact": "autovacuum_vacuum_scale_factor",
}


def set_options(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, options in TABLES.items():
        schema_editor.execute(f'ALTER TABLE "{table}" SET ({options})')


def reset_options(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, options in RESET.items():
        schema_editor.execute(f'ALTER TABLE "{table}" RESET ({options})')


class Migration(migrations.Migration):
    dependencies = [('followup', '0009_contact_channel_quiet_hours_sms_duration')]

    operations = [migrations.RunPython(set_options, reset_options)]

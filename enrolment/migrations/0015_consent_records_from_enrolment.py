"""Each existing enrolment consent becomes the participant's first consent record
(kind "initial", signed on paper, no optional item answered), so every participant has
a consent history."""

from django.db import migrations


def forward(apps, schema_editor):
    Consent = apps.get_model("enrolment", "Consent")
    ConsentRecord = apps.get_model("enrolment", "ConsentRecord")
    ConsentDocument = apps.get_model("enrolment", "ConsentDocument")
    documents = {(d.trial_id, d.version): d.pk for d in ConsentDocument.objects.all()}
    have = set(
        ConsentRecord.objects.filter(kind="initial").values_list("participant_id", flat=True)
    )
    rows = []
    for c in Consent.objects.select_related("participant").exclude(participant_id__in=have):
        rows.append(
            ConsentRecord(
                participant_id=c.participant_id,
                document_id=documents.get((c.participant.trial_id, c.form_version)),
                version=c.form_version,
                kind="initial",
                given_on=c.consented_on,
                answers={},
                method="paper",
                recorded_by_id=c.taken_by_id,
                note="from the enrolment consent",
            )
        )
    ConsentRecord.objects.bulk_create(rows, batch_size=500)


def backward(apps, schema_editor):
    apps.get_model("enrolment", "ConsentRecord").objects.filter(
        kind="initial", note="from the enrolment consent"
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("enrolment", "0014_consent_documents_and_history")]
    operations = [migrations.RunPython(forward, backward)]

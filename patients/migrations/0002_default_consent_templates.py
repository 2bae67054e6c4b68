from django.db import migrations

from patients.consent_defaults import create_default_consent_templates


def create_templates(apps, schema_editor):
    create_default_consent_templates(apps.get_model("patients", "ConsentTemplate"))


class Migration(migrations.Migration):
    dependencies = [("patients", "0001_initial")]

    operations = [migrations.RunPython(create_templates, migrations.RunPython.noop)]

from django.db import migrations


class Migration(migrations.Migration):
    """One account per e-mail address, whatever its case. The sign-up form checks it too;
    the index holds it when two sign-ups race (accounts without an address are left out:
    staff made in the shell, fixtures)."""

    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("profiles", "0001_initial"),
    ]

    operations = [
        migrations.RunSQL(
            "CREATE UNIQUE INDEX profiles_user_email_unique_ci ON auth_user (LOWER(email)) "
            "WHERE email <> ''",
            reverse_sql="DROP INDEX profiles_user_email_unique_ci",
        ),
    ]

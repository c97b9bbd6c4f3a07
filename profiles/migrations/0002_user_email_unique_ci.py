from django.db import migrations
from django.db.models import Count
from django.db.models.functions import Lower

# Named in the message; the rest are only counted.
NAMED = 20


class SharedEmailAddresses(Exception):
    """Accounts share an address: the unique index cannot be made until a person decides
    whose it is (blanking one here would quietly take its password reset away)."""


def refuse_shared_addresses(apps, schema_editor) -> None:
    User = apps.get_model("auth", "User")
    shared = (
        User.objects.exclude(email="")
        .annotate(address=Lower("email"))
        .values("address")
        .annotate(accounts=Count("id"))
        .filter(accounts__gt=1)
        .order_by("address")
    )
    addresses = [row["address"] for row in shared]
    if not addresses:
        return
    ids: dict[str, list[int]] = {address: [] for address in addresses[:NAMED]}
    for pk, address in (
        User.objects.annotate(address=Lower("email"))
        .filter(address__in=ids)
        .order_by("pk")
        .values_list("pk", "address")
    ):
        ids[address].append(pk)
    named = "; ".join(
        f"{address} (accounts {', '.join(map(str, pks))})" for address, pks in ids.items()
    )
    more = f"; and {len(addresses) - NAMED} more" if len(addresses) > NAMED else ""
    raise SharedEmailAddresses(
        f"{len(addresses)} e-mail address(es) are on more than one account (in any letter "  # nosec B608 # an error message naming a fix, not a query
        f"case), so they cannot be made unique: {named}{more}. Give each account its own "
        "address, or blank the address of the accounts that should not have it (UPDATE "
        "auth_user SET email = '' WHERE id IN (...)), then run migrate again."
    )


class Migration(migrations.Migration):
    """One account per e-mail address, whatever its case. The sign-up form checks it too;
    the index holds it when two sign-ups race (accounts without an address are left out:
    staff made in the shell, fixtures). Accounts that already share an address stop the
    migration with their ids, for a person to decide whose the address is."""

    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("profiles", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(refuse_shared_addresses, migrations.RunPython.noop),
        migrations.RunSQL(
            "CREATE UNIQUE INDEX profiles_user_email_unique_ci ON auth_user (LOWER(email)) "
            "WHERE email <> ''",
            reverse_sql="DROP INDEX profiles_user_email_unique_ci",
        ),
    ]

from django.db import migrations

PACKS = [
    # slug, name, tokens, price (cents), ordering
    ("starter", "Starter", 100, 500, 10),
    ("creator", "Creator", 500, 2000, 20),
    ("studio", "Studio", 2000, 6000, 30),
]


def create_packs(apps, schema_editor):
    TokenPack = apps.get_model("tokens", "TokenPack")
    for slug, name, tokens, price, ordering in PACKS:
        TokenPack.objects.get_or_create(
            slug=slug,
            defaults={
                "name": name,
                "tokens": tokens,
                "price": price,
                "currency": "usd",
                "ordering": ordering,
            },
        )


def open_lots_for_current_balances(apps, schema_editor):
    """What accounts hold before credit lots existed becomes one promo lot each, without
    expiry (nobody's tokens start expiring because of a migration): Σ lots = balance."""
    TokenAccount = apps.get_model("tokens", "TokenAccount")
    CreditLot = apps.get_model("tokens", "CreditLot")
    accounts = TokenAccount.objects.filter(balance__gt=0, lots__isnull=True).order_by("id")
    CreditLot.objects.bulk_create(
        [
            CreditLot(
                account_id=account.id,
                category="promo",
                granted=account.balance,
                remaining=account.balance,
            )
            for account in accounts.iterator(chunk_size=2000)
        ],
        batch_size=2000,
    )


def remove_packs(apps, schema_editor):
    apps.get_model("tokens", "TokenPack").objects.filter(
        slug__in=[p[0] for p in PACKS], purchases__isnull=True
    ).delete()


def remove_opening_lots(apps, schema_editor):
    apps.get_model("tokens", "CreditLot").objects.filter(
        purchase__isnull=True, ledger_entries__isnull=True, draws__isnull=True
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("tokens", "0004_credit_lots_and_purchases")]
    operations = [
        migrations.RunPython(create_packs, remove_packs),
        migrations.RunPython(open_lots_for_current_balances, remove_opening_lots),
    ]

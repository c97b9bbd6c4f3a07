"""The alert run names a day whose welcome grants near the site-wide cap."""

from ops.figures import collect
from profiles.models import PendingWelcome, WelcomeDay
from profiles.welcome import today


def welcome_check(snapshot):
    [check] = [c for c in snapshot.checks if c.name == "welcome_cap"]
    return check


def test_quiet_below_the_share_and_firing_from_it(db, settings, alice):
    settings.PHOENIX_WELCOME_GRANTS_PER_DAY = 100
    settings.PHOENIX_WELCOME_CAP_ALERT_SHARE = 0.8
    WelcomeDay.objects.create(day=today(), granted=79)

    quiet = welcome_check(collect())
    WelcomeDay.objects.update(granted=80)
    near = welcome_check(collect())
    WelcomeDay.objects.update(granted=100)
    PendingWelcome.objects.create(user=alice)
    full = welcome_check(collect())

    assert not quiet.firing and quiet.detail == "79 of 100 granted today (UTC)"
    assert near.firing and not near.is_target
    assert full.detail == "100 of 100 granted today (UTC); 1 waiting for tomorrow"
    assert "welcome_cap" in [c.name for c in collect().alerts_firing]


def test_no_cap_no_alert(db, settings):
    settings.PHOENIX_WELCOME_GRANTS_PER_DAY = 0
    assert not welcome_check(collect()).firing

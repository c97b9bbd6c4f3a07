"""A poll that finds nothing new costs no SQL: card versions in Redis, bumped after COMMIT by
every change a card shows; the card's poll URL carries its version and a signed token; an
unchanged card is answered 204 without the session, the user or the database."""

import html as html_lib
import re
import time

import pytest
from django.test import Client
from django.urls import reverse
from redis import Redis

from creations import fair_queue, polling, queues, services, versions
from creations.models import Creation
from creations.selectors import WaitEstimate
from tests.conftest import no_session

HTMX = {"HX-Request": "true"}


def poll_url(html: str, element_id: str) -> str:
    found = re.search(rf'<[a-z]+ id="{element_id}"[^>]*?hx-get="([^"]+)"', html, re.S)
    assert found is not None, f"no poll on #{element_id}"
    return html_lib.unescape(found.group(1))


def card_url(client, creation) -> str:
    """The poll URL of the card as the browser has it after its first poll (the first
    render of a pending card does not know its queue yet: its first poll reads its place)."""
    url = f"/creations/{creation.id}/card?shown={creation.status}"
    for _ in range(2 if creation.status == "pending" else 1):
        response = client.get(url, headers=HTMX)
        assert response.status_code == 200
        url = poll_url(response.content.decode(), f"creation-{creation.id}")
    return url


def version_of(creation) -> int | None:
    return versions.read(versions.card_key(creation.pk))[0]


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run the block's after-COMMIT work (as the real COMMIT would)."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def pending(alice, make_creation, committed):
    with committed():
        return make_creation(owner=alice, status="pending")


@pytest.fixture
def processing(alice, make_creation, committed):
    with committed():
        return make_creation(owner=alice, status="processing", kind="video", progress=10)


@pytest.mark.parametrize("card", ["pending", "processing"])
def test_an_unchanged_card_is_answered_204_without_sql_or_session(
    request, alice_client, django_assert_num_queries, card
):
    creation = request.getfixturevalue(card)
    url = card_url(alice_client, creation)
    assert "t=" in url and "v=" in url

    with django_assert_num_queries(0), no_session():
        response = alice_client.get(url, headers=HTMX)

    assert response.status_code == 204
    assert response.content == b""
    assert "Cookie" not in response.get("Vary", "")
    assert not response.cookies
    assert "no-store" in response["Cache-Control"]


def test_a_plain_replay_of_the_poll_url_is_answered_as_the_browser_is(
    alice_client, pending, django_assert_num_queries
):
    url = card_url(alice_client, pending)

    with django_assert_num_queries(0), no_session():
        # No HTMX header, no cookie: the URL says it all.
        response = Client().get(url)

    assert response.status_code == 204


def test_a_changed_card_is_rendered_with_its_new_version(
    alice_client, processing, committed, django_assert_max_num_queries
):
    url = card_url(alice_client, processing)
    with committed():
        services.creation_report_progress(creation=processing, percent=60)

    with django_assert_max_num_queries(5):
        response = alice_client.get(url, headers=HTMX)

    html = response.content.decode()
    assert response.status_code == 200
    assert "Processing · 60%" in html
    new_url = poll_url(html, f"creation-{processing.id}")
    assert f"v={version_of(processing)}" in new_url
    assert new_url != url
    assert alice_client.get(new_url, headers=HTMX).status_code == 204


def test_a_card_that_finished_comes_back_without_a_poll(alice_client, pending, committed):
    url = card_url(alice_client, pending)
    with committed():
        services.creation_cancel(creation=pending)

    html = alice_client.get(url, headers=HTMX).content.decode()

    assert "card--canceled" in html
    assert "hx-trigger" not in html
    assert "Your image was canceled." in html


@pytest.mark.parametrize(
    "change",
    ["claim", "progress", "complete", "fail", "cancel", "trash", "restore", "publish"],
)
def test_each_change_bumps_the_version_after_the_commit_not_before(
    alice, make_creation, committed, django_capture_on_commit_callbacks, change
):
    start = {"claim": "pending", "cancel": "pending", "fail": "processing"}.get(change)
    start = start or ("draft" if change in ("trash", "publish") else "processing")
    with committed():
        creation = make_creation(owner=alice, status=start)
        if change == "restore":
            creation = make_creation(owner=alice, status="draft")
            services.creation_trash(creation=creation)
    card_before = version_of(creation)
    list_before = versions.read(versions.drafts_key(alice.pk))[0]
    assert card_before is not None

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        if change == "claim":
            services.creation_claim(creation_id=creation.id)
        elif change == "progress":
            services.creation_report_progress(creation=creation, percent=50)
        elif change == "complete":
            services.creation_complete(
                creation=creation, media="creations/x.png", width=1, height=1
            )
        elif change == "fail":
            services.creation_fail(creation=creation, code="timed_out")
        elif change == "cancel":
            services.creation_cancel(creation=creation)
        elif change == "trash":
            services.creation_trash(creation=creation)
        elif change == "restore":
            services.creation_restore(creation=creation)
        elif change == "publish":
            services.creation_publish(creation=creation, caption="")
        # Written, not yet committed: the polls still see the old version.
        assert version_of(creation) == card_before
    for callback in callbacks:
        callback()

    assert version_of(creation) > card_before
    list_after = versions.read(versions.drafts_key(alice.pk))[0]
    if change == "progress":
        assert list_after == list_before  # the list does not care
    else:
        assert list_after > list_before


def test_a_rolled_back_change_bumps_nothing(alice, pending, django_capture_on_commit_callbacks):
    from django.db import transaction

    before = version_of(pending)
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(RuntimeError), transaction.atomic():
            services.creation_cancel(creation=pending)
            raise RuntimeError

    assert version_of(pending) == before


def test_a_version_is_never_reused_even_after_redis_lost_it(pending, clean_redis):
    first = version_of(pending)
    clean_redis.flushdb()
    versions.bump(versions.card_key(pending.pk))

    assert version_of(pending) != first
    versions.bump(versions.card_key(pending.pk))
    # Bumped twice in the same microsecond or with a clock behind: still a new one.
    key = versions.card_key(pending.pk)
    ahead = versions._now() + 10**12  # written by a host whose clock is ahead
    clean_redis.set(key, ahead)
    versions.bump(key)
    assert version_of(pending) == ahead + 1


def test_a_poll_after_redis_lost_the_version_renders_and_gets_a_new_one(
    alice_client, pending, clean_redis
):
    url = card_url(alice_client, pending)
    clean_redis.delete(versions.card_key(pending.pk))

    response = alice_client.get(url, headers=HTMX)

    assert response.status_code == 200
    again = poll_url(response.content.decode(), f"creation-{pending.id}")
    assert version_of(pending) is not None
    assert alice_client.get(again, headers=HTMX).status_code == 204


@pytest.mark.parametrize("who", ["anonymous", "bob"])
def test_someone_else_never_gets_the_card(alice_client, bob, pending, committed, who):
    url = card_url(alice_client, pending)
    other = Client()
    if who == "bob":
        other.force_login(bob)
    with committed():
        services.creation_cancel(creation=pending)

    response = other.get(url, headers=HTMX)

    assert response.status_code == 404
    assert str(pending.id) not in response.content.decode()


def tampered(url: str, name: str, value: str) -> str:
    return re.sub(rf"([?&]{name}=)[^&]*", rf"\g<1>{value}", url)


@pytest.mark.parametrize(
    "forge",
    [
        lambda url, bob: tampered(url, "t", "1.abc"),
        lambda url, bob: tampered(url, "t", f"{bob.pk}." + url.split("t=")[1].split(".")[1]),
        lambda url, bob: re.sub(r"&t=[^&]*", "", url),
    ],
    ids=["forged-signature", "other-owner", "no-token"],
)
def test_a_forged_or_missing_token_takes_the_normal_path(
    alice_client, bob, pending, django_assert_num_queries, forge
):
    url = forge(card_url(alice_client, pending), bob)

    # Not 204: the session and the owner are checked, and a stranger gets nothing.
    assert Client().get(url, headers=HTMX).status_code == 404
    assert alice_client.get(url, headers=HTMX).status_code == 200


def test_a_token_is_for_one_card_only(alice_client, alice, make_creation, committed):
    with committed():
        first = make_creation(owner=alice, status="pending")
        second = make_creation(owner=alice, status="pending")
    url = card_url(alice_client, first)
    other = url.replace(str(first.id), str(second.id))
    other = tampered(other, "v", str(version_of(second)))

    assert Client().get(other, headers=HTMX).status_code == 404


def test_a_pending_card_renders_again_when_its_place_in_line_moved(
    alice_client, pending, monkeypatch
):
    url = card_url(alice_client, pending)
    assert "a=" in url and "k=image" in url
    version = version_of(pending)

    moved_read = fair_queue.PollRead(version, 3, {"images": 3, "videos": 0}, {})
    monkeypatch.setattr(fair_queue, "poll_read", lambda *a, **k: moved_read)
    moved = alice_client.get(url, headers=HTMX)
    again = poll_url(moved.content.decode(), f"creation-{pending.id}")

    assert moved.status_code == 200
    assert "a=3" in again
    assert alice_client.get(again, headers=HTMX).status_code == 204


def test_a_poll_past_its_time_renders_again(alice_client, pending, monkeypatch):
    url = card_url(alice_client, pending)
    until = int(re.search(r"u=(\d+)", url).group(1))
    monkeypatch.setattr(time, "time", lambda: until + 1)

    assert alice_client.get(url, headers=HTMX).status_code == 200


@pytest.fixture
def redis_down(monkeypatch):
    dead = Redis(port=1, socket_connect_timeout=0.2, socket_timeout=0.2)
    monkeypatch.setattr(versions, "connection", lambda: dead)


def test_redis_down_at_the_bump_never_fails_the_write(alice, processing, committed, redis_down):
    with committed():
        result = services.creation_cancel(creation=processing)

    processing.refresh_from_db()
    assert processing.status == Creation.Status.CANCELED
    assert result.refunded == 10


def test_redis_down_at_the_poll_renders_the_card(alice_client, processing, redis_down):
    url = f"/creations/{processing.id}/card?shown=processing&v=1&t=x"

    response = alice_client.get(url, headers=HTMX)

    assert response.status_code == 200
    assert f"/creations/{processing.id}/card?shown=processing" in response.content.decode()


class Wait:
    def __init__(self, seconds):
        self.wait = WaitEstimate(place=1, seconds=seconds + 60, sure=True, starts_in=seconds)
        self.status = Creation.Status.PENDING


@pytest.mark.parametrize(
    ("seconds", "every"),
    [(None, 2), (10, 2), (30, 2), (40, 5), (60, 10), (3600, 10)],
)
def test_a_card_polls_slower_only_while_its_eta_is_far(seconds, every):
    card = Wait(seconds) if seconds is not None else Wait(0)
    if seconds is None:
        card.wait = None
    now = 1_000_000.0

    got_every, until = polling.card_timing(card, now=now)

    assert got_every == every
    assert 2 <= got_every <= 10
    if seconds:
        assert got_every <= seconds
        # It renders again (and polls every 2 s from then on) once the ETA comes near.
        assert until <= now + max(seconds - polling.NEAR_SECONDS, polling.MAX_STALE_SECONDS)
        assert until <= now + polling.MAX_STALE_SECONDS


def test_a_card_next_in_line_polls_every_two_seconds_whatever_its_own_run():
    card = Wait(0)
    card.wait = WaitEstimate(place=1, seconds=600, sure=False, starts_in=0)

    assert polling.card_timing(card, now=1_000_000.0)[0] == polling.MIN_EVERY


def test_the_interval_is_in_the_cards_trigger(alice_client, pending, monkeypatch):
    monkeypatch.setattr(polling, "card_timing", lambda creation, now: (7, int(now) + 60))

    html = alice_client.get(
        f"/creations/{pending.id}/card?shown=pending", headers=HTMX
    ).content.decode()

    assert 'hx-trigger="every 7s" data-poll' in html


# ---------------------------------------------------------------------------------------
# The drafts tab: a creation started elsewhere appears.


def drafts_tab(client, user) -> str:
    return client.get(reverse("profile", args=[user.username]) + "?tab=drafts").content.decode()


def test_the_drafts_tab_shows_a_creation_started_in_another_tab(
    alice_client,
    alice,
    make_creation,
    committed,
    django_assert_num_queries,
    django_assert_max_num_queries,
):
    with committed():
        older = make_creation(owner=alice, status="draft")
    url = poll_url(drafts_tab(alice_client, alice), "drafts-poll")

    with django_assert_num_queries(0), no_session():
        assert alice_client.get(url, headers=HTMX).status_code == 204

    with committed():
        started = make_creation(owner=alice, status="pending", prompt="made in another tab")
    # The session, the user, the new cards (one query), the typical runs behind an ETA
    # (once a process in 30 s).
    with django_assert_max_num_queries(4):
        response = alice_client.get(url, headers=HTMX)

    html = response.content.decode()
    assert response.status_code == 200
    assert f'id="creation-{started.id}"' in html
    assert "made in another tab" in html
    assert f'id="creation-{older.id}"' not in html  # already on the tab
    # The poller comes back with the new version and the newest card shown.
    assert 'id="drafts-poll"' in html and 'hx-swap-oob="true"' in html
    again = poll_url(html, "drafts-poll")
    assert alice_client.get(again, headers=HTMX).status_code == 204


def test_an_empty_drafts_tab_gets_its_first_card(alice_client, alice, make_creation, committed):
    html = drafts_tab(alice_client, alice)
    assert 'id="drafts-empty"' in html
    url = poll_url(html, "drafts-poll")
    with committed():
        started = make_creation(owner=alice, status="pending")

    html = alice_client.get(url, headers=HTMX).content.decode()

    assert f'id="creation-{started.id}"' in html
    assert '<div id="drafts-empty" hx-swap-oob="delete"></div>' in html


def test_the_drafts_tab_hears_of_trash_and_restore_but_not_of_progress(
    alice_client, alice, make_creation, committed
):
    with committed():
        draft = make_creation(owner=alice, status="draft")
        running = make_creation(owner=alice, status="processing")
    url = poll_url(drafts_tab(alice_client, alice), "drafts-poll")
    with committed():
        services.creation_report_progress(creation=running, percent=40)
    assert alice_client.get(url, headers=HTMX).status_code == 204

    with committed():
        services.creation_trash(creation=draft)

    assert alice_client.get(url, headers=HTMX).status_code == 200


def test_the_drafts_poll_gives_strangers_nothing(
    alice_client, alice, bob, make_creation, committed
):
    url = poll_url(drafts_tab(alice_client, alice), "drafts-poll")
    with committed():
        make_creation(owner=alice, status="pending", prompt="alice's secret")
    bobs = Client()
    bobs.force_login(bob)

    assert Client().get(url, headers=HTMX).status_code == 404
    html = bobs.get(url, headers=HTMX).content.decode()
    assert "alice&#x27;s secret" not in html and "alice's secret" not in html


def test_the_cards_on_the_drafts_tab_poll_with_their_versions(alice_client, alice, pending):
    url = poll_url(drafts_tab(alice_client, alice), f"creation-{pending.id}")

    assert f"v={version_of(pending)}" in url
    # Its URL vouches for the place in the queue the page shows: its first poll is a 204.
    assert "a=0" in url
    assert alice_client.get(url, headers=HTMX).status_code == 204


def test_a_pending_card_whose_place_is_unknown_renders_again_within_ten_seconds(
    alice_client, pending
):
    # The queue cannot say its place (its job is not in the order: lost in a failover, say,
    # until recovery sends it again), which may move without a version bump: it is trusted
    # for a short while only.
    queues.get_queue("images").connection.zrem(
        fair_queue.order_key("images"), queues.job_id_for(pending.id)
    )
    url = card_url(alice_client, pending)
    until = int(re.search(r"u=(\d+)", url).group(1))

    assert "a=&" in url
    assert until <= time.time() + polling.UNKNOWN_PLACE_STALE_SECONDS + 1


def test_the_poll_url_a_benchmark_replays_is_the_browsers_without_its_expiry(
    alice_client, pending, processing, django_assert_num_queries
):
    for creation in (pending, processing):
        url = polling.card_poll_url(creation, expires=False)
        assert "u=" not in url
        assert url == re.sub(r"&u=\d+", "", card_url(alice_client, creation))
        with django_assert_num_queries(0):
            assert Client().get(url, headers=HTMX).status_code == 204
        changed = tampered(url, "v", "1")
        assert alice_client.get(changed, headers=HTMX).status_code == 200


def test_with_redis_down_a_process_stops_trying_for_a_moment(
    alice, make_creation, committed, redis_down, monkeypatch
):
    tries = []
    dead = versions.connection()
    monkeypatch.setattr(versions, "connection", lambda: tries.append(1) or dead)
    with committed():
        drafts = [make_creation(owner=alice, status="draft") for _ in range(3)]
    tries.clear()
    versions.reset()

    with committed():
        for draft in drafts:
            services.creation_trash(creation=draft)

    assert len(tries) == 1  # the first bump failed; the others waited for nothing
    assert versions.read(versions.card_key(drafts[0].pk)) == [None]  # polls render
    assert len(tries) == 1


@pytest.mark.parametrize(
    ("junk", "answers"),
    [
        ("v=%C2%B2", (200, 404)),  # a digit to str.isdigit, not to int()
        ("u=%C2%B2", (200, 404)),
        ("t=%C2%B2.x", (200, 404)),
        ("v=", (200, 404)),
        ("a=%00", (204, 204)),  # a processing card has no place in the queue to compare
        ("k=sound", (204, 204)),
    ],
)
def test_junk_in_the_poll_url_takes_the_normal_path(alice_client, processing, junk, answers):
    name, value = junk.split("=", 1)
    url = card_url(alice_client, processing)
    url = tampered(url, name, value) if f"{name}=" in url else f"{url}&{junk}"

    assert alice_client.get(url, headers=HTMX).status_code == answers[0]
    assert Client().get(url, headers=HTMX).status_code == answers[1]


def test_a_poll_with_a_flood_of_parameters_takes_the_normal_path(alice_client, processing):
    url = card_url(alice_client, processing) + "".join(f"&x{n}=1" for n in range(20))

    assert alice_client.get(url, headers=HTMX).status_code == 200
    assert Client().get(url, headers=HTMX).status_code == 404


def test_after_redis_lost_the_versions_the_drafts_tab_gives_its_cards_new_ones(
    alice_client, alice, pending
):
    """A flushed Redis (or a failover to a replica behind): the drafts tab claims a version
    for each card that has none, so the cards' first polls are 204s, not renders."""
    connection = versions.connection()
    connection.delete(versions.card_key(pending.pk))

    url = poll_url(drafts_tab(alice_client, alice), f"creation-{pending.id}")

    assert f"v={version_of(pending)}" in url
    assert alice_client.get(url, headers=HTMX).status_code == 204


def test_a_version_claimed_only_where_nobody_set_one_meanwhile():
    connection = versions.connection()
    connection.set("phoenix:version:card:set-meanwhile", 42)

    mine, theirs = versions.claim(
        "phoenix:version:card:unknown", "phoenix:version:card:set-meanwhile"
    )

    assert mine is not None and int(connection.get("phoenix:version:card:unknown")) == mine
    # Another writer's version may stand for a change the caller's rows do not show.
    assert theirs is None
    assert connection.get("phoenix:version:card:set-meanwhile") == b"42"


def test_a_card_on_the_drafts_tab_trusts_its_version_for_ten_seconds_only(
    alice_client, alice, processing
):
    """The page reads the card versions after the rows: a progress bump in between would
    be vouched for by a row that does not show it, so that card renders again soon."""
    url = poll_url(drafts_tab(alice_client, alice), f"creation-{processing.id}")
    until = int(re.search(r"u=(\d+)", url).group(1))

    assert until <= time.time() + polling.UNKNOWN_PLACE_STALE_SECONDS + 1

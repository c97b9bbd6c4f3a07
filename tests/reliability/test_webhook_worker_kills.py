"""A real RQ worker process of the `webhooks` queue killed (SIGKILL) in the middle of a
delivery: the receiver has the request, the worker never records the answer. The delivery
is neither lost nor doubled: one row, still `sending` until its claim passes, then sent
again by the recovery pass with the same webhook-id (which the receiver may see twice)."""

import subprocess
import sys
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import timezone
from standardwebhooks import Webhook

from tests.conftest import ROOT, stop_worker, wait_for, worker_environment
from webhooks import delivery as delivery_module
from webhooks import services, signing
from webhooks.jobs import sending
from webhooks.models import WebhookDelivery, WebhookEndpoint

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

KILLS = 3


class Receiver:
    """A threaded local receiver: records every request; hangs (never answers) while
    `hang` is set, else answers 204."""

    def __init__(self):
        self.requests: list[tuple[dict, bytes]] = []
        self.hang = threading.Event()
        self.release = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers), body))
                if receiver.hang.is_set():
                    receiver.release.wait(60)
                    return
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    receiver = Receiver()
    yield receiver
    receiver.close()


def webhooks_worker(*args: str) -> subprocess.Popen:
    """The Procfile's worker-webhooks (non-forking), loopback receivers allowed (DEBUG on,
    as local development), a long timeout: killed, it is surely mid-request."""
    return subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "rqworker",
            "webhooks",
            *args,
            "--worker-class",
            "creations.worker.LightWorker",
        ],
        cwd=ROOT,
        env=worker_environment(
            DEBUG="1", PHOENIX_WEBHOOKS_ALLOW_PRIVATE="1", PHOENIX_WEBHOOK_TIMEOUT="60"
        ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )


def test_a_worker_killed_mid_delivery_neither_loses_nor_doubles_it(alice, receiver, figure):
    endpoint = WebhookEndpoint.objects.create(
        owner=alice, url=receiver.url, events=["tokens.low"], secret=signing.new_secret()
    )
    resent_once = 0
    for kill in range(KILLS):
        receiver.requests.clear()
        receiver.hang.set()
        receiver.release.clear()
        # Committed at once (no transaction open): the row, then its job.
        assert (
            services.event_emit(
                owner_id=alice.pk, event_type="tokens.low", key=f"kill-{kill}", data={"n": kill}
            )
            == 1
        )
        row = WebhookDelivery.objects.get(webhook_id__isnull=False, payload__contains=f'"n":{kill}')

        worker = webhooks_worker()
        try:
            wait_for(lambda: len(receiver.requests) == 1, what="the request to arrive")
        finally:
            stop_worker(worker)  # SIGKILL, mid-request: the answer is never read
        receiver.release.set()

        row.refresh_from_db()
        assert (row.state, row.attempts) == ("sending", 1)
        # While its claim holds, recovery leaves it alone (the worker might be alive).
        assert delivery_module.deliveries_resume() == []
        # Its claim passes (the job's timeout and a grace: minutes, here made past).
        WebhookDelivery.objects.filter(pk=row.pk).update(
            claimed_until=timezone.now() - timedelta(seconds=1)
        )
        resumed = delivery_module.deliveries_resume()
        assert resumed == [row.pk]
        assert delivery_module.deliveries_resume() == []  # not twice

        receiver.hang.clear()
        for delivery_id in resumed:
            sending.delivery_enqueue(delivery_id)
        rerun = webhooks_worker("--burst")
        try:
            rerun.wait(timeout=60)
        finally:
            stop_worker(rerun)

        row.refresh_from_db()
        assert (row.state, row.attempts, row.status_code) == ("succeeded", 2, 204)
        assert WebhookDelivery.objects.filter(webhook_id=row.webhook_id).count() == 1
        ids = [headers["webhook-id"] for headers, _ in receiver.requests]
        assert ids == [row.webhook_id, row.webhook_id]
        for headers, body in receiver.requests:
            Webhook(endpoint.secret).verify(body, headers)
        resent_once += 1
    assert WebhookDelivery.objects.count() == KILLS
    figure(
        f"{resent_once}/{KILLS} webhook workers killed mid-delivery: each delivery kept as one "
        "row and sent again once with its webhook-id"
    )

"""A fake Stripe for tests and `make run`: a real HTTP server (standard library only) that
answers the few calls Phoenix makes through the official `stripe` library, plus a hosted
Checkout page of its own.

API (form-encoded in, JSON out, `Authorization: Bearer sk_…` required):
- `POST /v1/checkout/sessions` (inline `price_data`; an `Idempotency-Key` answers the same
  session again), `GET /v1/checkout/sessions/{id}`, `GET /v1/checkout/sessions` (`created[gte]`,
  `status`, `payment_intent`, `limit`,
  `starting_after`), `POST /v1/refunds` (`payment_intent`, `amount`).

Checkout page: `GET /pay/{id}` shows the pack and a Pay button; paying completes the session
and delivers a `checkout.session.completed` event, signed with the library's own
`WebhookSignature`, to `webhook_url`, then sends the browser to the session's success URL.
A refund delivers `charge.refunded` the same way. Tests drive the rest (async payments,
expiry, disputes) through the helpers and sign events with `signed()`.

Run it on its own: `python -m tokens.fake_stripe --port 12111 --webhook-url
http://127.0.0.1:8000/stripe/webhook --webhook-secret whsec_…` (`make run` does).
"""

import argparse
import html
import json
import os
import secrets
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from stripe import WebhookSignature


def new_id(prefix: str) -> str:
    return f"{prefix}_test_{secrets.token_hex(12)}"


class FakeStripe:
    def __init__(self, *, webhook_url: str = "", webhook_secret: str = "whsec_fake"):
        self.webhook_url = webhook_url
        self.webhook_secret = webhook_secret
        self.base_url = ""
        self.sessions: dict[str, dict] = {}
        self.charges: dict[str, dict] = {}  # by payment_intent
        self.disputes: dict[str, str] = {}  # a dispute's id, by payment_intent
        self.refunds: list[dict] = []
        self.idempotent: dict[str, dict] = {}
        self.calls: list[tuple[str, str]] = []
        self.deliveries: list[int] = []
        self.lock = threading.Lock()
        self.server: ThreadingHTTPServer | None = None

    # -- the API ---------------------------------------------------------------------------

    def create_session(self, form: dict, idempotency_key: str | None) -> dict:
        with self.lock:
            if idempotency_key and idempotency_key in self.idempotent:
                return self.idempotent[idempotency_key]
            prefix = "line_items[0]"
            unit_amount = int(form[f"{prefix}[price_data][unit_amount]"])
            quantity = int(form.get(f"{prefix}[quantity]", "1"))
            session_id = new_id("cs")
            session = {
                "id": session_id,
                "object": "checkout.session",
                "mode": form.get("mode"),
                "status": "open",
                "payment_status": "unpaid",
                "amount_total": unit_amount * quantity,
                "currency": form[f"{prefix}[price_data][currency]"],
                "client_reference_id": form.get("client_reference_id"),
                "metadata": {
                    key[len("metadata[") : -1]: value
                    for key, value in form.items()
                    if key.startswith("metadata[")
                },
                "payment_intent": None,
                "success_url": form.get("success_url"),
                "cancel_url": form.get("cancel_url"),
                "created": int(time.time()),
                "url": f"{self.base_url}/pay/{session_id}",
                "livemode": False,
                "_product": form.get(f"{prefix}[price_data][product_data][name]", ""),
            }
            self.sessions[session_id] = session
            if idempotency_key:
                self.idempotent[idempotency_key] = session
            return session

    def list_sessions(self, query: dict) -> dict:
        created_gte = int(query.get("created[gte]", "0"))
        status = query.get("status")
        limit = min(int(query.get("limit", "10")), 100)
        rows = sorted(self.sessions.values(), key=lambda s: (-s["created"], s["id"]))
        rows = [
            s for s in rows if s["created"] >= created_gte and (not status or s["status"] == status)
        ]
        payment_intent = query.get("payment_intent")
        if payment_intent:
            rows = [s for s in rows if s["payment_intent"] == payment_intent]
        after = query.get("starting_after")
        if after:
            ids = [s["id"] for s in rows]
            rows = rows[ids.index(after) + 1 :] if after in ids else []
        return {
            "object": "list",
            "url": "/v1/checkout/sessions",
            "data": [self.public(s) for s in rows[:limit]],
            "has_more": len(rows) > limit,
        }

    def create_refund(self, form: dict) -> dict:
        with self.lock:
            charge = self.charges[form["payment_intent"]]
            amount = int(form.get("amount") or charge["amount"] - charge["amount_refunded"])
            if amount <= 0 or charge["amount_refunded"] + amount > charge["amount"]:
                raise ValueError("Refund amount exceeds the charge.")
            charge["amount_refunded"] += amount
            charge["refunded"] = charge["amount_refunded"] == charge["amount"]
            refund = {
                "id": new_id("re"),
                "object": "refund",
                "amount": amount,
                "charge": charge["id"],
                "payment_intent": charge["payment_intent"],
                "status": "succeeded",
            }
            self.refunds.append(refund)
        self.deliver_later(self.event("charge.refunded", dict(charge)))
        return refund

    @staticmethod
    def public(session: dict) -> dict:
        return {k: v for k, v in session.items() if not k.startswith("_")}

    # -- what happens at Stripe, for tests -------------------------------------------------

    def pay(self, session_id: str, *, paid: bool = True) -> dict:
        """Complete the session: paid at once (a card), or not yet (a bank debit)."""
        with self.lock:
            session = self.sessions[session_id]
            session["status"] = "complete"
            session["payment_intent"] = session["payment_intent"] or new_id("pi")
            if paid:
                self._charge(session)
            return self.public(session)

    def settle(self, session_id: str, *, succeeded: bool) -> dict:
        """A delayed payment's outcome."""
        with self.lock:
            session = self.sessions[session_id]
            if succeeded:
                self._charge(session)
            return self.public(session)

    def _charge(self, session: dict) -> None:
        session["payment_status"] = "paid"
        self.charges[session["payment_intent"]] = {
            "id": new_id("ch"),
            "object": "charge",
            "amount": session["amount_total"],
            "amount_refunded": 0,
            "currency": session["currency"],
            "payment_intent": session["payment_intent"],
            "refunded": False,
        }

    def expire(self, session_id: str) -> dict:
        with self.lock:
            self.sessions[session_id]["status"] = "expired"
            return self.public(self.sessions[session_id])

    def dispute(self, payment_intent: str, *, status: str = "needs_response") -> dict:
        """The charge's dispute (one per charge, as Stripe has it: the same id each time)."""
        charge = self.charges[payment_intent]
        with self.lock:
            dispute_id = self.disputes.setdefault(payment_intent, new_id("dp"))
        return {
            "id": dispute_id,
            "object": "dispute",
            "amount": charge["amount"],
            "currency": charge["currency"],
            "charge": charge["id"],
            "payment_intent": payment_intent,
            "status": status,
        }

    def event(self, event_type: str, obj: dict) -> dict:
        return {
            "id": new_id("evt"),
            "object": "event",
            "type": event_type,
            "created": int(time.time()),
            "livemode": False,
            "api_version": "2025-01-27.acacia",
            "data": {"object": obj},
        }

    def signed(self, event: dict, *, secret: str | None = None) -> tuple[bytes, str]:
        """The body and the Stripe-Signature header, from the library's own helper."""
        payload = json.dumps(event)
        header = WebhookSignature.generate_signature_header(payload, secret or self.webhook_secret)
        return payload.encode(), header

    def deliver(self, event: dict) -> int:
        """POST the signed event to the webhook, as Stripe does; the answer's status."""
        payload, header = self.signed(event)
        request = urllib.request.Request(  # nosec B310
            self.webhook_url,
            data=payload,
            headers={"Content-Type": "application/json", "Stripe-Signature": header},
            method="POST",
        )
        try:
            # The configured webhook address (http in tests and make run).
            with urllib.request.urlopen(request, timeout=30) as answer:  # nosec B310
                status = answer.status
        except urllib.error.HTTPError as refused:
            status = refused.code
        self.deliveries.append(status)
        return status

    def deliver_later(self, event: dict) -> None:
        # After the answer that caused it, as Stripe does: never inside the caller's request.
        if self.webhook_url:
            threading.Thread(target=self.deliver, args=(event,), daemon=True).start()

    # -- the server ------------------------------------------------------------------------

    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        fake = self

        class Handler(FakeStripeHandler):
            stripe = fake

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.server.daemon_threads = True
        self.base_url = f"http://{host}:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self.base_url

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


CHECKOUT_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Pay · Fake Stripe Checkout</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{{font-family:system-ui,sans-serif;max-width:28rem;margin:3rem auto;color:#1a1a1a}}
.mode{{background:#fff3cd;color:#4d3800;padding:.5rem;border-radius:4px}}
button{{font-size:1.1rem;padding:.6rem 1.4rem;background:#0a2540;color:#fff;border:0;
border-radius:4px}} a{{color:#0a2540}}</style></head>
<body><main>
<p class="mode">Test mode: a fake Stripe Checkout. No card is charged.</p>
<h1>{product}</h1>
<p>Amount due: <strong>{amount}</strong></p>
<form method="post" action="/pay/{session_id}"><button type="submit">Pay</button></form>
<p><a href="{cancel_url}">Cancel and go back</a></p>
</main></body></html>
"""


class FakeStripeHandler(BaseHTTPRequestHandler):
    stripe: FakeStripe

    def log_message(self, format, *args):
        pass

    def answer(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def api_error(self, status: int, message: str) -> None:
        self.answer(status, {"error": {"type": "invalid_request_error", "message": message}})

    def form(self) -> dict:
        length = int(self.headers.get("Content-Length") or 0)
        return dict(parse_qsl(self.rfile.read(length).decode(), keep_blank_values=True))

    def authorised(self) -> bool:
        if self.headers.get("Authorization", "").startswith("Bearer sk_"):
            return True
        self.answer(401, {"error": {"type": "invalid_request_error", "message": "No API key."}})
        return False

    def do_GET(self):  # noqa: N802 - http.server's name
        url = urlsplit(self.path)
        self.stripe.calls.append(("GET", url.path))
        parts = url.path.strip("/").split("/")
        if parts[:1] == ["pay"] and len(parts) == 2:
            return self.checkout_page(parts[1])
        if not self.authorised():
            return None
        if url.path == "/v1/checkout/sessions":
            return self.answer(200, self.stripe.list_sessions(dict(parse_qsl(url.query))))
        if parts[:3] == ["v1", "checkout", "sessions"] and len(parts) == 4:
            session = self.stripe.sessions.get(parts[3])
            if session is None:
                return self.api_error(404, f"No such checkout.session: '{parts[3]}'")
            return self.answer(200, self.stripe.public(session))
        return self.api_error(404, "Unrecognized request URL.")

    def do_POST(self):  # noqa: N802 - http.server's name
        url = urlsplit(self.path)
        self.stripe.calls.append(("POST", url.path))
        parts = url.path.strip("/").split("/")
        if parts[:1] == ["pay"] and len(parts) == 2:
            return self.pay(parts[1])
        if not self.authorised():
            return None
        form = self.form()
        if url.path == "/v1/checkout/sessions":
            try:
                session = self.stripe.create_session(form, self.headers.get("Idempotency-Key"))
            except (KeyError, ValueError) as problem:
                return self.api_error(400, f"Missing or invalid parameter: {problem}")
            return self.answer(200, self.stripe.public(session))
        if url.path == "/v1/refunds":
            try:
                return self.answer(200, self.stripe.create_refund(form))
            except (KeyError, ValueError) as problem:
                return self.api_error(400, f"Cannot refund: {problem}")
        return self.api_error(404, "Unrecognized request URL.")

    def checkout_page(self, session_id: str) -> None:
        session = self.stripe.sessions.get(session_id)
        if session is None or session["status"] != "open":
            self.send_error(404, "This checkout session is not open.")
            return
        amount = f"{session['amount_total'] / 100:.2f} {session['currency'].upper()}"
        page = CHECKOUT_PAGE.format(
            product=html.escape(session["_product"]),
            amount=html.escape(amount),
            session_id=html.escape(session_id),
            cancel_url=html.escape(session["cancel_url"] or "/"),
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(page)))
        self.end_headers()
        self.wfile.write(page)

    def pay(self, session_id: str) -> None:
        if self.stripe.sessions.get(session_id, {}).get("status") != "open":
            self.send_error(404, "This checkout session is not open.")
            return
        session = self.stripe.pay(session_id)
        self.stripe.deliver_later(self.stripe.event("checkout.session.completed", session))
        self.send_response(303)
        self.send_header(
            "Location", session["success_url"].replace("{CHECKOUT_SESSION_ID}", session_id)
        )
        self.send_header("Content-Length", "0")
        self.end_headers()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=12111)
    parser.add_argument("--webhook-url", default="http://127.0.0.1:8000/stripe/webhook")
    # From the environment by default: a secret on a command line shows in `ps`.
    parser.add_argument("--webhook-secret", default=os.environ.get("STRIPE_WEBHOOK_SECRET", ""))
    args = parser.parse_args()
    if os.environ.get("DEBUG") != "1" or os.environ.get("STRIPE_SECRET_KEY", "").startswith(
        ("sk_live", "rk_live")
    ):
        # A Procfile line a production process manager might start too: it must do nothing
        # there (it would sign events with the real webhook secret).
        parser.exit(2, "The fake Stripe runs only in local development (DEBUG=1, a test key).\n")
    if not args.webhook_secret:
        parser.exit(2, "The fake Stripe needs STRIPE_WEBHOOK_SECRET to sign its events.\n")
    fake = FakeStripe(webhook_url=args.webhook_url, webhook_secret=args.webhook_secret)
    print(f"Fake Stripe on {fake.start(args.host, args.port)}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        fake.stop()


if __name__ == "__main__":
    main()

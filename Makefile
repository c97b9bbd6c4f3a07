# Phoenix: `make run` to use it, `make test` to check it.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
# `make run DB_NAME=mine PORT=8001`: the database `db` creates is the one every process
# uses (DATABASE_URL is built from DB_NAME), and the site answers on PORT.
DB_NAME ?= phoenix
PORT ?= 8000
# Local use runs with DEBUG on; tests and benchmarks set their own settings.
# Payments go to the fake Stripe in tokens/fake_stripe.py (Procfile.dev's fake-stripe),
# which delivers its signed events to the local webhook: buying a pack works end to end.
FAKE_STRIPE_PORT ?= 12111
STRIPE_ENV := STRIPE_API_BASE=http://127.0.0.1:$(FAKE_STRIPE_PORT) STRIPE_SECRET_KEY=sk_test_local \
	STRIPE_PUBLISHABLE_KEY=pk_test_local STRIPE_WEBHOOK_SECRET=whsec_local_fake_stripe FAKE_STRIPE_PORT=$(FAKE_STRIPE_PORT)
# honcho hands each process a PORT of its own, so the web port travels as PHOENIX_PORT.
RUN_ENV := DEBUG=1 DATABASE_URL=postgres://postgres@127.0.0.1:5432/$(DB_NAME) \
	PHOENIX_SITE_URL=http://localhost:$(PORT) PHOENIX_PORT=$(PORT) $(STRIPE_ENV)

.PHONY: run test install services db demo lint format bench browser-deps deploy-deps clean

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

services:
	@bash scripts/ensure-services.sh

db: install services
	@psql -h 127.0.0.1 -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='$(DB_NAME)'" | grep -q 1 \
		|| createdb -h 127.0.0.1 -U postgres $(DB_NAME)
	$(RUN_ENV) $(PY) manage.py migrate --no-input

demo: db
	$(RUN_ENV) $(PY) manage.py create_demo_user
	@# Staff need two-factor sign-in: the demo admin gets it, its key printed once.
	$(RUN_ENV) $(PY) manage.py demo_admin_two_factor

# The Procfile's processes (web, the five workers, cron) through honcho, as in
# production; release (migrate) is done by `db`. Ctrl-C stops all of them.
run: demo
	@echo "Phoenix on http://127.0.0.1:$(PORT), database $(DB_NAME) (web + workers + cron from the Procfile, the fake Stripe from Procfile.dev); Ctrl-C stops all."
	@# Production's Procfile plus the development-only lines of Procfile.dev, in one list.
	@mkdir -p .run && cat Procfile Procfile.dev > .run/Procfile
	@$(RUN_ENV) GUNICORN_BIND=127.0.0.1:$(PORT) GUNICORN_RELOAD=1 PATH="$(CURDIR)/$(VENV)/bin:$$PATH" \
		$(VENV)/bin/honcho -f .run/Procfile -d . start web worker worker-default worker-light worker-housekeeping worker-webhooks cron fake-stripe || [ $$? -eq 130 ]

browser-deps:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }
	@# Emoji in the screenshots (🖼️ 🎬) need a colour emoji font.
	@fc-list 2>/dev/null | grep -qi "Noto Color Emoji" || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-noto-color-emoji >/dev/null || true

# PgBouncer for the tests that run the money suite through it (tests/deploy).
deploy-deps:
	@command -v pgbouncer >/dev/null 2>&1 || test -x /usr/sbin/pgbouncer || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pgbouncer >/dev/null; }
	@# promtool (Debian's prometheus package) checks ops/prometheus/alerts.yml. Only the tool is
	@# wanted: where the install started the package's server (systemd), it is stopped again.
	@command -v promtool >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null && { systemctl disable --now prometheus prometheus-node-exporter >/dev/null 2>&1 || true; }; }

test: install services browser-deps deploy-deps
	$(VENV)/bin/pytest -n 2 --dist loadgroup -q

lint:
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	@# The layers (pyproject.toml [tool.importlinter], docs/architecture.md): a lower layer
	@# never imports a higher one; and no two modules import each other, even in a function.
	$(VENV)/bin/lint-imports --no-cache
	$(PY) scripts/check_import_cycles.py
	@# Security lint, medium severity and up ([tool.bandit] in pyproject.toml). bandit warns
	@# "nosec encountered ... but no failed test" for every part of a multi-line statement
	@# under a `# nosec BXXX`: that noise is dropped, bandit's exit status kept.
	bash -o pipefail -c '$(VENV)/bin/bandit -q -c pyproject.toml -r . -ll 2>&1 | { grep -v "nosec encountered" || true; }'

format:
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: db
	@bash bench/run.sh

clean:
	rm -rf $(VENV) media staticfiles test-output

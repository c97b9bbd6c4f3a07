"""What the outside world can do to a job: a provider that errs, hangs, dawdles or answers
garbage, and storage that fails — each ends in exactly one outcome, refunded if failed."""

import runpy
from pathlib import Path

import pytest
from moto.server import ThreadedMotoServer

from creations.models import Creation
from tests.conftest import run_worker_burst

from . import providers
from .conftest import balance, files_in, refunds, submit
from .providers import SCRIPTED

pytestmark = pytest.mark.django_db(transaction=True)

SETTINGS_FILE = Path(__file__).resolve().parents[2] / "phoenix" / "settings.py"


@pytest.fixture
def scripted(settings, private_media):
    settings.PHOENIX_IMAGE_PROVIDER = SCRIPTED
    providers.calls.clear()
    return settings


@pytest.mark.parametrize(
    ("prompt", "status", "code", "provider_calls"),
    [
        ("error", "failed", "generation_failed", 1),
        ("transient", "failed", "provider_unavailable", 4),
        ("transient once", "draft", "", 2),
        ("sleep 1", "draft", "", 1),
        ("malformed none", "failed", "generation_failed", 1),
        ("malformed object", "failed", "generation_failed", 1),
    ],
    ids=["error", "timeouts-every-time", "timeout-then-answer", "slow", "no-content", "not-media"],
)
def test_each_provider_behaviour_ends_in_one_outcome(
    creator, scripted, private_media, prompt, status, code, provider_calls, figure
):
    start_balance = balance(creator)
    creation = submit(creator, prompt=prompt)
    run_worker_burst()

    creation.refresh_from_db()
    assert creation.status == status
    if code is not None:
        assert creation.error_code == code
    assert refunds(creation) == (1 if status == "failed" else 0)
    assert providers.calls[prompt] == provider_calls
    assert balance(creator) == start_balance - (0 if status == "failed" else 1)
    if status == "failed":
        assert files_in(private_media) == set(), "a failed job left a file behind"
    figure(
        f"provider '{prompt}': {status}"
        + (f" ({creation.error_code})" if creation.error_code else "")
        + f" after {provider_calls} call(s), {refunds(creation)} refund"
    )


def test_a_provider_that_hangs_past_the_job_timeout_is_stopped_and_refunded(
    creator, scripted, figure
):
    scripted.PHOENIX_JOB_TIMEOUT = {**scripted.PHOENIX_JOB_TIMEOUT, "image": 1}
    creation = submit(creator, prompt="sleep 5")
    run_worker_burst()  # RQ's timeout interrupts the job after 1 s

    creation.refresh_from_db()
    assert (creation.status, creation.error_code, refunds(creation)) == ("failed", "timed_out", 1)
    figure("provider hanging past the 1 s job timeout: failed (timed_out), 1 refund")


def test_broken_storage_fails_the_job_with_one_refund(creator, scripted, figure):
    scripted.STORAGES = {
        **scripted.STORAGES,
        "default": {
            "BACKEND": "tests.creations.fakes.BrokenStorage",
            "OPTIONS": {"location": str(scripted.MEDIA_ROOT)},
        },
    }
    creation = submit(creator, prompt="quick")
    run_worker_burst()

    creation.refresh_from_db()
    assert (creation.status, creation.error_code, refunds(creation)) == (
        "failed",
        "storage_failed",
        1,
    )
    figure("storage refusing every write: failed (storage_failed), 1 refund")


@pytest.fixture
def stopped_s3(scripted, monkeypatch):
    """The production S3 storage settings, pointed at a local S3 server that then stops."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    import boto3

    boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id="k",
        aws_secret_access_key="s",
        region_name="us-east-1",
    ).create_bucket(Bucket="phoenix-media")
    for name, value in {
        "PHOENIX_S3_BUCKET": "phoenix-media",
        "PHOENIX_S3_ENDPOINT_URL": endpoint,
        "PHOENIX_S3_ACCESS_KEY_ID": "k",
        "PHOENIX_S3_SECRET_ACCESS_KEY": "s",
    }.items():
        monkeypatch.setenv(name, value)
    storage = runpy.run_path(str(SETTINGS_FILE))["STORAGES"]["default"]
    assert storage["BACKEND"] == "storages.backends.s3.S3Storage"
    scripted.STORAGES = {**scripted.STORAGES, "default": storage}
    server.stop()
    return endpoint


def test_an_s3_server_that_is_down_fails_the_job_with_one_refund(
    creator, scripted, stopped_s3, figure
):
    creation = submit(creator, prompt="quick")
    run_worker_burst()

    creation.refresh_from_db()
    assert (creation.status, creation.error_code, refunds(creation)) == (
        "failed",
        "storage_failed",
        1,
    )
    assert Creation.objects.filter(status="draft").count() == 0
    figure("S3 server stopped: failed (storage_failed), 1 refund")

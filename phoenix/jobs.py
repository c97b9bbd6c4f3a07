"""What every RQ entry point shares: the database connection clean-up, and the old dotted
names of jobs that a previous deploy left queued."""

import functools
from collections.abc import Callable, Iterable
from importlib import import_module

from django.db import close_old_connections


def job_entrypoint(func: Callable) -> Callable:
    """An RQ entry point: a long-lived worker may hold a connection the server has closed
    since the last job (checked before), and a job leaves none half-used behind (after)."""

    @functools.wraps(func)
    def run(*args, **kwargs):
        close_old_connections()
        try:
            return func(*args, **kwargs)
        finally:
            close_old_connections()

    return run


def legacy_job_names(module: str, names: Iterable[str]) -> Callable[[str], object]:
    """A module `__getattr__` that resolves the old dotted names of jobs still waiting in
    Redis (a scheduled post can wait a year; an e-mail retry, a batch chain, a queued
    generation outlive a deploy) to the entry points in `module`, read when first asked."""
    known = frozenset(names)

    def __getattr__(name: str):
        if name in known:
            return getattr(import_module(module), name)
        raise AttributeError(name)

    return __getattr__

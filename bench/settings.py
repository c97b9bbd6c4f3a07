"""Settings for `make bench`: Phoenix's production settings plus the floor views.

The floors (a bare view and a minimal debit view) are mounted only here, through a
URLconf of their own that includes phoenix.urls, so production never serves them.
"""

import os

from phoenix.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
# collectstatic goes to a temporary folder of the run, not into the work tree.
STATIC_ROOT = os.environ["BENCH_STATIC_ROOT"]

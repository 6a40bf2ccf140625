"""Bench-only settings: the production settings plus one extra URL (the bare view, the ceiling).

Selected by bench/run_load.sh with DJANGO_SETTINGS_MODULE=bench_settings and bench/load on the
Python path; production never loads this module.
"""

from procuration.settings import *  # noqa: F403

ROOT_URLCONF = "bench_urls"

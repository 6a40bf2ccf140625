"""gunicorn.conf.py: each worker freezes the collector's view of the loaded app (issue 16)."""

import gc
import runpy
from pathlib import Path


def test_a_worker_freezes_what_loading_the_app_allocated():
    conf = runpy.run_path(str(Path(__file__).resolve().parents[2] / "gunicorn.conf.py"))
    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    try:
        conf["post_worker_init"](None)
        assert gc.get_freeze_count() > 10_000  # Django, the apps and their models, at least
    finally:
        gc.unfreeze()

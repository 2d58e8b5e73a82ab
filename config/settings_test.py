"""Settings for the test suite (pytest's DJANGO_SETTINGS_MODULE): the production settings, run
as the demo, so the shipped demo keys are accepted with DEBUG off (see `DEMO` in settings.py).
Set before the settings are read, the flag is inherited by every process a test starts."""

import os

os.environ.setdefault("GONGHUI_DEMO", "1")

# Under pytest-xdist each worker has its own test database (test_<name>_gw0, …) and so its own
# files: the file cache, exports, media and screening scratch are keyed by ids that repeat
# between the workers' databases.
# A process a test starts inherits the split directories (and the worker's name) and keeps them.
worker = os.environ.get("PYTEST_XDIST_WORKER")
if worker and os.environ.get("GONGHUI_XDIST_FILES") != worker:
    os.environ["GONGHUI_XDIST_FILES"] = worker
    shared = os.environ.get("GONGHUI_VAR_DIR", os.path.join(os.path.dirname(os.path.dirname(__file__)), "var"))
    os.environ["GONGHUI_VAR_DIR"] = os.path.join(shared, "xdist-" + worker)
    for name in ("GONGHUI_EXPORT_DIR", "GONGHUI_SCREENING_DIR"):
        if name in os.environ:
            os.environ[name] = os.path.join(os.environ[name], "xdist-" + worker)

from config.settings import *  # noqa: E402, F403 (after the environment above is set)

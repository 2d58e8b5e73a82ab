"""Settings for the test suite (pytest's DJANGO_SETTINGS_MODULE): the production settings, run
as the demo, so the shipped demo keys are accepted with DEBUG off (see `DEMO` in settings.py).
Set before the settings are read, the flag is inherited by every process a test starts."""

import os

os.environ.setdefault("GONGHUI_DEMO", "1")

from config.settings import *  # noqa: F403

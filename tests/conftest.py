"""pytest configuration: hypothesis profile and import path for tests/util.py."""

import os
import sys

from hypothesis import HealthCheck, settings

sys.path.insert(0, os.path.dirname(__file__))

settings.register_profile(
    "softmax", max_examples=60, deadline=2000, derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("thorough", max_examples=1000, deadline=None)
settings.load_profile(os.environ.get("SOFTMAX_HYPOTHESIS_PROFILE", "softmax"))

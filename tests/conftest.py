"""Test configuration: a deterministic hypothesis profile so a green suite stays green."""

import os

from hypothesis import HealthCheck, settings
from threadpoolctl import threadpool_limits

# One BLAS thread per process, as in `degeneracy verify`: on 2 cores a second BLAS thread gains
# little and collapses when the other core is busy (docs/performance.md).
_BLAS_LIMIT = threadpool_limits(limits=1)

settings.register_profile(
    "ci",
    derandomize=True,
    deadline=None,
    max_examples=25,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile("dev", deadline=None, max_examples=50)
settings.load_profile(os.environ.get("DEGENERACY_HYPOTHESIS_PROFILE", "ci"))

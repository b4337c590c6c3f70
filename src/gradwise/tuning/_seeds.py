"""Derived seeds: one search seed gives independent seeds for each use of it."""
import numpy as np

#: Streams of derived seeds, so that no two uses of the search seed overlap.
SAMPLER_STREAM, TRIAL_STREAM, WORKER_STREAM, FINE_STREAM = 0, 1, 2, 3


def derive_seed(seed, stream, index=0):
    """An independent 32-bit seed for ``(seed, stream, index)`` (NumPy's ``SeedSequence``)."""
    return int(np.random.SeedSequence([seed, stream, index]).generate_state(1)[0])

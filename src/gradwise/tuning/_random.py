"""Random search whose draws depend on the trial's number, not on which process draws it."""
import optuna

from ._seeds import derive_seed


class TrialSeededRandomSampler(optuna.samplers.RandomSampler):
    """Optuna's random sampler, each trial's values drawn from ``(seed, trial number)`` alone.

    Optuna's ``RandomSampler(seed)`` draws from one stream, so trial ``n`` gets the ``n``-th
    point of the process that runs it: with worker processes (each with its own sampler) the
    same seed gave other trials than in one process. Here every trial restarts the stream at a
    seed derived from its number, so the same seed gives trial ``n`` the same hyperparameters
    whatever the number of processes and whichever of them runs it. Without a seed it is
    Optuna's sampler unchanged.
    """

    def __init__(self, seed=None):
        super().__init__(seed)
        self._seed = seed
        self._trial_id = None

    def sample_independent(self, study, trial, param_name, param_distribution):
        if self._seed is not None and trial._trial_id != self._trial_id:
            self._trial_id = trial._trial_id
            self._rng.rng.seed(derive_seed(self._seed, 0, trial.number))
        return super().sample_independent(study, trial, param_name, param_distribution)

"""Bayesian optimization with a Gaussian process and expected improvement, as an Optuna sampler.

Optuna's own ``GPSampler`` needs PyTorch; this one is scikit-learn's
``GaussianProcessRegressor`` and SciPy's L-BFGS-B, so a NumPy toolkit keeps a light install. As
an Optuna sampler it works with every storage, with worker processes, with the pruners and
with resumed studies, exactly as TPE does.

The loop, once ``n_startup_trials`` random trials have finished:

1. encode the finished trials as points of the unit cube: a float or integer dimension on its
   scale (the logarithm for log dimensions) mapped to ``[0, 1]``, a categorical one one-hot;
2. fit the Gaussian process to their scores (Matérn 5/2 kernel with one length scale per
   input, times a fitted amplitude, plus fitted white noise; targets normalized);
3. draw random candidates, keep the best few by expected improvement, polish each with L-BFGS-B
   over the numeric inputs (the one-hot ones held), and propose the best point, integers
   rounded.
"""
import math
import time
import warnings

import numpy as np
import optuna
from optuna.distributions import CategoricalDistribution, IntDistribution
from optuna.trial import TrialState

__all__ = ["GPSampler", "expected_improvement", "gp_startup_trials"]


def gp_startup_trials(n_dims):
    """Random trials before the Gaussian process: ``max(5, 2 * n_dims)``."""
    return max(5, 2 * n_dims)


def expected_improvement(mean, std, best, xi=0.0):
    """Expected improvement over ``best`` of a normal prediction, for minimization.

    Parameters
    ----------
    mean, std : arrays of shape (n_points,)
        The posterior mean and standard deviation at each point.
    best : float
        The lowest score observed so far.
    xi : float, default 0.0
        Improvement required beyond ``best`` (exploration margin).

    Returns
    -------
    array of shape (n_points,)

    Notes
    -----
    With :math:`Y \\sim \\mathcal{N}(\\mu, \\sigma^2)`, :math:`d = f^* - \\xi - \\mu` and
    :math:`z = d / \\sigma`:

    .. math:: \\mathrm{EI} = \\mathbb{E}[\\max(f^* - \\xi - Y, 0)]
              = d\\,\\Phi(z) + \\sigma\\,\\varphi(z),

    and :math:`\\max(d, 0)` where :math:`\\sigma = 0`.
    """
    from scipy.stats import norm
    mean, std = np.asarray(mean, dtype=np.float64), np.asarray(std, dtype=np.float64)
    gap = best - xi - mean
    safe = np.where(std > 0, std, 1.0)
    z = gap / safe
    value = gap * norm.cdf(z) + safe * norm.pdf(z)
    return np.where(std > 0, value, np.maximum(gap, 0.0))


class _Encoding:
    """The map between an Optuna search space and the unit cube the Gaussian process sees."""

    def __init__(self, search_space):
        self.names = sorted(search_space)
        self.space = search_space
        self.columns, self.numeric, self.blocks = {}, [], []
        width = 0
        for name in self.names:
            distribution = search_space[name]
            if isinstance(distribution, CategoricalDistribution):
                self.columns[name] = slice(width, width + len(distribution.choices))
                self.blocks.append(self.columns[name])
                width += len(distribution.choices)
            else:
                self.columns[name] = width
                self.numeric.append(width)
                width += 1
        self.width = width

    def _scale(self, distribution, value):
        low, high = distribution.low, distribution.high
        if distribution.log:
            return (math.log(value) - math.log(low)) / (math.log(high) - math.log(low))
        return (value - low) / (high - low)

    def encode(self, params):
        """One row per dict of parameters; array of shape (n_trials, width)."""
        rows = np.zeros((len(params), self.width))
        for row, values in zip(rows, params):
            for name in self.names:
                distribution, value = self.space[name], values[name]
                if isinstance(distribution, CategoricalDistribution):
                    row[self.columns[name]][distribution.choices.index(value)] = 1.0
                else:
                    row[self.columns[name]] = self._scale(distribution, value)
        return rows

    def decode(self, point):
        """The parameters of one point of the cube: integers rounded, steps kept, the
        largest one-hot entry chosen."""
        params = {}
        for name in self.names:
            distribution, column = self.space[name], self.columns[name]
            if isinstance(distribution, CategoricalDistribution):
                params[name] = distribution.choices[int(np.argmax(point[column]))]
                continue
            u = min(max(float(point[column]), 0.0), 1.0)
            low, high = distribution.low, distribution.high
            value = (math.exp(math.log(low) + u * (math.log(high) - math.log(low)))
                     if distribution.log else low + u * (high - low))
            step = getattr(distribution, "step", None)
            if step is not None:
                value = low + round((value - low) / step) * step
            if isinstance(distribution, IntDistribution):
                value = int(round(value))
            params[name] = min(max(value, low), high)
        return params

    def random(self, rng, n):
        """``n`` random points: uniform numeric inputs, one random choice per block."""
        points = np.zeros((n, self.width))
        points[:, self.numeric] = rng.uniform(size=(n, len(self.numeric)))
        for block in self.blocks:
            picks = rng.randint(block.stop - block.start, size=n)
            points[np.arange(n), block.start + picks] = 1.0
        return points


class GPSampler(optuna.samplers.BaseSampler):
    """Gaussian-process Bayesian optimization with expected improvement (an Optuna sampler).

    Parameters
    ----------
    seed : int, optional
        Seeds the random start, the candidates and the Gaussian process's restarts: the same
        seed and scores give the same proposals.
    n_startup_trials : int, optional
        Finished trials drawn at random before the Gaussian process is used; default
        ``max(5, 2 * n_dims)`` for the ``n_dims`` parameters of the search space.
    n_candidates : int, default 1000
        Random points at which expected improvement is evaluated.
    n_polish : int, default 5
        The best candidates polished by L-BFGS-B.
    xi : float, default 0.01
        Exploration margin of expected improvement, in units of the scores' standard deviation.

    Notes
    -----
    Which trials teach the model:

    - complete trials, with their value;
    - pruned trials, with their best reported intermediate value (gradwise's score of a
      pruned trial): the pruner stopped them because they trailed the others at that epoch,
      and the value says how far behind. Dropping them would let the process propose their
      region again;
    - trials whose reported values are all NaN or infinite (diverged), with the worst score
      observed: their region is bad, by how much is unknown;
    - failed trials (an exception in the objective) and running ones are left out.

    The search space is the parameters every finished trial shares, with more than one
    possible value (Optuna's ``IntersectionSearchSpace``); parameters outside it, and every
    parameter during the random start, come from a ``RandomSampler``. While the scores teach
    nothing (fewer than two distinct finite values, e.g. every trial diverged) or the fit
    fails, the sampler proposes random points and warns once.

    Kernel: ``C * Matern(nu=2.5, one length scale per input) + WhiteKernel``, with
    ``normalize_y=True``, fitted by maximum marginal likelihood (from the defaults and one
    random restart).
    """

    def __init__(self, seed=None, n_startup_trials=None, n_candidates=1000, n_polish=5, xi=0.01):
        self._rng = np.random.RandomState(seed)
        self._random = optuna.samplers.RandomSampler(seed=seed)
        self._intersection = optuna.search_space.IntersectionSearchSpace(include_pruned=True)
        self.n_startup_trials, self.n_candidates, self.n_polish = n_startup_trials, n_candidates, n_polish
        self.xi = xi
        self._warned = False
        self.choice_seconds = 0.0  # time spent fitting and maximizing, for the benchmark

    # -- the Optuna sampler interface ------------------------------------------------------------
    def infer_relative_search_space(self, study, trial):
        space = self._intersection.calculate(study)
        return {name: d for name, d in space.items() if not d.single()}

    def sample_relative(self, study, trial, search_space):
        if not search_space:
            return {}
        from threadpoolctl import threadpool_limits
        started = time.perf_counter()
        try:
            # Matrices of a few dozen rows: BLAS threads only add their start-up and, on a
            # busy machine, their spinning.
            with threadpool_limits(limits=1, user_api="blas"):
                return self._propose(study, search_space)
        finally:
            self.choice_seconds += time.perf_counter() - started

    def sample_independent(self, study, trial, param_name, param_distribution):
        return self._random.sample_independent(study, trial, param_name, param_distribution)

    def before_trial(self, study, trial):
        self._random.before_trial(study, trial)

    def after_trial(self, study, trial, state, values):
        self._random.after_trial(study, trial, state, values)

    def reseed_rng(self):
        self._rng = np.random.RandomState()
        self._random.reseed_rng()

    # -- the model ---------------------------------------------------------------------------------
    def _observations(self, study, search_space):
        """``(params, losses)`` of the finished trials, as values to minimize (see Notes)."""
        sign = -1.0 if study.direction == optuna.study.StudyDirection.MAXIMIZE else 1.0
        params, losses = [], []
        for trial in study.get_trials(deepcopy=False,
                                      states=(TrialState.COMPLETE, TrialState.PRUNED)):
            if not all(name in trial.params for name in search_space):
                continue
            reported = ([trial.value] if trial.state == TrialState.COMPLETE
                        else trial.intermediate_values.values())
            finite = [sign * v for v in reported if v is not None and math.isfinite(v)]
            params.append(trial.params)
            losses.append(min(finite) if finite else math.nan)
        losses = np.array(losses, dtype=np.float64)
        finite = np.isfinite(losses)
        if finite.any():
            losses[~finite] = losses[finite].max()  # diverged: the worst score seen
        return params, losses

    def _propose(self, study, search_space):
        encoding = _Encoding(search_space)
        startup = (gp_startup_trials(len(search_space)) if self.n_startup_trials is None
                   else self.n_startup_trials)
        params, scores = self._observations(study, search_space)
        if len(params) < startup:
            return {}
        if not np.isfinite(scores).all() or len(np.unique(scores)) < 2:
            self._warn("the scores so far are all equal or not finite (e.g. every trial "
                       "diverged)")
            return {}
        try:
            model = self._fit(encoding.encode(params), scores)
        except (np.linalg.LinAlgError, ValueError) as error:
            self._warn(f"the Gaussian process could not be fitted ({error})")
            return {}
        return encoding.decode(self._maximize(model, encoding, scores.min()))

    def _warn(self, reason):
        if not self._warned:
            warnings.warn(f"GP sampler: {reason}; proposing random points until the scores "
                          "differ.", RuntimeWarning, stacklevel=2)
            self._warned = True

    def _fit(self, X, y):
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.gaussian_process import GaussianProcessRegressor
        from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel
        kernel = (ConstantKernel(1.0, (1e-3, 1e3))
                  * Matern(length_scale=np.full(X.shape[1], 0.5), length_scale_bounds=(1e-2, 1e2),
                           nu=2.5)
                  + WhiteKernel(1e-2, (1e-6, 1.0)))
        model = GaussianProcessRegressor(kernel, normalize_y=True, n_restarts_optimizer=1,
                                         random_state=self._rng.randint(2 ** 31))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(X, y)
        self._y_scale = max(float(np.std(y)), 1e-12)  # the normalization of sklearn's targets
        return model

    def _acquisition(self, model, points, best):
        mean, std = model.predict(points, return_std=True)
        return expected_improvement(mean, std, best, self.xi * self._y_scale)

    def _maximize(self, model, encoding, best):
        """Random candidates, then L-BFGS-B from the best few over the numeric inputs."""
        from scipy.optimize import minimize
        candidates = encoding.random(self._rng, self.n_candidates)
        values = self._acquisition(model, candidates, best)
        order = np.argsort(-values)[:self.n_polish]
        best_point, best_value = candidates[order[0]], values[order[0]]
        numeric = encoding.numeric
        if not numeric:
            return best_point
        step = 1e-6
        for start in candidates[order]:
            def negative(u, start=start):
                """-EI at ``u`` and its forward-difference gradient, in one prediction."""
                points = np.repeat(start[None, :], len(numeric) + 1, axis=0)
                points[:, numeric] = u
                points[np.arange(1, len(numeric) + 1), numeric] += step
                values = -self._acquisition(model, points, best)
                return values[0], (values[1:] - values[0]) / step
            found = minimize(negative, start[numeric], jac=True, method="L-BFGS-B",
                             bounds=[(0.0, 1.0)] * len(numeric), options={"maxiter": 30})
            if np.isfinite(found.fun) and -found.fun > best_value:
                best_value = -found.fun
                best_point = start.copy()
                best_point[numeric] = found.x
        return best_point

"""The optimizer base class: learning rate and schedules, clipping, state and step counter."""

from .. import schedules
from .clipping import clip_gradients
from ..backend import xp
from .._registry import Configurable
from .._validation import check_number


def _check(name, value, low=0.0, high=None, low_open=True, kind="positive number"):
    return check_number(value, name, low=low, high=high, low_open=low_open, kind=f"a {kind}")


def _unit(name, value):
    return _check(name, value, low_open=False, high=1.0, kind="number in [0, 1)")


class Optimizer(Configurable):
    """Base class: learning rate, clipping, lazily allocated state and the step counter.

    Parameters
    ----------
    learning_rate : float, LearningRateSchedule or callable
        A positive number, a schedule from :mod:`gradwise.schedules` (fed ``epoch`` or
        ``iterations`` according to its ``by``), or any callable ``step -> rate`` (fed
        ``iterations``). Callbacks may assign a new float to ``optimizer.learning_rate``.
    clipnorm, clipvalue, global_clipnorm : float, optional
        Clipping before each update, in place on ``grads`` (see :func:`clip_gradients`).
    name : str, optional
        Defaults to the lower-case class name.

    Attributes
    ----------
    iterations : int
        Number of updates applied; the ``t``-th update (``t = iterations + 1``) uses ``t`` for
        bias correction and evaluates the schedule at ``iterations``.
    epoch : int
        Set by the training loop at each epoch start; what ``by="epoch"`` schedules receive.
    state : dict of ndarray
        The moment buffers (empty before the first update or :meth:`build`).
    """

    #: Set by the training call for its duration: compiled kernels or NumPy references
    #: (see :mod:`gradwise.backend.kernels`).
    _use_compiled = False

    def __init__(self, learning_rate, clipnorm=None, clipvalue=None, global_clipnorm=None,
                 name=None):
        self.learning_rate = learning_rate
        for arg, value in (("clipnorm", clipnorm), ("clipvalue", clipvalue),
                           ("global_clipnorm", global_clipnorm)):
            setattr(self, arg, None if value is None else _check(arg, value))
        if clipnorm is not None and global_clipnorm is not None:
            raise ValueError("Expected at most one of clipnorm and global_clipnorm, received "
                             f"clipnorm={clipnorm!r} and global_clipnorm={global_clipnorm!r}")
        self.name = type(self).__name__.lower() if name is None else str(name)
        self.iterations = self.epoch = 0
        self.segments = self.decay_mask = self._size = None
        self.state = {}

    @property
    def learning_rate(self):
        return self._learning_rate

    @learning_rate.setter
    def learning_rate(self, value):
        if isinstance(value, dict):
            value = schedules.get(value)
        elif not callable(value):
            value = _check("learning_rate", value)
        self._learning_rate = value

    @property
    def current_learning_rate(self):
        """The rate the next update uses: the schedule evaluated at its counter."""
        rate = self._learning_rate
        if not callable(rate):
            return rate
        counter = self.epoch if getattr(rate, "by", "step") == "epoch" else self.iterations
        return float(rate(counter))

    def build(self, size, dtype, segments=None, decay_mask=None):
        """Allocate the state for a flat buffer of ``size`` elements of ``dtype``.

        ``segments`` (list of slice, one per parameter array) is what ``clipnorm`` clips
        separately; ``decay_mask`` (bool or 0/1, shape (size,)) marks the entries that get
        AdamW's decoupled weight decay (all of them when omitted).
        """
        if decay_mask is not None:
            decay_mask = xp.asarray(decay_mask).reshape(-1) != 0
            if decay_mask.size != size:
                raise ValueError(f"Expected a decay_mask of size {size}, "
                                 f"received size {decay_mask.size}")
        self.segments = None if segments is None else list(segments)
        self.decay_mask = decay_mask
        self._allocate(int(size), xp.dtype(dtype))

    def _allocate(self, size, dtype):
        self._size, self._dtype = size, dtype
        self._scratch = xp.empty(size, dtype)
        self.state = {name: xp.full(size, fill, dtype) for name, fill in self._slots()}

    def _slots(self):
        """``(name, initial value)`` of each moment buffer."""
        return ()

    def update(self, params, grads):
        """Update ``params`` (shape (n,)) in place from ``grads`` (shape (n,)).

        ``grads`` is clipped in place when clipping is configured, otherwise only read.
        """
        if params.shape != grads.shape or params.ndim != 1:
            raise ValueError(f"Expected flat params and grads of one shape, received "
                             f"{params.shape} and {grads.shape}")
        if self._size is None:
            self._allocate(params.size, params.dtype)
        elif params.size != self._size:
            raise ValueError(f"The optimizer was built for {self._size} parameters, "
                             f"received {params.size}")
        if self.clipnorm or self.clipvalue or self.global_clipnorm:
            clip_gradients(grads, self.clipvalue, self.clipnorm, self.global_clipnorm,
                           self.segments)
        rate = self.current_learning_rate
        self.iterations += 1
        self._step(params, grads, rate, self.iterations)

    def _step(self, params, grads, rate, t):
        raise NotImplementedError

    def reset(self):
        """Forget the moments and the counters (the build's segments and mask are kept)."""
        self.state, self._size = {}, None
        self.iterations = self.epoch = 0

    def _hyper(self):
        return {}  # the subclass's constructor arguments

    def get_config(self):
        """Return the constructor arguments as a JSON-friendly dict."""
        rate = self._learning_rate
        if isinstance(rate, schedules.LearningRateSchedule):
            rate = schedules.serialize(rate)
        elif callable(rate):
            raise TypeError("A plain callable learning_rate cannot be serialized; use a "
                            "schedule from gradwise.schedules")
        return {"name": self.name, "learning_rate": rate, **self._hyper(),
                "clipnorm": self.clipnorm, "clipvalue": self.clipvalue,
                "global_clipnorm": self.global_clipnorm}

    def __repr__(self):
        return f"{type(self).__name__}(learning_rate={self._learning_rate!r}, **{self._hyper()})"

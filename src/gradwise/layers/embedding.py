"""Learned dense vectors for integer-coded categorical columns: ``CategoryEmbedding``."""
import numpy as np

from .. import initializers
from ..backend import xp
from .base import Layer, _positive_int


class CategoryEmbedding(Layer):
    """Replace integer-coded categorical columns of the input by learned dense vectors.

    A category with many levels (a city, a product) one-hot encoded makes as many inputs as it
    has levels; embedded, it makes ``output_dim`` inputs, and rows of levels that behave alike
    learn nearby vectors. The layer reads the codes from columns of the ordinary feature matrix,
    so it fits in a ``Sequential`` after a ``Normalization`` layer (with mean 0 and scale 1 on
    the code columns).

    Parameters
    ----------
    columns : list of int
        Positions of the code columns in the input.
    levels : list of int
        Rows of each column's table: codes run ``0 .. levels - 1``. Code 0 is the reserved
        "unknown" row (levels not seen in training); codes outside the range, and NaN, read it
        too.
    output_dim : int or list of int
        Width of each column's vectors (one for all, or one per column).
    embeddings_initializer : str or callable, default ``RandomNormal(stddev=0.05)``
        Initial table rows; the unknown row starts at zero (and stays there unless code 0
        occurs in training), so an unseen level contributes nothing of its own.

    Notes
    -----
    Shapes: input ``X`` (n, d); table ``E_k`` (levels_k, output_dim_k) per column ``k``.
    Forward: ``Y = [X[:, other columns], E_0[c_0], E_1[c_1], ...]`` with ``c_k`` the codes of
    column ``k``, shape (n, d - len(columns) + sum(output_dim)): the other columns pass through
    in their order, then the vectors follow.
    Backward with ``dY`` given: ``dE_k[v] = sum over rows i with c_k[i] = v of dY_k[i]`` (a
    scatter-add of the rows of ``dY``'s block ``k`` into the table), ``dX`` is ``dY`` on the
    passed-through columns and 0 on the code columns (a code is an index, not a quantity).

    A frozen layer (``trainable=False``, as :func:`gradwise.explain.input_gradients` makes
    every layer) records ``attributions``: per code column, ``sum_d dY_k[i, d] * E_k[c_k[i], d]``,
    the gradient times the row's vector taken from the unknown row's zero vector: how much the
    row's level moves the output, to first order.

    Examples
    --------
    >>> import numpy as np
    >>> layer = CategoryEmbedding([1], [4], 3).build(2, np.random.default_rng(0))
    >>> layer.forward(np.array([[0.5, 2.0], [1.5, 0.0]])).shape
    (2, 4)
    """

    def __init__(self, columns, levels, output_dim, embeddings_initializer=None, name=None,
                 trainable=True):
        super().__init__(name=name, trainable=trainable)
        self.columns = [_index(c, "columns") for c in _as_list(columns, "columns")]
        self.levels = [_positive_int(n, "levels") for n in _as_list(levels, "levels")]
        if len(self.levels) != len(self.columns):
            raise ValueError(f"levels: expected one count per column ({len(self.columns)}), "
                             f"received {len(self.levels)}.")
        if len(set(self.columns)) != len(self.columns):
            raise ValueError(f"columns: expected distinct positions, received {self.columns}.")
        dims = (output_dim if isinstance(output_dim, (list, tuple))
                else [output_dim] * len(self.columns))
        self.output_dims = [_positive_int(d, "output_dim") for d in dims]
        if len(self.output_dims) != len(self.columns):
            raise ValueError(f"output_dim: expected one width per column ({len(self.columns)}), "
                             f"received {len(self.output_dims)}.")
        self.embeddings_initializer = initializers.get(
            embeddings_initializer if embeddings_initializer is not None
            else {"class_name": "RandomNormal", "config": {"stddev": 0.05}},
            "embeddings_initializer")

    def output_dim(self, input_dim):
        return input_dim - len(self.columns) + sum(self.output_dims)

    def _create_params(self, input_dim, rng):
        if any(c >= input_dim for c in self.columns):
            raise ValueError(f"columns: positions {self.columns} do not fit an input of "
                             f"{input_dim} features.")
        self._passed = np.array([j for j in range(input_dim) if j not in self.columns],
                                dtype=np.intp)
        params = {}
        for k, (levels, dim) in enumerate(zip(self.levels, self.output_dims)):
            table = np.array(self.embeddings_initializer((levels, dim), rng), dtype=np.float64)
            table[0] = 0.0  # the unknown row
            params[f"E{k}"] = table
        return params

    def _codes(self, x, k):
        """Column ``k``'s codes as table rows: out-of-range codes and NaN read row 0."""
        values = x[:, self.columns[k]]
        valid = (values >= 0) & (values < self.levels[k])  # False for NaN
        return np.where(valid, values, 0).astype(np.intp)

    def forward(self, x, training=False):
        n, passed = x.shape[0], len(self._passed)
        out = self._buffer("y", (n, self.output_dim(x.shape[1]))) if training else \
            xp.empty((n, self.output_dim(x.shape[1])), dtype=self.dtype)
        out[:, :passed] = x[:, self._passed]
        self._codes_seen = []
        start = passed
        for k, dim in enumerate(self.output_dims):
            codes = self._codes(x, k)
            out[:, start:start + dim] = self.params[f"E{k}"][codes]
            self._codes_seen.append(codes)
            start += dim
        self._input_shape = x.shape
        return out

    def backward(self, dy):
        start = len(self._passed)
        self.attributions = []
        for k, dim in enumerate(self.output_dims):
            block = dy[:, start:start + dim]
            if self.trainable:
                grad = self.grads[f"E{k}"]
                grad[...] = 0.0
                np.add.at(grad, self._codes_seen[k], block)
            else:  # frozen, as when explaining: gradient times vector, per column
                vectors = self.params[f"E{k}"][self._codes_seen[k]]
                self.attributions.append(np.einsum("ij,ij->i", block, vectors))
            start += dim
        if not self.needs_input_grad:
            return None
        dx = self._buffer("dx", self._input_shape)
        dx[...] = 0.0
        dx[:, self._passed] = dy[:, :len(self._passed)]
        return dx

    def vectors(self, x):
        """``[E_k[c_k]]``: each code column's vectors for the rows of ``x``, shapes
        (n, output_dim_k) (for attributions by column)."""
        return [self.params[f"E{k}"][self._codes(x, k)] for k in range(len(self.columns))]

    def get_config(self):
        config = super().get_config()
        config.update(columns=list(self.columns), levels=list(self.levels),
                      output_dim=list(self.output_dims),
                      embeddings_initializer=initializers.serialize(self.embeddings_initializer))
        return config


def _as_list(value, argument):
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return [value]
    try:
        values = list(value)
    except TypeError:
        raise TypeError(f"{argument}: expected a list of integers, received {value!r}.") from None
    if not values:
        raise ValueError(f"{argument}: expected at least one column.")
    return values


def _index(value, argument):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"{argument}: expected column positions >= 0, received {value!r}.")
    return int(value)

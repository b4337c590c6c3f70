"""Weights, configuration and summary of a ``Sequential`` (a mixin, to keep model.py about
training)."""
import numpy as np

from . import layers as layers_module


class WeightsAndConfig:
    """``get_weights``/``set_weights``, ``save``, ``summary`` and ``get_config``/``from_config``."""

    def get_weights(self, include_state=False):
        """Copies of every layer's ``params`` (then ``state`` if asked), layer by layer."""
        weights = []
        for layer in self.layers:
            weights += [v.copy() for v in layer.params.values()]
            if include_state:
                weights += [v.copy() for v in layer.state.values()]
        return weights

    def set_weights(self, weights, include_state=False):
        """Set weights from a list shaped like ``get_weights(include_state)``'s output."""
        targets = []
        for layer in self.layers:
            targets += [(layer.name, k, v) for k, v in layer.params.items()]
            if include_state:
                targets += [(layer.name, k, v) for k, v in layer.state.items()]
        if len(weights) != len(targets):
            raise ValueError(f"weights: expected a list of {len(targets)} arrays, received {len(weights)}.")
        for (name, key, target), value in zip(targets, weights):
            value = np.asarray(value)
            if value.shape != target.shape:
                raise ValueError(f"weights: {name}.{key} expects shape {target.shape}, "
                                 f"received {value.shape}.")
        for (_, _, target), value in zip(targets, weights):
            target[...] = value

    def random_generators(self):
        """The random generators training draws from, in a fixed order: the model's
        (shuffling, augmentation), then each layer's (dropout masks, noise), a block's inner
        layers after it. Model files keep their states; the learning-rate finder restores
        them."""
        found = [getattr(self, "_shuffle_rng", None)]

        def walk(layers):
            for layer in layers:
                found.append(getattr(layer, "rng", None))
                walk(getattr(layer, "layers", None) or [])
        walk(self.layers)
        return [g for g in found if isinstance(g, np.random.Generator)]

    def save(self, path, metadata=None):
        """Write the model to one ``.npz`` file; see :func:`gradwise.io.save_model`."""
        from .io.saving import save_model
        save_model(self, path, metadata=metadata)

    def count_params(self):
        return sum(layer.count_params() + layer.count_state() for layer in self.layers)

    def summary(self, print_fn=print):
        """Print each layer with its output shape and parameter count, then the totals."""
        print_fn(summary_text(self))

    def get_config(self):
        return {"name": self.name, "input_dim": self.input_dim, "seed": self.seed,
                "dtype": self.dtype.name, "layers": [layers_module.serialize(l) for l in self.layers]}

    @classmethod
    def from_config(cls, config):
        layers = [layers_module.deserialize(c) for c in config.get("layers", [])]
        return cls(layers, input_dim=config.get("input_dim"), seed=config.get("seed"),
                   dtype=config.get("dtype", "float32"), name=config.get("name", "sequential"))


def summary_text(model):
    """Layers, output shapes and parameter counts, Keras-style."""
    if not model.built:
        model.build()
    rows, width = [], model.input_dim
    for layer in model.layers:
        width = layer.output_dim(width)
        frozen = "" if layer.trainable else " (frozen)"
        rows.append((f"{layer.name} ({type(layer).__name__}){frozen}", f"(None, {width})",
                     str(layer.count_params() + layer.count_state())))
    trainable = sum(l.count_params() for l in model.layers if l.trainable)
    total = sum(l.count_params() + l.count_state() for l in model.layers)
    widths = [max(len(h), *(len(r[i]) for r in rows)) + 2
              for i, h in enumerate(("Layer (type)", "Output Shape", "Param #"))]
    line = "".join(h.ljust(w) for h, w in zip(("Layer (type)", "Output Shape", "Param #"), widths))
    rule = "=" * len(line)
    body = ["".join(c.ljust(w) for c, w in zip(row, widths)) for row in rows]
    return "\n".join([f'Model: "{model.name}"', rule, line, rule, *body, rule,
                      f"Total params: {total:,}", f"Trainable params: {trainable:,}",
                      f"Non-trainable params: {total - trainable:,}"])

"""Reuse of pretrained layers (transfer learning): copy layers with their weights, freeze them.

A frozen layer (``layer.trainable = False``) still passes gradients back to its input, but it
gets no parameter gradients, no optimizer state and no updates; ``summary()`` counts its
parameters as non-trainable. The model re-packs its flat buffers (and resets the optimizer
state) at the next ``fit`` after layers are frozen or unfrozen.

Examples
--------
>>> import gradwise as gw
>>> base = gw.Sequential([gw.layers.Dense(16, activation="relu"),
...                       gw.layers.Dense(3, activation="softmax")], input_dim=4, seed=0).build()
>>> new = gw.Sequential(gw.transfer.reuse_layers(base, 1) + [gw.layers.Dense(1, activation="sigmoid")],
...                     input_dim=4, seed=1)
>>> new.layers[0].trainable
False
"""
import copy
import numbers

import numpy as np

from .layers import Layer

__all__ = ["clone_layer", "reuse_layers", "freeze", "unfreeze"]


def clone_layer(layer):
    """A new layer with the same configuration and copies of the weights and state.

    Parameters
    ----------
    layer : Layer

    Returns
    -------
    Layer
        Same type, ``get_config()`` and ``trainable`` flag; when ``layer`` is built, its
        ``params`` and ``state`` are copied into arrays of its own (nothing is shared with
        the source layer or its model's buffers).
    """
    if not isinstance(layer, Layer):
        raise TypeError(f"layer: expected a Layer, received {type(layer).__name__}.")
    # A deep copy, not a round trip through the config: a layer, activation or regularizer
    # of the user's own needs no registration to be reused.
    clone = copy.deepcopy(layer)
    clone.needs_input_grad = True  # the new model decides both, wherever the copy goes
    if hasattr(clone, "fused_output"):
        clone.fused_output = False
    if layer.built:  # arrays of its own, out of the source model's buffers
        clone._cast(layer.dtype)
        clone.grads = {k: np.zeros_like(v) for k, v in clone.params.items()}
    return clone


def reuse_layers(model, layers, freeze=True):
    """Copies of some of a trained model's layers, ready to start a new ``Sequential``.

    Parameters
    ----------
    model : Sequential
        A built (usually trained) model; it is not modified.
    layers : int or slice
        ``n`` takes the first ``n`` layers (the usual choice: the lower layers learn the
        most general features); a slice takes any consecutive run of layers.
    freeze : bool, default True
        Mark the copies ``trainable = False``.

    Returns
    -------
    list of Layer
        Put them in a new ``Sequential`` whose input width matches the first copy's; they keep
        their weights when the new model is built.
    """
    if not getattr(model, "built", False) or not hasattr(model, "layers"):
        raise ValueError("model: expected a built Sequential whose weights can be reused; "
                         "call fit or build first.")
    count = len(model.layers)
    if isinstance(layers, numbers.Integral) and not isinstance(layers, bool):
        if not 1 <= layers <= count:
            raise ValueError(f"Expected an integer in [1, {count}], received layers={layers}")
        chosen = model.layers[:layers]
    elif isinstance(layers, slice):
        if layers.step not in (None, 1):
            raise ValueError(f"layers: expected a slice of consecutive layers, received {layers}.")
        chosen = model.layers[layers]
        if not chosen:
            raise ValueError(f"layers: the slice {layers} selects no layer of {count}.")
    else:
        raise TypeError(f"layers: expected an int or a slice, received {type(layers).__name__}.")
    copies = [clone_layer(layer) for layer in chosen]
    return _set_trainable(copies, not freeze) if freeze else copies


def _as_layers(layers, argument):
    if isinstance(layers, Layer):
        return [layers]
    if hasattr(layers, "layers") and not isinstance(layers, (list, tuple)):
        return list(layers.layers)  # a model: all of its layers
    layers = list(layers)
    for layer in layers:
        if not isinstance(layer, Layer):
            raise TypeError(f"{argument}: expected Layer instances, received {type(layer).__name__}.")
    return layers


def freeze(layers):
    """Set ``trainable = False`` on a layer, a list of layers or every layer of a model.

    Returns the list of layers. A model that holds them re-packs its buffers at the next
    ``fit`` (the optimizer state restarts).
    """
    return _set_trainable(_as_layers(layers, "layers"), False)


def unfreeze(layers):
    """Set ``trainable = True`` (see :func:`freeze`); fine-tune then with a small learning rate."""
    return _set_trainable(_as_layers(layers, "layers"), True)


def _set_trainable(layers, value):
    for layer in layers:
        layer.trainable = value
    return layers

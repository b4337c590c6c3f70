"""The text of ``Sequential.summary()``."""


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

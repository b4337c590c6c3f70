"""The practice of training, end to end on the digits (8x8 images, 10 classes).

1. Split 60/20/20 into train/dev/test (stratified, seeded) and standardize with statistics of
   the training split only.
2. Find a learning rate with the range test (``gw.find_learning_rate``): train with a tenth
   of the rate where the smoothed loss is lowest.
3. Train with that rate, early stopping on the dev loss, and the ``GradientHealth`` monitor.
4. Print the bias/variance diagnosis, the suggested learning rate and the gradient-health
   table; then the test accuracy, measured once at the end.

Run: ``python examples/practice.py`` (a few seconds).
"""
from sklearn.datasets import load_digits

import gradwise as gw

HUMAN_ERROR = 0.01  # people misread about 1% of these small digit images (an estimate)


def build_model(seed=0):
    return gw.Sequential([
        gw.layers.Dense(64, activation="relu", kernel_initializer="he_normal",
                        kernel_regularizer=gw.regularizers.L2(1e-4)),
        gw.layers.Dense(64, activation="relu", kernel_initializer="he_normal",
                        kernel_regularizer=gw.regularizers.L2(1e-4)),
        gw.layers.Dense(10, activation="softmax"),
    ], input_dim=64, seed=seed)


def main():
    X, y = load_digits(return_X_y=True)
    X_train, X_dev, X_test, y_train, y_dev, y_test = gw.train_dev_test_split(
        X, y, ratios=(0.6, 0.2, 0.2), seed=0)
    scaler = gw.Standardizer().fit(X_train)  # fitted on the training split only
    X_train, X_dev, X_test = (scaler.transform(a) for a in (X_train, X_dev, X_test))
    print(f"Split: train {len(X_train)}, dev {len(X_dev)}, test {len(X_test)}")

    model = build_model()
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    sweep = gw.find_learning_rate(model, X_train, y_train, min_lr=1e-5, max_lr=1.0, steps=100)
    # Of the two usual readings of the curve, the minimum/10 rule is the steadier on a short,
    # noisy sweep; the steepest-descent point is printed too.
    rate = sweep.min_loss_rate / 10
    print("\n== Learning-rate range test ==")
    print(f"suggested learning rate: {sweep.suggestion:.2e} (steepest descent of the loss)")
    print(f"loss lowest at {sweep.min_loss_rate:.2e}; training with a tenth: {rate:.2e}")

    model.compile(optimizer=gw.optimizers.Adam(learning_rate=rate),
                  loss="categorical_crossentropy", metrics=["accuracy"])
    health = gw.GradientHealth()
    stop = gw.callbacks.EarlyStopping(patience=5, restore_best_weights=True)
    history = model.fit(X_train, y_train, epochs=60, batch_size=64, verbose=0,
                        validation_data=(X_dev, y_dev), callbacks=[health, stop])
    print(f"trained {len(history.history['loss'])} epochs")

    print("\n== Bias/variance diagnosis ==")
    print(gw.diagnose(model, (X_train, y_train), (X_dev, y_dev), human_error=HUMAN_ERROR))

    print("\n== Gradient health ==")
    print(health.table())

    test_accuracy = model.evaluate(X_test, y_test)["accuracy"]
    print(f"\nTest accuracy (measured once, at the end): {test_accuracy:.3f}")


if __name__ == "__main__":
    main()

"""Known results on the data sets that ship with scikit-learn."""
import numpy as np
import pytest

import gradwise as gw


@pytest.mark.slow
def test_digits_reaches_97_percent(digits_split):
    X_train, X_test, y_train, y_test = digits_split
    model = gw.Sequential([
        gw.layers.Dense(128, activation="relu", kernel_initializer="he_normal"),
        gw.layers.Dense(128, activation="relu", kernel_initializer="he_normal"),
        gw.layers.Dense(10, activation="softmax"),
    ], input_dim=64, seed=0)
    model.compile(optimizer=gw.optimizers.Adam(1e-3), loss="categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(X_train, y_train, epochs=40, batch_size=64, verbose=0, validation_split=0.1,
              callbacks=[gw.callbacks.EarlyStopping(patience=8, restore_best_weights=True)])
    assert model.evaluate(X_test, y_test)["accuracy"] >= 0.97


@pytest.mark.slow
def test_breast_cancer_reaches_95_percent(cancer_split):
    X_train, X_test, y_train, y_test = cancer_split
    model = gw.Sequential([
        gw.layers.Dense(16, activation="relu", kernel_regularizer=gw.regularizers.L2(1e-2)),
        gw.layers.Dense(1, activation="sigmoid")], input_dim=30, seed=0)
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    model.fit(X_train, y_train, epochs=50, batch_size=32, verbose=0)
    assert model.evaluate(X_test, y_test)["accuracy"] >= 0.95


@pytest.mark.slow
def test_diabetes_regression_beats_a_constant_predictor(diabetes_split):
    X_train, X_test, y_train, y_test = diabetes_split
    mean, std = y_train.mean(), y_train.std()
    model = gw.Sequential([gw.layers.Dense(32, activation="relu"),
                           gw.layers.Dense(1)], input_dim=10, seed=0)
    model.compile(optimizer=gw.optimizers.Adam(3e-3), loss="mse",
                  metrics=["mae"])
    model.fit(X_train, (y_train - mean) / std, epochs=100, batch_size=32, verbose=0,
              validation_split=0.15,
              callbacks=[gw.callbacks.EarlyStopping(patience=10, restore_best_weights=True)])
    predictions = model.predict(X_test)[:, 0] * std + mean
    mse = np.mean((predictions - y_test) ** 2)
    constant = np.mean((y_train.mean() - y_test) ** 2)
    assert mse < 0.7 * constant  # R^2 above 0.3 (a linear model gets about 0.45 here)

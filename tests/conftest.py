"""Shared fixtures: small real data sets from scikit-learn, split and standardized."""
import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler


def _split(X, y, stratify=True, seed=0):
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.2, random_state=seed, stratify=y if stratify else None)
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test), y_train, y_test


@pytest.fixture(scope="session")
def digits_split():
    return _split(*load_digits(return_X_y=True))


@pytest.fixture(scope="session")
def cancer_split():
    return _split(*load_breast_cancer(return_X_y=True))


@pytest.fixture(scope="session")
def diabetes_split():
    X, y = load_diabetes(return_X_y=True)
    X_train, X_test, y_train, y_test = _split(X, y, stratify=False)
    return X_train, X_test, y_train, y_test


@pytest.fixture
def rng():
    return np.random.default_rng(12345)

"""scikit-learn estimators on gradwise networks: :class:`MLPClassifier`, :class:`MLPRegressor`.

They drop into ``Pipeline``, ``GridSearchCV``, ``cross_val_score``, imbalanced-learn pipelines
and ``TunedThresholdClassifierCV``. They take every parameter of scikit-learn's
``MLPClassifier``/``MLPRegressor`` with the same meaning (``solver``, ``learning_rate``,
``momentum``, ``max_fun``, ...), set the same fitted attributes and raise the same warnings and
errors, so that code written for scikit-learn's MLP runs with the import swapped. They add
what scikit-learn's MLP lacks: dropout, batch normalization, more activations, initializers
and optimizers, focal loss, class weights, callbacks and learning-rate schedules.

Examples
--------
>>> from sklearn.datasets import load_breast_cancer
>>> from sklearn.pipeline import make_pipeline
>>> from sklearn.preprocessing import StandardScaler
>>> import gradwise as gw
>>> X, y = load_breast_cancer(return_X_y=True)
>>> clf = make_pipeline(StandardScaler(), gw.MLPClassifier((32,), max_iter=30, random_state=0))
>>> clf.fit(X, y).score(X, y) > 0.95
True
"""
from .anomaly import AutoencoderAnomalyDetector
from .classifier import MLPClassifier
from .regressor import MLPRegressor

__all__ = ["MLPClassifier", "MLPRegressor", "AutoencoderAnomalyDetector"]

"""Evaluation numbers must equal scikit-learn's on the same predictions."""

import numpy as np
import pytest
from sklearn import metrics as skm

from studio.core.inspect import InspectError, class_probabilities, evaluate_predictions


def random_predictions(seed, n=200, k=4):
    rng = np.random.default_rng(seed)
    y_true = rng.integers(0, k, n)
    logits = rng.normal(size=(n, k)) + 2.0 * np.eye(k)[y_true] * rng.uniform(0, 1, (n, 1))
    logits[:, k - 1] -= 5  # the last class is (almost) never predicted: zero-division path
    return y_true, logits


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_classification_metrics_equal_sklearn(seed):
    y_true, logits = random_predictions(seed)
    k = logits.shape[1]
    report = evaluate_predictions(y_true, logits, "classification", ["a", "b", "c", "d"])
    y_pred = report.y_pred
    np.testing.assert_array_equal(y_pred, logits.argmax(axis=1))
    labels = list(range(k))
    assert report.accuracy == pytest.approx(skm.accuracy_score(y_true, y_pred))
    p, r, f, s = skm.precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    np.testing.assert_allclose(report.precision, p)
    np.testing.assert_allclose(report.recall, r)
    np.testing.assert_allclose(report.f1, f)
    np.testing.assert_array_equal(report.support, s)
    for average in ("macro", "micro", "weighted"):
        p, r, f, _ = skm.precision_recall_fscore_support(
            y_true, y_pred, labels=labels, average=average, zero_division=0
        )
        assert getattr(report, average) == pytest.approx({"precision": p, "recall": r, "f1": f})
    np.testing.assert_array_equal(report.confusion, skm.confusion_matrix(y_true, y_pred, labels=labels))
    np.testing.assert_allclose(
        report.confusion_normalized, skm.confusion_matrix(y_true, y_pred, labels=labels, normalize="true")
    )
    assert report.curves is None


def test_absent_true_class_gives_zero_row_like_sklearn():
    y_true = np.array([0, 0, 1, 1])
    outputs = np.array([[0.9, 0.05, 0.05], [0.1, 0.1, 0.8], [0.2, 0.7, 0.1], [0.6, 0.3, 0.1]])
    report = evaluate_predictions(y_true, outputs, "classification")
    expected = skm.confusion_matrix(y_true, report.y_pred, labels=[0, 1, 2], normalize="true")
    np.testing.assert_allclose(report.confusion_normalized, expected)
    assert report.class_names == ["0", "1", "2"]
    p, r, f, _ = skm.precision_recall_fscore_support(y_true, report.y_pred, labels=[0, 1, 2], zero_division=0)
    np.testing.assert_allclose(report.f1, f)


def test_binary_sigmoid_outputs_curves_equal_sklearn():
    rng = np.random.default_rng(7)
    y_true = rng.integers(0, 2, 300)
    p = np.clip(0.5 * y_true + rng.uniform(0, 0.6, 300) - 0.05, 0, 1)
    report = evaluate_predictions(y_true.reshape(-1, 1), p.reshape(-1, 1), "binary", ["no", "yes"])
    np.testing.assert_array_equal(report.y_pred, (p > 0.5).astype(int))
    assert report.accuracy == pytest.approx(skm.accuracy_score(y_true, p > 0.5))
    np.testing.assert_allclose(report.precision, skm.precision_score(y_true, p > 0.5, average=None))
    curves = report.curves
    assert curves.roc_auc == pytest.approx(skm.roc_auc_score(y_true, p))
    assert curves.average_precision == pytest.approx(skm.average_precision_score(y_true, p))
    fpr, tpr, _ = skm.roc_curve(y_true, p)
    np.testing.assert_allclose(curves.fpr, fpr)
    np.testing.assert_allclose(curves.tpr, tpr)
    precision, recall, _ = skm.precision_recall_curve(y_true, p)
    np.testing.assert_allclose(curves.precision, precision)
    np.testing.assert_allclose(curves.recall, recall)


def test_binary_curves_absent_for_single_class_labels():
    report = evaluate_predictions(np.ones(5), np.full((5, 1), 0.7), "binary")
    assert report.curves is None and report.accuracy == 1.0


def test_probabilities_from_logits_and_one_hot_labels():
    logits = np.array([[2.0, -1.0, 0.5], [-3.0, 4.0, 0.0]])
    expected = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(class_probabilities(logits), expected)
    probabilities = np.array([[0.2, 0.3, 0.5]])
    np.testing.assert_array_equal(class_probabilities(probabilities), probabilities)
    np.testing.assert_allclose(class_probabilities(np.array([[0.25]])), [[0.75, 0.25]])
    p, q = 1 / (1 + np.exp(2.0)), 1 / (1 + np.exp(-0.5))  # out-of-range values mean logits
    np.testing.assert_allclose(class_probabilities(np.array([[-2.0], [0.5]])), [[1 - p, p], [1 - q, q]])
    report = evaluate_predictions(np.eye(3)[[0, 1]], logits, "classification")
    assert report.y_true.tolist() == [0, 1] and report.accuracy == 1.0


def test_cells_and_confident_mistakes_sorted_by_confidence():
    y_true = np.array([0, 0, 0, 1, 1, 1])
    outputs = np.array([[0.9, 0.1], [0.3, 0.7], [0.1, 0.9], [0.2, 0.8], [0.6, 0.4], [0.45, 0.55]])
    report = evaluate_predictions(y_true, outputs, "classification")
    assert report.cell_indices(0, 1).tolist() == [2, 1]
    assert report.cell_indices(1, 1).tolist() == [3, 5]
    assert report.cell_indices(1, 0).tolist() == [4]
    assert report.confident_mistakes().tolist() == [2, 1, 4]
    assert report.confident_mistakes(limit=1).tolist() == [2]
    np.testing.assert_allclose(report.confidence, outputs.max(axis=1))


@pytest.mark.parametrize("outputs", [1, 3])
def test_regression_metrics_equal_sklearn(outputs):
    rng = np.random.default_rng(outputs)
    y_true = rng.normal(size=(50, outputs))
    y_pred = y_true + rng.normal(scale=0.3, size=(50, outputs))
    report = evaluate_predictions(y_true, y_pred, "regression")
    assert report.mae == pytest.approx(skm.mean_absolute_error(y_true, y_pred))
    assert report.mse == pytest.approx(skm.mean_squared_error(y_true, y_pred))
    assert report.rmse == pytest.approx(skm.root_mean_squared_error(y_true, y_pred))
    assert report.r2 == pytest.approx(skm.r2_score(y_true, y_pred))
    worst = report.largest_errors(3)
    per_sample = np.abs(y_pred - y_true).max(axis=1)
    assert per_sample[worst].tolist() == sorted(per_sample, reverse=True)[:3]


def test_regression_r2_with_constant_target_matches_sklearn():
    y_true = np.array([[2.0, 1.0], [2.0, 2.0], [2.0, 3.0]])
    y_pred = np.array([[2.0, 1.5], [2.0, 2.0], [2.0, 2.0]])
    assert evaluate_predictions(y_true, y_pred, "regression").r2 == pytest.approx(skm.r2_score(y_true, y_pred))
    y_pred[0, 0] = 3.0
    assert evaluate_predictions(y_true, y_pred, "regression").r2 == pytest.approx(skm.r2_score(y_true, y_pred))


def test_bad_labels_and_shapes_are_explained():
    with pytest.raises(InspectError, match="labels range from 0 to 5 but the model outputs 3 classes"):
        evaluate_predictions([0, 5], np.eye(3)[:2], "classification")
    with pytest.raises(InspectError, match="3 labels but 2 predictions"):
        evaluate_predictions([0, 1, 2], np.eye(3)[:2], "classification")
    with pytest.raises(InspectError, match="dataset has 2 classes but the model outputs 3 values.*--backbone"):
        evaluate_predictions([0, 1], np.eye(3)[:2], "classification", ["x", "y"])
    with pytest.raises(InspectError, match="unknown task"):
        evaluate_predictions([0, 1], np.eye(3)[:2], "ranking")
    with pytest.raises(InspectError, match="whole numbers"):
        evaluate_predictions([0.5, 1], np.eye(3)[:2], "classification")

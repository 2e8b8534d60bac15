"""The report's sections on the ensemble of the study's best trials (its members, its accuracy
on validation and, once, on test, and what it gains over the best trial alone) and on the
student distilled from it."""

from __future__ import annotations

import optuna

from search.outputs.report.page import TARGET_NAME, absent, esc
from search.outputs.text import format_params, format_size
from search.stats import wilson_interval
from search.storage.records import trial_params
from search.storage.trials import current_student, latest_ensemble


def ensemble_section(study: optuna.Study) -> str:
    latest = latest_ensemble(study)
    if latest is None:
        return absent(
            "No ensemble was chosen: it needs 2 complete trials or more, and [ensemble] size "
            "of 2 or more; the next `lenet-search run` (or `lenet-search ensemble`) makes it."
        )
    choice, ensemble = latest.choice, latest.evaluation
    scored = ", ".join(
        f"top {k}: {accuracy:.4f}" for k, accuracy in enumerate(choice.val_accuracies, start=1)
    )
    cross_fitted = (
        ""
        if choice.cross_fitted is None
        else " k is chosen by the same means cross-fitted: the trials ranked on a random half of "
        "the validation images and scored on the other half, which the best trial's luck on "
        "the images that ranked it does not flatter ("
        + ", ".join(f"{accuracy:.4f}" for accuracy in choice.cross_fitted)
        + ")."
    )
    how = (
        f"<p class=note>Chosen on the validation split alone: the mean of the first k of the "
        f"{len(choice.considered)} trials best by {TARGET_NAME} ({scored}).{cross_fitted}</p>"
    )
    stale = (
        ""
        if latest.current
        else absent(
            "Better trials completed since this ensemble was chosen; the next "
            "`lenet-search run` chooses and evaluates the new one."
        )
    )
    if ensemble is None:
        return how + stale + "<p>The best trial alone scored best: the study has no ensemble.</p>"
    trials = {t.number: t for t in study.get_trials(deepcopy=False)}
    rows = "".join(
        f"<tr><td>{number}</td><td>{trials[number].value:.4f}</td><td>{weight:.3f}</td>"
        f"<td>{format_size(trials[number].user_attrs.get('param_count'))}</td>"
        f"<td>{esc(format_params(trial_params(trials[number])))}</td></tr>"
        for number, weight in zip(ensemble.members, ensemble.weights, strict=True)
    )
    val_low, val_high = _interval(ensemble.val_accuracy, ensemble.n_val)
    test_low, test_high = _interval(ensemble.test_accuracy, ensemble.n_test)
    return (
        how + f"<p class=note>The mean of the class probabilities of the {len(ensemble.members)} "
        f"trials best by {TARGET_NAME}, weighted alike, evaluated once on the test split.</p>"
        + stale
        + f"<p class=big>test accuracy <b>{ensemble.test_accuracy:.4f}</b> (95% Wilson interval "
        f"{test_low:.4f} to {test_high:.4f}); {TARGET_NAME} {ensemble.val_accuracy:.4f} "
        f"({val_low:.4f} to {val_high:.4f})</p>"
        f"<p>The best trial alone: test accuracy {ensemble.single_test_accuracy:.4f}. The "
        f"ensemble minus the best on the same {ensemble.n_test:,} test images: "
        f"<b>{ensemble.difference * 100:+.2f} points</b> (paired 95% interval "
        f"{ensemble.difference_low * 100:+.2f} to {ensemble.difference_high * 100:+.2f}).</p>"
        f"<p class=note>{ensemble.param_count:,} parameters and "
        f"{ensemble.flops / 1e6:.2f} MFLOPs an image in all.</p>"
        f'<table class="trials"><tr><th>trial</th><th>{TARGET_NAME}</th><th>weight</th>'
        f"<th>parameters</th><th>hyperparameters</th></tr>{rows}</table>"
    )


def student_section(study: optuna.Study) -> str:
    student = current_student(study)
    if student is None:
        return absent(
            "No student: one is distilled from the study's ensemble at the end of "
            "`lenet-search run` (or by `lenet-search ensemble`), unless [distill] enabled = false."
        )
    test_low, test_high = _interval(student.test_accuracy, student.n_test)
    taken = "the student" if student.preferred else f"trial {student.trial}"
    teachers = ", ".join(map(str, student.teachers))
    return (
        f"<p class=note>Trial {student.trial}'s network and training, learning the ensemble's "
        f"class probabilities (trials {teachers}; temperature {student.temperature:g}, "
        f"soft weight {student.soft_weight:g}) beside the labels: one model the size of the "
        f"best trial. Its best epoch ({student.best_epoch} of {student.params['epochs']}) kept "
        "by validation accuracy, evaluated once on the test split.</p>"
        f"<p class=big>test accuracy <b>{student.test_accuracy:.4f}</b> (95% Wilson interval "
        f"{test_low:.4f} to {test_high:.4f}); {TARGET_NAME} {student.val_accuracy:.4f}, "
        f"trial {student.trial}'s {student.single_val_accuracy:.4f}: `export` takes {taken}</p>"
        f"<p>The student minus the best trial on the same {student.n_test:,} test images: "
        f"<b>{student.difference * 100:+.2f} points</b> (paired 95% interval "
        f"{student.difference_low * 100:+.2f} to {student.difference_high * 100:+.2f}).</p>"
        f"<p class=note>{student.param_count:,} parameters and "
        f"{student.flops / 1e6:.2f} MFLOPs an image.</p>"
    )


def _interval(accuracy: float, n: int) -> tuple[float, float]:
    return wilson_interval(round(accuracy * n), n)

"""What optuna-dashboard shows of a study beyond Optuna's own pages, and the server itself.

``note``: the study's note (settings and data, as markdown). ``pictures``: each COMPLETE trial's
learning curves and confusion matrix, as PNG artifacts. ``server``: optuna-dashboard on a
study's storage and artifact store.
"""

"""What a trial can vary: the hyperparameters, the ranges a study file gives them, and the one
place that asks Optuna for values.

``hyperparameters``: every hyperparameter declared once (name, label, owner, bounds).
``ranges``: IntRange, FloatRange, Choices and Fixed, the vocabulary of ``[search_space]``.
``suggest``: ``trial.suggest_*`` and the Optuna distributions of a search space.
"""

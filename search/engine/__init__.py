"""The study engine: what a trial trains and what a study delivers. A study made or resumed, its
trials handed to the scheduler (``search.scheduler``: here or in worker processes), the best one
evaluated on the test split.

``runner``: ``run_study`` and ``join_study``, what `run` and `worker` do, top to bottom.
``study``: the study created, resumed or opened for trials, and its settings checked.
``worker_objective``: the objective a spawned worker runs (TensorFlow started there).
``objective``, ``training``: one trial, and the lean training loop, with its ``augmentation``
and learning-rate ``schedule``; ``cross_validation``: a trial on folds. ``precision``: float32
or mixed_bfloat16. ``sampler``, ``pruning``: TPE reseeded per trial, the configured pruner.
``evaluation``: the one use of the test split, ``ensemble``: the study's best trials as one
model, and ``distill``: its student. ``budget``: the size budget checked before anything
trains; ``closing``: the time what follows the trials needs. ``warm_start``: trials carried
over from an earlier study. (The private Optuna APIs it needs are
``storage.optuna_internals``.)
"""

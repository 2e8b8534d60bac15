"""The study engine: a study made or resumed, its trials run here or in worker processes, the
best one evaluated on the test split.

``runner``: ``run_study`` and ``join_study``, what `run` and `worker` do, top to bottom.
``study``: the study created, resumed or loaded, and its settings checked.
``worker``: the loop every worker runs (reserve a trial, train it, record it), with heartbeats.
``pool`` and ``worker_process``: spawned worker processes, parent side and child side.
``objective``, ``training``: one trial, and the lean training loop, with its ``augmentation``
and learning-rate ``schedule``. ``precision``: float32 or mixed_bfloat16. ``sampler``,
``pruning``: TPE reseeded per trial, the configured pruner.
``recovery``: trials of dead workers failed and retried. ``evaluation``: the one use of the test
split, and ``ensemble``: the study's best trials as one model. ``budget``: the size budget
checked before anything trains. ``plan``: how many workers, on which cores or GPUs.
``events``: what a run reports as it goes. (The private Optuna APIs it needs are
``storage.optuna_internals``.)
"""

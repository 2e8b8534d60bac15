"""Where a study lives, and what lenet-search records there.

``url``: storage URLs checked and resolved (no Optuna). ``database``: the Optuna database
opened, locked and read. ``location`` and ``artifacts``: the artifact store of a study, a
folder or an S3 bucket, and the models in it. ``records``: every key lenet-search writes on a
study or trial, with typed readers. ``trials``: which trials are done, the best, the counts.
``studies``: the studies of a storage listed, or one deleted whole. ``optuna_internals``:
every private Optuna API lenet-search uses, in one place.
"""

"""lenet-search: Optuna studies over the Keras tutorial's LeNet.

The library behind the ``lenet-search`` command. Its subpackages, each importing only those
listed below it (``pyproject.toml``'s import-linter contract; ``models`` lies under them all):

- ``cli``: the command, a thin shell over the rest.
- ``outputs``: tables, the report, export, predict, repeats: what people get out of a study.
- ``engine``: a study run: made or resumed, its trials run and recorded, the best evaluated.
- ``dashboard`` and ``data``: what optuna-dashboard shows of a study; the images it trains on.
- ``config``: study files read into one validated ``StudyConfig``.
- ``storage`` and ``space``: where a study lives and what it records; what a trial can vary.
- ``runtime``, ``stats``, ``errors``: the process, shared statistics, the errors a user causes.

A study runs from Python as::

    from search.config.study_file import load_config
    from search.data.loading import load_dataset
    from search.engine.runner import run_study

    config = load_config("studies/quickstart.toml")
    result = run_study(config, load_dataset(config.data))
"""

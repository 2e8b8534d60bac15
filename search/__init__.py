"""lenet-search: Optuna studies over the Keras tutorial's LeNet.

The library behind the ``lenet-search`` command; a study runs from Python as::

    from search.config import load_config
    from search.data import load_dataset
    from search.study import run_study

    config = load_config("studies/quickstart.toml")
    result = run_study(config, load_dataset(config.data))
"""

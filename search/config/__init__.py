"""Study files read into one validated, frozen ``StudyConfig``, and that config stored on a study.

``settings``: the typed settings, each section a dataclass whose defaults are the defaults.
``reader``: typed getters over a TOML table that name the file and key in every error.
``study_file``: ``load_config``, the study file read section by section; ``search_space``:
its ``[search_space]``, each hyperparameter a range, choices or one value, and the size budget.
``record``: the config as JSON on the study (for ``worker``), read back, and compared.
"""

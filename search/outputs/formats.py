"""What `export` can write: facts its flags and the exporter share, importable without Optuna
or TensorFlow so that `--help` answers at once."""

EXPORT_FORMATS = ("keras", "litert")
QUANTIZE_CHOICES = ("int8",)

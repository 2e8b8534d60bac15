"""What people and scripts get out of a study.

``text``: the formats and the number formatting every output shares (no heavy imports: the
CLI's flags read it). ``console``: the run's progress on a terminal. ``tables``: trials, best
trial, studies and the run's summary as tables, CSV or JSON. ``export``: a trial's model ready
to use; ``predict``: images classified with an export. ``repeat``: the best configuration
retrained with other seeds. ``report``: one self-contained HTML page of a study.
"""

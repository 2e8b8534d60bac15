"""`lenet-search report`: one self-contained HTML page of a study.

``document``: ``write_report``, the page's sections in order, the summary and the trials.
``plots``: the search's figures. ``held_out``: the best model's single test evaluation.
``page``: the page shell, its style and its self-check.
"""

"""The ``lenet-search`` command: a thin shell over the library.

``main``: the parser, built from every command's own flags, and ``main()``, which turns a
``LenetSearchError`` into one ``Error: ...`` line and exit code 2. ``common``: what commands
share (the shared flags, declared once, and the study a command names). One module per command
(``run`` holds `run` and `worker`, which run trials alike), each with its flags beside its
handler. Command modules import the heavy libraries inside their handlers, so that ``--help``,
``trials`` and ``best`` answer at once.
"""

"""The scheduler: trials handed out to processes, whatever they train. It imports no TensorFlow
and no Keras (a contract in ``pyproject.toml``): it runs any objective a factory hands it, which
is how the tests check its guarantees with objectives that take milliseconds (tests/stubs.py).

``handle``: a study opened to run trials, with its lock. ``worker``: the loop every worker runs
(reserve a trial, run it, record it). ``heartbeat``: a running trial kept alive in the storage.
``recovery``: trials of dead workers failed and retried. ``pool`` and ``worker_process``:
spawned worker processes, parent side and child side. ``plan``: how many workers, on which cores
or GPUs. ``events``: what a run reports as it goes, in a process or across processes.
"""

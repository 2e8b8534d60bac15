"""The process itself: how TensorFlow starts in it, and how Ctrl-C and SIGTERM stop it.

``tensorflow``: native output out of sight, quiet libraries, thread counts.
``interrupts``: stop signals counted and acted on where stopping is safe.
"""

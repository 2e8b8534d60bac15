"""The images a study trains and is judged on, loaded once per process.

``dataset``: the ``Dataset`` (scaled arrays, three fixed splits) and the pixel facts shared with
``predict``. ``loading``: ``load_dataset``, whichever the source. ``mnist``: MNIST and
Fashion-MNIST from Keras's cache, Debian's package or a download. ``images``: folders of images,
one sub-folder a class. ``record``: what a study records of its data, and its fingerprint.
"""

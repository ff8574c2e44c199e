"""streamc: a compiler for data pipelines, from one declarative .stream spec to runnable artefacts."""

__version__ = "0.1.0"

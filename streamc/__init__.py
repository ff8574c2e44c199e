"""streamc: a compiler for data pipelines, from one declarative .stream spec to runnable artefacts."""

import time as _time

__version__ = "0.1.0"
IMPORTED_AT = _time.perf_counter()  # `streamc build --profile` reports the import phase from here

"""Plugin tests: the example backend's own test suite is run by test_example_backend.py once installed, not here."""

collect_ignore = ["example_backend"]

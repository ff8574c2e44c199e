"""Built-in backends, installed as streamc.backends.* and registered under the `streamc.backends` entry points."""

"""pytest wiring for the real-Mermaid harness tests."""


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "realtools: runs a real external tool (here: Mermaid in headless Chromium); needs setup.sh",
    )

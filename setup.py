"""Maps grammar/ and backends/ into the streamc package; metadata lives in pyproject.toml."""

from setuptools import find_packages, setup

ROOTS = {"streamc": "streamc", "streamc.grammar": "grammar", "streamc.backends": "backends"}

packages = []
for package, folder in ROOTS.items():
    packages.append(package)
    packages += [f"{package}.{sub}" for sub in find_packages(where=folder)]

setup(packages=sorted(set(packages)), package_dir=ROOTS)

"""Maps grammar/ and backends/ into the streamc package; metadata lives in pyproject.toml."""

from setuptools import find_namespace_packages, setup

ROOTS = {"streamc": "streamc", "streamc.grammar": "grammar", "streamc.backends": "backends"}

packages = []
for package, folder in ROOTS.items():
    packages.append(package)
    # namespace discovery also declares data-only folders (backend templates) as packages
    packages += [f"{package}.{sub}" for sub in find_namespace_packages(where=folder, exclude=["*__pycache__*"])]

setup(packages=sorted(set(packages)), package_dir=ROOTS)

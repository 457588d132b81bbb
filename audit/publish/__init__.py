"""Publish: a recorded release becomes a documented Frictionless data package.

The package is written to a temporary folder beside its destination and renamed
into place, so a reader never sees half a package.
"""

from audit.publish.package import write_package

__all__ = ["write_package"]

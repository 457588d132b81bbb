"""Publish: a recorded release becomes a documented Frictionless data package.

The package is built in a hidden folder beside its destination and renamed
into place, so a reader never sees half a package.
"""

from audit.publish.package import write_data_files, write_descriptor, write_extract

__all__ = ["write_data_files", "write_descriptor", "write_extract"]

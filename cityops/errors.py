"""The error tree every service shares.

    CityopsError
    ├── RecoverableError      the world is not ready: retry with back-off, commit nothing
    │   └── DependencyUnavailable   broker or search cluster unreachable
    └── InvalidMessage        this record can never be processed: dead-letter it with the reason
        └── UnsupportedSchema      a schema_version this build does not know

Services subclass these for their own failures; ``except Exception`` appears only at
process boundaries, where it logs the traceback.
"""

from __future__ import annotations


class CityopsError(Exception):
    """Base of every error cityops raises on purpose."""


class RecoverableError(CityopsError):
    """Retrying later may succeed; the record must not be committed or dead-lettered."""


class DependencyUnavailable(RecoverableError):
    """A server we depend on (Kafka, Elasticsearch) did not answer."""


class InvalidMessage(CityopsError):
    """The record is malformed or violates its contract; it goes to the dead-letter topic."""


class UnsupportedSchema(InvalidMessage):
    """The record's schema_version is not one this build understands."""

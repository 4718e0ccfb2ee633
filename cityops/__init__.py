"""cityops shared package: the contracts every service imports.

Event models and topic names (``cityops.contracts``), the settings base
(``cityops.settings``), taxonomy and jurisdiction loading (``cityops.taxonomy``,
``cityops.jurisdiction``), Kafka and Elasticsearch helpers (``cityops.kafka``,
``cityops.search``), logging and health (``cityops.logs``, ``cityops.ops``).
"""

__version__ = "0.1.0"

"""The manager overview (管理总览): the demo's board without Grafana. The page reads the
figures from ``/api/v1/stats`` and ``/api/v1/hotspots``; this package serves the page, the
unit-grid outlines for its map, and the open-case counts per grid and class."""

"""``cityops serve sensors``: the faust worker that turns readings into incidents."""

from __future__ import annotations

import logging

import faust

from cityops import logs, taxonomy
from cityops.fetching import install_quiet_fetch
from cityops.kafka import wait_for_broker
from services.sensors.app import create_app
from services.sensors.settings import SensorsSettings

log = logging.getLogger(__name__)


def main(settings: SensorsSettings | None = None) -> None:
    settings = settings or SensorsSettings()
    logs.setup("sensors", settings.log_level)
    install_quiet_fetch()
    settings.sensors_data_dir.mkdir(parents=True, exist_ok=True)
    wait_for_broker(settings)
    app = create_app(settings, taxonomy.load())
    worker = faust.Worker(app, loglevel=settings.log_level.lower(), override_logging=False)
    log.info("service starting", extra={"web_port": settings.sensors_web_port})
    try:
        worker.execute_from_commandline()
    finally:
        log.info("service stopped")

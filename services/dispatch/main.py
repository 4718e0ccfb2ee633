"""``cityops serve dispatch``: run the faust worker. Faust handles SIGTERM: it stops the
agents, flushes the producer and commits the offsets of processed events."""

from __future__ import annotations

import logging

import faust

from cityops import logs, taxonomy
from cityops.fetching import install_quiet_fetch
from cityops.kafka import wait_for_broker
from services.dispatch.app import create_app
from services.dispatch.settings import DispatchSettings

log = logging.getLogger(__name__)


def main(settings: DispatchSettings | None = None) -> None:
    settings = settings or DispatchSettings()
    logs.setup("dispatch", settings.log_level)
    install_quiet_fetch()  # faust's consumer is aiokafka's: see cityops/fetching.py
    settings.dispatch_data_dir.mkdir(parents=True, exist_ok=True)
    wait_for_broker(settings)  # faust exits if the broker is not up when it starts
    app = create_app(settings, taxonomy.load())
    worker = faust.Worker(app, loglevel=settings.log_level.lower(), override_logging=False)
    log.info("service starting", extra={"web_port": settings.dispatch_web_port})
    try:
        worker.execute_from_commandline()
    finally:
        log.info("service stopped")

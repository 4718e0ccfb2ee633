"""The sensor services of the API process, built together from one settings object."""

from __future__ import annotations

from dataclasses import dataclass

from cityops.kafka import BackgroundProducer
from services.api.sensors.directory import Directory
from services.api.sensors.feed import DirectoryFeed
from services.api.sensors.intake import IntakeService
from services.api.sensors.keycheck import KeyCheck
from services.api.sensors.ratelimit import Buckets
from services.api.sensors.registry import RegistryService
from services.api.settings import ApiSettings
from services.sensors.devices import Catalogues


@dataclass(frozen=True)
class SensorServices:
    feed: DirectoryFeed
    registry: RegistryService
    intake: IntakeService

    @classmethod
    def build(cls, settings: ApiSettings, producer: BackgroundProducer) -> SensorServices:
        directory = Directory()
        feed = DirectoryFeed(settings, directory)
        pepper = settings.key_pepper()
        peppers = {pepper.id: pepper.secret} if pepper else {}
        keycheck = KeyCheck(peppers, settings.sensor_gateway_keys)
        buckets = Buckets(settings.sensor_rate_per_s, settings.sensor_burst)
        topics, loaded = settings.topics, feed.caught_up
        return cls(
            feed,
            RegistryService(producer, topics, directory, loaded, Catalogues.shipped(), pepper),
            IntakeService(producer, topics, directory, loaded, keycheck, buckets),
        )

"""Keeps a :class:`Directory` up to date from ``sensor.devices`` and ``sensor.notices``
(a :class:`~services.api.feeds.TopicFeed`: until it has read both topics, the registry and
intake answer 503, since a device not yet read back would look unknown)."""

from __future__ import annotations

from aiokafka import ConsumerRecord

from cityops.contracts.devices import DeviceRegistered
from cityops.contracts.events import DeviceNotice
from cityops.kafka import decode
from cityops.settings import CommonSettings
from services.api.feeds import TopicFeed
from services.api.sensors.directory import Directory


class DirectoryFeed(TopicFeed):
    def __init__(self, settings: CommonSettings, directory: Directory) -> None:
        self.directory = directory
        self._devices = settings.topics.sensor_devices
        topics = (self._devices, settings.topics.sensor_notices)
        super().__init__(settings, topics, self._apply_record, "device directory", self._count)

    def _count(self) -> int:
        return len(self.directory)

    def _apply_record(self, record: ConsumerRecord[bytes, bytes]) -> None:
        if record.topic == self._devices:
            self.directory.apply(decode(DeviceRegistered, record.value))
        else:
            self.directory.apply_notice(decode(DeviceNotice, record.value))

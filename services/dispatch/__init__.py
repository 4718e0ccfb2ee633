"""The case workflow: a faust-streaming app that owns case state and emits case events."""

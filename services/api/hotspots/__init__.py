"""Hotspots for the boards: the proactive cases the sensors service opens at places where
the same problem keeps coming back (``services/sensors/hotspots.py``)."""

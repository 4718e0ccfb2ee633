"""cityctl: the top floor. It stands on every service and on the shared ``cityops`` package.

The ``cityops`` command line (``cityctl.cli``), the demo launcher and its supervisor
(``cityctl.demo``, ``cityctl.supervise``), the demo traffic (``cityctl.simulate``) and
the runner of service processes (``cityctl.processes``) live here, because they must see
every service. Floors only go down: ``cityops`` and ``services`` never import this package
(tests/test_cli_floors.py).
"""

"""The REST API of the coordinator's desk (``/api/v1``), token-protected.

Routers live in :mod:`bot.api.studies` and :mod:`bot.api.analysis`; the shared reads in
:mod:`bot.api.queries`, :mod:`bot.api.reports` and friends. Installed with the dashboard
by :func:`bot.dashboard.install`.
"""

"""The one error class of the integrations: bad input or a missing optional library, said in one line."""


class IntegrationError(Exception):
    """A report, export or launcher that cannot be made; the message says why (and what to install)."""

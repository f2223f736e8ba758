"""contacthub: a self-hostable contact service that speaks the TeleCMI contact API."""

__version__ = "0.1.0"

"""sessionscope: a self-hostable session store with a UXCam Data Access API v2 compatible HTTP API."""

__version__ = "0.1.0"

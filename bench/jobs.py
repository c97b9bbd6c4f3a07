"""Jobs for the worker floor."""


def noop() -> None:
    """A job that does nothing: what RQ alone costs per job."""

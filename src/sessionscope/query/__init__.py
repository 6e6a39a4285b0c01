"""The pure query layer: request parameters -> spec -> plan -> SQL text and bound parameters.

Nothing here does I/O, imports a web framework or a database driver, or reads the clock.
"""

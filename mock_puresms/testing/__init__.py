"""What test authors use: the pytest plugin, a server in a thread, a webhook receiver
and the control client.

The plugin module (``pytest_plugin``) is loaded by every pytest run where the package
is installed, so this package imports nothing itself: each module loads what it needs.
"""

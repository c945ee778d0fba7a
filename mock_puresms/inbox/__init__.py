"""The web inbox at ``/``: server-rendered pages of the mock's messages, webhooks and
accounts; every action is a call of the control surface from the page's script."""

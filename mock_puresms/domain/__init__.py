"""Plain-Python domain of the mock: messages, statuses, accounts, events.

Nothing here imports Starlette or httpx; the surfaces translate to and from it.
"""

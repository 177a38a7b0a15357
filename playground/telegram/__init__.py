"""A stand-in for Telegram's Bot API: the tests' fake server, also the playground's Telegram.

It checks every call against the Bot API spec shipped beside it (``bot-api-spec.json``).
"""

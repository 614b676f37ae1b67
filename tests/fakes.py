"""Made-up keys for tests: right shape, never real."""


def fake_key(prefix: str, length: int, alphabet: str = "abcDEF123xyzQRS_-") -> str:
    """A made-up key of the given total length; never a real one."""
    body = (alphabet * (length // len(alphabet) + 1))[: length - len(prefix)]
    return prefix + body

from typing import Any


def seed(context: Any) -> None:
    pass

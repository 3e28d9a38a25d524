"""The demo's fallback source service, used when ``examples/sentiment_source.py`` is not
installed alongside the package (e.g. a wheel install). Built with ``ogpu.service``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

if TYPE_CHECKING:
    from ogpu.service import Service

__all__ = ["build_sample_service"]

_POSITIVE = frozenset({"good", "great", "love", "fast", "nice", "excellent"})
_NEGATIVE = frozenset({"bad", "awful", "hate", "slow", "poor", "terrible"})


class TextInput(BaseModel):
    text: str = Field(min_length=1, max_length=10_000)


class Sentiment(BaseModel):
    label: str
    positive_words: int
    negative_words: int


def build_sample_service() -> Service:
    """A ``Service`` exposing ``predict(TextInput) -> Sentiment``. No I/O."""
    from ogpu.service import Service

    service = Service()

    @service.expose(timeout=10)
    def predict(data: TextInput) -> Sentiment:
        words = data.text.lower().split()
        good = sum(w.strip(".,!?") in _POSITIVE for w in words)
        bad = sum(w.strip(".,!?") in _NEGATIVE for w in words)
        label = "positive" if good > bad else "negative" if bad > good else "neutral"
        return Sentiment(label=label, positive_words=good, negative_words=bad)

    return service

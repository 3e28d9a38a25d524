"""A sample OpenGPU source: lexicon-based sentiment analysis served by ogpu.service.

Run it (needs ``pip install 'ogpu[service]'``)::

    CALLBACK_URL=http://127.0.0.1:9000/callback PORT=5555 python examples/sentiment_source.py

then ``curl -X POST localhost:5555/run/predict/0xabc -H 'content-type: application/json'
-d '{"text": "what a great day"}'`` answers 202 and the result is POSTed to
``$CALLBACK_URL/0xabc``. API docs: http://localhost:5555/docs.

A real source would load a model in ``setup``; the lexicon stands in for it.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, Field

import ogpu.service

_POSITIVE = {"good", "great", "excellent", "love", "happy", "nice", "wonderful", "best", "fast"}
_NEGATIVE = {"bad", "awful", "terrible", "hate", "sad", "poor", "worst", "slow", "broken"}
_NEGATORS = {"not", "no", "never", "hardly"}

_lexicon: dict[str, int] = {}


class SentimentInput(BaseModel):
    text: str = Field(min_length=1, max_length=10_000, examples=["I love this, it is great"])


class SentimentOutput(BaseModel):
    label: str = Field(description="positive, negative or neutral")
    score: float = Field(ge=-1.0, le=1.0, description="(positive - negative) / matched words")
    confidence: float = Field(ge=0.0, le=1.0)


class BatchInput(BaseModel):
    texts: list[str] = Field(min_length=1, max_length=256)


class BatchOutput(BaseModel):
    results: list[SentimentOutput]


@ogpu.service.init()
def setup() -> None:
    """Load the "model" (here: build the word lexicon)."""
    ogpu.service.logger.info("Loading sentiment lexicon...")
    _lexicon.update({word: 1 for word in _POSITIVE})
    _lexicon.update({word: -1 for word in _NEGATIVE})
    ogpu.service.logger.info("Lexicon ready: %d words", len(_lexicon))


def _analyse(text: str) -> SentimentOutput:
    words = re.findall(r"[a-z']+", text.lower())
    total = matched = 0
    for i, word in enumerate(words):
        polarity = _lexicon.get(word, 0)
        if polarity == 0:
            continue
        if i > 0 and words[i - 1] in _NEGATORS:
            polarity = -polarity
        total += polarity
        matched += 1
    score = total / matched if matched else 0.0
    label = "positive" if score > 0 else "negative" if score < 0 else "neutral"
    confidence = min(1.0, abs(score) * matched / max(1, len(words)) * 2) if matched else 0.0
    return SentimentOutput(label=label, score=score, confidence=round(confidence, 4))


@ogpu.service.expose(timeout=30)
def predict(data: SentimentInput) -> SentimentOutput:
    """Classify one text as positive, negative or neutral."""
    return _analyse(data.text)


@ogpu.service.expose(timeout=60)
async def predict_batch(data: BatchInput) -> BatchOutput:
    """Classify up to 256 texts."""
    return BatchOutput(results=[_analyse(text) for text in data.texts])


if __name__ == "__main__":
    ogpu.service.start()

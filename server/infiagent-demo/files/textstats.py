"""Word statistics of a text."""

import re
from collections import Counter


def word_counts(text: str) -> dict[str, int]:
    """Lower-cased words and how often each occurs."""
    return dict(Counter(re.findall(r"[a-z0-9']+", text.lower())))


def top_words(text: str, n: int) -> list[tuple[str, int]]:
    """The n most frequent words, most frequent first, ties alphabetical."""
    counts = word_counts(text)
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:n]


if __name__ == "__main__":
    assert top_words("the cat and the hat and the bat", 2) == [("the", 3), ("and", 2)]
    print("ok")

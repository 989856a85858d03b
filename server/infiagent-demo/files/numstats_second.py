"""Statistics of a list of numbers."""


def mean(values: list[float]) -> float:
    """Sum divided by count."""
    return sum(values) / len(values)


def median(values: list[float]) -> float:
    """The middle value, or the average of the two middle values for an even count."""
    if not values:
        raise ValueError("empty list")
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2 == 1:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


if __name__ == "__main__":
    assert mean([1, 2, 3, 4]) == 2.5
    assert median([3, 1, 2]) == 2
    assert median([4, 1, 3, 2]) == 2.5, median([4, 1, 3, 2])
    try:
        median([])
    except ValueError:
        print("ok")
    else:
        raise AssertionError("median([]) must raise ValueError")

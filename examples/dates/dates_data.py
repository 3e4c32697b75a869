"""Human-written dates and their ISO 8601 form, generated deterministically.

    generate(count, seed) -> [(text, "YYYY-MM-DD"), ...]

Dates are uniform over 1900-01-01 .. 2099-12-31 (two-digit years: 2000-2099),
in the formats below, with random capitalisation of month and weekday names.
Day-first numeric formats only (22/11/26), so no input is ambiguous. The
alphabet is fixed (ALPHABET), shared with the C++ app through vocab.json.
"""
import datetime
import random

SPECIALS = ["<pad>", "<s>", "</s>", "<unk>"]
PAD, BOS, EOS, UNK = 0, 1, 2, 3
ALPHABET = list(" ',-./0123456789") + [chr(c) for c in range(ord("A"), ord("Z") + 1)] + \
    [chr(c) for c in range(ord("a"), ord("z") + 1)] + ["年", "月", "日"]
VOCAB = SPECIALS + ALPHABET
MAX_SOURCE = 40  # characters; the model's max_len is 64 positions

MONTHS = ["January", "February", "March", "April", "May", "June", "July",
          "August", "September", "October", "November", "December"]
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def ordinal(day):
    if 11 <= day % 100 <= 13:
        return f"{day}th"
    return f"{day}" + {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")


def _case(rng, word):
    return rng.choice([word, word, word.lower(), word.upper()])


def render(date, rng):
    d, m, y = date.day, date.month, date.year
    month, weekday = MONTHS[m - 1], WEEKDAYS[date.weekday()]
    mon, wd = month[:3], weekday[:3]
    short_year = 2000 <= y <= 2099
    formats = [
        lambda: f"{d} {_case(rng, mon)} {y}",
        lambda: f"{d} {_case(rng, month)} {y}",
        lambda: f"{_case(rng, month)} {ordinal(d)}, {y}",
        lambda: f"{_case(rng, month)} {d}, {y}",
        lambda: f"{_case(rng, mon)} {d}, {y}",
        lambda: f"{_case(rng, weekday)}, {d} {_case(rng, month)} {y}",
        lambda: f"{_case(rng, wd)} {d} {_case(rng, mon)} {y}",
        lambda: f"{_case(rng, weekday)}, {_case(rng, month)} {ordinal(d)}, {y}",
        lambda: f"the {ordinal(d)} of {_case(rng, month)} {y}",
        lambda: f"{d:02d}/{m:02d}/{y}",
        lambda: f"{d}/{m}/{y}",
        lambda: f"{d:02d}.{m:02d}.{y}",
        lambda: f"{d}-{_case(rng, mon)}-{y}",
        lambda: f"{y}/{m:02d}/{d:02d}",
        lambda: f"{y}-{m:02d}-{d:02d}",
        lambda: f"{y}年{m}月{d}日",
    ]
    if short_year:
        formats += [lambda: f"{d:02d}/{m:02d}/{y % 100:02d}",
                    lambda: f"{d}/{m}/{y % 100:02d}",
                    lambda: f"{d} {_case(rng, mon)} '{y % 100:02d}"]
    return rng.choice(formats)()


def generate(count, seed):
    rng = random.Random(seed)
    first = datetime.date(1900, 1, 1).toordinal()
    last = datetime.date(2099, 12, 31).toordinal()
    pairs = []
    for _ in range(count):
        date = datetime.date.fromordinal(rng.randint(first, last))
        pairs.append((render(date, rng), date.isoformat()))
    return pairs


def encode(text):
    index = {c: i for i, c in enumerate(VOCAB)}
    return [index.get(c, UNK) for c in text]

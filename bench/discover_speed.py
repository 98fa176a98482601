"""How many sentences a second deadline discovery reads, on one core.

Usage: ``python -m bench.discover_speed [--repeat 20]``. The text is a paragraph
of trade news, English and Chinese, dense with dates, triggers, moves and
numbers that only look like dates, repeated up to the extractor's 20,000
character cap; it is read ``--repeat`` times and the rate printed. Then a few
hostile texts (1 MB, pathological repetitions) are read and their times printed.
Not a test: times depend on the machine.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import datetime
from zoneinfo import ZoneInfo

from notifier.deadlines.discover import extract, sentences

PARAGRAPH = (
    "The tariffs take effect on August 1, 2025, and comments are due by 5 p.m. ET on July 15. "
    "The pause was extended from July 9 to August 12 after talks in Geneva. "
    "Officials said on Monday that a decision is expected in early September. "
    "The Commerce Department published the notice under Section 232 with a 25% rate. "
    "关税将于2025年8月1日起生效。公告自公布之日起30日内提交意见。暂停期延长至8月12日。 "
    "Shares rose 3.2% in Q3 as the company reported revenue of $4.14 billion for 2025. "
)
HOSTILE = {
    "1 MB of letters": "a" * 1_000_000,
    "1 MB of digits": "1" * 1_000_000,
    "dates without triggers": "May 1 " * 200_000,
    "dates with triggers": "expires July 9 " * 3_000,
    "Chinese anchors": "自5月14日起，暂停90天" * 3_000,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    zone = ZoneInfo("America/New_York")
    published = datetime(2025, 7, 1, 12, tzinfo=zone)
    text = PARAGRAPH * 40
    count = len(sentences(text))
    start = time.perf_counter()
    for _ in range(args.repeat):
        extract(text, published, zone)
    elapsed = time.perf_counter() - start
    rate = count * args.repeat / elapsed
    sys.stdout.write(f"{count} sentences x {args.repeat}: {rate:,.0f} sentences/s\n")
    for name, hostile in HOSTILE.items():
        start = time.perf_counter()
        extract(hostile, published, zone)
        sys.stdout.write(f"{name}: {time.perf_counter() - start:.3f} s\n")


if __name__ == "__main__":
    main()

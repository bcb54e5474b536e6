"""Reads a CSV the way an analyst would and checks its columns are typed: called by the C++ printer tests.

usage: python3 check_csv.py FILE ROWS --numeric COL,COL --bool COL,COL [--text COL,COL]

With pandas: pandas.read_csv as is, and the columns must come back numeric (int or float), boolean, or text. Without
pandas: the csv module, and the same checks by hand (every field of a numeric column empty or a number, every field
of a boolean column true or false). Prints "ok (pandas)" or "ok (csv)"; exit 1 with the reason otherwise.
"""

import argparse
import csv
import sys


def fail(message: str) -> None:
    print(f"FAIL {message}")
    sys.exit(1)


def with_pandas(path: str, args: argparse.Namespace) -> None:
    import pandas as pd

    frame = pd.read_csv(path)
    if len(frame) != args.rows:
        fail(f"{len(frame)} rows, expected {args.rows}")
    for column in args.numeric:
        if not pd.api.types.is_numeric_dtype(frame[column]) or pd.api.types.is_bool_dtype(frame[column]):
            fail(f"column {column} is {frame[column].dtype}, not numeric")
    for column in args.bool:
        if not pd.api.types.is_bool_dtype(frame[column]):
            fail(f"column {column} is {frame[column].dtype}, not bool")
    print("ok (pandas)")


def with_csv(path: str, args: argparse.Namespace) -> None:
    with open(path, newline="") as file:
        rows = list(csv.reader(file))
    header, body = rows[0], rows[1:]
    if len(body) != args.rows:
        fail(f"{len(body)} rows, expected {args.rows}")
    for row in body:
        if len(row) != len(header):
            fail(f"a record has {len(row)} fields, the header {len(header)}: {row}")
    for column in args.numeric + args.bool:
        if column not in header:
            fail(f"no column {column}")
    for record in (dict(zip(header, row, strict=True)) for row in body):
        for column in args.numeric:
            if record[column] != "":
                try:
                    float(record[column])
                except ValueError:
                    fail(f"column {column}: {record[column]!r} is not a number")
        for column in args.bool:
            if record[column] not in ("true", "false"):
                fail(f"column {column}: {record[column]!r} is not true or false")
    print("ok (csv)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("file")
    parser.add_argument("rows", type=int)
    parser.add_argument("--numeric", type=lambda text: text.split(","), default=[])
    parser.add_argument("--bool", type=lambda text: text.split(","), default=[])
    args = parser.parse_args()
    try:
        import pandas  # noqa: F401
    except ImportError:
        with_csv(args.file, args)
        return
    with_pandas(args.file, args)


if __name__ == "__main__":
    main()

"""``python -m crawler.watchlist``: regenerate the JSON Schema shipped in the package."""

from .schema import SCHEMA_PATH, write_schema

if __name__ == "__main__":
    write_schema()
    print(f"wrote {SCHEMA_PATH}")

"""SQL quoting: names and paths from descriptors reach DuckDB intact, whatever they contain."""

import duckdb

from audit.sql import ident, literal


def test_identifiers_and_literals_with_quotes_round_trip_through_duckdb():
    name, text = 'Violent "Crime", total', "O'Brien County"
    with duckdb.connect() as con:
        con.execute(f"CREATE TABLE t AS SELECT {literal(text)} AS {ident(name)}")

        assert con.execute(f"SELECT {ident(name)} FROM t").fetchall() == [(text,)]
        assert con.execute("SELECT column_name FROM (DESCRIBE t)").fetchall() == [(name,)]
